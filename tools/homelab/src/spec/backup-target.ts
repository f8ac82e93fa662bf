import { InputError, show } from '../errors';
import type { WorkspaceConfig } from './types';

/** Where the restic repositories live on Compose without `backup.target`: on the Docker host, outside Docker's own folder. */
export const DEFAULT_BACKUP_PATH = '/var/backups/homelab/restic';

/** The image of the Compose backup movers (homelab.yaml compose.backup.image): VolSync 0.14's restic, Alpine with /bin/sh. */
export const BACKUP_IMAGE = 'restic/restic:0.18.0';

/**
 * homelab.yaml `backup.target`, the place of every restic repository (docs/backup.md): a host path
 * of the Docker host or an S3 bucket. `backup.s3`, the older form, means `target.s3`. Without
 * either, Compose keeps them under DEFAULT_BACKUP_PATH (`isDefault`: validate warns that they stay
 * on the Docker host's disk) and Kubernetes keeps the store's `repository` property.
 */
export type BackupTarget =
  | { kind: 'path'; path: string; isDefault: boolean }
  | { kind: 's3'; endpoint: string; bucket: string; isDefault: false };

/** The workspace's backup target, or an InputError naming the value and the fix. */
export function backupTarget(workspace: Pick<WorkspaceConfig, 'backup'>): BackupTarget {
  const target = workspace.backup?.target;
  const legacy = workspace.backup?.s3;
  if (target?.path !== undefined && target.s3 !== undefined) {
    throw new InputError(`homelab.yaml: backup.target has both path and s3; keep one (a host path of the Docker host, or an S3 bucket)`);
  }
  if (legacy && target?.path !== undefined) {
    throw new InputError(`homelab.yaml: backup.s3 and backup.target.path name two places for the repositories; keep one (backup.s3 is the older form of backup.target.s3)`);
  }
  if (legacy && target?.s3 && (legacy.endpoint !== target.s3.endpoint || legacy.bucket !== target.s3.bucket)) {
    throw new InputError(`homelab.yaml: backup.s3 and backup.target.s3 differ; keep backup.target.s3 and remove backup.s3 (its older form)`);
  }
  const s3 = target?.s3 ?? legacy;
  if (s3) return { kind: 's3', endpoint: s3.endpoint.replace(/\/+$/, ''), bucket: s3.bucket, isDefault: false };
  if (target?.path === undefined) return { kind: 'path', path: DEFAULT_BACKUP_PATH, isDefault: true };
  const path = target.path;
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    throw new InputError(`homelab.yaml: backup.target.path ${show(path)} is not an absolute path; give the folder on the Docker host as an absolute path without "..", e.g. /mnt/backups/restic`);
  }
  if (/^\/var\/lib\/docker(\/|$)/.test(path)) {
    throw new InputError(`homelab.yaml: backup.target.path ${show(path)} is inside Docker's own folder, beside the volumes it protects; choose a folder outside /var/lib/docker, e.g. /mnt/backups/restic`);
  }
  return { kind: 'path', path: path.length > 1 ? path.replace(/\/+$/, '') : path, isDefault: false };
}

/** The S3 bucket of the repositories (`backup.target.s3` or the older `backup.s3`), or null for a host path. */
export function backupS3(workspace: Pick<WorkspaceConfig, 'backup'>): { endpoint: string; bucket: string } | null {
  const target = backupTarget(workspace);
  return target.kind === 's3' ? { endpoint: target.endpoint, bucket: target.bucket } : null;
}
