import { resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as appSchema from '../../schemas/app.schema.json';
import * as workspaceSchema from '../../schemas/workspace.schema.json';
import * as infraSchema from '../../schemas/infra.schema.json';
import * as secretStoreSchema from '../../schemas/secret-store.schema.json';
import type YAML from 'yaml';
import { requireWithCodeCache } from '../bundle/cached';
import type { DocPath } from './locate';
import { locateProblems, sortProblems, pointerPath, schemaProblems, SpecError, type SpecProblem } from './problems';

/** A document parsed by the `yaml` package with its LineCounter: what locates a problem. */
export interface ParsedSource {
  doc: YAML.Document.Parsed;
  lc: YAML.LineCounter;
}

/** Where the committed JSON schemas live, relative to the workspace root (for modelines). */
export const APP_SCHEMA_PATH = 'tools/homelab/schemas/app.schema.json';
export const WORKSPACE_SCHEMA_PATH = 'tools/homelab/schemas/workspace.schema.json';

/** The documents a schema checks. */
export type SchemaName = 'app' | 'workspace' | 'infra' | 'secret-store';
const SCHEMAS: Record<SchemaName, unknown> = { app: appSchema, workspace: workspaceSchema, infra: infraSchema, 'secret-store': secretStoreSchema };

/**
 * The validators, compiled ahead of time by scripts/build-spec-validators.ts (ajv standalone, the
 * same options as a run-time compile): a generator never loads ajv's compiler nor compiles a schema.
 */
let validators: Record<SchemaName, ValidateFunction> | undefined;

function validator(name: SchemaName): ValidateFunction {
  // With V8's code cache: compiling 670 KB of validators is much of a generator's start.
  validators ??= requireWithCodeCache(resolve(__dirname, '../../schemas/spec-validators.js')) as Record<SchemaName, ValidateFunction>;
  return validators[name];
}

/** Every problem of a document against its schema, in plain words with the fix (spec/problems.ts). */
export function checkSchema(name: SchemaName, value: unknown): SpecProblem[] {
  const fn = validator(name);
  return fn(value) ? [] : schemaProblems(fn.errors ?? []);
}

/**
 * Checks a document against its schema and throws one SpecError listing every problem, each
 * at its line and column when the parsed source is given (otherwise at the file).
 */
export function assertSchema(name: SchemaName, value: unknown, file: string, source?: ParsedSource): void {
  const problems = checkSchema(name, value);
  if (problems.length === 0) return;
  throw new SpecError(source ? sortProblems(locateProblems(problems, file, source)) : problems.map((p) => ({ file, rule: p.rule, message: p.message })));
}

/**
 * The document with every value its schema refuses set aside, so the checks that need a
 * schema-valid spec (normalize) still run and report their own problems with the schema's:
 * a number out of range becomes its limit, text holding a number the number (and a number
 * meant as text the text), anything else refused is removed. Returns the paths set aside, or
 * null when nothing valid is left. `already` are paths set aside before, kept in the answer.
 */
export function setAside(name: SchemaName, value: unknown, already: DocPath[] = []): { value: unknown; changed: DocPath[] } | null {
  const fn = validator(name);
  const copy = structuredClone(value);
  const changed: DocPath[] = [...already];
  for (let round = 0; round < 8; round++) {
    if (fn(copy)) return { value: copy, changed };
    // Deepest first, so removing an item never moves another that is still to be handled.
    // An anyOf/oneOf is handled as a whole: its branches' own errors are left to it.
    const all = fn.errors ?? [];
    const wrappers = all.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    const errors = all
      .filter((e) => e.keyword !== 'if' && !wrappers.some((w) => w !== e && e.schemaPath.startsWith(`${w.schemaPath}/`)))
      .sort((a, b) => b.instancePath.length - a.instancePath.length);
    for (const e of errors) {
      const path = pointerPath(e.instancePath);
      // A missing field is filled with a placeholder its schema accepts, so the object around it stays.
      const missing = missingField(e);
      if (missing) {
        const filler = placeholder(SCHEMAS[name], (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties?.[missing]);
        if (filler !== undefined) {
          setAt(copy, path, filler, missing);
          changed.push([...path, missing]);
          continue;
        }
      }
      const key = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : e.propertyName;
      const at = key === undefined ? path : [...path, key];
      if (at.length === 0) return null;
      const fixed = fixedValue(e);
      setAt(copy, at, fixed === undefined ? REMOVED : fixed);
      changed.push(at);
    }
    prune(copy);
  }
  return null;
}

const REMOVED = Symbol('removed');

/** The value that takes a refused one's place, where one is obvious; undefined to remove it. */
function fixedValue(e: ErrorObject): unknown {
  const limit = (e.params as { limit?: number }).limit;
  if (e.keyword === 'maximum' || e.keyword === 'minimum') return limit;
  if (e.keyword === 'type') {
    const type = (e.params as { type: string }).type;
    if ((type === 'integer' || type === 'number') && typeof e.data === 'string' && e.data.trim() !== '' && Number.isFinite(Number(e.data))) return Number(e.data);
    if (type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean')) return String(e.data);
  }
  return undefined;
}

/** Sets the value at `path`, or, with `add`, adds the field `add` to the object at `path`. */
function setAt(root: unknown, path: DocPath, value: unknown, add?: string): void {
  let node = root as Record<string | number, unknown>;
  const parents = add === undefined ? path.slice(0, -1) : path;
  for (const seg of parents) {
    node = node?.[seg] as Record<string | number, unknown>;
    if (node === null || typeof node !== 'object') return;
  }
  if (node === null || typeof node !== 'object') return;
  if (add !== undefined) node[add] = value;
  else if (Object.hasOwn(node, path[path.length - 1])) node[path[path.length - 1]] = value;
}

/** The field a `required` error misses, or the first alternative of an anyOf of required fields (an image's tag or digest). */
function missingField(e: ErrorObject): string | undefined {
  if (e.keyword === 'required') return (e.params as { missingProperty: string }).missingProperty;
  const branches = e.keyword === 'anyOf' ? (e.schema as { required?: string[] }[]) : [];
  return branches.length > 0 && branches.every((b) => Array.isArray(b.required) && Object.keys(b).length === 1) ? branches[0].required![0] : undefined;
}

/** Strings tried, in order, as a placeholder for a missing text field. */
const PLACEHOLDER_TEXTS = ['x', 'a', '1', '/x', '1Gi', 'x.example.org'];

/** A value the schema accepts (for a placeholder), or undefined where none is obvious; local $refs resolved against `root`. */
function placeholder(root: unknown, schema: unknown, depth = 0): unknown {
  if (schema === null || typeof schema !== 'object' || depth > 8) return undefined;
  const s = schema as { $ref?: string; enum?: unknown[]; type?: string; minimum?: number; pattern?: string; minLength?: number };
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/')) {
    const { default: whole, ...named } = root as Record<string, unknown>;
    const target = s.$ref.slice(2).split('/').reduce<unknown>((node, seg) => (node as Record<string, unknown> | undefined)?.[seg], whole ?? named);
    return placeholder(root, target, depth + 1);
  }
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'object':
      return {};
    case 'array':
      return [];
    case 'string':
      return PLACEHOLDER_TEXTS.find((t) => t.length >= (s.minLength ?? 0) && (s.pattern === undefined || new RegExp(s.pattern, 'u').test(t)));
    default:
      return undefined;
  }
}

/** Drops what setAside marked removed: list items and map entries. */
function prune(node: unknown): void {
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0; i--) if (node[i] === REMOVED) node.splice(i, 1);
    node.forEach(prune);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (v === REMOVED) delete (node as Record<string, unknown>)[k];
      else prune(v);
    }
  }
}
