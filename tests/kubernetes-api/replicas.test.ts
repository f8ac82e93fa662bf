import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import type { AppSpec } from '../../tools/homelab/src/spec/types';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { applyOverlay } from '../support/apply';
import { useCluster } from '../support/cluster';
import { writeSpec } from '../support/spec';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from '../support/workspace';

/**
 * Replicated services on the real API server: an app whose `api` runs 2 replicas everywhere (a
 * hard spread in prod) and whose `worker` runs 1, but 3 in prod with `minAvailable: 2`, is
 * rendered by the real chain (nx sync's syncAll, `kubectl kustomize` of each overlay) and its
 * objects are server-side applied, a dry run and then for real: the PodDisruptionBudgets
 * (policy/v1) and the Deployments with topologySpreadConstraints, matchLabelKeys included.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const SPEC: AppSpec = {
  name: 'shop',
  services: {
    api: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }], replicas: 2 },
    worker: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }] },
  },
  // No PrometheusRule: the test's API server has no monitoring CRDs installed, and the rules are not what it checks.
  monitoring: { alerts: false },
  environments: {
    dev: {},
    prod: { services: { api: { spread: 'hard' }, worker: { replicas: 3, availability: { minAvailable: 2 } } } },
  },
};
const SELECTOR = (component: string) => ({ 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/component': component });
const spreadOf = (whenUnsatisfiable: string, component: string) => [
  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable, labelSelector: { matchLabels: SELECTOR(component) }, matchLabelKeys: ['pod-template-hash'] },
];

let root = '';
const namespaces: string[] = [];

describe.skipIf(kubectl.skip || cluster.skip)('replicated services on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-replicas');
    const host = diskHost(root);
    writeSpec(host, SPEC);
    syncAll(host);
  }, 120_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('kubectl kustomize builds prod with a budget per replicated service and each spread where it is meant', () => {
    const built = run('kubectl', ['kustomize', 'applications/kubernetes/overlays/prod/shop'], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    const objects = parseDocs(built.stdout);
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => ({ name: o.metadata.name, spec: o.spec }));
    expect(budgets).toEqual([
      { name: 'api', spec: { maxUnavailable: 1, selector: { matchLabels: SELECTOR('api') } } },
      { name: 'worker', spec: { minAvailable: 2, selector: { matchLabels: SELECTOR('worker') } } },
    ]);
    const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
    expect(deployment('api').spec.template.spec.topologySpreadConstraints).toEqual(spreadOf('DoNotSchedule', 'api'));
    expect(deployment('worker').spec.replicas).toBe(3);
    expect(deployment('worker').spec.template.spec.topologySpreadConstraints).toEqual(spreadOf('ScheduleAnyway', 'worker'));
    expect(deployment('worker').spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  it.each(['dev', 'prod'])('the API server accepts the %s overlay (server-side apply: a dry run, then for real) and keeps every budget and spread', (env) => {
    const { ns, objects } = applyOverlay(cluster, root, `applications/kubernetes/overlays/${env}/shop`, `shop-${env}`);
    namespaces.push(ns);
    const budgets = JSON.parse(cluster.kubectlOk(['get', 'poddisruptionbudgets', '-n', ns, '-o', 'json'])).items as any[];
    expect(budgets.map((b) => b.metadata.name).sort()).toEqual(objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name).sort());
    expect(budgets.map((b) => b.metadata.name).sort()).toEqual(env === 'prod' ? ['api', 'worker'] : ['api']);
    const deployments = JSON.parse(cluster.kubectlOk(['get', 'deployments', '-n', ns, '-o', 'json'])).items as any[];
    const api = deployments.find((d) => d.metadata.name === 'api');
    expect(api.spec.template.spec.topologySpreadConstraints).toEqual(spreadOf(env === 'prod' ? 'DoNotSchedule' : 'ScheduleAnyway', 'api'));
    expect(deployments.find((d) => d.metadata.name === 'worker').spec.template.spec.topologySpreadConstraints).toEqual(env === 'prod' ? spreadOf('ScheduleAnyway', 'worker') : undefined);
  });
});
