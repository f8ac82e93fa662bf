import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentOf, inputErrorOf, specOf } from '../../../../tests/support/spec';
import { parseDocs, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { normalizeApp } from '../app/normalize';
import { parseAppSpec, parseWorkspaceConfig } from '../spec/io';
import type { AppSpec, FullAppSpec, PlacementSpec } from '../spec/types';
import { renderApp } from './app';
import type { RenderedFile } from './engine';

/** The placement fixture: a reader sharing the database's ReadWriteOnce volume with a node affinity, the GPU recipe on a job, an architecture on a cron job, prod placing them over that. */
const ML_FILE = path.resolve(__dirname, '../../../../tests/support/fixtures/placement/ml.yaml');
const ML = (): FullAppSpec => parseAppSpec(fs.readFileSync(ML_FILE, 'utf8'), 'applications/specs/ml.yaml') as FullAppSpec;
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const render = (spec: AppSpec) => renderApp(normalizeApp(spec, workspace, new Map()));
/** The pod spec of the document of a workload file named `name` (a CronJob's through its job template). */
const podOf = (files: RenderedFile[], file: string, name: string) => {
  const doc = parseDocs(contentOf(files, file)).find((d) => d?.metadata?.name === name);
  if (!doc) throw new Error(`no ${name} in ${file}`);
  return doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template.spec : doc.spec.template.spec;
};
const GPU: PlacementSpec = { nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] };

describe('renderApp: placement', () => {
  const files = render(ML());
  const BASE = 'applications/kubernetes/base/ml';

  it('puts the node affinity beside the pod affinity of a shared ReadWriteOnce volume, under one affinity', () => {
    const reader = podOf(files, `${BASE}/statefulset.yaml`, 'reader');

    expect(reader.affinity).toEqual({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }] } },
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'ml', 'app.kubernetes.io/component': 'db' } } }],
      },
    });
    expect(reader.nodeSelector).toEqual({ 'example.org/storage': 'ssd' });
    expect(reader.tolerations).toBeUndefined();
  });

  it('renders the GPU recipe on a job: the node label quoted, the toleration in one line', () => {
    expect(contentOf(files, `${BASE}/job.yaml`)).toContain(
      ['      restartPolicy: Never', '      nodeSelector:', '        nvidia.com/gpu.present: "true"', '      tolerations:', '        - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}', '      serviceAccountName: ml'].join('\n'),
    );
    expect(podOf(files, `${BASE}/job.yaml`, 'train').containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
  });

  it("places a cron job's pods through its job template", () => {
    expect(podOf(files, `${BASE}/cronjob.yaml`, 'sweep').nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
  });

  it('leaves a service without placement as it always was: no nodeSelector, tolerations or affinity', () => {
    const db = podOf(files, `${BASE}/statefulset.yaml`, 'db');

    expect([db.nodeSelector, db.tolerations, db.affinity]).toEqual([undefined, undefined, undefined]);
  });

  it("patches each service prod places, over the service's placement, with prod's node in the same nodeSelector", () => {
    const docs = parseDocs(contentOf(files, 'applications/kubernetes/overlays/prod/ml/generated/workload-patch.yaml'));
    const byName = Object.fromEntries(docs.map((d) => [d.metadata.name, d]));

    expect(Object.keys(byName)).toEqual(['db', 'reader', 'train', 'sweep']);
    expect(byName.db.spec.template.spec).toEqual({ nodeSelector: { 'kubernetes.io/hostname': 'nuc' } });
    expect(byName.reader.spec.template.spec).toEqual({
      nodeSelector: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'nuc' },
      affinity: {
        nodeAffinity: {
          $patch: 'replace',
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'example.org/storage', operator: 'Exists' }] } }],
        },
      },
    });
    expect(byName.train.spec.template.spec).toEqual({
      nodeSelector: { 'kubernetes.io/hostname': 'nuc' },
      tolerations: [{ key: 'node.example.org/maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    });
    expect(byName.sweep.spec.jobTemplate.spec.template.spec).toEqual({ nodeSelector: { 'kubernetes.io/hostname': 'nuc' } });
    // dev places nothing of its own: no patch at all.
    expect(files.some((f) => f.path === 'applications/kubernetes/overlays/dev/ml/generated/workload-patch.yaml')).toBe(false);
  });

  it('renders the same Compose files with or without placement: the Docker host is the placement (no platform: either)', () => {
    const unplaced = ML();
    for (const service of Object.values(unplaced.services)) delete service.placement;
    for (const env of Object.values(unplaced.environments ?? {})) for (const service of Object.values(env.services ?? {})) delete service.placement;
    const compose = (fs: RenderedFile[]) => fs.filter((f) => f.path.startsWith('applications/compose/'));

    expect(compose(files)).toEqual(compose(render(unplaced)));
    expect(compose(files).map((f) => f.content).join('\n')).not.toMatch(/platform:/);
  });

  it("renders the shorthand's placement in its one workload, and its environment's in the overlay", () => {
    const shorthand = render(specOf('gpu', { placement: GPU, environments: { dev: {}, prod: { placement: { nodeSelector: { 'kubernetes.io/arch': 'amd64' } } } } }));
    const pod = podOf(shorthand, 'applications/kubernetes/base/gpu/deployment.yaml', 'gpu');

    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations).toEqual(GPU.tolerations);
    expect(parseDocs(contentOf(shorthand, 'applications/kubernetes/overlays/prod/gpu/generated/workload-patch.yaml'))[0].spec.template.spec).toEqual({
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    });
  });

  it('renders an environment node alone as it always did', () => {
    const pinned = render(specOf('pinned', { environments: { prod: { node: 'nuc' } } }));

    expect(contentOf(pinned, 'applications/kubernetes/overlays/prod/pinned/generated/workload-patch.yaml')).toBe(
      ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: pinned', 'spec:', '  template:', '    spec:', '      nodeSelector:', '        kubernetes.io/hostname: nuc', ''].join('\n'),
    );
  });

  it('refuses a placement of the whole app in an environment of the full form, naming the field', () => {
    const spec = ML();
    (spec.environments!.prod as { placement?: PlacementSpec }).placement = GPU;

    expect(inputErrorOf(() => render(spec))).toContain('environments.prod.placement asks for an override of the whole app (in the full form, overrides name a service: environments.prod.services.<name>)');
  });

  it('refuses an environment node that a service pins to another node, before anything renders', () => {
    const spec = ML();
    spec.services.train.placement = { nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } };

    expect(inputErrorOf(() => render(spec))).toBe(
      'applications/specs/ml.yaml: environments.prod.node "nuc" contradicts kubernetes.io/hostname: "gpu-1" of the service\'s placement.nodeSelector; the pods cannot run on both nodes, so keep one of them',
    );
  });

  it.each([
    ['an unknown field of a toleration', { tolerations: [{ key: 'gpu', operator: 'Exists', effects: 'NoSchedule' }] }, 'placement.tolerations[0].effects: unknown field; did you mean effect?'],
    ['an operator Kubernetes does not have', { tolerations: [{ key: 'gpu', operator: 'Matches' }] }, 'placement.tolerations[0].operator: "Matches" is not one of Exists, Equal'],
    ['a node label given as a boolean', { nodeSelector: { 'nvidia.com/gpu.present': true } }, 'placement.nodeSelector.nvidia.com/gpu.present: true is a boolean; write text (quote it: "true")'],
    ['an empty placement', {}, 'placement is empty; set nodeSelector or tolerations or affinity, or remove it'],
  ])('refuses %s in the schema', (_what, placement, field) => {
    const text = `name: gpu\nimage: { repository: traefik/whoami, tag: v1.10.4 }\nports: [{ name: http, port: 8080, http: true }]\nplacement: ${JSON.stringify(placement)}\n`;

    expect(inputErrorOf(() => parseAppSpec(text, 'applications/specs/gpu.yaml'))).toContain(field);
  });
});
