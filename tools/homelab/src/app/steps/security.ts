import { InputError, show } from '../../errors';
import type { ServiceSpec, ShorthandAppSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/**
 * How a container runs: non-root (65532) with a read-only root filesystem, no capability and
 * no privilege, unless the spec says otherwise. A service states what it needs as opt-ins,
 * each with its reason (`security.runAsRoot`, `imageUser`, `writableRootFilesystem`,
 * `defaultCapabilities`, `capabilities`, `privileged`, `hostNetwork`); the reasons are written beside what they allow in both trees,
 * so the exception shows in review. The shorthand has `securityContext` (user and group) only.
 */
export function normalizeSecurity(container: Pick<ShorthandAppSpec, 'securityContext'> & Pick<ServiceSpec, 'security'>, where = '', field = ''): NormalizedApp['security'] {
  const optIns = container.security ?? {};
  const who = (['user', 'runAsRoot', 'imageUser'] as const).filter((key) => optIns[key] !== undefined);
  if (who.length > 1) {
    throw new InputError(`${where}: ${who.map((key) => `${field}security.${key}`).join(' and ')} both say who the service runs as; keep one`);
  }
  const root = optIns.runAsRoot !== undefined;
  const imageUser = optIns.imageUser !== undefined;
  const runAsUser = imageUser ? undefined : root ? 0 : (container.securityContext?.runAsUser ?? optIns.user?.uid ?? APP_DEFAULTS.runAsUser);
  const runAsGroup = imageUser ? undefined : root ? 0 : (container.securityContext?.runAsGroup ?? optIns.user?.gid ?? runAsUser);
  const capabilities = Object.keys(optIns.capabilities ?? {}).sort();
  const reasons = [
    ...(root ? [{ optIn: 'runAsRoot', reason: optIns.runAsRoot! }] : []),
    ...(imageUser ? [{ optIn: 'imageUser', reason: optIns.imageUser! }] : []),
    ...(optIns.writableRootFilesystem !== undefined ? [{ optIn: 'writableRootFilesystem', reason: optIns.writableRootFilesystem }] : []),
    ...(optIns.defaultCapabilities !== undefined ? [{ optIn: 'defaultCapabilities', reason: optIns.defaultCapabilities }] : []),
    ...capabilities.map((c) => ({ optIn: `capabilities.${c}`, reason: optIns.capabilities![c] })),
    ...(optIns.privileged !== undefined ? [{ optIn: 'privileged', reason: optIns.privileged }] : []),
    ...(optIns.hostNetwork !== undefined ? [{ optIn: 'hostNetwork', reason: optIns.hostNetwork }] : []),
  ];
  for (const { optIn, reason } of reasons) {
    if (reason.trim().length < 3) throw new InputError(`${where}: ${field}security.${optIn} ${show(reason)} gives no reason; say why the service needs it, in a sentence a reviewer can judge`);
  }
  return {
    runAsUser,
    runAsGroup,
    runAsNonRoot: !root && !imageUser,
    imageUser,
    readOnlyRootFilesystem: optIns.writableRootFilesystem === undefined,
    privileged: optIns.privileged !== undefined,
    capabilities,
    hasCapabilities: capabilities.length > 0,
    dropAllCapabilities: optIns.defaultCapabilities === undefined,
    hostNetwork: optIns.hostNetwork !== undefined,
    optIns: reasons,
    hasOptIns: reasons.length > 0,
  };
}
