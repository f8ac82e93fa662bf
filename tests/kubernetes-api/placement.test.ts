import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { specOf, writeSpec } from '../support/spec';
import { applyOverlay } from '../support/apply';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * Placed workloads on the real API server (docs/availability.md, "Placement"): the prod overlays
 * of a placed Deployment (the shorthand with the GPU recipe, prod adding an architecture) and of
 * the placement fixture (tests/support/fixtures/placement/ml.yaml: StatefulSets whose node
 * affinity sits beside the pod affinity of a shared ReadWriteOnce volume, a GPU Job, an arm64
 * CronJob, prod's node and replaced tolerations and node affinity), built with the pinned
 * kustomize and server-side applied, as a dry run and then for real (tests/support/apply.ts). The
 * server accepts every object without a warning and keeps the placement as rendered: no field
 * dropped by its schema.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();
const OVERLAYS = ['applications/kubernetes/overlays/prod/gpu', 'applications/kubernetes/overlays/prod/ml'];

let root = '';
const namespaces: string[] = [];

describe.skipIf(kubectl.skip || cluster.skip)('placed workloads on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-placement');
    const host = diskHost(root);
    host.write('applications/specs/ml.yaml', fs.readFileSync(path.join(__dirname, '../support/fixtures/placement/ml.yaml'), 'utf8'));
    writeSpec(
      host,
      specOf('gpu', {
        placement: { nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
        environments: { dev: {}, prod: { placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } } },
      }),
    );
    syncAll(host);
    // The overlays hold PrometheusRules (and ml's claims nothing else needs): the catalog's CRDs, as in a homelab.
    installCatalogCrds(cluster);
  }, 300_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  /**
   * The overlay server-side applied (a dry run, then for real) into a namespace of its own, and its
   * workloads read back from the server: their pod specs, by workload.
   */
  const apply = (overlay: string) => {
    const { ns } = applyOverlay(cluster, root, overlay, overlay.split('/').slice(-2).join('-'));
    namespaces.push(ns);
    const items: any[] = JSON.parse(cluster.kubectlOk(['get', 'deployments,statefulsets,jobs,cronjobs', '-n', ns, '-o', 'json'])).items;
    // The rendered workloads only: a Job a CronJob started (its owner) is not one of them.
    return Object.fromEntries(
      items.filter((o) => !o.metadata.ownerReferences).map((o) => [`${o.kind}/${o.metadata.name}`, o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec]),
    );
  };

  it('accepts a placed Deployment: the GPU recipe with the environment\'s architecture', () => {
    const pods = apply(OVERLAYS[0]);

    expect(pods['Deployment/gpu'].nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64', 'nvidia.com/gpu.present': 'true' });
    expect(pods['Deployment/gpu'].tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('accepts placed StatefulSets, a Job and a CronJob, node affinity beside pod affinity', () => {
    const pods = apply(OVERLAYS[1]);

    expect(Object.keys(pods).sort()).toEqual(['CronJob/sweep', 'Job/train', 'StatefulSet/db', 'StatefulSet/reader']);
    expect(pods['StatefulSet/reader'].affinity.nodeAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'example.org/storage', operator: 'Exists' }] } }],
    });
    expect(pods['StatefulSet/reader'].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(pods['Job/train'].tolerations).toEqual([{ key: 'node.example.org/maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    expect(pods['Job/train'].nodeSelector).toEqual({ 'kubernetes.io/hostname': 'nuc', 'nvidia.com/gpu.present': 'true' });
    expect(pods['CronJob/sweep'].nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'nuc' });
  });
});
