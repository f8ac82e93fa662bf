import * as path from 'node:path';
import * as fs from 'node:fs';
import {
  type CreateNodesContextV2,
  createNodesFromFiles,
  type CreateNodesV2,
  type ProjectConfiguration,
  type TargetConfiguration,
} from '@nx/devkit';
import YAML from 'yaml';

/** Options of the plugin entry in nx.json. */
export interface HomelabPluginOptions {
  validateTargetName?: string;
  buildTargetName?: string;
  deployTargetName?: string;
}

/**
 * The spec is the marker file: one Nx project per app (applications/specs/<name>.yaml)
 * and per infrastructure component (infrastructure/specs/<name>.yaml). Specs live outside
 * the kubernetes/ and compose/ trees, so no folder name can collide with them.
 */
export const SPEC_GLOB = '{applications,infrastructure}/specs/*.yaml';

type Layer = 'applications' | 'infrastructure';

export const createNodesV2: CreateNodesV2<HomelabPluginOptions> = [
  SPEC_GLOB,
  async (specFiles, options, context) => {
    // Every spec name in the workspace, so dependencies on components that do not exist
    // become validate findings instead of breaking the whole project graph.
    const known = new Set(specFiles.map((f) => path.basename(f, '.yaml')));
    return createNodesFromFiles((file, opts, ctx) => projectFor(file, opts ?? {}, ctx, known), specFiles, options, context);
  },
];

function projectFor(specFile: string, options: HomelabPluginOptions, context: CreateNodesContextV2, known: Set<string>) {
  const layer = specFile.split('/')[0] as Layer;
  const name = path.basename(specFile, '.yaml');
  const facts = readSpecFacts(path.join(context.workspaceRoot, specFile));
  const root = projectRoot(context.workspaceRoot, layer, name);
  const names = {
    validate: options.validateTargetName ?? 'validate',
    build: options.buildTargetName ?? 'build',
    deploy: options.deployTargetName ?? 'deploy',
  };
  const files = ownedInputs(layer, name);
  const toolInputs = [
    // The engine that runs the target: a change to it re-validates every project, by design.
    '{workspaceRoot}/tools/homelab/src/**/*',
    '{workspaceRoot}/tools/homelab/schemas/**/*',
    // Workspace settings (environments, store, defaults) shape every render.
    '{workspaceRoot}/homelab.yaml',
    // The locked versions of yaml, ajv and handlebars the engine runs on.
    '{workspaceRoot}/package-lock.json',
  ];
  const validate: TargetConfiguration = {
    executor: 'homelab:validate',
    cache: true,
    inputs: [
      ...files,
      ...toolInputs,
      // validate re-renders the spec to catch hand edits of generated files.
      '{workspaceRoot}/templates/**/*',
      // secrets must resolve through a store that exists.
      '{workspaceRoot}/platform/secrets/stores/**/*',
    ],
    outputs: [],
    options: { layer },
    metadata: { description: `Check ${name}'s spec and every file it renders, on Kubernetes and Compose, offline.`, technologies: ['kubernetes', 'docker'] },
  };
  const build: TargetConfiguration = {
    executor: 'homelab:build',
    cache: true,
    dependsOn: [names.validate],
    inputs: [...files, ...toolInputs, { runtime: 'kubectl version --client -o json' }, { runtime: 'docker compose version --short' }],
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
  const project: ProjectConfiguration = {
    root,
    name,
    projectType: 'application',
    tags: [layer === 'applications' ? 'type:app' : 'type:infra', ...facts.platforms.map((p) => `platform:${p}`)],
    implicitDependencies: facts.dependsOn.filter((d) => known.has(d) && d !== name),
    targets: { [names.validate]: validate, [names.build]: build, [names.deploy]: deploy },
    metadata: { description: facts.description ?? `${layer === 'applications' ? 'App' : 'Infrastructure component'} ${name}` },
  };
  return { projects: { [root]: project } };
}

/** Every file that belongs to a project, in every tree, as Nx inputs. */
export function ownedInputs(layer: Layer, name: string): string[] {
  return [
    `{workspaceRoot}/${layer}/specs/${name}.yaml`,
    `{workspaceRoot}/${layer}/kubernetes/base/${name}/**/*`,
    `{workspaceRoot}/${layer}/kubernetes/overlays/*/${name}/**/*`,
    `{workspaceRoot}/${layer}/compose/base/${name}/**/*`,
    `{workspaceRoot}/${layer}/compose/environments/*/${name}/**/*`,
    `{workspaceRoot}/platform/argocd/applications/*/${name}.yaml`,
    `{workspaceRoot}/${layer}/runbooks/${name}.md`,
  ];
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

interface SpecFacts {
  dependsOn: string[];
  platforms: string[];
  description?: string;
}

/**
 * The few facts the graph needs, read leniently: a broken spec still becomes a project
 * (its validate target reports the problem), so one bad app never hides the others.
 */
function readSpecFacts(file: string): SpecFacts {
  let value: unknown;
  try {
    value = YAML.parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch {
    return { dependsOn: [], platforms: [] };
  }
  const spec = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn.filter((d): d is string => typeof d === 'string') : [];
  const platforms = Array.isArray(spec.platforms)
    ? spec.platforms.filter((p): p is string => typeof p === 'string')
    : ['kubernetes', 'compose'];
  return { dependsOn, platforms, description: typeof spec.description === 'string' ? spec.description : undefined };
}
