import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { CreateNodesContextV2, CreateNodesV2, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
// Straight from Nx rather than through @nx/devkit's index, which loads every devkit utility (generators,
// formatting, package managers): about 0.3-0.5 s of every Nx command, for one function.
import { createNodesFromFiles } from 'nx/src/project-graph/plugins/utils';
import type * as YamlModule from 'yaml';
import { quickCoreDocument } from '../import/compose/yaml';
import { PLATFORM_PROJECT } from '../validate/classify';
import { ParseCache } from './cache';

/** Options of the plugin entry in nx.json. */
export interface HomelabPluginOptions {
  validateTargetName?: string;
  buildTargetName?: string;
  deployTargetName?: string;
  downTargetName?: string;
  restoreDrillTargetName?: string;
  statusTargetName?: string;
  logsTargetName?: string;
  diffTargetName?: string;
}

/**
 * The spec is the marker file: one Nx project per app (applications/specs/<name>.yaml)
 * and per infrastructure component (infrastructure/specs/<name>.yaml). Specs live outside
 * the kubernetes/ and compose/ trees, so no folder name can collide with them.
 */
export const SPEC_GLOB = '{applications,infrastructure}/specs/*.yaml';

/**
 * homelab.yaml marks the workspace itself: one more project, `homelab-platform`, validates what
 * no app or component owns (homelab.yaml, the ArgoCD bootstrap, the secret stores and their
 * specs, schemas/custom), so `nx run-many -t validate` covers every file `homelab validate` does.
 */
export const WORKSPACE_FILE = 'homelab.yaml';

/** Both markers in one glob (a plugin has one): the specs, and homelab.yaml. */
export const PROJECT_GLOB = `{${WORKSPACE_FILE},applications/specs/*.yaml,infrastructure/specs/*.yaml}`;

export { PLATFORM_PROJECT };

type Layer = 'applications' | 'infrastructure';

export const createNodesV2: CreateNodesV2<HomelabPluginOptions> = [
  PROJECT_GLOB,
  async (files, options, context) => {
    const specFiles = files.filter((f) => f !== WORKSPACE_FILE);
    // Every spec name in the workspace, so dependencies on components that do not exist
    // become validate findings instead of breaking the whole project graph.
    const known = new Set(specFiles.map((f) => path.basename(f, '.yaml')));
    // What parsing YAML tells the graph, kept between commands by text hash (plugin/cache.ts).
    const cache = ParseCache.forWorkspace(context.workspaceRoot, pluginVersion());
    const envs = environmentNames(context.workspaceRoot, cache);
    const facts = new Map(specFiles.map((f) => [f, readSpecFacts(path.join(context.workspaceRoot, f), cache)] as const));
    cache.save();
    if (process.env.NX_VERBOSE_LOGGING === 'true') {
      process.stderr.write(`homelab plugin: ${specFiles.length} specs and homelab.yaml, ${cache.stats.hits} read from the cache, ${cache.stats.parsed} parsed\n`);
    }
    const links = specLinks(facts, known);
    return createNodesFromFiles(
      (file, opts, ctx) => (file === WORKSPACE_FILE ? platformProject(opts ?? {}) : projectFor(file, opts ?? {}, ctx, known, envs, facts.get(file)!, links.get(file) ?? [])),
      files,
      options,
      context,
    );
  },
];

/** The engine that runs a target, and the workspace settings: inputs of every validate target. */
const TOOL_INPUTS = [
  // The engine that runs the target: a change to it re-validates every project, by design.
  '{workspaceRoot}/tools/homelab/src/**',
  '{workspaceRoot}/tools/homelab/schemas/**',
  // ...but not its tests, which the engine never runs.
  '!{workspaceRoot}/tools/homelab/src/**/*.test.ts',
  // Workspace settings (environments, store, defaults) shape every render.
  '{workspaceRoot}/homelab.yaml',
  // The locked versions of yaml, ajv and handlebars the engine runs on.
  '{workspaceRoot}/package-lock.json',
];

/** The `homelab-platform` project: a validate target only (the platform is deployed by ArgoCD's bootstrap). */
function platformProject(options: HomelabPluginOptions) {
  const project: ProjectConfiguration = {
    // What its ArgoCD Application (homelab-platform) syncs. Not `platform/`: Nx counts every file
    // below a project's root as the project's, and the apps' ArgoCD Applications live there.
    root: 'platform/argocd/bootstrap',
    name: PLATFORM_PROJECT,
    projectType: 'application',
    tags: ['type:platform'],
    targets: {
      [options.validateTargetName ?? 'validate']: {
        executor: 'homelab:validate',
        cache: true,
        inputs: [
          // Its own files: the bootstrap, the platform Application, the stores and their specs
          // (not platform/argocd/applications/<env>/, whose Applications are the apps' and components').
          '{workspaceRoot}/platform/argocd/bootstrap/**',
          '{workspaceRoot}/platform/argocd/applications/platform.yaml',
          '{workspaceRoot}/platform/secrets/**',
          // The workspace's own CRD schemas: each must compile.
          '{workspaceRoot}/schemas/custom/**',
          ...TOOL_INPUTS,
        ],
        outputs: [],
        options: { layer: 'platform' },
        metadata: { description: `Check ${PLATFORM_PROJECT}: homelab.yaml, the ArgoCD bootstrap, the secret stores and schemas/custom, offline.`, technologies: ['kubernetes'] },
      },
    },
    metadata: { description: 'What no app or component owns: homelab.yaml, platform/ and schemas/custom' },
  };
  return { projects: { [project.root]: project } };
}

function projectFor(
  specFile: string,
  options: HomelabPluginOptions,
  context: CreateNodesContextV2,
  known: Set<string>,
  envs: string[] | undefined,
  facts: SpecFacts,
  linkedSpecs: string[],
) {
  const layer = specFile.split('/')[0] as Layer;
  const name = path.basename(specFile, '.yaml');
  const root = projectRoot(context.workspaceRoot, layer, name);
  const names = {
    validate: options.validateTargetName ?? 'validate',
    build: options.buildTargetName ?? 'build',
    deploy: options.deployTargetName ?? 'deploy',
    down: options.downTargetName ?? 'down',
    restoreDrill: options.restoreDrillTargetName ?? 'restore-drill',
    status: options.statusTargetName ?? 'status',
    logs: options.logsTargetName ?? 'logs',
    diff: options.diffTargetName ?? 'diff',
  };
  const files = ownedInputs(layer, name, envs);
  // Folder inputs end in `/**` rather than `/**/*`: the same files, but Nx matches a
  // literal prefix far faster than a pattern, and it matches every workspace file
  // against every task's inputs (500 apps x 17,000 files per run).
  const toolInputs = TOOL_INPUTS;
  // The specs of the projects it is linked to by dependsOn, both ways (specLinks): what it renders depends on them.
  const linked = linkedSpecs.map((f) => `{workspaceRoot}/${f}`);
  const validate: TargetConfiguration = {
    executor: 'homelab:validate',
    cache: true,
    inputs: [
      ...files,
      ...linked,
      ...toolInputs,
      // validate re-renders the spec to catch hand edits of generated files.
      '{workspaceRoot}/templates/**',
      // secrets must resolve through a store that exists.
      '{workspaceRoot}/platform/secrets/stores/**',
      // ArgoCD applications must name an AppProject (defined by homelab:init in the bootstrap).
      '{workspaceRoot}/platform/argocd/bootstrap/**',
      // The workspace's own CRD schemas (`homelab schemas add`) win over the built-in ones.
      '{workspaceRoot}/schemas/custom/**',
    ],
    outputs: [],
    options: { layer },
    metadata: { description: `Check ${name}'s spec and every file it renders, on Kubernetes and Compose, offline.`, technologies: ['kubernetes', 'docker'] },
  };
  const build: TargetConfiguration = {
    executor: 'homelab:build',
    cache: true,
    dependsOn: [names.validate],
    inputs: [...files, ...linked, ...toolInputs, { runtime: 'kubectl version --client -o json' }, { runtime: 'docker compose version --short' }],
    // Rendered per environment: what deploy applies, restored from the cache on a hit.
    outputs: [`{workspaceRoot}/dist/*/kubernetes/${name}.yaml`, `{workspaceRoot}/dist/*/compose/${name}`],
    options: { layer },
    metadata: { description: `Render ${name} per environment to dist/<env>/kubernetes/${name}.yaml and dist/<env>/compose/${name}/compose.yaml.` },
  };
  const deploy: TargetConfiguration = {
    executor: 'homelab:deploy',
    // A deploy changes the world: never served from the cache.
    cache: false,
    // Its own build first, and the deploy of every component it depends on (infrastructure before apps).
    dependsOn: [names.build, { target: names.deploy, dependencies: true, params: 'forward' }],
    options: { layer },
    metadata: { description: `Deploy ${name} to an environment (--env), on Compose or Kubernetes (--platform), after its dependencies.` },
  };
  const down: TargetConfiguration = {
    executor: 'homelab:down',
    // Removes a running stack: never cached, and only this project (its dependencies may serve others).
    cache: false,
    options: { layer },
    metadata: { description: `Remove ${name} from an environment (--env); its volumes stay unless --volumes.` },
  };
  const status: TargetConfiguration = {
    executor: 'homelab:status',
    // Reads what runs now: never served from the cache, and no build first (it renders what git wants itself).
    cache: false,
    options: { layer },
    metadata: { description: `Show ${name} in every environment (or --env): versions, health, drift, last deploy and backup; fails when it is not healthy and in step.` },
  };
  const logs: TargetConfiguration = {
    executor: 'homelab:logs',
    // Reads what runs now: never cached. Not `continuous` although --follow streams until stopped:
    // Nx 23 reports a continuous task that failed (an unknown --service) as successful, exit 0.
    cache: false,
    options: { layer },
    metadata: { description: `Show the logs of ${name}'s services in an environment (--env), secret values masked; --follow, --since, --service.`, technologies: ['kubernetes', 'docker'] },
  };
  const diff: TargetConfiguration = {
    executor: 'homelab:diff',
    // Compares what runs now with what its build renders: never cached, and after its own build (what deploy would apply).
    cache: false,
    dependsOn: [names.build],
    options: { layer },
    metadata: { description: `Show what a deploy of ${name} to an environment (--env) would change against what runs now; fails when it would change something.`, technologies: ['kubernetes', 'docker'] },
  };
  // Only an app with a backed-up volume has something to restore.
  const restoreDrill: TargetConfiguration | undefined =
    layer === 'applications' && facts.backedUp
      ? {
          executor: 'homelab:restore-drill',
          // Takes a backup and starts containers: never served from the cache.
          cache: false,
          options: { layer },
          metadata: { description: `Back up ${name} now (--env), restore it into a scratch Compose project, start it there and compare digests and row counts.`, technologies: ['docker'] },
        }
      : undefined;
  const project: ProjectConfiguration = {
    root,
    name,
    projectType: 'application',
    tags: [layer === 'applications' ? 'type:app' : 'type:infra', ...facts.platforms.map((p) => `platform:${p}`)],
    implicitDependencies: facts.dependsOn.filter((d) => known.has(d) && d !== name),
    targets: { [names.validate]: validate, [names.build]: build, [names.deploy]: deploy, [names.down]: down, [names.status]: status, [names.logs]: logs, [names.diff]: diff, ...(restoreDrill ? { [names.restoreDrill]: restoreDrill } : {}) },
    metadata: { description: facts.description ?? `${layer === 'applications' ? 'App' : 'Infrastructure component'} ${name}` },
  };
  return { projects: { [root]: project } };
}

/**
 * Every file that belongs to a project, in every tree, as Nx inputs: its spec and the
 * files beside it (applications/specs/<name>/), its Kubernetes base, its overlay in each environment, its Compose base and environment
 * files, its Compose dashboard and rule files, its ArgoCD application in each environment and its runbook.
 *
 * With `envs`, each environment is spelled out (`overlays/dev/web/**`): Nx hashes literal
 * prefixes much faster than a `*` in the middle of a path. Without it (homelab.yaml
 * unreadable), `*` stands for every environment.
 * @example ownedInputs('applications', 'web', ['dev'])
 * // ['{workspaceRoot}/applications/specs/web.yaml', '{workspaceRoot}/applications/specs/web/**', '{workspaceRoot}/applications/kubernetes/base/web/**', ...]
 */
export function ownedInputs(layer: Layer, name: string, envs?: string[]): string[] {
  const each = (pattern: (env: string) => string) => (envs ? envs.map(pattern) : [pattern('*')]);
  return [
    `{workspaceRoot}/${layer}/specs/${name}.yaml`,
    // The files the spec names beside it (an app's config volumes of `file`): their text is rendered into both trees.
    `{workspaceRoot}/${layer}/specs/${name}/**`,
    `{workspaceRoot}/${layer}/kubernetes/base/${name}/**`,
    ...each((env) => `{workspaceRoot}/${layer}/kubernetes/overlays/${env}/${name}/**`),
    `{workspaceRoot}/${layer}/compose/base/${name}/**`,
    ...each((env) => `{workspaceRoot}/${layer}/compose/environments/${env}/${name}/**`),
    // What the Compose Prometheus and Grafana read of it (project/paths.ts composeMonitoringDir).
    `{workspaceRoot}/${layer}/compose/monitoring/dashboards/${name}.json`,
    ...each((env) => `{workspaceRoot}/${layer}/compose/monitoring/rules/${env}/${name}.yaml`),
    ...each((env) => `{workspaceRoot}/platform/argocd/applications/${env}/${name}.yaml`),
    `{workspaceRoot}/${layer}/runbooks/${name}.md`,
  ];
}

/** A folder name that is safe to put in a glob as a literal. */
const LITERAL_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Every environment a project can have files in: the environments of homelab.yaml (so
 * deleting an environment's folder still marks its projects) and every folder under the
 * environment trees (so a folder of an environment not, or no longer, in homelab.yaml is
 * still owned). Undefined, meaning "use `*`", when homelab.yaml cannot be read or a
 * folder name is not a plain literal.
 */
export function environmentNames(workspaceRoot: string, cache?: ParseCache): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(workspaceRoot, 'homelab.yaml'), 'utf8');
  } catch {
    return undefined;
  }
  const listed = cache ? cache.get('environments', text, listedEnvironments) : listedEnvironments(text);
  if (listed === null) return undefined;
  const names = new Set(listed);
  const trees = ['applications', 'infrastructure'].flatMap((layer) => [`${layer}/kubernetes/overlays`, `${layer}/compose/environments`]);
  for (const tree of [...trees, 'platform/argocd/applications']) {
    for (const entry of folders(path.join(workspaceRoot, tree))) names.add(entry);
  }
  const sorted = [...names].sort();
  return sorted.every((n) => LITERAL_SEGMENT.test(n)) ? sorted : undefined;
}

/** The environment names homelab.yaml lists, or null when it cannot say (not YAML, no list, a name not a string). */
function listedEnvironments(text: string): string[] | null {
  let settings: unknown;
  try {
    settings = yaml().parse(text, { maxAliasCount: 100 });
  } catch {
    return null;
  }
  const listed = (settings as { environments?: unknown } | null)?.environments;
  if (!Array.isArray(listed)) return null;
  const names: string[] = [];
  for (const env of listed) {
    const name = (env as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return null;
    names.push(name);
  }
  return names;
}

function folders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * A project's root must be a folder of its own: the Kubernetes base when it has one,
 * else the Compose base, else (a spec not rendered yet) a folder named after the spec.
 */
function projectRoot(workspaceRoot: string, layer: Layer, name: string): string {
  for (const candidate of [`${layer}/kubernetes/base/${name}`, `${layer}/compose/base/${name}`]) {
    if (fs.existsSync(path.join(workspaceRoot, candidate))) return candidate;
  }
  return `${layer}/kubernetes/base/${name}`;
}

/**
 * The spec files each project's render reads besides its own, by spec file: an app's render
 * depends on the specs of the projects it depends on (a component's namespace; an app's
 * environments and its own dependencies, for its sync wave: so the whole chain of apps), and
 * on the specs of the apps that depend on it (their namespaces are opened to it,
 * docs/spec.md "Apps that depend on apps"). As inputs they make `nx affected` and the cache see
 * a change of any of them.
 */
export function specLinks(facts: ReadonlyMap<string, SpecFacts>, known: ReadonlySet<string>): Map<string, string[]> {
  const fileOf = new Map([...facts.keys()].map((f) => [path.basename(f, '.yaml'), f] as const));
  const links = new Map<string, Set<string>>();
  const add = (from: string, to: string) => {
    if (from !== to) (links.get(from) ?? links.set(from, new Set()).get(from)!).add(to);
  };
  for (const [file, { dependsOn }] of facts) {
    if (!file.startsWith('applications/')) continue;
    const seen = new Set<string>();
    const walk = (names: string[]) => {
      for (const dep of names) {
        const depFile = known.has(dep) ? fileOf.get(dep) : undefined;
        if (!depFile || seen.has(depFile)) continue;
        seen.add(depFile);
        add(file, depFile);
        // Apps it depends on through other apps decide its sync wave too.
        if (depFile.startsWith('applications/')) walk(facts.get(depFile)!.dependsOn);
      }
    };
    walk(dependsOn);
    for (const dep of dependsOn) {
      const depFile = fileOf.get(dep);
      if (depFile?.startsWith('applications/')) add(depFile, file);
    }
  }
  return new Map([...links].map(([file, to]) => [file, [...to].sort()]));
}

interface SpecFacts {
  dependsOn: string[];
  platforms: string[];
  description?: string;
  /** A volume is backed up (a persistent one without `backup: false`), or the app has a database: it gets a restore-drill target. */
  backedUp?: boolean;
}

/**
 * Spec keys the graph reads. A spec whose text contains none of them, and no backslash
 * (a quoted key could spell one with an escape), has the default facts: it is not parsed,
 * because parsing 500 specs costs about half a second of every Nx command.
 */
const FACT_KEYS = /dependsOn|platforms|description|volumes|database|\\/;

const DEFAULT_PLATFORMS = ['kubernetes', 'compose'];

/**
 * The few facts the graph needs, read leniently: a broken spec still becomes a project
 * (its validate target reports the problem), so one bad app never hides the others.
 */
function readSpecFacts(file: string, cache: ParseCache): SpecFacts {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { dependsOn: [], platforms: [] };
  }
  if (!FACT_KEYS.test(text)) return { dependsOn: [], platforms: DEFAULT_PLATFORMS };
  return cache.get('spec', text, specFacts);
}

/** The facts of a spec's text (see readSpecFacts); `read` is how the text becomes a value (readSpecValue). */
export function specFacts(text: string, read: (text: string) => unknown = readSpecValue): SpecFacts {
  let value: unknown;
  try {
    value = read(text);
  } catch {
    return { dependsOn: [], platforms: [] };
  }
  const spec = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn.filter((d): d is string => typeof d === 'string') : [];
  const platforms = Array.isArray(spec.platforms) ? spec.platforms.filter((p): p is string => typeof p === 'string') : DEFAULT_PLATFORMS;
  // No `undefined` values: the facts go through the JSON of the cache.
  return { dependsOn, platforms, ...(typeof spec.description === 'string' ? { description: spec.description } : {}), backedUp: backedUp(spec) };
}

/**
 * Whether an app's spec backs up anything: a persistent volume (the shorthand's list, or a
 * full-form volume with a `size`) whose `backup` is not false, or a `database:`.
 */
export function backedUp(spec: Record<string, unknown>): boolean {
  if (spec.database !== undefined && spec.database !== null) return true;
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : spec.volumes && typeof spec.volumes === 'object' ? Object.values(spec.volumes) : [];
  return volumes.some((v) => {
    const volume = (v ?? {}) as Record<string, unknown>;
    return (Array.isArray(spec.volumes) || 'size' in volume) && volume.backup !== false;
  });
}

let version: string | undefined;

/** The reader of the specs' text besides this file (quickCoreDocument): its source is part of the version. */
const READER_SOURCE = path.join(__dirname, '../import/compose/yaml.ts');

/**
 * What the cached facts were computed by: this file's source (readSpecFacts, backedUp,
 * listedEnvironments), the reader's, and the versions of the yaml library and js-yaml. Upgrading
 * homelab, yaml or js-yaml starts a new cache.
 */
function pluginVersion(): string {
  version ??= createHash('sha256')
    .update(fs.readFileSync(__filename))
    .update(fs.readFileSync(READER_SOURCE))
    .update(String((JSON.parse(fs.readFileSync(require.resolve('yaml/package.json'), 'utf8')) as { version?: unknown }).version))
    .update(String((JSON.parse(fs.readFileSync(require.resolve('js-yaml/package.json'), 'utf8')) as { version?: unknown }).version))
    .digest('base64url');
  return version;
}

/**
 * A spec's text as the yaml library reads it (YAML 1.2, core schema: readSpecValueWithYaml), by
 * js-yaml where that gives the same value (quickCoreDocument, as spec/io.ts reads specs), several
 * times faster: a cold graph of 500 apps parsed them in about 0.3 s. Anything else is read by the
 * yaml library. index.test.ts holds the facts of both readers equal on hand-picked and mutated specs.
 */
export function readSpecValue(text: string): unknown {
  const quick = quickCoreDocument(text);
  return quick !== undefined ? quick : readSpecValueWithYaml(text);
}

/** A spec's text as the yaml library reads it; throws where it refuses the text. */
export function readSpecValueWithYaml(text: string): unknown {
  return yaml().parse(text, { maxAliasCount: 100 });
}

let yamlModule: typeof YamlModule | undefined;

/** The yaml library, loaded on first use. */
function yaml(): typeof YamlModule {
  yamlModule ??= require('yaml') as typeof YamlModule;
  return yamlModule;
}
