import { RenderError } from '../errors';
import type { FileHost } from '../host';
import { renderTemplate, type RenderedFile } from '../render/engine';

/**
 * The Renovate configuration `nx g homelab:init` writes (docs/renovate.md): managers that find
 * every pin where it is written (app and component specs, homelab.yaml, the engine pins of
 * scripts/ and the CI workflow, the ArgoCD bootstrap), nothing in the trees rendered from them,
 * and a homelab's grouping and schedule. The file is the owner's once written: init never
 * rewrites it.
 */
export const RENOVATE_FILE = 'renovate.json5';

/**
 * Where Renovate looks for its configuration, in its own order (the first one found wins). A
 * workspace that has any of them keeps it: init writes none of its own beside it.
 */
export const RENOVATE_CONFIG_FILES = [
  'renovate.json',
  'renovate.json5',
  '.github/renovate.json',
  '.github/renovate.json5',
  '.gitlab/renovate.json',
  '.gitlab/renovate.json5',
  '.renovaterc',
  '.renovaterc.json',
  '.renovaterc.json5',
] as const;

/**
 * Trees rendered from the specs (and the tool's own tests and templates): Renovate never edits
 * them. A Renovate branch changes a spec; `npx nx sync` renders these from it.
 */
export const RENOVATE_IGNORE_PATHS = [
  '**/node_modules/**',
  'applications/kubernetes/**',
  'applications/compose/**',
  'applications/runbooks/**',
  'infrastructure/kubernetes/**',
  'infrastructure/compose/**',
  'platform/argocd/applications/**',
  'platform/secrets/stores/**',
  'platform/priority-classes/**',
  'dist/**',
  'templates/**',
  'tests/**',
] as const;

/**
 * The identity of the commit the CI workflow pushes after re-rendering a Renovate branch
 * (.github/workflows/ci.yml, job `renovate`): Renovate ignores its commits, so it keeps
 * rebasing (and, where allowed, automerging) a branch that holds one.
 */
export const RESYNC_AUTHOR = { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' } as const;

/** The group of every pin of the workspace's own tooling (npm, GitHub Actions, Go, engine pins). */
export const TOOLCHAIN_GROUP = 'homelab toolchain';

/**
 * An image written as one string (`repo[:tag][@sha256:…]`, a registry port allowed), as the
 * component specs and homelab.yaml write them, to a docker dependency of kind `$kind`.
 */
const IMAGE_REF = String.raw`$ref := function($s, $kind) { (
    $m := $match($s, /^([^@\s]+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/);
    $m ? { "datasource": "docker", "depType": $kind, "depName": $m.groups[0], "currentValue": $m.groups[1], "currentDigest": $m.groups[2] }
  ) };`;

/** An image written as a map (`{ repository, tag?, digest? }`, the app spec's form) to a docker dependency. */
const IMAGE_MAP = String.raw`$image := function($i, $kind) { $i.repository ? { "datasource": "docker", "depType": $kind, "depName": $i.repository, "currentValue": $i.tag ? $string($i.tag), "currentDigest": $i.digest } };`;

/**
 * One JSONata query per place a pin can be: Renovate drops a query that fails on a file, never
 * the others, so no place hides another. Paths that a spec lacks yield nothing.
 */
const query = (definitions: string, body: string) => `(${definitions ? `${definitions.replace(/\s*\n\s*/g, ' ')} ` : ''}${body})`;

/**
 * Every image of an app spec (tools/homelab/schemas/app.schema.json, docs/spec.md). Each result
 * is one flat list: Renovate refuses a nested one, and with it every pin of the query.
 */
export const APP_QUERIES = [
  // The shorthand: one container at the top of the spec.
  query(IMAGE_MAP, '$image(image, "image")'),
  // The full form: each service, its init containers and its sidecars (those without an image run the service's).
  query(IMAGE_MAP, '[services.*.$image(image, "image"), services.*.initContainers.$image(image, "image"), services.*.sidecars.*.$image(image, "image")]'),
  // An environment's tag or digest of a service: the repository is the service's. Its own group (docs/renovate.md).
  query(
    '',
    String.raw`[$keys(environments).($env := $; $services := $lookup($$.environments, $env).services; $keys($services).($svc := $; $o := $lookup($services, $svc).image; $o ? { "datasource": "docker", "depType": "image (" & $env & ")", "depName": $lookup($$.services, $svc).image.repository, "currentValue": $o.tag ? $string($o.tag), "currentDigest": $o.digest }))]`,
  ),
];

/** Every chart, CRD source and image of a component spec (tools/homelab/schemas/infra.schema.json). */
export const COMPONENT_QUERIES = [
  // Helm charts from their repositories; an OCI repository is a docker registry.
  query(
    '',
    String.raw`kubernetes.charts[name and version].($contains(repoURL, /^oci:\/\//) ? { "datasource": "docker", "depType": "chart", "depName": name, "packageName": $substringAfter(repoURL, "oci://") & "/" & name, "currentValue": $string(version) } : { "datasource": "helm", "depType": "chart", "depName": name, "registryUrl": repoURL, "currentValue": $string(version) })`,
  ),
  // CRDs a chart does not ship, from a Git tag (k8up's).
  query('', String.raw`kubernetes.crds[repoURL and targetRevision].{ "datasource": "git-tags", "depType": "crds", "depName": repoURL, "currentValue": $string(targetRevision) }`),
  // Images in chart values (Velero's plugin), at any depth.
  query(IMAGE_REF, String.raw`kubernetes.charts.values.**.image[$type($) = "string"].$ref($, "chart values image")`),
  // The Compose services' images and the operand image a setting names (CloudNativePG's).
  query(IMAGE_REF, String.raw`[compose.images.*[$type($) = "string"].$ref($, "image"), settings.imageName[$type($) = "string"].$ref($, "image")]`),
];

/** The images homelab.yaml may pin (compose.scheduler, compose.volumeOwner, compose.backup). */
export const WORKSPACE_QUERIES = [query(IMAGE_REF, String.raw`compose.*.image[$type($) = "string"].$ref($, "image")`)];

/**
 * A pin of the project's own setup, annotated on the line above it:
 * `# renovate: datasource=go depName=k8s.io/kubernetes` then `KUBERNETES_VERSION=v1.34.4` (a
 * shell or env file) or `KIND_NODE_IMAGE: kindest/node:v1.34.0` (YAML; the image's name before
 * the tag is skipped).
 */
export const ANNOTATED_PIN = String.raw`#\s*renovate: datasource=(?<datasource>[a-z-]+) depName=(?<depName>\S+)(?: packageName=(?<packageName>\S+))?(?: versioning=(?<versioning>\S+))?\s*\n[^\n]*?[A-Za-z0-9_-]+\s*[:=]\s*["']?(?:[^\s"':@]+:)?(?<currentValue>[^\s"'@]+)(?:@(?<currentDigest>sha256:[a-f0-9]{64}))?`;

/** Renovate's template of a group named after the spec file a dependency is in. */
const specGroup = (kind: 'app' | 'component', folder: string, suffix = '') =>
  `${kind} {{{replace '^${folder}/specs/(.+)\\.ya?ml$' '$1' packageFile}}}${suffix}`;

export interface RenovateOptions {
  /** Patch and digest updates merge themselves once CI is green (never majors, never an environment's pin). */
  automerge: boolean;
}

/** The normalized configuration: every value the template writes, computed here. */
export interface NormalizedRenovate {
  ignorePaths: readonly string[];
  gitIgnoredAuthors: string[];
  schedule: string[];
  customManagers: object[];
  packageRules: object[];
  separateMinorPatch: boolean;
}

/**
 * Computes the configuration. Pure.
 * @example normalizeRenovate({ automerge: false }).customManagers.length // 4
 */
export function normalizeRenovate(options: RenovateOptions): NormalizedRenovate {
  const jsonata = (description: string, pattern: string, matchStrings: string[]) => ({
    customType: 'jsonata',
    description,
    fileFormat: 'yaml',
    managerFilePatterns: [pattern],
    matchStrings,
  });
  const customManagers = [
    jsonata('App specs: every image (the shorthand, each service, init container and sidecar) and each environment\'s tag or digest.', '/^applications/specs/[^/]+\\.ya?ml$/', APP_QUERIES),
    jsonata('Component specs: Helm charts with their repositories, CRD tags, chart-values images, Compose images.', '/^infrastructure/specs/[^/]+\\.ya?ml$/', COMPONENT_QUERIES),
    jsonata('homelab.yaml: the images of the Compose scheduler, volume owner and backup movers, where it pins them.', '/^homelab\\.ya?ml$/', WORKSPACE_QUERIES),
    {
      customType: 'regex',
      description: 'Engine pins of the project\'s own setup and CI, each annotated `# renovate: datasource=… depName=…` on the line above it.',
      managerFilePatterns: ['/^scripts/.+\\.(sh|env)$/', '/^\\.github/workflows/[^/]+\\.ya?ml$/'],
      matchStrings: [ANNOTATED_PIN],
    },
  ];
  const packageRules: object[] = [
    {
      description: 'The workspace\'s own tooling (npm devDependencies, GitHub Actions, Go modules, engine pins): one pull request.',
      matchFileNames: ['package.json', 'tools/homelab/package.json', '.github/workflows/**', 'scripts/**'],
      groupName: TOOLCHAIN_GROUP,
    },
    {
      description: 'Each app\'s images: one pull request per app, and one per app and environment for an environment\'s own pin.',
      matchFileNames: ['applications/specs/**'],
      groupName: specGroup('app', 'applications', ' {{{depType}}}'),
    },
    {
      description: 'Each component\'s charts, CRDs and images, which move together: one pull request per component.',
      matchFileNames: ['infrastructure/specs/**'],
      groupName: specGroup('component', 'infrastructure'),
    },
    {
      description: 'The images homelab.yaml pins.',
      matchFileNames: ['homelab.yaml'],
      groupName: 'homelab.yaml images',
    },
    {
      description: 'The ArgoCD bootstrap\'s remote resources (platform/argocd/bootstrap/kustomization.yaml).',
      matchFileNames: ['platform/argocd/bootstrap/**'],
      groupName: 'ArgoCD bootstrap',
    },
  ];
  if (options.automerge) {
    packageRules.push({
      description: 'Patch and digest updates merge themselves once every check is green (nx g homelab:init --automerge).',
      matchUpdateTypes: ['patch', 'digest'],
      automerge: true,
    });
  }
  packageRules.push(
    {
      description: 'An environment\'s own pin is deliberate (a protected environment lagging on purpose): never merged by Renovate.',
      matchDepTypes: ['/^image \\(/'],
      automerge: false,
    },
    {
      description: 'Majors: never merged by Renovate, labelled, in pull requests apart from minor and patch updates.',
      matchUpdateTypes: ['major'],
      automerge: false,
      labels: ['dependencies', 'major'],
    },
  );
  return {
    ignorePaths: RENOVATE_IGNORE_PATHS,
    gitIgnoredAuthors: [RESYNC_AUTHOR.email],
    schedule: ['before 6am on monday'],
    customManagers,
    packageRules,
    // With automerge, patches travel apart from minors, so a group's patch can merge alone.
    separateMinorPatch: options.automerge,
  };
}

/**
 * Parses a configuration as homelab writes it: JSON with whole-line `//` comments (a subset
 * of JSON5). Anything else is a RenderError: the template is wrong, not the user.
 */
export function parseRenovateConfig(text: string, file = RENOVATE_FILE): Record<string, unknown> {
  const json = text
    .split('\n')
    .filter((line) => !/^\s*\/\//.test(line))
    .join('\n');
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (error) {
    throw new RenderError(`${file}: rendered Renovate configuration does not parse back (${(error as Error).message})`);
  }
}

/** Renders renovate.json5 (templates/platform/renovate.json5.hbs), parsed back before it is returned. */
export function renderRenovate(renovate: NormalizedRenovate, templatesDir?: string): RenderedFile {
  const content = renderTemplate(`platform/${RENOVATE_FILE}`, { renovate }, templatesDir);
  parseRenovateConfig(content);
  return { path: RENOVATE_FILE, content, owner: 'user' };
}

/** The Renovate configuration files the workspace already has, in Renovate's order. */
export function existingRenovateConfigs(host: FileHost): string[] {
  return RENOVATE_CONFIG_FILES.filter((file) => host.isFile(file));
}
