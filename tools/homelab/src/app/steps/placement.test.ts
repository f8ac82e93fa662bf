import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import type { PlacementSpec } from '../../spec/types';
import { NO_HEALTH } from './health';
import { normalizeOverrides, type OverrideBase } from './overrides';
import { NO_PLACEMENT, normalizePlacement, placementPatch } from './placement';
import { NO_REPLICA_SPEC } from './replicas';
import { normalizeSecurity } from './security';

const WHERE = 'applications/specs/ml.yaml';
const GPU: PlacementSpec = {
  nodeSelector: { 'nvidia.com/gpu.present': 'true' },
  tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
};

describe('normalizePlacement', () => {
  it('is nothing without placement: the scheduler chooses, as always', () => {
    expect(normalizePlacement(undefined, WHERE, 'services.web.')).toEqual(NO_PLACEMENT);
  });

  it('keeps node labels sorted, and writes tolerations in Kubernetes field order with the default operator', () => {
    const placement = normalizePlacement(
      {
        nodeSelector: { 'kubernetes.io/arch': 'arm64', 'disk-type': 'ssd', 'example.org/empty': '' },
        tolerations: [{ effect: 'NoExecute', tolerationSeconds: 60, value: 'maintenance', key: 'node.example.org/drain' }],
      },
      WHERE,
      'services.web.',
    );

    expect(placement).toEqual({
      nodeSelector: { 'disk-type': 'ssd', 'example.org/empty': '', 'kubernetes.io/arch': 'arm64' },
      hasNodeSelector: true,
      tolerations: [{ key: 'node.example.org/drain', operator: 'Equal', value: 'maintenance', effect: 'NoExecute', tolerationSeconds: 60 }],
      hasTolerations: true,
      nodeAffinity: null,
    });
    expect(Object.keys(placement.tolerations[0])).toEqual(['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
  });

  it('takes a node affinity with required terms and weighted preferences', () => {
    const placement = normalizePlacement(
      {
        affinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64', 'amd64'] }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'example.org/storage', operator: 'Exists' }] } }],
        },
      },
      WHERE,
      '',
    );

    expect(placement.nodeAffinity).toEqual({
      required: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64', 'amd64'] }] }],
      hasRequired: true,
      preferred: [{ weight: 50, preference: { matchExpressions: [{ key: 'example.org/storage', operator: 'Exists' }] } }],
      hasPreferred: true,
    });
  });

  const at = `${WHERE}: services.web.placement`;
  it.each<[string, PlacementSpec, string]>([
    ['a label key with a bad prefix', { nodeSelector: { 'Example.org/gpu': 'true' } }, `${at}.nodeSelector: the key "Example.org/gpu" is not a label key: its prefix "Example.org" must be a lower-case DNS name`],
    ['a label key with a space', { nodeSelector: { 'gpu model': 'a100' } }, `${at}.nodeSelector: the key "gpu model" is not a label key: "gpu model" must be 1-63 letters, digits, '-', '_' or '.'`],
    ['a label key of 64 characters', { nodeSelector: { ['k'.repeat(64)]: 'x' } }, `is not a label key`],
    ['a label value with a slash', { nodeSelector: { 'kubernetes.io/arch': 'linux/arm64' } }, `${at}.nodeSelector.kubernetes.io/arch: "linux/arm64" is not a label value; use at most 63 letters`],
    ['a label value ending in a dash', { nodeSelector: { zone: 'rack-' } }, `${at}.nodeSelector.zone: "rack-" is not a label value`],
    ['a toleration with a value and Exists', { tolerations: [{ key: 'gpu', operator: 'Exists', value: 'yes' }] }, `${at}.tolerations[0].value "yes" is set with operator Exists, which matches any value; remove value, or set operator: Equal`],
    ['a toleration without a key that is not Exists', { tolerations: [{ effect: 'NoSchedule' }] }, `${at}.tolerations[0] has no key, which tolerates every taint only with operator Exists; add the taint's key, or set operator: Exists`],
    ['tolerationSeconds without NoExecute', { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] }, `${at}.tolerations[0].tolerationSeconds is set, but only a NoExecute taint evicts a running pod; set effect: NoExecute, or remove tolerationSeconds`],
    ['a toleration with a bad key', { tolerations: [{ key: 'gpu/', operator: 'Exists' }] }, `${at}.tolerations[0].key "gpu/" is not a label key`],
    [
      'In without values',
      { affinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In' }] }] } } },
      `${at}.affinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]: operator In needs the values to compare with; add values: [...]`,
    ],
    [
      'Exists with values',
      { affinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists', values: ['true'] }] } }] } },
      `${at}.affinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0]: operator Exists takes no values; remove values`,
    ],
    [
      'Gt with a word',
      { affinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'example.org/cores', operator: 'Gt', values: ['many'] }] }] } } },
      `operator Gt compares with one whole number; write values: ["<number>"]`,
    ],
    [
      'a node field other than metadata.name',
      { affinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['a'] }] }] } } },
      `matchFields[0].key "metadata.labels" is no node field Kubernetes selects on; use metadata.name, or matchExpressions for a node label`,
    ],
  ])('refuses %s, naming it', (_what, spec, message) => {
    expect(inputErrorOf(() => normalizePlacement(spec, WHERE, 'services.web.'))).toContain(message);
  });
});

describe('placementPatch: an environment over its service', () => {
  const service = normalizePlacement(
    {
      nodeSelector: { 'kubernetes.io/arch': 'amd64', 'example.org/storage': 'ssd' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }],
      affinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] },
    },
    WHERE,
    'services.web.',
  );
  const FIELD = 'environments.prod.services.web.';

  it('changes nothing when the environment sets neither placement nor node', () => {
    expect(placementPatch(service, undefined, null, WHERE, FIELD)).toMatchObject({ changed: false, hasNodeSelector: false, hasTolerations: false, nodeAffinity: null });
  });

  it("writes only the environment's node labels (merged by key over the service's), and replaces tolerations and affinity", () => {
    const patch = placementPatch(service, { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, tolerations: GPU.tolerations, affinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['pi-1'] }] }] } } }, null, WHERE, FIELD);

    expect(patch).toEqual({
      nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      hasNodeSelector: true,
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      hasTolerations: true,
      nodeAffinity: { required: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['pi-1'] }] }], hasRequired: true, preferred: [], hasPreferred: false },
      changed: true,
      own: true,
    });
  });

  it('merges the node of the environment into its node labels as kubernetes.io/hostname', () => {
    expect(placementPatch(service, { nodeSelector: { 'kubernetes.io/arch': 'arm64' } }, { name: 'nuc', field: 'environments.prod.node' }, WHERE, FIELD).nodeSelector).toEqual({
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/hostname': 'nuc',
    });
    expect(placementPatch(service, undefined, { name: 'nuc', field: 'environments.prod.node' }, WHERE, FIELD)).toMatchObject({ changed: true, own: false });
    // The same node twice is no conflict.
    expect(placementPatch(normalizePlacement({ nodeSelector: { 'kubernetes.io/hostname': 'nuc' } }, WHERE, ''), undefined, { name: 'nuc', field: 'environments.prod.node' }, WHERE, FIELD).changed).toBe(true);
  });

  it.each([
    ["the environment's placement", NO_PLACEMENT, { nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } }, `of ${FIELD}placement.nodeSelector`],
    ["the service's placement", normalizePlacement({ nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } }, WHERE, ''), undefined, "of the service's placement.nodeSelector"],
  ])('refuses a node that %s pins elsewhere', (_what, base, own, from) => {
    expect(inputErrorOf(() => placementPatch(base, own, { name: 'nuc', field: 'environments.prod.node' }, WHERE, FIELD))).toBe(
      `${WHERE}: environments.prod.node "nuc" contradicts kubernetes.io/hostname: "gpu-1" ${from}; the pods cannot run on both nodes, so keep one of them`,
    );
  });
});

describe('normalizeOverrides with placement', () => {
  const svc = (name: string, kind: OverrideBase['kind'], placement = NO_PLACEMENT): OverrideBase => ({
    name,
    kind,
    replicas: 1,
    env: [],
    imageSpec: { repository: 'example/ml', tag: '1.0.0' },
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    security: normalizeSecurity({}),
    health: NO_HEALTH,
    schedule: kind === 'CronJob' ? '0 3 * * *' : null,
    selector: { 'app.kubernetes.io/name': 'ml', 'app.kubernetes.io/component': name },
    replicaSpec: NO_REPLICA_SPEC,
    spread: null,
    placement,
  });
  const SERVICES = [svc('api', 'Deployment'), svc('train', 'Job'), svc('sweep', 'CronJob')];

  it('patches the pod template of each service the environment places, jobs and cron jobs too, on Kubernetes only', () => {
    const patches = normalizeOverrides(WHERE, 'prod', { services: { train: { placement: GPU }, sweep: { placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } } } }, SERVICES, false);

    expect(patches.map((p) => [p.name, p.isJob, p.hasTemplate, p.hasContainer, p.composeChanged, p.placement.nodeSelector])).toEqual([
      ['train', true, true, false, false, { 'nvidia.com/gpu.present': 'true' }],
      ['sweep', true, true, false, false, { 'kubernetes.io/arch': 'arm64' }],
    ]);
  });

  it("takes the shorthand's environments.<env>.placement for its one service", () => {
    expect(normalizeOverrides(WHERE, 'prod', { placement: GPU }, [svc('ml', 'Deployment')], true)).toMatchObject([{ name: 'ml', hasTemplate: true, placement: { hasTolerations: true } }]);
  });

  it('refuses an environment node that contradicts a service placement, naming the node field', () => {
    const pinned = [svc('api', 'Deployment', normalizePlacement({ nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } }, WHERE, 'services.api.'))];

    expect(inputErrorOf(() => normalizeOverrides(WHERE, 'prod', { node: 'nuc' }, pinned, false))).toBe(
      `${WHERE}: environments.prod.node "nuc" contradicts kubernetes.io/hostname: "gpu-1" of the service's placement.nodeSelector; the pods cannot run on both nodes, so keep one of them`,
    );
  });

  it('reports a bad label of an environment at its own field', () => {
    expect(inputErrorOf(() => normalizeOverrides(WHERE, 'prod', { services: { api: { placement: { nodeSelector: { 'bad key': 'x' } } } } }, SERVICES, false))).toContain(
      `${WHERE}: environments.prod.services.api.placement.nodeSelector: the key "bad key" is not a label key`,
    );
  });
});
