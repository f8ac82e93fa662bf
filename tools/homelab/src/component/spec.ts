import { InputError } from '../errors';
import type { FileHost } from '../host';
import { componentPaths, specsDir } from '../project/paths';
import { parseNamedSpec, parseYamlDocument, stringifySpec } from '../spec/io';
import type { Dependencies, Dependency } from '../app/normalized';
import type { WorkspaceConfig } from '../spec/types';
import { CATALOG, componentNamespace } from './catalog';
import { COMPONENT_NAMES, type ComponentName, type ComponentSpec } from './types';

export const INFRA_SPECS_DIR = specsDir('infrastructure');
export const INFRA_SCHEMA_PATH = 'tools/homelab/schemas/infra.schema.json';

export const componentSpecPath = (name: string) => componentPaths(name).spec;

export const parseComponentSpec = (text: string, file: string) => parseNamedSpec<ComponentSpec>('infra', 'component', text, file);

const COMPONENT_KEYS = ['name', 'description', 'platforms', 'namespace', 'kubernetes', 'compose', 'settings'];

/** Serializes a component spec with its schema modeline and a stable key order. */
export function stringifyComponentSpec(spec: ComponentSpec): string {
  return stringifySpec(spec, COMPONENT_KEYS, INFRA_SCHEMA_PATH, `The source of truth for the ${spec.name} component: edit it, then run \`npx nx sync\` to re-render both trees.`);
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
