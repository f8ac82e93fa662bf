import type { ShorthandAppSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/** The user and group the container runs as: non-root (65532) unless the spec says otherwise. */
export function normalizeSecurity(spec: ShorthandAppSpec): NormalizedApp['security'] {
  const runAsUser = spec.securityContext?.runAsUser ?? APP_DEFAULTS.runAsUser;
  return { runAsUser, runAsGroup: spec.securityContext?.runAsGroup ?? runAsUser };
}
