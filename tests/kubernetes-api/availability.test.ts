import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import type { AppSpec } from '../../tools/homelab/src/spec/types';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { applyOverlay } from '../support/apply';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { writeSpec } from '../support/spec';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from '../support/workspace';

/**
 * What docs/availability.md promises, end to end on a fresh homelab (`nx g homelab:init`, the
 * postgres component as `nx g homelab:infra` writes it, one app spec, `nx sync`): a `media` app
 * whose `web` runs 3 replicas in prod, whose `api` autoscales there (2 to 6 on CPU), and whose
 * `transcode` runs on a GPU node, built with the pinned kustomize and server-side applied to the
 * real API server (a dry run, then for real) with the catalog's CRDs installed. The server keeps
 * the PodDisruptionBudgets, spreads, the HorizontalPodAutoscaler, the quota and the limit range as
 * rendered; the shared PostgreSQL of prod runs 2 instances. No kubelet runs the pods (kwok plays
 * the nodes) and no metrics-server feeds the autoscaler: what is checked is what the server
 * accepts and stores.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const IMAGE = { repository: 'traefik/whoami', tag: 'v1.10.4' };
const HTTP = [{ name: 'http', port: 8080, http: true }];
const SPEC: AppSpec = {
  name: 'media',
  services: {
    web: { image: IMAGE, ports: HTTP, resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } } },
    api: { image: IMAGE, ports: HTTP, resources: { requests: { cpu: '200m', memory: '128Mi' }, limits: { memory: '256Mi' } } },
    transcode: {
      image: IMAGE,
      ports: HTTP,
      gpus: { resource: 'nvidia.com/gpu', count: 1 },
      placement: { nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
    },
  },
  environments: {
    dev: {},
    prod: { services: { web: { replicas: 3 }, api: { autoscale: { min: 2, max: 6, cpu: 70 } } } },
  },
};
const OVERLAY = 'applications/kubernetes/overlays/prod/media';
const SELECTOR = (component: string) => ({ 'app.kubernetes.io/name': 'media', 'app.kubernetes.io/component': component });
const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);

let root = '';
const namespaces: string[] = [];

describe.skipIf(kubectl.skip || cluster.skip)('availability and guardrails of a fresh homelab on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-availability');
    const host = diskHost(root);
    generateInit(host, {});
    generateInfra(host, { component: 'postgres' });
    writeSpec(host, SPEC);
    syncAll(host);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('kubectl kustomize builds prod with the budgets, spreads, autoscaler, GPU placement, quota and limit range', () => {
    const built = run('kubectl', ['kustomize', OVERLAY], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    const objects = parseDocs(built.stdout);
    const deployment = (name: string) => byKind(objects, 'Deployment').find((o) => o.metadata.name === name);

    // web: 3 replicas, a budget that lets a drain take one pod at a time, a soft spread over nodes.
    expect(deployment('web').spec.replicas).toBe(3);
    expect(deployment('web').spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(deployment('web').spec.template.spec.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: SELECTOR('web') }, matchLabelKeys: ['pod-template-hash'] },
    ]);
    // api: the autoscaler owns its replicas (none in git), and it is budgeted and spread like a replicated service.
    expect(deployment('api').spec).not.toHaveProperty('replicas');
    expect(deployment('api').spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe('ScheduleAnyway');
    expect(byKind(objects, 'PodDisruptionBudget').map((o) => [o.metadata.name, o.spec])).toEqual([
      ['api', { maxUnavailable: 1, selector: { matchLabels: SELECTOR('api') } }],
      ['web', { maxUnavailable: 1, selector: { matchLabels: SELECTOR('web') } }],
    ]);
    expect(byKind(objects, 'HorizontalPodAutoscaler').map((o) => o.spec)).toEqual([
      {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    ]);
    // transcode: one replica (no budget, no spread) on a GPU node.
    const gpuPod = deployment('transcode').spec.template.spec;
    expect(gpuPod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(gpuPod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(String(gpuPod.containers[0].resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(gpuPod).not.toHaveProperty('topologySpreadConstraints');
    // The namespace's guardrails: at the peak, web 3 + 1 surge, api 6 + 1 surge, transcode 1 + 1.
    const [quota] = byKind(objects, 'ResourceQuota');
    expect(quota.metadata.name).toBe('media');
    expect(Number(quota.spec.hard.pods)).toBeGreaterThanOrEqual(4 + 7 + 2);
    expect(Object.keys(quota.spec.hard)).toEqual(expect.arrayContaining(['requests.cpu', 'requests.memory', 'limits.memory', 'pods']));
    const [limits] = byKind(objects, 'LimitRange');
    expect(limits.spec.limits[0]).toMatchObject({ type: 'Container', defaultRequest: expect.any(Object), default: expect.any(Object) });
  });

  it('has the real API server accept and keep every object of the prod overlay, without a warning', () => {
    const { ns, objects } = applyOverlay(cluster, root, OVERLAY, 'media-prod');
    namespaces.push(ns);
    const stored = (kind: string) => JSON.parse(cluster.kubectlOk(['get', kind, '-n', ns, '-o', 'json'])).items as any[];

    expect(stored('poddisruptionbudgets.policy').map((o) => o.metadata.name).sort()).toEqual(['api', 'web']);
    expect(stored('horizontalpodautoscalers.autoscaling').map((o) => [o.metadata.name, o.spec.minReplicas, o.spec.maxReplicas])).toEqual([['api', 2, 6]]);
    const [quota] = stored('resourcequotas');
    expect(quota.spec.hard).toEqual(byKind(objects, 'ResourceQuota')[0].spec.hard);
    expect(stored('limitranges').map((o) => o.metadata.name)).toEqual(['media']);
    const deployments = Object.fromEntries(stored('deployments.apps').map((o) => [o.metadata.name, o.spec]));
    expect(deployments.web.template.spec.topologySpreadConstraints[0].matchLabelKeys).toEqual(['pod-template-hash']);
    expect(deployments.transcode.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
  });

  // The shared PostgreSQL of prod (two instances, CloudNativePG's budgets, spread, priority) is
  // applied and checked by tests/kubernetes-api/failover.test.ts.
});
