import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import type { FullAppSpec } from '../../tools/homelab/src/spec/types';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { applyOverlay } from '../support/apply';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { writeSpec } from '../support/spec';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * The autoscaler on the real API server (v1.34): an app of two services, one autoscaled on CPU
 * and memory, is synced, its prod overlay built with the pinned kustomize and server-side
 * applied, as a server dry run and then for real, without a warning. The server keeps the
 * HorizontalPodAutoscaler as rendered (autoscaling/v2, the Deployment as its target), and the
 * Deployment applied without replicas gets the server's default: what the autoscaler then sets.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const SPEC: FullAppSpec = {
  name: 'shop',
  services: {
    api: {
      image: { repository: 'traefik/whoami', tag: 'v1.10.4' },
      ports: [{ name: 'http', port: 8080, http: true }],
      resources: { requests: { cpu: '100m', memory: '64Mi' } },
      autoscale: { min: 2, max: 6, cpu: 70, memory: 80 },
    },
    worker: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' } },
  },
  environments: { prod: {} },
};

let root = '';
let ns = '';

describe.skipIf(kubectl.skip || cluster.skip)('an autoscaled app on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-autoscale', WORKSPACE_YAML);
    const host = diskHost(root);
    writeSpec(host, SPEC);
    syncAll(host);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    if (ns) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('accepts the HorizontalPodAutoscaler and the Deployment without replicas with server-side apply, as a dry run and for real, without a warning', () => {
    const applied = applyOverlay(cluster, root, 'applications/kubernetes/overlays/prod/shop', 'autoscale');
    ns = applied.ns;
    expect(applied.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual(['api']);
    expect(applied.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'api').spec).not.toHaveProperty('replicas');

    const hpa = JSON.parse(cluster.kubectlOk(['get', 'horizontalpodautoscalers.v2.autoscaling', 'api', '-n', ns, '-o', 'json']));
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
    });
    const replicas = JSON.parse(cluster.kubectlOk(['get', 'deployments', '-n', ns, '-o', 'json'])).items.map((d: { metadata: { name: string }; spec: { replicas: number } }) => [d.metadata.name, d.spec.replicas]);
    // No field manager of homelab owns api's replicas: the server's default stands until the autoscaler sets them.
    expect(replicas).toEqual([
      ['api', 1],
      ['worker', 1],
    ]);
  });
});
