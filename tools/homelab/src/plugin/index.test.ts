import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CreateNodesContextV2, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { yamlMutations } from '../../../../tests/support/yaml-mutations';
import { CACHE_FILE } from './cache';
import { createNodesV2, environmentNames, type HomelabPluginOptions, readSpecValueWithYaml, SPEC_GLOB, specFacts } from './index';

/**
 * The inference plugin on temporary-directory fixtures: each test writes the few files
 * that matter and calls createNodesV2 the way Nx does (spec files relative to the root).
 */

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-plugin-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function write(files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

/** An app with the folders a generated app has (a Kubernetes base and a Compose base). */
function app(name: string, spec = `name: ${name}\n`): Record<string, string> {
  return {
    [`applications/specs/${name}.yaml`]: spec,
    [`applications/kubernetes/base/${name}/kustomization.yaml`]: 'resources: []\n',
    [`applications/compose/base/${name}/compose.yaml`]: 'services: {}\n',
  };
}

/** A hand-written infrastructure component: a spec and a Kubernetes base. */
function component(name: string): Record<string, string> {
  return {
    [`infrastructure/specs/${name}.yaml`]: `name: ${name}\n`,
    [`infrastructure/kubernetes/base/${name}/kustomization.yaml`]: 'resources: []\n',
  };
}

/** Every spec on disk, as the relative paths Nx hands the plugin for SPEC_GLOB. */
function specFiles(): string[] {
  return ['applications', 'infrastructure'].flatMap((layer) => {
    const dir = path.join(root, layer, 'specs');
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => `${layer}/specs/${f}`) : [];
  });
}

/** Runs the plugin over every spec on disk and returns the projects by name. */
async function projects(options: HomelabPluginOptions = {}): Promise<Record<string, ProjectConfiguration>> {
  const context: CreateNodesContextV2 = { workspaceRoot: root, nxJsonConfiguration: {} };
  const results = await createNodesV2[1](specFiles(), options, context);
  const byName: Record<string, ProjectConfiguration> = {};
  for (const [, result] of results) {
    for (const project of Object.values(result.projects ?? {})) byName[project.name!] = project as ProjectConfiguration;
  }
  return byName;
}

function target(project: ProjectConfiguration, name: string): TargetConfiguration {
  const t = project.targets?.[name];
  if (!t) throw new Error(`project ${project.name} has no target ${name}; it has ${Object.keys(project.targets ?? {}).join(', ')}`);
  return t;
}

describe('homelab inference plugin', () => {
  it('matches the specs of both layers and nothing else', () => {
    expect(SPEC_GLOB).toBe('{applications,infrastructure}/specs/*.yaml');
  });

  it('creates one project per app and per component, named after its spec, rooted at its Kubernetes base', async () => {
    write({ ...app('web'), ...app('api'), ...component('postgres') });
    const result = await projects();
    expect(Object.keys(result).sort()).toEqual(['api', 'postgres', 'web']);
    expect(result.web.root).toBe('applications/kubernetes/base/web');
    expect(result.postgres.root).toBe('infrastructure/kubernetes/base/postgres');
  });

  it('creates homelab-platform from homelab.yaml: a validate target only, over what no app or component owns', async () => {
    write({ 'homelab.yaml': 'environments:\n  - name: dev\n', ...app('web') });
    const context: CreateNodesContextV2 = { workspaceRoot: root, nxJsonConfiguration: {} };
    const results = await createNodesV2[1](['homelab.yaml', ...specFiles()], {}, context);
    const all = results.flatMap(([, r]) => Object.values(r.projects ?? {})) as ProjectConfiguration[];
    const platform = all.find((p) => p.name === 'homelab-platform')!;

    expect(all.map((p) => p.name).sort()).toEqual(['homelab-platform', 'web']);
    expect(platform.root).toBe('platform/argocd/bootstrap');
    expect(Object.keys(platform.targets ?? {})).toEqual(['validate']);
    expect(target(platform, 'validate').options).toEqual({ layer: 'platform' });
    expect(target(platform, 'validate').inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/platform/secrets/**', '{workspaceRoot}/schemas/custom/**', '{workspaceRoot}/homelab.yaml']));
    expect(target(platform, 'validate').inputs).not.toContain('{workspaceRoot}/platform/**');
  });

  it('roots a Compose-only app at its Compose base', async () => {
    write({ 'applications/specs/nas.yaml': 'name: nas\nplatforms: [compose]\n', 'applications/compose/base/nas/compose.yaml': 'services: {}\n' });
    expect((await projects()).nas.root).toBe('applications/compose/base/nas');
  });

  it('tags apps type:app and components type:infra, with the platforms they have', async () => {
    write({ ...app('web'), ...app('nas', 'name: nas\nplatforms: [compose]\n'), ...component('postgres') });
    const result = await projects();
    expect(result.web.tags).toEqual(['type:app', 'platform:kubernetes', 'platform:compose']);
    expect(result.nas.tags).toEqual(['type:app', 'platform:compose']);
    expect(result.postgres.tags).toContain('type:infra');
    expect(result.postgres.tags).not.toContain('type:app');
  });

  it('gives every project validate, build, deploy, down, status, logs and diff, each with a description', async () => {
    write({ ...app('web'), ...component('postgres') });
    for (const project of Object.values(await projects())) {
      expect(Object.keys(project.targets ?? {}).sort()).toEqual(['build', 'deploy', 'diff', 'down', 'logs', 'status', 'validate']);
      for (const t of Object.values(project.targets ?? {})) {
        expect(t.metadata?.description).toMatch(new RegExp(project.name!));
      }
    }
  });

  it.each([
    ['a shorthand volume', 'volumes:\n  - { name: data, size: 1Gi, mountPath: /data }\n'],
    ['a full-form persistent volume', 'volumes:\n  db: { size: 1Gi, backup: { dump: postgres } }\n'],
    ['a database on the shared PostgreSQL', 'database: {}\n'],
  ])('gives an app with %s a restore-drill target, never cached', async (_what, extra) => {
    write(app('files', `name: files\n${extra}`));
    const t = target((await projects()).files, 'restore-drill');
    expect(t.executor).toBe('homelab:restore-drill');
    expect(t.cache).toBe(false);
    expect(t.options).toEqual({ layer: 'applications' });
    expect(t.metadata?.description).toMatch(/files/);
  });

  it.each([
    ['no volume', ''],
    ['only volumes with backup: false', 'volumes:\n  - { name: data, size: 1Gi, mountPath: /data, backup: false }\n'],
    ['only volumes that are not persistent', 'volumes:\n  cache: { tmpfs: { size: 64Mi } }\n  media: { hostPath: /srv/media }\n'],
  ])('gives an app with %s no restore-drill target', async (_what, extra) => {
    write(app('web', `name: web\n${extra}`));
    expect(Object.keys((await projects()).web.targets ?? {})).not.toContain('restore-drill');
  });

  it('names the restore-drill target as the plugin options say', async () => {
    write(app('files', 'name: files\nvolumes:\n  - { name: data, size: 1Gi, mountPath: /data }\n'));
    const files = (await projects({ restoreDrillTargetName: 'drill' })).files;
    expect(target(files, 'drill').executor).toBe('homelab:restore-drill');
  });

  it.each([
    ['validate', 'homelab:validate', true],
    ['build', 'homelab:build', true],
    ['deploy', 'homelab:deploy', false],
    ['down', 'homelab:down', false],
    ['status', 'homelab:status', false],
    ['logs', 'homelab:logs', false],
    ['diff', 'homelab:diff', false],
  ])('%s runs %s with cache %s', async (name, executor, cache) => {
    write(app('web'));
    const t = target((await projects()).web, name);
    expect(t.executor).toBe(executor);
    expect(t.cache).toBe(cache);
    expect(t.options).toEqual({ layer: 'applications' });
  });

  it('passes the layer of a component to its executors', async () => {
    write(component('postgres'));
    const postgres = (await projects()).postgres;
    for (const name of ['validate', 'build', 'deploy', 'down', 'status', 'logs', 'diff']) expect(target(postgres, name).options).toEqual({ layer: 'infrastructure' });
  });

  describe('inputs follow the files a project owns in every tree', () => {
    const HOMELAB_YAML = 'environments:\n  - name: dev\n  - name: prod\n';
    const owned = [
      ['the spec', '{workspaceRoot}/applications/specs/web.yaml'],
      ['the files beside the spec (config volumes of `file`)', '{workspaceRoot}/applications/specs/web/**'],
      ['the Kubernetes base', '{workspaceRoot}/applications/kubernetes/base/web/**'],
      ['the dev overlay', '{workspaceRoot}/applications/kubernetes/overlays/dev/web/**'],
      ['the prod overlay', '{workspaceRoot}/applications/kubernetes/overlays/prod/web/**'],
      ['the Compose base', '{workspaceRoot}/applications/compose/base/web/**'],
      ['the dev Compose environment', '{workspaceRoot}/applications/compose/environments/dev/web/**'],
      ['the prod Compose environment', '{workspaceRoot}/applications/compose/environments/prod/web/**'],
      ['the dev ArgoCD application', '{workspaceRoot}/platform/argocd/applications/dev/web.yaml'],
      ['the prod ArgoCD application', '{workspaceRoot}/platform/argocd/applications/prod/web.yaml'],
      ['the runbook', '{workspaceRoot}/applications/runbooks/web.md'],
      ['the tool code', '{workspaceRoot}/tools/homelab/src/**'],
      ['the tool schemas', '{workspaceRoot}/tools/homelab/schemas/**'],
      ['the workspace settings', '{workspaceRoot}/homelab.yaml'],
      ['the locked engine dependencies', '{workspaceRoot}/package-lock.json'],
    ] as const;

    it.each(owned)('validate takes %s', async (_what, input) => {
      write({ 'homelab.yaml': HOMELAB_YAML, ...app('web') });
      expect(target((await projects()).web, 'validate').inputs).toContain(input);
    });

    it.each(owned)('build takes %s', async (_what, input) => {
      write({ 'homelab.yaml': HOMELAB_YAML, ...app('web') });
      expect(target((await projects()).web, 'build').inputs).toContain(input);
    });

    it('validate takes templates/ and the secret stores (it re-renders the spec); build takes neither (it renders the files in git)', async () => {
      write(app('web'));
      const web = (await projects()).web;
      expect(target(web, 'validate').inputs).toEqual(
        expect.arrayContaining(['{workspaceRoot}/templates/**', '{workspaceRoot}/platform/secrets/stores/**']),
      );
      expect(target(web, 'build').inputs).not.toContain('{workspaceRoot}/templates/**');
      expect(target(web, 'build').inputs).not.toContain('{workspaceRoot}/platform/secrets/stores/**');
    });

    it.each(['validate', 'build'])("%s leaves out the tool's own tests", async (name) => {
      write(app('web'));
      expect(target((await projects()).web, name).inputs).toContain('!{workspaceRoot}/tools/homelab/src/**/*.test.ts');
    });

    it('build takes the kubectl and docker compose versions it renders with', async () => {
      write(app('web'));
      const inputs = target((await projects()).web, 'build').inputs;
      expect(inputs).toContainEqual({ runtime: 'kubectl version --client -o json' });
      expect(inputs).toContainEqual({ runtime: 'docker compose version --short' });
    });

    it('owns the folders of an environment that is on disk but not in homelab.yaml', async () => {
      write({ 'homelab.yaml': HOMELAB_YAML, ...app('web'), 'applications/kubernetes/overlays/staging/web/kustomization.yaml': 'resources: []\n' });
      const inputs = target((await projects()).web, 'validate').inputs;
      expect(inputs).toContain('{workspaceRoot}/applications/kubernetes/overlays/staging/web/**');
      expect(inputs).toContain('{workspaceRoot}/platform/argocd/applications/staging/web.yaml');
    });

    it.each([
      ['homelab.yaml is missing', {}],
      ['homelab.yaml is not valid YAML', { 'homelab.yaml': 'environments: [dev\n' }],
      ['an environment name is not a plain folder name', { 'homelab.yaml': 'environments:\n  - name: "d*v"\n' }],
    ])('stands for every environment with * when %s', async (_why, files) => {
      write({ ...files, ...app('web') });
      const inputs = target((await projects()).web, 'validate').inputs;
      expect(inputs).toContain('{workspaceRoot}/applications/kubernetes/overlays/*/web/**');
      expect(inputs).toContain('{workspaceRoot}/applications/compose/environments/*/web/**');
      expect(inputs).toContain('{workspaceRoot}/platform/argocd/applications/*/web.yaml');
    });

    it("names no other project's files", async () => {
      write({ 'homelab.yaml': HOMELAB_YAML, ...app('web'), ...app('web2') });
      const inputs = (target((await projects()).web, 'validate').inputs ?? []).filter((i): i is string => typeof i === 'string');
      expect(inputs.filter((i) => i.includes('web2'))).toEqual([]);
      // `web/**` must not match web2's folders: every owned glob ends the name with '/' or '.'.
      expect(inputs.filter((i) => /web[^/.]/.test(i))).toEqual([]);
    });

    it.each(['validate', 'build'])(
      '%s takes the specs of the projects it is linked to by dependsOn: what it depends on (apps transitively), and the apps that depend on it',
      async (name) => {
        write({
          'homelab.yaml': HOMELAB_YAML,
          ...app('db'),
          ...app('api', 'name: api\ndependsOn: [db, postgres]\n'),
          ...app('web', 'name: web\ndependsOn: [api]\n'),
          ...app('other'),
          ...component('postgres'),
        });
        const specs = (project: ProjectConfiguration) =>
          (target(project, name).inputs ?? []).filter((i): i is string => typeof i === 'string' && /\/specs\/[^/]+\.yaml$/.test(i)).sort();
        const all = await projects();

        // web's sync wave depends on api's dependencies too; api's policy opens to web; db's to api.
        expect(specs(all.web)).toEqual(['{workspaceRoot}/applications/specs/api.yaml', '{workspaceRoot}/applications/specs/db.yaml', '{workspaceRoot}/applications/specs/web.yaml', '{workspaceRoot}/infrastructure/specs/postgres.yaml']);
        expect(specs(all.api)).toEqual(['{workspaceRoot}/applications/specs/api.yaml', '{workspaceRoot}/applications/specs/db.yaml', '{workspaceRoot}/applications/specs/web.yaml', '{workspaceRoot}/infrastructure/specs/postgres.yaml']);
        expect(specs(all.db)).toEqual(['{workspaceRoot}/applications/specs/api.yaml', '{workspaceRoot}/applications/specs/db.yaml']);
        expect(specs(all.other)).toEqual(['{workspaceRoot}/applications/specs/other.yaml']);
        expect(all.web.implicitDependencies).toEqual(['api']);
      },
    );

    it('takes the component layer for a component', async () => {
      write({ 'homelab.yaml': HOMELAB_YAML, ...component('postgres') });
      const inputs = target((await projects()).postgres, 'validate').inputs;
      expect(inputs).toContain('{workspaceRoot}/infrastructure/specs/postgres.yaml');
      expect(inputs).toContain('{workspaceRoot}/infrastructure/kubernetes/base/postgres/**');
      expect(inputs).toContain('{workspaceRoot}/infrastructure/compose/environments/dev/postgres/**');
      expect(inputs).toContain('{workspaceRoot}/infrastructure/runbooks/postgres.md');
    });
  });

  describe('environmentNames', () => {
    it('lists the environments of homelab.yaml and the environment folders of every tree, sorted', () => {
      write({
        'homelab.yaml': 'environments:\n  - name: prod\n  - name: dev\n',
        'infrastructure/compose/environments/lab/postgres/compose.override.yaml': '{}\n',
        'platform/argocd/applications/edge/web.yaml': '{}\n',
        // A file next to the environment folders is not an environment.
        'applications/kubernetes/overlays/.gitkeep': '',
      });
      expect(environmentNames(root)).toEqual(['dev', 'edge', 'lab', 'prod']);
    });
  });

  it('caches no outputs for validate and every rendered environment for build', async () => {
    write(app('web'));
    const web = (await projects()).web;
    expect(target(web, 'validate').outputs).toEqual([]);
    expect(target(web, 'build').outputs).toEqual(['{workspaceRoot}/dist/*/kubernetes/web.yaml', '{workspaceRoot}/dist/*/compose/web']);
    expect(target(web, 'deploy').outputs).toBeUndefined();
    expect(target(web, 'down').outputs).toBeUndefined();
    expect(target(web, 'status').outputs).toBeUndefined();
  });

  it('reads status without building or deploying anything first', async () => {
    write({ ...app('web', 'name: web\ndependsOn: [postgres]\n'), ...component('postgres') });
    expect(target((await projects()).web, 'status').dependsOn).toBeUndefined();
  });

  it('shows logs of the project alone, not as a continuous task (Nx would report its failures as success), and diffs after its own build only', async () => {
    write({ ...app('web', 'name: web\ndependsOn: [postgres]\n'), ...component('postgres') });
    const web = (await projects()).web;
    expect(target(web, 'logs').dependsOn).toBeUndefined();
    expect(target(web, 'logs').continuous).toBeUndefined();
    expect(target(web, 'diff').dependsOn).toEqual(['build']);
    expect(target(web, 'diff').continuous).toBeUndefined();
  });

  it('removes only the project itself on down: no build, no dependencies', async () => {
    write({ ...app('web', 'name: web\ndependsOn: [postgres]\n'), ...component('postgres') });
    expect(target((await projects()).web, 'down').dependsOn).toBeUndefined();
  });

  it('builds after validating, and deploys after its own build and the deploy of its dependencies', async () => {
    write(app('web'));
    const web = (await projects()).web;
    expect(target(web, 'build').dependsOn).toEqual(['validate']);
    const deps = target(web, 'deploy').dependsOn ?? [];
    expect(deps).toContain('build');
    expect(deps).toContainEqual(expect.objectContaining({ target: 'deploy', dependencies: true }));
  });

  it('uses the target names set in the plugin options, in targets and dependsOn alike', async () => {
    write(app('web'));
    const web = (await projects({ validateTargetName: 'check', buildTargetName: 'render', deployTargetName: 'ship', downTargetName: 'remove', statusTargetName: 'state', logsTargetName: 'tail', diffTargetName: 'compare' })).web;
    expect(Object.keys(web.targets ?? {}).sort()).toEqual(['check', 'compare', 'remove', 'render', 'ship', 'state', 'tail']);
    expect(target(web, 'compare').dependsOn).toEqual(['render']);
    expect(target(web, 'render').dependsOn).toEqual(['check']);
    expect(target(web, 'ship').dependsOn).toContain('render');
    expect(target(web, 'ship').dependsOn).toContainEqual(expect.objectContaining({ target: 'ship', dependencies: true }));
  });

  it('turns dependsOn into implicit dependencies on existing components and drops unknown ones', async () => {
    write({
      ...app('web', 'name: web\ndependsOn: [postgres, redis, web]\n'),
      ...component('postgres'),
    });
    const result = await projects();
    // redis has no spec (validate reports it); web naming itself is not an edge.
    expect(result.web.implicitDependencies).toEqual(['postgres']);
    expect(result.postgres.implicitDependencies).toEqual([]);
  });

  it('gives an app without dependsOn no implicit dependencies', async () => {
    write({ ...app('web'), ...component('postgres') });
    expect((await projects()).web.implicitDependencies).toEqual([]);
  });

  it('still creates a project for a spec that is not valid YAML, and keeps the other projects', async () => {
    write({
      ...app('broken', 'name: broken\nimage: [unclosed\n  : :\n'),
      ...app('web', 'name: web\ndependsOn: [postgres]\n'),
      ...component('postgres'),
    });
    const result = await projects();
    expect(Object.keys(result).sort()).toEqual(['broken', 'postgres', 'web']);
    // The broken app keeps its targets: its validate run is where the YAML error is reported.
    expect(Object.keys(result.broken.targets ?? {}).sort()).toEqual(['build', 'deploy', 'diff', 'down', 'logs', 'status', 'validate']);
    expect(result.broken.implicitDependencies).toEqual([]);
    expect(result.web.implicitDependencies).toEqual(['postgres']);
  });

  it.each([
    ['in flow style', '{ name: web, dependsOn: [postgres] }\n', ['postgres']],
    ['with a key spelled by an escape', '{ name: web, "depends\\x4fn": [postgres] }\n', ['postgres']],
  ])('reads dependsOn written %s', async (_how, spec, expected) => {
    write({ ...app('web', spec), ...component('postgres') });
    expect((await projects()).web.implicitDependencies).toEqual(expected);
  });

  it('reads platforms and description from a spec that names them', async () => {
    write(app('nas', 'name: nas\ndescription: The NAS\nplatforms: [compose]\n'));
    const nas = (await projects()).nas;
    expect(nas.tags).toEqual(['type:app', 'platform:compose']);
    expect(nas.metadata?.description).toBe('The NAS');
  });

  it('reads a spec that is a YAML scalar or empty as a spec without facts', async () => {
    write({ ...app('empty', ''), ...app('scalar', 'just text\n') });
    const result = await projects();
    expect(result.empty.implicitDependencies).toEqual([]);
    expect(result.scalar.tags).toEqual(['type:app', 'platform:kubernetes', 'platform:compose']);
  });

  describe('the parse cache between Nx commands', () => {
    const cacheFile = () => path.join(root, '.nx/workspace-data', CACHE_FILE);
    const readCache = () => JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as { version: string; entries: Record<string, unknown> };
    /** Every cached spec's facts replaced by a description no parse of the specs gives: a run that shows it read the cache. */
    const markCachedFacts = (version?: string) => {
      const cache = readCache();
      for (const key of Object.keys(cache.entries)) {
        if (key.startsWith('spec:')) cache.entries[key] = { dependsOn: [], platforms: ['compose'], description: 'from the cache' };
      }
      fs.writeFileSync(cacheFile(), JSON.stringify({ ...cache, version: version ?? cache.version }));
    };
    /** All the plugin's results for homelab.yaml and every spec, as Nx receives them. */
    const nodes = async () => {
      const context: CreateNodesContextV2 = { workspaceRoot: root, nxJsonConfiguration: {} };
      return JSON.parse(JSON.stringify(await createNodesV2[1](['homelab.yaml', ...specFiles()], {}, context))) as unknown;
    };
    const workspace = () =>
      write({
        'homelab.yaml': 'environments:\n  - name: dev\n  - name: prod\n',
        ...app('web', 'name: web\ndescription: The web\ndependsOn: [postgres, api]\nvolumes:\n  - { name: data, size: 1Gi, mountPath: /data }\n'),
        ...app('api', 'name: api\nplatforms: [kubernetes]\ndependsOn: [postgres]\n'),
        ...app('plain'),
        ...app('broken', 'name: broken\nvolumes: [unclosed\n'),
        ...component('postgres'),
      });

    it('gives the same nodes from the cache as from parsing, and writes the cache in the workspace data directory', async () => {
      workspace();
      const parsed = await nodes();
      expect(Object.keys(readCache().entries).length).toBeGreaterThan(0);
      const cached = await nodes();
      fs.rmSync(path.join(root, '.nx'), { recursive: true });
      expect(cached).toEqual(parsed);
      expect(await nodes()).toEqual(parsed);
    });

    it("reads an unchanged spec's facts from the cache instead of parsing it", async () => {
      workspace();
      await nodes();
      markCachedFacts();
      const result = await projects();
      expect(result.web.metadata?.description).toBe('from the cache');
      expect(result.api.metadata?.description).toBe('from the cache');
    });

    it('parses a changed spec again and keeps the cache of the others', async () => {
      workspace();
      await nodes();
      markCachedFacts();
      write({ 'applications/specs/web.yaml': 'name: web\ndescription: The new web\ndependsOn: [postgres]\n' });
      const result = await projects();
      expect(result.web.metadata?.description).toBe('The new web');
      expect(result.web.implicitDependencies).toEqual(['postgres']);
      expect(result.api.metadata?.description).toBe('from the cache');
      // The cache now holds what this run parsed (the specs with facts: web, api, broken): web's new text, not its old one.
      expect(Object.values(readCache().entries)).toContainEqual(expect.objectContaining({ description: 'The new web' }));
      expect(Object.keys(readCache().entries).filter((k) => k.startsWith('spec:'))).toHaveLength(3);
    });

    it("reads homelab.yaml's environments again when it changes", async () => {
      workspace();
      await nodes();
      write({ 'homelab.yaml': 'environments:\n  - name: dev\n  - name: staging\n' });
      const inputs = target((await projects()).plain, 'validate').inputs;
      expect(inputs).toContain('{workspaceRoot}/applications/kubernetes/overlays/staging/plain/**');
      expect(inputs).not.toContain('{workspaceRoot}/applications/kubernetes/overlays/prod/plain/**');
    });

    it('ignores a cache written by another version of the plugin', async () => {
      workspace();
      await nodes();
      markCachedFacts('another version');
      expect((await projects()).web.metadata?.description).toBe('The web');
    });

    it('ignores a cache file that is not JSON, and still creates every project', async () => {
      workspace();
      const parsed = await nodes();
      fs.writeFileSync(cacheFile(), '{ half a file');
      expect(await nodes()).toEqual(parsed);
      expect(readCache().entries).not.toEqual({});
    });
  });
});

describe('the facts of a spec, read by js-yaml where it reads as the yaml library does', () => {
  const SPECS = [
    'name: web\ndescription: The web\ndependsOn: [postgres, api]\nvolumes:\n  - { name: data, size: 1Gi, mountPath: /data }\n',
    'name: web\ndependsOn:\n  - postgres # the database\n  - "api"\nplatforms: [compose]\ndatabase: { engine: postgres }\n',
    'name: web\ndescription: >\n  folded over\n  two lines\nvolumes:\n  data: { size: 1Gi, backup: false }\n  cache: { mountPath: /cache }\n',
    'name: web\ndescription: |\n  kept\n  lines\nvolumes: [{ name: a, backup: false }]\n',
    'name: web\ndescription: 2001-12-14\ndependsOn: [0x10, 1_000, 0o17, 017, .inf, yes, on, ~, null, true, "x"]\nplatforms: [kubernetes, 12]\n',
    'name: web\ndescription: "escaped \\u00e9 \\t tab"\ndependsOn: [\'it\'\'s\']\n',
    'name: web\ndescription: &d shared\ndependsOn: [*d]\n',
    'name: web\ndependsOn: [a]\ndependsOn: [b]\n',
    'name: web\ndescription: !custom tagged\n',
    '<<: { description: merged }\nname: web\n',
    'name: web\n---\nname: other\n',
    'name: web\ndescription: [unclosed\n',
    '\ufeffname: web\r\ndescription: with a BOM and CRLF\r\ndependsOn: [db]\r\n',
    'name: web\ndescription: "ünïcødé ✓ 🏠"\ndatabase: null\nvolumes: ~\n',
    'name: web\nbackup: { schedule: "0 3 * * *" }\nvolumes: [{ name: data, mountPath: /data }]\ncron: 0 3 * * *\n',
    '',
    'just text\n',
    '- a list\n',
  ];
  const yamlFacts = (text: string) => specFacts(text, readSpecValueWithYaml);

  it.each(SPECS.map((s) => [JSON.stringify(s).slice(0, 60), s]))('reads %s as the yaml library does', (_label, text) => {
    expect(specFacts(text)).toEqual(yamlFacts(text));
  });

  it('agrees with the yaml library on 2,000 mutations of those specs (lines dropped, doubled, re-indented, characters changed)', () => {
    const noise = [' ', '  ', '-', ':', '#', '"', "'", '[', ']', '{', '}', ',', '*', '&', '|', '>', '\t', '\n', '\r', 'x', '0', '.', '~', '?', '%', '@', '`'];
    let differ = 0;
    const examples: string[] = [];
    for (const text of yamlMutations(SPECS, 2000, 11, noise)) {
      // A tag: js-yaml refuses it, so the yaml library reads it (the hand-picked case above), and warns on the console each time.
      if (text.includes('!')) continue;
      if (JSON.stringify(specFacts(text)) !== JSON.stringify(yamlFacts(text))) {
        differ++;
        if (examples.length < 3) examples.push(text);
      }
    }
    expect(examples).toEqual([]);
    expect(differ).toBe(0);
  });
});
