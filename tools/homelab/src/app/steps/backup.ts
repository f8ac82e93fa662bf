import { InputError } from '../../errors';
import { backupS3 } from '../../spec/backup-target';
import type { AppSpec, BackupProvider, WorkspaceConfig } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/** Backup: every volume with backup: true (the default), with the workspace's provider. */
export function normalizeBackup(
  spec: AppSpec,
  workspace: WorkspaceConfig,
  volumes: NormalizedApp['volumes'],
  /** The workloads that mount a volume (scaled down for a restore); the app's one when not given. */
  users: (volume: string) => { kind: string; name: string; replicas: number }[],
): NormalizedApp['backup'] {
  const provider: BackupProvider = workspace.backup?.provider ?? 'volsync';
  const backedUp = volumes.filter((v) => v.backup);
  const retention = { ...APP_DEFAULTS.retention, ...(spec.backup?.retention ?? {}) };
  const s3 = backupS3(workspace);
  if (provider === 'k8up' && backedUp.length > 0 && !s3) {
    throw new InputError(`homelab.yaml: backup.provider "k8up" needs backup.s3 (endpoint and bucket); add them or choose volsync`);
  }
  // Which backup resources live in the base component; Velero's Schedule is per environment.
  const componentResources =
    backedUp.length === 0 ? [] : provider === 'volsync' ? ['replicationsource.yaml'] : provider === 'k8up' ? ['schedule.yaml', 'externalsecret.yaml'] : [];
  return {
    enabled: backedUp.length > 0,
    provider,
    isVolsync: provider === 'volsync',
    isVelero: provider === 'velero',
    isK8up: provider === 'k8up',
    schedule: spec.backup?.schedule ?? workspace.backup?.schedule ?? APP_DEFAULTS.backupSchedule,
    retention,
    repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
    hasComponent: componentResources.length > 0,
    componentResources,
    k8up: {
      secretName: `${spec.name}-k8up`,
      endpoint: s3?.endpoint ?? '',
      bucket: s3?.bucket ?? '',
      pruneSchedule: '0 5 * * 0',
    },
    // Velero keeps each backup for a TTL: long enough for the longest retention asked for.
    veleroTtl: `${24 * Math.max(retention.daily, retention.weekly * 7, retention.monthly * 31, 1)}h`,
    volumes: backedUp.map((v) => ({
      name: v.name,
      claimName: v.claimName,
      resticSecret: `${v.claimName}-restic`,
      composeVolume: v.composeVolume,
      mountPath: v.mountPath,
      workloads: users(v.name),
      composeServices: users(v.name)
        .map((w) => w.name)
        .join(' '),
    })),
  };
}
