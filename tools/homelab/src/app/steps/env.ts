import type { WorkspaceConfig } from '../../spec/types';
import type { NormalizedApp } from '../normalized';

export type EnvVar = NormalizedApp['env'][number];

/** Variables of a map, sorted by name. */
export function sortedEnv(env: Record<string, string> | undefined): EnvVar[] {
  return Object.keys(env ?? {})
    .sort()
    .map((key) => ({ name: key, value: (env ?? {})[key] }));
}

/**
 * The app's Secret `<app>-secrets`: the keys services read (the services step checks each once
 * and none also a plain variable), from the workspace's store.
 */
export function normalizeSecrets(app: string, workspace: WorkspaceConfig, keys: NormalizedApp['secrets']['keys']): NormalizedApp['secrets'] {
  return { enabled: keys.length > 0, secretName: `${app}-secrets`, store: workspace.secrets?.store ?? 'homelab', keys };
}
