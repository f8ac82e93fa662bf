import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../tools/homelab/src/host';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from './support/workspace';

/**
 * Placement through the real chain (docs/availability.md, "Placement"): the specs synced into a
 * workspace of their own, each overlay built with the pinned kustomize (`kubectl kustomize`, as
 * ArgoCD builds it). The ml fixture's reader shares the database's ReadWriteOnce volume (a pod
 * affinity in the base) and adds a node affinity; prod replaces that node affinity, merges its
 * node labels and its node, and replaces the GPU job's tolerations.
 */
const kubectl = requireTool('kubectl');
const ML = fs.readFileSync(path.join(__dirname, 'support/fixtures/placement/ml.yaml'), 'utf8');
const GPU = specOf('gpu', {
  placement: { nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
  environments: { dev: {}, prod: { placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } } },
});

let root = '';
beforeAll(() => {
  root = makeDiskWorkspace('placement');
  const host = diskHost(root);
  host.write('applications/specs/ml.yaml', ML);
  writeSpec(host, GPU);
  syncAll(host);
});
afterAll(() => removeDir(root));

describe.skipIf(kubectl.skip)('placement in kustomize overlays', () => {
  const build = (overlay: string) => {
    const built = run('kubectl', ['kustomize', overlay], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    return Object.fromEntries(parseDocs(built.stdout).filter((d) => d?.spec?.template || d?.spec?.jobTemplate).map((d) => [d.metadata.name, d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec]));
  };

  it("keeps the base's pod affinity and node affinity side by side where an environment places nothing of its own", () => {
    const pods = build('applications/kubernetes/overlays/dev/ml');

    expect(Object.keys(pods.reader.affinity).sort()).toEqual(['nodeAffinity', 'podAffinity']);
    expect(pods.reader.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }]);
    expect(pods.reader.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'ml', 'app.kubernetes.io/component': 'db' });
    expect(pods.train.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it("replaces the node affinity and tolerations, merges node labels and the node, and keeps the pod affinity of the shared volume", () => {
    const pods = build('applications/kubernetes/overlays/prod/ml');

    expect(pods.reader.affinity.nodeAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'example.org/storage', operator: 'Exists' }] } }],
    });
    expect(pods.reader.affinity.podAffinity).toBeDefined();
    expect(pods.reader.nodeSelector).toEqual({ 'example.org/storage': 'ssd', 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'nuc' });
    expect(pods.train.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'nuc', 'nvidia.com/gpu.present': 'true' });
    expect(pods.train.tolerations).toEqual([{ key: 'node.example.org/maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    expect(pods.sweep.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'nuc' });
    expect(pods.db.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'nuc' });
    expect(pods.db.affinity).toBeUndefined();
  });
});
