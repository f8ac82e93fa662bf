import { backupS3 } from '../../spec/backup-target';
import type { WorkspaceConfig } from '../../spec/types';
import type { NormalizedComponent } from '../normalize';

/** CloudNativePG's Barman Cloud plugin (CNPG-I), as the Cluster names it in `spec.plugins`. */
export const BARMAN_PLUGIN = 'barman-cloud.cloudnative-pg.io';

/** Days of base backups and WAL the object store keeps when the postgres component's settings do not say. */
export const DEFAULT_POSTGRES_RETENTION_DAYS = 30;

/**
 * The shared PostgreSQL's own backups on Kubernetes (docs/backup.md, "Kubernetes"): with an S3
 * target in homelab.yaml, CloudNativePG archives WAL and takes base backups through the Barman
 * Cloud plugin into `s3://<bucket>/postgres` (an ObjectStore with the target's credentials from the
 * store key `backup.repositoryKey`), a ScheduledBackup on homelab.yaml's `backup.schedule` and the
 * component's `retentionDays` as the ObjectStore's `retentionPolicy`. Without an S3 target there
 * is nothing to write to: disabled, and validate warns that the apps' dumps are all that covers it.
 * @example postgresBarman(workspace, 30).scheduledBackupSchedule // '0 0 3 * * *'
 */
export function postgresBarman(workspace: WorkspaceConfig, retentionDays: number | undefined): NormalizedComponent['postgres']['barman'] {
  const s3 = backupS3(workspace);
  const schedule = workspace.backup?.schedule ?? '0 3 * * *';
  return {
    enabled: s3 !== null,
    plugin: BARMAN_PLUGIN,
    objectStore: 'postgres-backups',
    secret: 'postgres-backups-s3',
    destinationPath: s3 ? `s3://${s3.bucket}/postgres` : '',
    endpointURL: s3?.endpoint ?? '',
    repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
    retentionPolicy: `${retentionDays ?? DEFAULT_POSTGRES_RETENTION_DAYS}d`,
    // CloudNativePG's schedules have a seconds field first.
    scheduledBackupSchedule: `0 ${schedule}`,
  };
}
