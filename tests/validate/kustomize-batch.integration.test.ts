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
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stackEnvironment, appNameOf } from '../../scripts/lib/import-check';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateImport } from '../../tools/homelab/src/import/generate';
import { kustomize, prerender, type RenderJob } from '../../tools/homelab/src/validate/kustomize-compose';
import { projectRenderJobs, validateProject } from '../../tools/homelab/src/validate/project';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { GOLDEN_WORKSPACES as WORKSPACES } from '../support/golden';
import { renderedStacks, writePatchedStack, writeSpec } from '../support/spec';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir, WORKSPACE_YAML } from '../support/workspace';

const kubectl = requireTool('kubectl');
const FIXTURES = path.join(__dirname, '../support/fixtures');
/** The fixture specs of single apps, each synced into a workspace of its own (some share a name). */
const FIXTURE_SPECS = ['backup-app/files.yaml', 'backup/files.yaml', 'cron-service/files.yaml', 'full-form/wiki.yaml', 'multi-service/stack.yaml', 'placement/ml.yaml', 'deploy-stack/stack.yaml'];
/** The import fixtures that import (tests/import/roundtrip.integration.test.ts), all into one workspace. */
const IMPORTED = ['chores', 'gallery', 'house', 'resolver'];

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));
afterEach(() => delete process.env.HOMELAB_KUSTOMIZE_BATCH);

function workspace(prefix: string, fill: (root: string) => void, homelabYaml = WORKSPACE_YAML): string {
  const root = makeDiskWorkspace(prefix, homelabYaml);
  roots.push(root);
  fill(root);
  return root;
}

/** Every overlay folder with a kustomization, of apps and components, workspace-relative, sorted. */
function overlaysOf(root: string): string[] {
  return ['applications', 'infrastructure']
    .flatMap((layer) => {
      const overlays = path.join(root, layer, 'kubernetes/overlays');
      if (!fs.existsSync(overlays)) return [];
      return fs.readdirSync(overlays).flatMap((env) => fs.readdirSync(path.join(overlays, env)).map((name) => `${layer}/kubernetes/overlays/${env}/${name}`));
    })
    .filter((dir) => fs.existsSync(path.join(root, dir, 'kustomization.yaml')))
    .sort();
}

const jobsOf = (root: string, dirs: string[]): RenderJob[] => dirs.map((dir) => ({ kind: 'kustomize', dir, cwd: root }));

/** Each overlay built batched (prerender, then the result it kept) and alone (kustomize without a prerendered result). */
async function bothWays(root: string, dirs: string[]) {
  const stats = await prerender(jobsOf(root, dirs));
  const batched = dirs.map((dir) => kustomize(dir, root));
  const alone = dirs.map((dir) => kustomize(dir, root));
  return { stats, batched, alone };
}

describe.skipIf(kubectl.skip)('batched kustomize builds', () => {
  const cases: { id: string; root: string }[] = [];
  beforeAll(() => {
    for (const { id, homelabYaml, fill } of WORKSPACES) cases.push({ id: `golden ${id}`, root: workspace(`kbatch-${id}`, fill, homelabYaml) });
    cases.push({
      id: 'census stacks and the patched relay',
      root: workspace('kbatch-census', (root) => {
        const host = diskHost(root);
        for (const spec of renderedStacks()) writeSpec(host, spec);
        writePatchedStack(host);
        syncAll(host);
      }),
    });
    for (const file of FIXTURE_SPECS) {
      cases.push({
        id: `fixture ${file}`,
        root: workspace('kbatch-fixture', (root) => {
          const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
          const host = diskHost(root);
          host.write(`applications/specs/${(YAML.parse(text) as { name: string }).name}.yaml`, text);
          syncAll(host);
        }),
      });
    }
    cases.push({
      id: 'import fixtures',
      root: workspace('kbatch-import', (root) => {
        for (const stack of IMPORTED) {
          const dir = path.join(FIXTURES, 'import', stack);
          const file = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f))!;
          generateImport(diskHost(root), { name: appNameOf(stack), file }, { cwd: dir, environment: stackEnvironment(), engine: null }).writeSecrets(root);
        }
      }),
    });
  });

  it('compares workspaces that have overlays', () => {
    expect(cases.length).toBe(WORKSPACES.length + 1 + FIXTURE_SPECS.length + 1);
    for (const { id, root } of cases) expect(overlaysOf(root).length, id).toBeGreaterThan(0);
  });

  it('renders every overlay of every fixture workspace byte for byte as its build alone', async () => {
    for (const { id, root } of cases) {
      const dirs = overlaysOf(root);
      const { stats, batched, alone } = await bothWays(root, dirs);
      dirs.forEach((dir, i) => expect(batched[i], `${id}: ${dir}`).toEqual(alone[i]));
      expect(alone.every((r) => r.ok), id).toBe(true);
      // The batch path really ran: every overlay was rendered by an aggregate build, none alone.
      expect({ id, alone: stats.alone, batched: stats.batched }).toEqual({ id, alone: [], batched: dirs.length });
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

    expect(stats).toEqual({ batchProcesses: 0, batched: 0, alone: dirs });
    expect(batched).toEqual(alone);
  });
});
