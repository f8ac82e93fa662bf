import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { applyOverlay } from '../support/apply';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from '../support/workspace';

/**
 * Failover of the shared components on the real API server with the catalog's CRDs (CloudNativePG
 * 1.28.1): a fresh homelab's postgres component, as `nx g homelab:infra postgres` writes it, has the
 * default instances of a new spec (2 where the install serves the protected prod); its overlay of
 * prod is built with the pinned kustomize (the generated/ component patching the base's Cluster) and
 * server-side applied; the PriorityClass the components name is accepted. No operator runs here:
 * CloudNativePG does not start the instances, so what the server checks is the schema and what it stores.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

let root = '';
const namespaces: string[] = [];

describe.skipIf(kubectl.skip || cluster.skip)('failover of the shared components on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-failover');
    const host = diskHost(root);
    generateInit(host, {});
    for (const component of ['ingress', 'postgres'] as const) generateInfra(host, { component });
    syncAll(host);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('runs two PostgreSQL instances where the install serves prod, with CloudNativePG PDBs, spread across nodes, at the platform priority', () => {
    const { ns } = applyOverlay(cluster, root, 'infrastructure/kubernetes/overlays/prod/postgres', 'postgres-prod');
    namespaces.push(ns);
    const [pg] = JSON.parse(cluster.kubectlOk(['get', 'clusters.postgresql.cnpg.io', '-n', ns, '-o', 'json'])).items;

    expect(pg.spec.instances).toBeGreaterThanOrEqual(2);
    expect(pg.spec).toMatchObject({
      enablePDB: true,
      affinity: { enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname', podAntiAffinityType: 'preferred' },
      priorityClassName: 'homelab-platform',
    });
  });

  it('has the server accept the PriorityClass the components name, applied by a per-cluster Application before the first component', () => {
    const built = run('kubectl', ['kustomize', 'platform/priority-classes'], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    const file = path.join(root, '.priority-classes.json');
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: parseDocs(built.stdout) }));
    const accepted = JSON.parse(cluster.kubectlOk(['apply', '--server-side', '--field-manager=homelab', '--dry-run=server', '-f', file, '-o', 'json']));
    const items = accepted.kind === 'List' ? accepted.items : [accepted];
    expect(items.map((o: any) => [o.kind, o.metadata.name, o.value, o.globalDefault ?? false])).toEqual([['PriorityClass', 'homelab-platform', 1000000, false]]);

    const [app] = parseDocs(fs.readFileSync(path.join(root, 'platform/argocd/applications/priority-classes-prod.yaml'), 'utf8'));
    const waves = fs
      .readdirSync(path.join(root, 'platform/argocd/applications/prod'))
      .map((f) => Number(parseDocs(fs.readFileSync(path.join(root, 'platform/argocd/applications/prod', f), 'utf8'))[0].metadata.annotations['argocd.argoproj.io/sync-wave']));
    expect(Number(app.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(Math.min(...waves));
  });
});
