import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { diskHost } from '../tools/homelab/src/host';
import { generateInfra } from '../tools/homelab/src/component/generate';
import { generateInit } from '../tools/homelab/src/platform/init';
import { cacheHits, commitAll, createTempWorkspace, git, nx, writeFiles } from '../scripts/lib/temp-workspace';

/**
 * `nx affected` on a real git repository: three generated apps (web depends on the
 * infrastructure component postgres) and that component, all written by the generators'
 * shared cores. Each case changes the working tree and asks Nx which projects it affects
 * against the commit.
 */

let root: string;

beforeAll(() => {
  root = createTempWorkspace('homelab-affected-');
  const host = diskHost(root);
  writeFiles(root, { 'README.md': '# a homelab\n' });
  generateInit(host, {});
  generateInfra(host, { component: 'postgres' });
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80 });
  generateApp(host, { name: 'api', image: 'traefik/whoami:v1.10.4', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
  generateApp(host, { name: 'worker', image: 'traefik/whoami:v1.10.4', port: 9000 });
  // The user edits the spec, then syncs (dependsOn re-renders web's network policy).
  const spec = 'applications/specs/web.yaml';
  fs.writeFileSync(path.join(root, spec), `${fs.readFileSync(path.join(root, spec), 'utf8')}dependsOn:\n  - postgres\n`);
  syncAll(host);
  commitAll(root);
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Appends a line to a file of the workspace, as an edit would. */
function touch(file: string): void {
  const comment = file.endsWith('.md') ? '\nOne more line.\n' : '\n# touched\n';
  fs.appendFileSync(path.join(root, file), comment);
}

/**
 * The projects Nx selects against the commit. Plugins load in the Nx process itself
 * (NX_ISOLATE_PLUGINS=false): the same graph, about 1.5 s less per command; run-many and
 * graph below keep the default isolated plugin workers.
 */
function affectedProjects(): string[] {
  const out = nx(root, ['show', 'projects', '--affected', '--base=HEAD', '--json'], { env: { NX_ISOLATE_PLUGINS: 'false' } }).stdout;
  return (JSON.parse(out) as string[]).sort();
}

describe('nx show projects --affected', () => {
  it('sees every app and the component, and nothing is affected on a clean tree', () => {
    const all = JSON.parse(nx(root, ['show', 'projects', '--json']).stdout) as string[];
    expect(all).toEqual(expect.arrayContaining(['api', 'postgres', 'web', 'worker']));
    expect(affectedProjects()).toEqual([]);
  });

  /** A change to the working tree: files edited in place, or files and folders removed. */
  type Change = { edit: string[] } | { remove: string[] };

  it.each<[string, string[], Change]>([
    ['an edit to a Kubernetes base file', ['api'], { edit: ['applications/kubernetes/base/api/service.yaml'] }],
    ['an edit to an overlay file', ['worker'], { edit: ['applications/kubernetes/overlays/prod/worker/kustomization.yaml'] }],
    ['an edit to a Compose environment file', ['api'], { edit: ['applications/compose/environments/dev/api/compose.override.yaml'] }],
    ['an edit to the ArgoCD application', ['web'], { edit: ['platform/argocd/applications/prod/web.yaml'] }],
    ['an edit to the spec', ['worker'], { edit: ['applications/specs/worker.yaml'] }],
    ['an edit to a file of a depended-on component (it and its dependents)', ['postgres', 'web'], { edit: ['infrastructure/kubernetes/base/postgres/kustomization.yaml'] }],
    ['an edit to the spec of a depended-on component (it and its dependents)', ['postgres', 'web'], { edit: ['infrastructure/specs/postgres.yaml'] }],
    ['an edit to a template (every project validates against templates, by design)', ['api', 'postgres', 'web', 'worker'], { edit: ['templates/app/applications/runbooks/__name__.md.hbs'] }],
    ['an edit to the tool code (every project)', ['api', 'homelab-platform', 'postgres', 'web', 'worker'], { edit: ['tools/homelab/src/host.ts'] }],
    ['an edit to the platform Application (the platform project alone)', ['homelab-platform'], { edit: ['platform/argocd/applications/platform.yaml'] }],
    ['an edit to README.md (nobody)', [], { edit: ['README.md'] }],
    ['deleting an overlay file', ['web'], { remove: ['applications/kubernetes/overlays/dev/web/kustomization.yaml'] }],
    ['deleting an environment folder (every app that had files in it)', ['api', 'web', 'worker'], { remove: ['applications/compose/environments/prod'] }],
  ])('after %s, affected is %j', (_what, expected, change) => {
    try {
      if ('edit' in change) change.edit.forEach(touch);
      else for (const file of change.remove) fs.rmSync(path.join(root, file), { recursive: true });
      expect(affectedProjects()).toEqual(expected);
    } finally {
      git(root, ['checkout', '--', '.']);
      git(root, ['clean', '-fd', '--quiet']);
    }
  });

  it('marks an app for a file added to its Kubernetes base', () => {
    try {
      writeFiles(root, { 'applications/kubernetes/base/worker/configmap.yaml': 'kind: ConfigMap\n' });
      expect(affectedProjects()).toEqual(['worker']);
    } finally {
      git(root, ['checkout', '--', '.']);
      git(root, ['clean', '-fd', '--quiet']);
    }
  });
});

describe('caching and the graph', () => {
  it('serves a second run-many -t validate entirely from the cache', () => {
    const first = nx(root, ['run-many', '-t', 'validate']);
    expect(cacheHits(`${first.stdout}${first.stderr}`)?.hits ?? 0).toBeLessThan(5);
    const second = nx(root, ['run-many', '-t', 'validate']);
    expect(cacheHits(`${second.stdout}${second.stderr}`)).toEqual({ hits: 5, tasks: 5 });
  });

  it("keeps the cache when only a test of the tool changes (tests are not the engine's code)", () => {
    try {
      writeFiles(root, { 'tools/homelab/src/plugin/extra.test.ts': 'export {};\n' });
      const run = nx(root, ['run-many', '-t', 'validate']);
      expect(cacheHits(`${run.stdout}${run.stderr}`)).toEqual({ hits: 5, tasks: 5 });
      // Nx 23's affected does not apply `!` inputs: it still selects every project for this
      // change (more work than needed, never less). The hash above is what skips the work.
    } finally {
      git(root, ['clean', '-fd', '--quiet']);
    }
  });

  it('writes the app -> component dependency into nx graph --file', () => {
    nx(root, ['graph', '--file=graph.json']);
    const graph = JSON.parse(fs.readFileSync(path.join(root, 'graph.json'), 'utf8')) as {
      graph: { nodes: Record<string, unknown>; dependencies: Record<string, { source: string; target: string; type: string }[]> };
    };
    expect(Object.keys(graph.graph.nodes)).toEqual(expect.arrayContaining(['api', 'postgres', 'web', 'worker']));
    expect(graph.graph.dependencies.web).toContainEqual({ source: 'web', target: 'postgres', type: 'implicit' });
    expect(graph.graph.dependencies.api.map((d) => d.target)).not.toContain('postgres');
    expect(graph.graph.dependencies.postgres).toEqual([]);
  });
});
