import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateComponent } from '../../tools/homelab/src/component/validate';
import { useCluster } from '../support/cluster';
import { applyOverlay } from '../support/apply';
import { installCatalogCrds } from '../support/crds';
import { databaseHomelab } from '../support/database';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * The shared PostgreSQL's own backups on Kubernetes: with `backup.target.s3` in homelab.yaml the
 * postgres component's Cluster archives WAL through the Barman Cloud plugin into an ObjectStore
 * on that bucket, and a ScheduledBackup takes base backups (`method: plugin`). Built with the
 * pinned kustomize and server-side applied (a dry run, then for real) to the real API server with
 * the catalog's CRDs (CloudNativePG 1.28.1, the plugin's ObjectStore v0.15.0, External Secrets),
 * then read back. No operator or plugin runs here, so no backup is taken; the server checks the
 * field names and types against the CRDs. Without an S3 target, validate warns instead.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const S3 = 'backup:\n  provider: volsync\n  schedule: "0 3 * * *"\n  repositoryKey: homelab/restic\n  target:\n    s3: { endpoint: "https://s3.home.arpa", bucket: homelab-backups }\n';

let root = '';
let bare = '';
let ns = '';

describe.skipIf(kubectl.skip || cluster.skip)("the shared PostgreSQL's backups on the real Kubernetes API", { timeout: 180_000 }, () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-pg-backup', WORKSPACE_YAML.replace(/^backup:\n(?: {2}.*\n)+/m, S3));
    databaseHomelab(root);
    bare = makeDiskWorkspace('api-pg-bare');
    databaseHomelab(bare);
    installCatalogCrds(cluster);
    ({ ns } = applyOverlay(cluster, root, 'infrastructure/kubernetes/overlays/prod/postgres', 'postgres'));
  }, 600_000);
  afterAll(() => {
    if (ns) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
    removeDir(bare);
  });

  const get = (kind: string) => JSON.parse(cluster.kubectlOk(['get', kind, '-n', ns, '-o', 'json'])).items as any[];

  it('archives the Cluster\'s WAL through the Barman Cloud plugin into the ObjectStore on the S3 target, with the component\'s retention', () => {
    const [pg] = get('clusters.postgresql.cnpg.io');
    expect(pg.spec.plugins).toEqual([{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'postgres-backups' }, ...pick(pg.spec.plugins[0]) }]);
    const [store] = get('objectstores.barmancloud.cnpg.io');
    expect(store.metadata.name).toBe('postgres-backups');
    expect(store.spec.retentionPolicy).toBe('30d');
    expect(store.spec.configuration).toMatchObject({
      destinationPath: 's3://homelab-backups/postgres',
      endpointURL: 'https://s3.home.arpa',
      s3Credentials: { accessKeyId: { name: 'postgres-backups-s3', key: 'AWS_ACCESS_KEY_ID' }, secretAccessKey: { name: 'postgres-backups-s3', key: 'AWS_SECRET_ACCESS_KEY' } },
    });
    const secret = get('externalsecrets.external-secrets.io').find((e) => e.metadata.name === 'postgres-backups-s3');
    expect(secret.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key, d.remoteRef.property])).toEqual([
      ['AWS_ACCESS_KEY_ID', 'homelab/restic', 'AWS_ACCESS_KEY_ID'],
      ['AWS_SECRET_ACCESS_KEY', 'homelab/restic', 'AWS_SECRET_ACCESS_KEY'],
    ]);
  });

  it('takes a base backup with the plugin on the workspace schedule', () => {
    const [scheduled] = get('scheduledbackups.postgresql.cnpg.io');
    expect(scheduled.spec).toMatchObject({ schedule: '0 0 3 * * *', method: 'plugin', cluster: { name: 'postgres' }, pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' } });
  });

  it('validates without a finding with the target, and warns without one that only the apps\' dumps cover the shared PostgreSQL', () => {
    expect(validateComponent(root, 'postgres')).toEqual([]);
    expect(validateComponent(bare, 'postgres')).toEqual([expect.objectContaining({ rule: 'backup/postgres-dumps-only', severity: 'warning', file: 'infrastructure/specs/postgres.yaml' })]);
  });
});

/** The defaults the server adds to a plugin entry (an `enabled` flag in CloudNativePG 1.28), kept out of the comparison. */
function pick(entry: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([k]) => !['name', 'isWALArchiver', 'parameters'].includes(k)));
}
