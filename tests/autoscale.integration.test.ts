import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../tools/homelab/src/host';
import { stringifyAppSpec } from '../tools/homelab/src/spec/io';
import { validateProject } from '../tools/homelab/src/validate/project';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from './support/workspace';

/**
 * Autoscaling through the real chain: an app autoscaled in prod only, synced into a workspace
 * on disk, built with the real `kubectl kustomize` (prod's Deployment has no replicas and its
 * HorizontalPodAutoscaler is there; dev keeps its replicas) and validated with the real
 * kustomize and `docker compose config`: clean but for the parity/autoscale note, which never
 * fails it; a target without its request is refused at its line under autoscale/requests.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const STORE = 'apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: homelab\nspec:\n  provider:\n    kubernetes:\n      remoteNamespace: homelab-secrets\n      auth:\n        serviceAccount:\n          name: external-secrets\n          namespace: external-secrets\n';
const SPEC = specOf('web', { resources: { requests: { cpu: '100m' } }, environments: { dev: {}, prod: { autoscale: { min: 2, max: 5, cpu: 70 } } } });

describe.skipIf(kubectl.skip || compose.skip)('an app autoscaled in prod, through kustomize and validate', () => {
  let ws = '';
  const kustomize = (env: string) => {
    const built = run('kubectl', ['kustomize', `applications/kubernetes/overlays/${env}/web`], { cwd: ws });
    expect(built.status, built.stderr).toBe(0);
    return parseDocs(built.stdout).filter(Boolean);
  };

  beforeAll(() => {
    ws = makeDiskWorkspace('autoscale', WORKSPACE_YAML);
    fs.mkdirSync(path.join(ws, 'platform/secrets/stores'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'platform/secrets/stores/homelab.yaml'), STORE);
    const host = diskHost(ws);
    writeSpec(host, SPEC);
    syncAll(host);
  });
  afterAll(() => removeDir(ws));

  it("builds prod with the autoscaler and a Deployment without replicas, and dev with its replicas and no autoscaler", () => {
    const prod = kustomize('prod');
    const deployment = prod.find((o) => o.kind === 'Deployment');
    expect(deployment.metadata.name).toBe('web');
    expect(deployment.spec).not.toHaveProperty('replicas');
    const hpas = prod.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => [h.apiVersion, h.metadata.name, h.spec.scaleTargetRef, h.spec.minReplicas, h.spec.maxReplicas])).toEqual([
      ['autoscaling/v2', 'web', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, 2, 5],
    ]);

    const dev = kustomize('dev');
    expect(dev.find((o) => o.kind === 'Deployment').spec.replicas).toBe(1);
    expect(dev.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('validates without an error, noting (parity/autoscale, a warning) that Compose runs the min in prod, at the line of the autoscale', () => {
    const findings = validateProject(ws, 'applications', 'web');
    const line = fs.readFileSync(path.join(ws, 'applications/specs/web.yaml'), 'utf8').split('\n').findIndex((l) => /^\s+autoscale:/.test(l)) + 1;

    expect(findings.map((f) => [f.rule, f.severity, f.file, f.line])).toEqual([['parity/autoscale', 'warning', 'applications/specs/web.yaml', line]]);
    expect(findings[0].message).toBe(
      'service web autoscales from 2 to 5 replicas in prod on Kubernetes, but Compose has no autoscaler and runs 2 (autoscale.min) there; to run more on Compose, set environments.prod.autoscale: false with its replicas, or deploy.replicas in its compose.override.yaml, or keep it as a known difference',
    );
  });

  it('refuses a CPU target without a CPU request, under autoscale/requests at the line of the target', () => {
    const file = path.join(ws, 'applications/specs/web.yaml');
    const saved = fs.readFileSync(file, 'utf8');
    try {
      const text = stringifyAppSpec({ ...SPEC, resources: { requests: { memory: '64Mi' } } });
      fs.writeFileSync(file, text);
      const findings = validateProject(ws, 'applications', 'web').filter((f) => f.rule === 'autoscale/requests');
      const line = text.split('\n').findIndex((l) => /^\s+cpu: 70/.test(l)) + 1;

      expect(findings.map((f) => [f.severity, f.file, f.line])).toEqual([['error', 'applications/specs/web.yaml', line]]);
      expect(findings[0].message).toMatch(/environments\.prod\.autoscale\.cpu: "web" autoscales on cpu in prod, but its spec writes no cpu request.*; set resources\.requests\.cpu$/);
    } finally {
      fs.writeFileSync(file, saved);
    }
  });
});
