import YAML from 'yaml';
import { InputError } from '../errors';
import type { FileHost } from '../host';
import { parseYamlDocument } from '../spec/io';
import type { Dependencies, Dependency } from '../spec/normalize';
import { assertSchema } from '../spec/schema';
import type { WorkspaceConfig } from '../spec/types';
import { CATALOG, componentNamespace } from './catalog';
import { COMPONENT_NAMES, type ComponentName, type ComponentSpec, type SecretStoreSpec } from './types';

export const INFRA_SPECS_DIR = 'infrastructure/specs';

export const STORE_SPECS_DIR = 'platform/secrets/specs';
export const STORES_DIR = 'platform/secrets/stores';
export const INFRA_SCHEMA_PATH = 'tools/homelab/schemas/infra.schema.json';
export const STORE_SCHEMA_PATH = 'tools/homelab/schemas/secret-store.schema.json';

export const componentSpecPath = (name: string) => `${INFRA_SPECS_DIR}/${name}.yaml`;
export const storeSpecPath = (name: string) => `${STORE_SPECS_DIR}/${name}.yaml`;
export const storePath = (name: string) => `${STORES_DIR}/${name}.yaml`;

/** Reads a spec, checks it against its schema and that its name is its file name. */
function parseNamedSpec<T extends { name: string }>(schema: 'infra' | 'secret-store', what: string, text: string, file: string): T {
  const value = parseYamlDocument(text, file);
  assertSchema(schema, value, file);
  const spec = value as T;
  const expected = file.replace(/^.*\//, '').replace(/\.yaml$/, '');
  if (spec.name !== expected) {
    throw new InputError(`${file} says name: ${spec.name}; a ${what} spec's name must match its file name, so rename one of them`);
  }
  return spec;
}

export const parseComponentSpec = (text: string, file: string) => parseNamedSpec<ComponentSpec>('infra', 'component', text, file);
export const parseStoreSpec = (text: string, file: string) => parseNamedSpec<SecretStoreSpec>('secret-store', 'store', text, file);

const COMPONENT_KEYS = ['name', 'description', 'platforms', 'namespace', 'kubernetes', 'compose', 'settings'];
const STORE_KEYS = ['name', 'provider', 'settings', 'compose'];

function stringify(value: object, keys: string[], schema: string, comment: string): string {
  const ordered: Record<string, unknown> = {};
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) ordered[key] = v;
  }
  return [`# yaml-language-server: $schema=../../${schema}`, `# ${comment}`, YAML.stringify(ordered, { lineWidth: 0 })].join('\n');
}

/** Serializes a component spec with its schema modeline and a stable key order. */
export function stringifyComponentSpec(spec: ComponentSpec): string {
  return stringify(spec, COMPONENT_KEYS, INFRA_SCHEMA_PATH, `The source of truth for the ${spec.name} component: edit it, then run \`npx nx sync\` to re-render both trees.`);
}

/** Serializes a secret store spec with its schema modeline and a stable key order. */
export function stringifyStoreSpec(spec: SecretStoreSpec): string {
  return stringify(spec, STORE_KEYS, STORE_SCHEMA_PATH, `The ClusterSecretStore ${spec.name} (${STORES_DIR}/${spec.name}.yaml) is rendered from this file; compose says how deploy reads the same keys on a Compose host.`);
}

/** Names of the component specs in the workspace, in catalog order. */
export function listComponentNames(host: FileHost): ComponentName[] {
  const present = new Set(host.list(INFRA_SPECS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)));
  return COMPONENT_NAMES.filter((n) => present.has(n));
}

export function readComponentSpec(host: FileHost, name: string): ComponentSpec {
  const file = componentSpecPath(name);
  const text = host.read(file);
  if (text === null) throw new InputError(`${file} is missing; add the component with nx g homelab:infra ${name}`);
  return parseComponentSpec(text, file);
}

/**
 * The components an app's `dependsOn` names, as the workspace holds them: whether each
 * runs on Kubernetes and in which namespace (its NetworkPolicy allows egress there). A
 * name without a spec is left out, for normalizeApp to refuse. A component outside the
 * catalog (a spec written by hand) says its namespace itself, if it has one.
 */
export function readDependencies(host: FileHost, workspace: WorkspaceConfig, names: readonly string[]): Dependencies {
  const found = new Map<string, Dependency>();
  for (const name of new Set(names)) {
    const file = componentSpecPath(name);
    if (!host.isFile(file)) continue;
    if ((COMPONENT_NAMES as readonly string[]).includes(name)) {
      const spec = readComponentSpec(host, name);
      const kubernetes = (spec.platforms ?? CATALOG[spec.name].platforms).includes('kubernetes');
      found.set(name, { kubernetes, namespace: kubernetes ? componentNamespace(spec.name, spec, workspace) : null });
    } else {
      const spec = parseYamlDocument(host.read(file) ?? '', file) as { platforms?: unknown; namespace?: unknown } | null;
      const kubernetes = !Array.isArray(spec?.platforms) || spec.platforms.includes('kubernetes');
      found.set(name, { kubernetes, namespace: typeof spec?.namespace === 'string' ? spec.namespace : null });
    }
  }
  return found;
}

/** Every secret store spec of the workspace, sorted by name. */
export function readStoreSpecs(host: FileHost): SecretStoreSpec[] {
  return host
    .list(STORE_SPECS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = `${STORE_SPECS_DIR}/${f}`;
      return parseStoreSpec(host.read(file) ?? '', file);
    });
}
