import type { ServiceSpec, ShorthandAppSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/** The user and group the container runs as: non-root (65532) unless the spec says otherwise (shorthand securityContext, a service's security.user). */
export function normalizeSecurity(container: Pick<ShorthandAppSpec, 'securityContext'> & Pick<ServiceSpec, 'security'>): NormalizedApp['security'] {
  const runAsUser = container.securityContext?.runAsUser ?? container.security?.user?.uid ?? APP_DEFAULTS.runAsUser;
  return { runAsUser, runAsGroup: container.securityContext?.runAsGroup ?? container.security?.user?.gid ?? runAsUser };
}
