/**
 * Batched kustomize builds (docs/validate.md, "How overlays are built") give exactly what one
 * `kubectl kustomize <overlay>` per overlay gives: on every fixture workspace (the three golden
 * workspaces, the census stacks with the patched relay, each fixture spec, the import fixtures'
 * apps) every overlay's batched result is compared with its build alone, byte for byte, with the
 * real kubectl. A broken overlay and two overlays whose objects collide fall back to builds alone,
 * and the findings of validate are the same with and without batching.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { kustomize, prerender, type RenderJob } from '../../tools/homelab/src/validate/kustomize-compose';
import { projectRenderJobs, validateProject } from '../../tools/homelab/src/validate/project';
import { fixtureWorkspace, KUSTOMIZE_FIXTURE_COUNT, kustomizeFixtureWorkspaces, overlaysOf } from '../support/kustomize-fixtures';
import { requireTool } from '../support/tools';
import { removeDir } from '../support/workspace';

const kubectl = requireTool('kubectl');

const roots: string[] = [];
// These tests hold the aggregate kubectl builds to kubectl: kustomize-batch, when it is built, stands
// aside (kustomize-engine.integration.test.ts holds it to kubectl).
const engine = process.env.HOMELAB_KUSTOMIZE;
beforeAll(() => {
  process.env.HOMELAB_KUSTOMIZE = 'kubectl';
});
afterAll(() => {
  roots.forEach(removeDir);
  if (engine === undefined) delete process.env.HOMELAB_KUSTOMIZE;
  else process.env.HOMELAB_KUSTOMIZE = engine;
});
afterEach(() => delete process.env.HOMELAB_KUSTOMIZE_BATCH);

const workspace = (prefix: string, fill: (root: string) => void) => fixtureWorkspace(roots, prefix, fill);

const jobsOf = (root: string, dirs: string[]): RenderJob[] => dirs.map((dir) => ({ kind: 'kustomize', dir, cwd: root }));

/** Each overlay built batched (prerender, then the result it kept) and alone (kustomize without a prerendered result). */
async function bothWays(root: string, dirs: string[]) {
  const stats = await prerender(jobsOf(root, dirs));
  const batched = dirs.map((dir) => kustomize(dir, root));
  const alone = dirs.map((dir) => kustomize(dir, root));
  return { stats, batched, alone };
}

// A test builds every overlay of many workspaces twice: minutes on a busy machine.
describe.skipIf(kubectl.skip)('batched kustomize builds', { timeout: 600_000 }, () => {
  let cases: { id: string; root: string }[] = [];
  beforeAll(() => {
    cases = kustomizeFixtureWorkspaces(roots, 'kbatch');
  }, 600_000);

  it('compares workspaces that have overlays', () => {
    expect(cases.length).toBe(KUSTOMIZE_FIXTURE_COUNT);
    for (const { id, root } of cases) expect(overlaysOf(root).length, id).toBeGreaterThan(0);
  });

  it('renders every overlay of every fixture workspace byte for byte as its build alone', async () => {
    for (const { id, root } of cases) {
      const dirs = overlaysOf(root);
      const { stats, batched, alone } = await bothWays(root, dirs);
      dirs.forEach((dir, i) => expect(batched[i], `${id}: ${dir}`).toEqual(alone[i]));
      expect(alone.every((r) => r.ok), id).toBe(true);
      // The batch path really ran: every overlay was rendered by an aggregate build, none alone.
      expect({ id, alone: stats.alone, batched: stats.batched, program: stats.program }).toEqual({ id, alone: [], batched: dirs.length, program: 0 });
    }
  });

  it('builds an overlay that fails in the batch alone, with the error of its own build, and still batches the others', async () => {
    const root = workspace('kbatch-broken', (r) => {
      const host = diskHost(r);
      for (const name of ['alpha', 'beta', 'gamma', 'delta']) generateApp(host, { name, image: 'traefik/whoami:v1.10.4', port: 8080 });
    });
    const broken = 'applications/kubernetes/overlays/dev/gamma/kustomization.yaml';
    fs.appendFileSync(path.join(root, broken), 'patches:\n  - path: missing-patch.yaml\n');
    const dirs = overlaysOf(root);
    const before = dirs.map((dir) => kustomize(dir, root));

    const { stats, batched } = await bothWays(root, dirs);

    expect(batched).toEqual(before);
    const failed = batched.flatMap((r, i) => (r.ok ? [] : [dirs[i]]));
    expect(failed).toEqual(['applications/kubernetes/overlays/dev/gamma']);
    expect(stats.batched).toBeGreaterThanOrEqual(dirs.length - 2);
    expect(stats.alone).toContain('applications/kubernetes/overlays/dev/gamma');
    // validate's findings with the renders batched are today's, the broken overlay's render/kustomize included.
    const projects = ['alpha', 'beta', 'gamma', 'delta'];
    const today = projects.map((p) => validateProject(root, 'applications', p));
    await prerender(projects.flatMap((p) => projectRenderJobs(root, 'applications', p)));
    expect(projects.map((p) => validateProject(root, 'applications', p))).toEqual(today);
    expect(today[2].map((f) => `${f.file} ${f.rule}`)).toContain(`${broken} render/kustomize`);
  });

  it('falls back to builds alone when two overlays hold the same object, and renders each as alone', async () => {
    const root = workspace('kbatch-collide', (r) => {
      const host = diskHost(r);
      for (const name of ['alpha', 'beta', 'gamma']) generateApp(host, { name, image: 'traefik/whoami:v1.10.4', port: 8080 });
    });
    // The same cluster-scoped object in two overlays: one aggregate build refuses the id twice.
    for (const name of ['alpha', 'beta']) {
      const dir = path.join(root, 'applications/kubernetes/overlays/prod', name);
      fs.writeFileSync(path.join(dir, 'priorityclass.yaml'), 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: shared-priority\nvalue: 1000\n');
      const k = fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8');
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), k.replace('resources:\n', 'resources:\n  - priorityclass.yaml\n'));
    }
    const dirs = overlaysOf(root);
    const { stats, batched, alone } = await bothWays(root, dirs);

    expect(batched).toEqual(alone);
    expect(batched.every((r) => r.ok)).toBe(true);
    expect(batched[dirs.indexOf('applications/kubernetes/overlays/prod/alpha')]).toMatchObject({ ok: true, output: expect.stringContaining('name: shared-priority') });
    expect(stats.alone).toEqual(expect.arrayContaining(['applications/kubernetes/overlays/prod/alpha', 'applications/kubernetes/overlays/prod/beta']));
    expect(stats.batched).toBeGreaterThan(0);
  });

  it('builds every overlay alone under HOMELAB_KUSTOMIZE_BATCH=1 (the debugging switch), with the same results', async () => {
    const root = cases[0].root;
    const dirs = overlaysOf(root).slice(0, 6);
    process.env.HOMELAB_KUSTOMIZE_BATCH = '1';
    const { stats, batched, alone } = await bothWays(root, dirs);

    expect(stats).toEqual({ program: 0, batchProcesses: 0, batched: 0, alone: dirs });
    expect(batched).toEqual(alone);
  });
});
