import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { environmentsOf, renderedStacks, writeSpec } from '../support/spec';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * Apps of several services (the full form) on the real API server: every overlay of the stacks
 * homelab renders today (the census stacks not pending, and tests/support/fixtures/full-form/wiki.yaml)
 * is built with the pinned kustomize and server-side applied, as a server dry run and then
 * for real, each into a namespace of its own, without a warning: Deployments, StatefulSets with
 * pod affinity, Jobs that are Sync hooks, Services, ConfigMaps, claims, every volume kind.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const STACKS = renderedStacks();
const OVERLAYS = STACKS.flatMap((spec) => environmentsOf(spec).map((env) => `applications/kubernetes/overlays/${env}/${spec.name}`));

let root = '';
const namespaces: string[] = [];

describe.skipIf(kubectl.skip || cluster.skip)('apps of several services on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-stacks', WORKSPACE_YAML);
    const host = diskHost(root);
    for (const spec of STACKS) writeSpec(host, spec);
    syncAll(host);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it.each(OVERLAYS)('accepts %s with server-side apply, first as a server dry run, then for real, without a warning', (overlay) => {
    const built = run('kubectl', ['kustomize', overlay], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    const ns = cluster.namespace(overlay.split('/').slice(-2).join('-'));
    namespaces.push(ns);
    cluster.kubectlOk(['create', 'namespace', ns]);
    // The ArgoCD Application is applied by the platform's overlay test; here only the app's own objects.
    const objects = parseDocs(built.stdout).filter((o) => o && o.kind !== 'Application');
    const file = path.join(root, `.rendered-${ns}.json`);
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

    for (const dryRun of [['--dry-run=server'], []]) {
      const result = cluster.kubectl(['apply', '--server-side', '--field-manager=homelab', '--force-conflicts', ...dryRun, '-n', ns, '-f', file]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/warning/i);
    }
    const workloads = JSON.parse(cluster.kubectlOk(['get', 'deployments,statefulsets,jobs', '-n', ns, '-o', 'json'])).items as { kind: string; metadata: { name: string } }[];
    const expected = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(workloads.map((w) => `${w.kind}/${w.metadata.name}`).sort()).toEqual(expected.sort());
  });
});
