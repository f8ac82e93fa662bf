import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCluster } from '../support/cluster';
import { applyOverlay as applyBuiltOverlay } from '../support/apply';
import { installCatalogCrds } from '../support/crds';
import { databaseHomelab } from '../support/database';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * Per-app databases on the real API server with the catalog's CRDs (CloudNativePG 1.28.1, External
 * Secrets 0.18.2): the postgres component's overlay (its Cluster with the apps' managed roles, the
 * roles' password ExternalSecrets, a Database per app and environment) and the apps' overlays (the
 * ExternalSecret of their connection, the workloads that read it) are built with the pinned
 * kustomize, server-side applied (a server dry run, then for real, each overlay into a namespace of
 * its own) and read back. No operator runs here: CloudNativePG and External Secrets do not
 * reconcile them, so what the server checks is their schema and what it stores.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

let root = '';
const namespaces: string[] = [];

function applyOverlay(overlay: string): string {
  const { ns } = applyBuiltOverlay(cluster, root, overlay, overlay.split('/').slice(-2).join('-'));
  namespaces.push(ns);
  return ns;
}
const get = (kind: string, ns: string) => JSON.parse(cluster.kubectlOk(['get', kind, '-n', ns, '-o', 'json'])).items as any[];

describe.skipIf(kubectl.skip || cluster.skip)('per-app databases on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-databases');
    databaseHomelab(root);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it("gives the postgres Cluster a managed role per app and environment, each password from the store, and a Database each", () => {
    const ns = applyOverlay('infrastructure/kubernetes/overlays/prod/postgres');
    const [pg] = get('clusters.postgresql.cnpg.io', ns);
    expect(pg.spec.managed.roles).toEqual([
      { name: 'shop_app', ensure: 'present', login: true, passwordSecret: { name: 'role-shop-app' }, ...pick(pg.spec.managed.roles[0]) },
      { name: 'wiki_dev', ensure: 'present', login: true, passwordSecret: { name: 'role-wiki-dev' }, ...pick(pg.spec.managed.roles[1]) },
      { name: 'wiki', ensure: 'present', login: true, passwordSecret: { name: 'role-wiki' }, ...pick(pg.spec.managed.roles[2]) },
    ]);
    const databases = get('databases.postgresql.cnpg.io', ns).map((d) => [d.metadata.name, d.spec.cluster.name, d.spec.name, d.spec.owner, (d.spec.extensions ?? []).map((e: { name: string }) => e.name)]);
    expect(databases.sort()).toEqual([
      ['shop', 'postgres', 'shop', 'shop_app', []],
      ['wiki', 'postgres', 'wiki', 'wiki', ['pg_trgm', 'citext']],
      ['wiki-dev', 'postgres', 'wiki_dev', 'wiki_dev', ['pg_trgm', 'citext']],
    ]);
    const secrets = get('externalsecrets.external-secrets.io', ns).map((e) => [
      e.metadata.name,
      e.spec.target.template.type,
      e.spec.target.template.data.username,
      e.spec.target.template.data.password,
      e.spec.data[0].remoteRef.key,
      e.spec.data[0].remoteRef.property,
    ]);
    expect(secrets.sort()).toEqual([
      ['role-shop-app', 'kubernetes.io/basic-auth', 'shop_app', '{{ .password }}', 'shop', 'DATABASE_PASSWORD'],
      ['role-wiki', 'kubernetes.io/basic-auth', 'wiki', '{{ .password }}', 'wiki', 'DATABASE_PASSWORD'],
      ['role-wiki-dev', 'kubernetes.io/basic-auth', 'wiki_dev', '{{ .password }}', 'wiki', 'DATABASE_PASSWORD'],
    ]);
  });

  it.each([
    ['dev', 'wiki_dev'],
    ['prod', 'wiki'],
  ])("gives the app in %s the connection to its database %s from the same store entry, read whole by its workload", (env, database) => {
    const ns = applyOverlay(`applications/kubernetes/overlays/${env}/wiki`);
    const [connection] = get('externalsecrets.external-secrets.io', ns).filter((e) => e.metadata.name === 'wiki-database');
    expect(connection.spec.target.template.data).toEqual({
      DB_HOST: 'postgres-rw.postgres.svc',
      DB_PORT: '5432',
      DB_NAME: database,
      DB_USER: database,
      DB_PASSWORD: '{{ .password }}',
    });
    expect(connection.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'wiki', property: 'DATABASE_PASSWORD', ...pick(connection.spec.data[0].remoteRef) } }]);
    const [deployment] = get('deployments', ns);
    expect(deployment.spec.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: 'wiki-database' } }]);
  });

  it('gives the URL to the one service of a stack that reads it, with the password percent-encoded', () => {
    const ns = applyOverlay('applications/kubernetes/overlays/prod/shop');
    const [connection] = get('externalsecrets.external-secrets.io', ns).filter((e) => e.metadata.name === 'shop-database');
    expect(connection.spec.target.template.data).toEqual({ DATABASE_URL: 'postgresql://shop_app:{{ .password | urlquery | replace "+" "%20" }}@postgres-rw.postgres.svc:5432/shop' });
    const byName = Object.fromEntries(get('deployments', ns).map((d) => [d.metadata.name, d.spec.template.spec.containers[0].envFrom ?? []]));
    expect(byName.web).toEqual([{ secretRef: { name: 'shop-database' } }]);
    expect(byName.worker).toEqual([]);
  });
});

/** The defaults the API server adds to what was applied (CRD schema defaults), kept out of the comparison. */
function pick(obj: Record<string, unknown>): Record<string, unknown> {
  const known = new Set(['name', 'ensure', 'login', 'passwordSecret', 'key', 'property']);
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !known.has(k)));
}
