import YAML from 'yaml';
import { InputError } from '../errors';
import { backupTarget } from './backup-target';
import { quickCoreDocument } from '../import/compose/yaml';
import { APP_SCHEMA_PATH, assertSchema, type ParsedSource, WORKSPACE_SCHEMA_PATH } from './schema';
import type { AppSpec, WorkspaceConfig } from './types';

/** The workspace settings file at the root. */
export const WORKSPACE_FILE = 'homelab.yaml';

/**
 * Parses one YAML document strictly: syntax errors, duplicate keys and several
 * documents are InputErrors naming the file and line.
 */
export function parseYamlDocument(text: string, file: string): unknown {
  return readYamlSource(text, file).value;
}

/**
 * The last successful parses, by file name and text: validate parses a spec for its file checks
 * and again to render it, one after the other (a fifth of a batch's spec checks went to the second
 * parse). Each caller gets its own copy of the value; the parsed document is only read.
 */
const recentParses = new Map<string, { value: unknown; source: ParsedSource }>();

/**
 * parseYamlDocument, with the parsed document and its LineCounter that locate a problem in it.
 * The value is read by js-yaml where it gives the yaml package's (quickCoreDocument: plain scalars
 * typed by the core schema's rules), several times faster; the yaml package then parses the text
 * only when a problem is to be located (the source's `doc` or `lc` is read). Anything else (an
 * anchor, a tag, a multi-line scalar, a carriage return that ends no line, several documents, bad
 * syntax) is read by the yaml package as before. io.test.ts holds both readings equal on every
 * fixture spec and on mutations of them.
 */
export function readYamlSource(text: string, file: string): { value: unknown; source: ParsedSource } {
  const key = `${file}\0${text}`;
  const known = recentParses.get(key);
  if (known) return { value: structuredClone(known.value), source: known.source };
  const parsed = quickSource(text, file) ?? parseYamlSource(text, file);
  recentParses.set(key, { value: structuredClone(parsed.value), source: parsed.source });
  if (recentParses.size > 8) recentParses.delete(recentParses.keys().next().value!);
  return parsed;
}

/** readYamlSource's fast reading (quickCoreDocument), or null where only the yaml package reads the text as homelab does. */
function quickSource(text: string, file: string): { value: unknown; source: ParsedSource } | null {
  const value = quickCoreDocument(text);
  if (value === undefined) return null;
  let parsed: ParsedSource | undefined;
  const source = () => (parsed ??= parseYamlSource(text, file).source);
  return {
    value,
    source: {
      get doc() {
        return source().doc;
      },
      get lc() {
        return source().lc;
      },
    },
  };
}

/** The text as the yaml package reads it (YAML 1.2, core schema): what homelab's specs mean. */
export function parseYamlSource(text: string, file: string): { value: unknown; source: ParsedSource } {
  const lineCounter = new YAML.LineCounter();
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, lineCounter, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0) {
    throw new InputError(`${file} is empty; restore it from git or regenerate it`);
  }
  if (docs.length > 1) {
    throw new InputError(`${file} holds ${docs.length} YAML documents; keep exactly one`);
  }
  const problem = docs[0].errors[0];
  if (problem) {
    const pos = lineCounter.linePos(problem.pos[0]);
    throw new InputError(`${file}:${pos.line}:${pos.col}: ${problem.message.split('\n')[0]}; fix the YAML syntax`);
  }
  return { value: docs[0].toJS({ maxAliasCount: 100 }), source: { doc: docs[0], lc: lineCounter } };
}

/** Reads and checks an app spec (schema-strict). */
export function parseAppSpec(text: string, file: string): AppSpec {
  const { value, source } = readYamlSource(text, file);
  assertSchema('app', value, file, source);
  return value as AppSpec;
}

/** Reads and checks homelab.yaml. */
export function parseWorkspaceConfig(text: string | null): WorkspaceConfig {
  if (text === null) {
    throw new InputError(`${WORKSPACE_FILE} is missing at the workspace root; restore it from git (it lists the environments and the GitOps source)`);
  }
  const { value, source } = readYamlSource(text, WORKSPACE_FILE);
  assertSchema('workspace', value, WORKSPACE_FILE, source);
  const config = value as WorkspaceConfig;
  const names = config.environments.map((e) => e.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new InputError(`${WORKSPACE_FILE}: environment "${dup}" is listed twice; list each environment once`);
  backupTarget(config);
  return config;
}

/** The order fields are written in: the schema's, so specs read the same everywhere. */
const KEY_ORDER = [
  'name', 'description', 'services', 'image', 'ports', 'env', 'secrets', 'volumes', 'resources', 'health', 'ingress',
  'replicas', 'autoscale', 'availability', 'spread', 'replication', 'placement', 'monitoring', 'backup', 'network', 'securityContext', 'dependsOn', 'database', 'environments', 'quota', 'policy', 'patches',
];

/**
 * Serializes a spec with a schema modeline and a stable key order.
 * @param schemaRelative path from the spec's folder to the workspace root
 */
export function stringifyAppSpec(spec: AppSpec, schemaRelative = '../..'): string {
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    const value = (spec as unknown as Record<string, unknown>)[key];
    if (value !== undefined) ordered[key] = value;
  }
  const body = YAML.stringify(ordered, { lineWidth: 0, blockQuote: 'literal' });
  return [
    `# yaml-language-server: $schema=${schemaRelative}/${APP_SCHEMA_PATH}`,
    `# The source of truth for ${spec.name}: edit it, then run \`npx nx sync\` to re-render both trees.`,
    body,
  ].join('\n');
}

/** Reads a spec, checks it against its schema and that its name is its file name. */
export function parseNamedSpec<T extends { name: string }>(schema: 'infra' | 'secret-store', what: string, text: string, file: string): T {
  const { value, source } = readYamlSource(text, file);
  assertSchema(schema, value, file, source);
  const spec = value as T;
  const expected = file.replace(/^.*\//, '').replace(/\.yaml$/, '');
  if (spec.name !== expected) {
    throw new InputError(`${file} says name: ${spec.name}; a ${what} spec's name must match its file name, so rename one of them`);
  }
  return spec;
}

/** Serializes a spec with its schema modeline, a comment and a stable key order. */
export function stringifySpec(value: object, keys: string[], schema: string, comment: string): string {
  const ordered: Record<string, unknown> = {};
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) ordered[key] = v;
  }
  return [`# yaml-language-server: $schema=../../${schema}`, `# ${comment}`, YAML.stringify(ordered, { lineWidth: 0 })].join('\n');
}

export { APP_SCHEMA_PATH, WORKSPACE_SCHEMA_PATH };
