import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import type Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import { compileWithCodeCache } from '../bundle/cached';
import { perRun } from './run-memo';

/** A compiled validator: ajv's function shape (standalone or compiled). */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** Where the committed schemas live. */
export const SCHEMAS_DIR = path.resolve(__dirname, '../../schemas');
const K8S_DIR = path.join(SCHEMAS_DIR, 'kubernetes');
/** The folder, under a workspace root, where `homelab schemas add` stores converted CRDs. */
export const CUSTOM_SCHEMAS_DIR = 'schemas/custom';

interface IndexEntry {
  module: string;
  export: string;
  source: string;
}

let index: Record<string, IndexEntry> | undefined;
const modules = new Map<string, Record<string, Validator>>();

function builtinIndex(): Record<string, IndexEntry> {
  index ??= (JSON.parse(fs.readFileSync(path.join(K8S_DIR, 'index.json'), 'utf8')) as { kinds: Record<string, IndexEntry> }).kinds;
  return index;
}

/**
 * Loads one precompiled module on first use (ajv standalone code, see scripts/build-schemas.ts).
 * It is plain CommonJS, so it is compiled directly rather than through the TypeScript loader
 * the CLI runs under, which would scan its megabytes on every cold start.
 */
function load(module: string): Record<string, Validator> {
  let mod = modules.get(module);
  if (!mod) {
    const file = path.join(K8S_DIR, `${module}.js`);
    const holder = { exports: {} as Record<string, Validator> };
    // With V8's code cache (bundle/code-cache.js): compiling a megabyte of validators is much of a cold start.
    const wrapped = compileWithCodeCache(file);
    // Its own require, as Node would give it: what it requires (ajv's runtime) resolves from its folder, wherever this code runs from.
    wrapped(holder.exports, Module.createRequire(file), holder, file, K8S_DIR);
    mod = holder.exports;
    modules.set(module, mod);
  }
  return mod;
}

/** The built-in `apiVersion/kind` keys, with where each schema comes from. */
export function builtinKinds(): Record<string, string> {
  return Object.fromEntries(Object.entries(builtinIndex()).map(([k, v]) => [k, v.source]));
}

/** The group of an apiVersion (`core` for `v1`), as folders under schemas/custom are named. */
export function groupOf(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? { group: 'core', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * Kubernetes' own name rules (k8s.io/apimachinery validation), which every API group, version
 * and kind the API server serves follows. Names that break them never reach a file path.
 */
export const K8S_NAMES = {
  /** An API group: a DNS-1123 subdomain (lower case, dots between labels), at most 253 characters. */
  group: (v: string) => v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v),
  /** A version, a plural: a DNS-1035 label (v1, v1beta1, widgets), at most 63 characters. */
  label: (v: string) => v.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v),
  /** A kind: a DNS-1035 label once lower-cased ("may have mixed case"). */
  kind: (v: string) => K8S_NAMES.label(v.toLowerCase()),
};

/**
 * Where the custom schema of a kind lives, relative to the workspace root:
 * schemas/custom/<group>/<kind>_<version>.json (`core` for the core group). Null when the
 * apiVersion or kind breaks Kubernetes' name rules (no such kind can exist, and its names
 * must not become a path).
 */
export function customSchemaPath(apiVersion: string, kind: string): string | null {
  const { group, version } = groupOf(apiVersion);
  if (!(group === 'core' || K8S_NAMES.group(group)) || !K8S_NAMES.label(version) || !K8S_NAMES.kind(kind)) return null;
  return `${CUSTOM_SCHEMAS_DIR}/${group}/${kind.toLowerCase()}_${version}.json`;
}

/** A custom schema that cannot be used: the finding names the file, relative to the workspace root. */
export interface SchemaProblem {
  file: string;
  message: string;
}

/**
 * Schemas of one run: the built-in ones and the workspace's own (schemas/custom, which win).
 * Custom schemas are compiled with ajv on first use. One that cannot be read or compiled is
 * reported once through `onProblem` and skipped (the kind falls back to its built-in schema, if
 * any): one bad file never stops a run.
 */
export class SchemaRegistry {
  private custom = new Map<string, Validator | null>();
  private broken = new Set<string>();

  constructor(
    private readonly workspaceRoot: string | null,
    private readonly onProblem: (problem: SchemaProblem) => void = () => {},
  ) {}

  /** The validator of a kind, or undefined when there is no schema for it. */
  kubernetes(apiVersion: string, kind: string): Validator | undefined {
    const rel = this.workspaceRoot ? customSchemaPath(apiVersion, kind) : null;
    if (rel !== null) {
      let fn = this.custom.get(rel);
      if (fn === undefined) {
        // Whether the workspace has one is asked once per validate run, not once per project and kind.
        const abs = path.join(this.workspaceRoot!, rel);
        fn = perRun(`custom-schema:${abs}`, () => fs.existsSync(abs)) ? this.compile(rel, `${kind} (${apiVersion})`) : null;
        this.custom.set(rel, fn);
      }
      if (fn) return fn;
    }
    const entry = builtinIndex()[`${apiVersion}/${kind}`];
    return entry ? load(entry.module)[entry.export] : undefined;
  }

  /** True when the kind's custom schema exists but cannot be used (already reported). */
  isBroken(apiVersion: string, kind: string): boolean {
    const rel = customSchemaPath(apiVersion, kind);
    return rel !== null && this.broken.has(rel);
  }

  /**
   * Compiles one file of schemas/custom (workspace-relative), as validation would on first use
   * of its kind; a file that cannot be used is reported once, through `onProblem`.
   */
  checkCustom(rel: string): void {
    if (this.workspaceRoot && !this.custom.has(rel)) this.custom.set(rel, this.compile(rel, rel.replace(/^schemas\/custom\//, '')));
  }

  compose(): Validator {
    return load('compose').compose;
  }

  private compile(rel: string, what: string): Validator | null {
    try {
      return compileCustomSchema(JSON.parse(fs.readFileSync(path.join(this.workspaceRoot!, rel), 'utf8')));
    } catch (error) {
      this.broken.add(rel);
      const reason = (error as Error).message.split('\n')[0];
      this.onProblem({ file: rel, message: `not a usable JSON schema (${reason}), so ${what} is checked without it; fix the file, or convert the CRD again with \`homelab schemas add <crd.yaml>\`` });
      return null;
    }
  }
}

const AJV_OPTIONS = { allErrors: true, strict: false, validateFormats: false, allowUnionTypes: true, messages: false } as const;

/**
 * Compiles a custom schema (schemas/custom) the way validation uses it; throws when ajv cannot.
 * `homelab schemas add` writes draft-07; a schema in kubeconform's format is draft-04 (it says so
 * in `$schema`, or says nothing, which kubeconform also reads as draft-04), with boolean
 * exclusiveMinimum/exclusiveMaximum and `id`: such a schema is compiled as draft-04. Each schema
 * gets its own ajv, so ids in two files never collide.
 */
export function compileCustomSchema(schema: unknown): Validator {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error('the file is not a JSON object');
  const { $schema, $id: _id, ...rest } = schema as Record<string, unknown>;
  const declared = typeof $schema === 'string' ? $schema : '';
  const draft04 = () => {
    const { id: _drop, ...body } = rest;
    const AjvDraft04 = (require('ajv-draft-04') as { default: typeof Ajv }).default;
    return new AjvDraft04(AJV_OPTIONS).compile(body) as Validator;
  };
  if (/draft-04/.test(declared)) return draft04();
  try {
    return newAjv(AJV_OPTIONS).compile(rest) as Validator;
  } catch (error) {
    if (declared === '' || /^https?:\/\/json-schema\.org\/schema#?$/.test(declared)) {
      try {
        return draft04();
      } catch {
        // Not draft-04 either: the draft-07 error is the one to report.
      }
    }
    throw error;
  }
}

/** ajv itself is loaded only when a schema is compiled at run time (custom CRDs, specs): the built-in validators are precompiled. */
function newAjv(options: ConstructorParameters<typeof Ajv>[0]): Ajv {
  const AjvClass = (require('ajv') as { default: typeof Ajv }).default;
  return new AjvClass(options);
}
