import { InputError } from '../../errors';
import type { AppSpec, BackupProvider, CopyMethod, WorkspaceConfig } from '../../spec/types';
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
  if (provider === 'k8up' && backedUp.length > 0 && !workspace.backup?.s3) {
    throw new InputError(`homelab.yaml: backup.provider "k8up" needs backup.s3 (endpoint and bucket); add them or choose volsync`);
  }
  // Which backup resources live in the base component; Velero's Schedule is per environment.
  // A dump volume is backed up by its dump, never by copying its files: no ReplicationSource.
  const sources = backedUp.filter((v) => v.backupOptions.dump === null);
  const componentResources =
    sources.length === 0 ? [] : provider === 'volsync' ? ['replicationsource.yaml'] : provider === 'k8up' ? ['schedule.yaml', 'externalsecret.yaml'] : [];
  const copyMethod = workspace.backup?.copyMethod ?? DEFAULT_COPY_METHOD;
  return {
    enabled: backedUp.length > 0,
    provider,
    isVolsync: provider === 'volsync',
    isVelero: provider === 'velero',
    isK8up: provider === 'k8up',
    schedule: spec.backup?.schedule ?? workspace.backup?.schedule ?? APP_DEFAULTS.backupSchedule,
    retention,
    repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
    s3: backupS3(workspace),
    hasComponent: componentResources.length > 0,
    componentResources,
    k8up: {
      secretName: `${spec.name}-k8up`,
      endpoint: workspace.backup?.s3?.endpoint ?? '',
      bucket: workspace.backup?.s3?.bucket ?? '',
      pruneSchedule: '0 5 * * 0',
    },
    // Velero keeps each backup for a TTL: long enough for the longest retention asked for.
    veleroTtl: `${24 * Math.max(retention.daily, retention.weekly * 7, retention.monthly * 31, 1)}h`,
    volumes: backedUp.map((v) => ({
      name: v.name,
      claimName: v.claimName,
      resticSecret: `${v.claimName}-restic`,
      copyMethod: v.backupOptions.copyMethod ?? copyMethod,
      size: v.size,
      readWriteMany: v.readWriteMany,
      storageClass: v.storageClass,
      isSource: v.backupOptions.dump === null,
      composeVolume: v.composeVolume,
      mountPath: v.mountPath,
      workloads: users(v.name),
      composeServices: users(v.name)
        .map((w) => w.name)
        .join(' '),
    })),
  };
}

/** The restic image of the Kubernetes jobs homelab renders (dumps, the drill's check): the restic VolSync 0.14's mover runs, with /bin/sh. */
export const RESTIC_IMAGE = 'restic/restic:0.18.0';

/**
 * How VolSync copies a volume when neither the volume nor homelab.yaml says: Direct, the live
 * volume, which works on every storage (k3s local-path and hostPath have no CSI snapshots, so
 * Snapshot and Clone never start a mover there).
 */
export const DEFAULT_COPY_METHOD: CopyMethod = 'Direct';

/** The S3 bucket of the restic repositories: homelab.yaml backup.target.s3, or its older spelling backup.s3; null when none. */
export function backupS3(workspace: WorkspaceConfig): { endpoint: string; bucket: string } | null {
  return workspace.backup?.target?.s3 ?? workspace.backup?.s3 ?? null;
}

/**
 * One volume's restic repository on Kubernetes, VolSync's layout `<base>/<namespace>/<volume>`
 * (the Compose side writes the same with its project): `s3:<endpoint>/<bucket>/…` with an S3
 * target, else the store's `repository` property as an External Secrets template, resolved in
 * the cluster.
 * @example resticRepository(null, 'files-dev', 'data') // '{{ .repository }}/files-dev/data'
 */
export function resticRepository(s3: { endpoint: string; bucket: string } | null, namespace: string, volume: string): string {
  const base = s3 ? `s3:${s3.endpoint.replace(/\/+$/, '')}/${s3.bucket}` : '{{ .repository }}';
  return `${base}/${namespace}/${volume}`;
}
