import { InputError, show } from '../../errors';
import type { ShorthandAppSpec, WorkspaceConfig } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { unique } from './unique';

export type EnvVar = NormalizedApp['env'][number];

/** Variables of a map, sorted by name. */
export function sortedEnv(env: Record<string, string> | undefined): EnvVar[] {
  return Object.keys(env ?? {})
    .sort()
    .map((key) => ({ name: key, value: (env ?? {})[key] }));
}

/** The plain environment variables, sorted by name. */
export function normalizeEnv(spec: ShorthandAppSpec): Pick<NormalizedApp, 'env' | 'hasEnv'> {
  const env = sortedEnv(spec.env);
  return { env, hasEnv: env.length > 0 };
}

/** The secret keys, each once and none also a plain variable, read from the workspace's store. */
export function normalizeSecrets(spec: ShorthandAppSpec, workspace: WorkspaceConfig, where: string): NormalizedApp['secrets'] {
  const keys = (spec.secrets ?? []).map((s) => ({ key: s.key, remoteKey: s.remoteKey, property: s.property ?? null }));
  unique(keys.map((s) => s.key), `${where}: secrets[].key`, 'list each secret key once');
  for (const s of keys) {
    if (spec.env && s.key in spec.env) {
      throw new InputError(`${where}: ${show(s.key)} is both a plain env variable and a secret; keep it in secrets only`);
    }
  }
  return { enabled: keys.length > 0, secretName: `${spec.name}-secrets`, store: workspace.secrets?.store ?? 'homelab', keys };
}
