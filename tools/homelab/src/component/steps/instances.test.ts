import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { WorkspaceConfig } from '../../spec/types';
import { renderComponent } from '../../render/component';
import { catalogSpec } from '../catalog';
import { normalizeComponent } from '../normalize';
import type { ComponentSpec } from '../types';
import { defaultInstances, instancesOf } from './instances';

/** dev and prod share one cluster and one Docker host (prod, protected, installs both); lab has its own of each. */
const WORKSPACE: WorkspaceConfig = {
  environments: [
    { name: 'dev', namespaceSuffix: '-dev' },
    { name: 'prod', protected: true },
    { name: 'lab', namespaceSuffix: '-lab', kubernetes: { server: 'https://lab.example.org:6443' }, compose: { context: 'lab' } },
  ],
  gitops: { repoURL: 'https://git.example.org/h.git' },
};
const NOTHING_ELSE = { components: new Set<never>(), stores: [], databases: [], claims: [] };
const WHERE = 'infrastructure/specs/postgres.yaml';

/** The files of a component rendered from `spec`, by path. */
function render(spec: ComponentSpec, workspace = WORKSPACE): Map<string, string> {
  return new Map(renderComponent(normalizeComponent(spec, workspace, NOTHING_ELSE)).map((f) => [f.path, f.content]));
}
const doc = (files: Map<string, string>, path: string) => {
  const content = files.get(path);
  if (content === undefined) throw new Error(`${path} is not rendered; rendered: ${[...files.keys()].join(', ')}`);
  return YAML.parse(content);
};
const withInstances = (name: 'postgres' | 'ingress', instances: unknown): ComponentSpec => {
  const spec = catalogSpec(name, {}, WORKSPACE);
  spec.settings = { ...spec.settings, instances: instances as number };
  return spec;
};

describe('settings.instances of the shared components', () => {
  it('defaults a new spec to 2 where the install serves a protected environment, else 1, keyed by the installing environment', () => {
    expect(defaultInstances(WORKSPACE)).toEqual({ prod: 2, lab: 1 });
    expect(catalogSpec('postgres', {}, WORKSPACE).settings?.instances).toEqual({ prod: 2, lab: 1 });
    expect(catalogSpec('ingress', {}, WORKSPACE).settings?.instances).toEqual({ prod: 2, lab: 1 });
    // Without a protected environment nothing gets two.
    expect(defaultInstances({ ...WORKSPACE, environments: [{ name: 'dev' }] })).toEqual({ dev: 1 });
  });

  it.each<{ instances: number | Record<string, number> | undefined; prod: number; lab: number }>([
    { instances: undefined, prod: 1, lab: 1 },
    { instances: 3, prod: 3, lab: 3 },
    { instances: { prod: 3, lab: 2 }, prod: 3, lab: 2 },
    // An installing environment the map does not name gets the default of a new spec.
    { instances: { lab: 2 }, prod: 2, lab: 2 },
  ])('counts $instances as prod $prod and lab $lab', ({ instances, prod, lab }) => {
    const of = instancesOf({ name: 'postgres', settings: instances === undefined ? {} : { instances } }, WORKSPACE, WHERE, 1);
    expect([of('prod'), of('lab')]).toEqual([prod, lab]);
  });

  it.each([
    { instances: 0, message: `${WHERE}: settings.instances is 0; give a whole number of instances of at least 1` },
    { instances: 1.5, message: `${WHERE}: settings.instances is 1.5; give a whole number of instances of at least 1` },
    { instances: { prod: 0 }, message: `${WHERE}: settings.instances.prod is 0; give a whole number of instances of at least 1` },
    { instances: { prod: 'two' }, message: `${WHERE}: settings.instances.prod is "two"; give a whole number of instances of at least 1` },
    {
      instances: { dev: 2 },
      message: `${WHERE}: settings.instances.dev: dev installs no postgres of its own (installing environments: prod, lab); key the count by one of them`,
    },
  ])('refuses instances $instances in one line naming the value and the fix', ({ instances, message }) => {
    const spec = withInstances('postgres', instances as never);
    expect(() => normalizeComponent(spec, WORKSPACE, NOTHING_ELSE)).toThrow(message);
    expect(message).not.toContain('\n');
  });
});

describe('the CloudNativePG Cluster of each install', () => {
  const BASE = 'infrastructure/kubernetes/base/postgres/cluster.yaml';
  const overlay = (env: string) => `infrastructure/kubernetes/overlays/${env}/postgres`;

  it('patches each install with its own instances, with CloudNativePG PDBs only from 2, and includes the patch in new overlays', () => {
    const files = render(withInstances('postgres', { prod: 3, lab: 1 }));

    expect(doc(files, `${overlay('prod')}/generated/cluster-patch.yaml`)).toMatchObject({ kind: 'Cluster', metadata: { name: 'postgres', namespace: 'postgres' }, spec: { instances: 3, enablePDB: true } });
    expect(doc(files, `${overlay('lab')}/generated/cluster-patch.yaml`).spec).toEqual({ instances: 1, enablePDB: false });
    expect(doc(files, `${overlay('prod')}/generated/kustomization.yaml`)).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', patches: [{ path: 'cluster-patch.yaml' }] });
    expect(doc(files, `${overlay('prod')}/kustomization.yaml`).components).toEqual(['generated']);
    // dev installs nothing of its own.
    expect(files.has(`${overlay('dev')}/generated/cluster-patch.yaml`)).toBe(false);
  });

  it('spreads the instances across nodes, preferred so one node still schedules them, with the platform priority', () => {
    const cluster = doc(render(withInstances('postgres', { prod: 2 })), BASE);
    expect(cluster.spec.affinity).toEqual({ enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname', podAntiAffinityType: 'preferred' });
    expect(cluster.spec.priorityClassName).toBe('homelab-platform');
  });

  it('renders a spec written before 0.4.0 (instances: 1) with one instance in the base as before, and turns off the PDB that blocks every drain', () => {
    const spec = catalogSpec('postgres', {}, WORKSPACE);
    spec.settings = { instances: 1, storage: '10Gi', imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5' };
    const files = render(spec);
    expect(doc(files, BASE).spec).toMatchObject({ instances: 1, enablePDB: false });
    expect(doc(files, `${overlay('prod')}/generated/cluster-patch.yaml`).spec).toEqual({ instances: 1, enablePDB: false });
  });

  it('keeps a single number in the base, so an overlay scaffolded without generated/ still runs that many', () => {
    expect(doc(render(withInstances('postgres', 3)), BASE).spec).toMatchObject({ instances: 3, enablePDB: true });
  });
});

describe("Traefik's replicas of each install", () => {
  const values = (env: string) => `infrastructure/kubernetes/overlays/${env}/ingress/generated/values.yaml`;

  it('gives an install of 2 or more a PDB that lets one go and a preferred anti-affinity across nodes; one of 1 only its replicas', () => {
    const files = render(withInstances('ingress', { prod: 2, lab: 1 }));

    expect(doc(files, values('prod'))).toEqual({
      deployment: { replicas: 2 },
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } }, topologyKey: 'kubernetes.io/hostname' } },
          ],
        },
      },
    });
    expect(doc(files, values('lab'))).toEqual({ deployment: { replicas: 1 } });
  });

  it("has ArgoCD merge the base's values, then the install's, then the overlay's own", () => {
    const app = doc(render(withInstances('ingress', { prod: 2 })), 'platform/argocd/applications/prod/ingress.yaml');
    expect(app.spec.sources[0].helm.valueFiles).toEqual([
      '$values/infrastructure/kubernetes/base/ingress/values.yaml',
      '$values/infrastructure/kubernetes/overlays/prod/ingress/generated/values.yaml',
      '$values/infrastructure/kubernetes/overlays/prod/ingress/values.yaml',
    ]);
  });

  it('runs the replicas a spec written before 0.4.0 recorded in its chart values, and names the platform priority', () => {
    const spec = catalogSpec('ingress', {}, WORKSPACE);
    delete spec.settings!.instances;
    spec.kubernetes.charts[0].values = { ...spec.kubernetes.charts[0].values, deployment: { replicas: 1 } };
    const files = render(spec);
    expect(doc(files, values('prod'))).toEqual({ deployment: { replicas: 1 } });
    expect(doc(files, 'infrastructure/kubernetes/base/ingress/values.yaml').priorityClassName).toBe('homelab-platform');
  });
});
