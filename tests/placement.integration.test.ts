import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../tools/homelab/src/cli/main';
import { diskHost } from '../tools/homelab/src/host';
import { validateProject } from '../tools/homelab/src/validate/project';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from './support/workspace';

/**
 * Placement through the real chain (docs/availability.md, "Placement"): the specs synced into a
 * workspace of their own, each overlay built with the pinned kustomize (`kubectl kustomize`, as
 * ArgoCD builds it), and validate's parity/placement on a workspace whose environments all have
 * Compose files. The ml fixture's reader shares the database's ReadWriteOnce volume (a pod
 * affinity in the base) and adds a node affinity; prod replaces that node affinity, merges its
 * node labels and its node, and replaces the GPU job's tolerations.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
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

describe.skipIf(kubectl.skip || compose.skip)('validate: parity/placement', () => {
  it('warns once per environment with Compose files and placed service, at the placement that applies there', () => {
    const findings = validateProject(root, 'applications', 'ml').filter((f) => f.rule === 'parity/placement');
    const spec = ML.split('\n');
    const lineOf = (text: string, after = 0) => spec.findIndex((l, i) => i >= after && l.includes(text)) + 1;
    const prod = lineOf('  prod:');

    expect(findings.map((f) => [f.line, f.severity, f.message.split(':')[0], / in (dev|prod) on Compose/.exec(f.message)?.[1]])).toEqual([
      [lineOf('placement:'), 'warning', 'service reader', 'dev'],
      [lineOf('placement:', lineOf('  train:')), 'warning', 'service train', 'dev'],
      [lineOf('placement:', lineOf('  sweep:')), 'warning', 'service sweep', 'dev'],
      [lineOf('placement:', lineOf('  sweep:')), 'warning', 'service sweep', 'prod'],
      [lineOf('placement:', prod), 'warning', 'service reader', 'prod'],
      [lineOf('placement:', lineOf('      train:', prod)), 'warning', 'service train', 'prod'],
    ]);
    expect(findings.find((f) => f.line === lineOf('placement:', lineOf('  train:')))?.message).toBe(
      "service train: services.train.placement (nvidia.com/gpu.present=true, 1 toleration) chooses Kubernetes nodes only; in dev on Compose the environment's Docker host is the placement: deploy dev to a Docker host that has what service train needs, or accept the difference",
    );
  });

  it('leaves a clean spec with placement valid: exit 0, its only findings the parity/placement warnings', () => {
    let out = '';
    const status = main(['validate', 'applications/specs/gpu.yaml', '--workspace', root], { cwd: root, out: (t) => (out += t), err: (t) => (out += t) });

    expect(out.trim().split('\n').slice(0, -1)).toEqual([
      expect.stringMatching(/^applications\/specs\/gpu\.yaml:\d+:\d+  parity\/placement  gpu: placement \(nvidia\.com\/gpu\.present=true, 1 toleration\) chooses Kubernetes nodes only; in dev on Compose .* \[warning\]$/),
      expect.stringMatching(/^applications\/specs\/gpu\.yaml:\d+:\d+  parity\/placement  gpu: environments\.prod\.placement \(kubernetes\.io\/arch=arm64\) chooses Kubernetes nodes only; in prod on Compose .* \[warning\]$/),
    ]);
    expect(status).toBe(0);
  });
});
