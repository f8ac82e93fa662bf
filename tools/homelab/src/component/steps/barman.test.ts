import { describe, expect, it } from 'vitest';
import type { WorkspaceConfig } from '../../spec/types';
import { postgresBarman } from './barman';

const workspace = (backup: WorkspaceConfig['backup']): WorkspaceConfig => ({ environments: [{ name: 'dev' }], gitops: { repoURL: 'https://git.home.arpa/h.git' }, backup });
const S3 = { endpoint: 'https://s3.example.org', bucket: 'homelab-backups' };

describe('postgresBarman: the shared PostgreSQL\'s own backups', () => {
  it.each([
    { case: 'backup.target.s3', backup: { target: { s3: S3 } } },
    { case: 'the older backup.s3', backup: { s3: S3 } },
  ])('writes to the S3 target of $case, under postgres/, on the workspace schedule with seconds first', ({ backup }) => {
    expect(postgresBarman(workspace({ ...backup, schedule: '30 2 * * *', repositoryKey: 'backups/restic' }), 14)).toEqual({
      enabled: true,
      plugin: 'barman-cloud.cloudnative-pg.io',
      objectStore: 'postgres-backups',
      secret: 'postgres-backups-s3',
      destinationPath: 's3://homelab-backups/postgres',
      endpointURL: 'https://s3.example.org',
      repositoryKey: 'backups/restic',
      retentionPolicy: '14d',
      scheduledBackupSchedule: '0 30 2 * * *',
    });
  });

  it('keeps 30 days unless the component says, and is off without an S3 target (a host path cannot hold it)', () => {
    expect(postgresBarman(workspace({ target: { s3: S3 } }), undefined).retentionPolicy).toBe('30d');
    expect(postgresBarman(workspace({ target: { path: '/mnt/backups/restic' } }), undefined).enabled).toBe(false);
    expect(postgresBarman(workspace(undefined), undefined).enabled).toBe(false);
  });
});
