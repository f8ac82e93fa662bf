import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { useCluster } from '../support/cluster';
import { specOf, writeSpec } from '../support/spec';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from '../support/workspace';

/**
 * The namespace guardrails on the real API server, applied for real (kwok plays the node, the
 * real quota controller and admission count): the ResourceQuota and LimitRange rendered by the
 * real chain (`kubectl kustomize` of the dev overlay) with the app's own Deployment and
 * ServiceAccount. The quota admits the app at its peak (its 2 replicas and the surge pod of a
 * rolling update) and a pod without resources, such as a backup mover or a debug pod, which the
 * LimitRange gives its defaults; a pod beyond that is refused by the quota admission.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();
const KEPT = new Set(['ResourceQuota', 'LimitRange', 'ServiceAccount', 'Deployment']);

describe.skipIf(kubectl.skip || cluster.skip)('the ResourceQuota and LimitRange of an app namespace, on the real API server', { timeout: 300_000 }, () => {
  let root: string;
  const ns = cluster.namespace('quota');
  let rendered: any[];
  const get = (ref: string) => JSON.parse(cluster.kubectlOk(['get', ref, '-n', ns, '-o', 'json']));
  const apply = (objects: any[]) => cluster.kubectlOk(['apply', '--server-side', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  /** A pod without resources, as VolSync's mover or `kubectl run` creates it. */
  const bare = (name: string) =>
    cluster.kubectl(['run', name, '-n', ns, '--image=homelab-test/busybox:1', '--restart=Never', '--overrides', JSON.stringify({ apiVersion: 'v1', spec: { securityContext: { runAsNonRoot: true, runAsUser: 65532 } } })]);
  const until = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 120; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(() => {
    root = makeDiskWorkspace('api-quota');
    const host = diskHost(root);
    // 2 replicas of 100m/128Mi, limits 256Mi: at the peak 3 pods (a rolling update's surge pod).
    writeSpec(host, specOf('shop', { replicas: 2, resources: { requests: { cpu: '100m', memory: '128Mi' } } }));
    syncAll(host);
    const built = run('kubectl', ['kustomize', path.join(root, 'applications/kubernetes/overlays/dev/shop')]);
    expect(built.status, built.stderr).toBe(0);
    rendered = parseDocs(built.stdout).filter((o) => KEPT.has(o?.kind));
    cluster.kubectlOk(['create', 'namespace', ns]);
  });
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('accepts the quota and the limit range as rendered, and the quota controller counts with exactly the rendered quantities', async () => {
    apply(rendered.filter((o) => o.kind === 'ResourceQuota' || o.kind === 'LimitRange'));
    const hard = rendered.find((o) => o.kind === 'ResourceQuota').spec.hard;

    expect(hard).toEqual({ 'requests.cpu': '375m', 'requests.memory': '480Mi', 'limits.memory': '1280Mi', pods: '4', persistentvolumeclaims: '0', 'requests.storage': '0' });
    await until('the quota controller to count the namespace', () => get('resourcequota/shop').status?.hard !== undefined);
    expect(get('resourcequota/shop').status.hard).toEqual(hard);
  });

  it('admits the app at its peak: the Deployment scaled to its replicas plus the surge pod', async () => {
    apply(rendered.filter((o) => o.kind === 'ServiceAccount' || o.kind === 'Deployment'));
    cluster.kubectlOk(['scale', 'deployment/shop', '-n', ns, '--replicas=3']);

    await until('3 pods of shop', () => get('pods').items.filter((p: any) => p.metadata.labels?.['app.kubernetes.io/name'] === 'shop').length === 3);
    await until('the quota to count them', () => get('resourcequota/shop').status.used?.pods === '3');
    expect(get('resourcequota/shop').status.used).toMatchObject({ pods: '3', 'requests.cpu': '300m', 'requests.memory': '384Mi', 'limits.memory': '768Mi' });
  });

  it("admits a pod without resources (a backup mover, a debug pod) with the LimitRange's defaults", () => {
    const created = bare('mover');

    expect(created.status, created.stderr).toBe(0);
    expect(get('pod/mover').spec.containers[0].resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '512Mi' } });
  });

  it('refuses a pod beyond the quota in the quota admission', () => {
    const refused = bare('one-too-many');

    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden: exceeded quota: shop, requested: .*pods=1.*limited: .*pods=4/);
  });
});
