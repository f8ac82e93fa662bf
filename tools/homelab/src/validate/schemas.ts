import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import { InputError } from '../errors';

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
    const wrapped = vm.runInThisContext(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file }) as (...args: unknown[]) => void;
    wrapped(holder.exports, require, holder, file, K8S_DIR);
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

export function customSchemaPath(apiVersion: string, kind: string): string {
  const { group, version } = groupOf(apiVersion);
  return `${CUSTOM_SCHEMAS_DIR}/${group}/${kind.toLowerCase()}_${version}.json`;
}

/**
 * Schemas of one run: the built-in ones and the workspace's own (schemas/custom, which win).
 * Custom schemas are compiled with ajv on first use.
 */
export class SchemaRegistry {
  private custom = new Map<string, Validator | null>();
  private ajv: Ajv | undefined;

  constructor(private readonly workspaceRoot: string | null) {}

  /** The validator of a kind, or undefined when there is no schema for it. */
  kubernetes(apiVersion: string, kind: string): Validator | undefined {
    const key = `${apiVersion}/${kind}`;
    if (this.workspaceRoot) {
      let fn = this.custom.get(key);
      if (fn === undefined) {
        const file = path.join(this.workspaceRoot, customSchemaPath(apiVersion, kind));
        fn = fs.existsSync(file) ? this.compile(file) : null;
        this.custom.set(key, fn);
      }
      if (fn) return fn;
    }
    const entry = builtinIndex()[key];
    return entry ? load(entry.module)[entry.export] : undefined;
  }

  compose(): Validator {
    return load('compose').compose;
  }

  private compile(file: string): Validator {
    this.ajv ??= newAjv({ allErrors: true, strict: false, validateFormats: false, allowUnionTypes: true, messages: false });
    try {
      const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
      delete schema.$schema;
      delete schema.$id;
      return this.ajv.compile(schema) as Validator;
    } catch (error) {
      throw new InputError(`${file}: not a usable JSON schema (${(error as Error).message.split('\n')[0]}); convert the CRD again with \`homelab schemas add <crd.yaml>\``);
    }
  }
}

/** ajv itself is loaded only when a schema is compiled at run time (custom CRDs, specs): the built-in validators are precompiled. */
function newAjv(options: ConstructorParameters<typeof Ajv>[0]): Ajv {
  const AjvClass = (require('ajv') as { default: typeof Ajv }).default;
  return new AjvClass(options);
}

let appValidator: Validator | undefined;
let workspaceValidator: Validator | undefined;

/** The app spec schema (tools/homelab/schemas/app.schema.json), compiled on first use. */
export function appSpecValidator(): Validator {
  appValidator ??= compileOwn('app.schema.json');
  return appValidator;
}

export function workspaceConfigValidator(): Validator {
  workspaceValidator ??= compileOwn('workspace.schema.json');
  return workspaceValidator;
}

function compileOwn(name: string): Validator {
  const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, name), 'utf8'));
  delete schema.$schema;
  const ajv = newAjv({ allErrors: true, strict: false, validateFormats: false, allowUnionTypes: true });
  return ajv.compile(schema) as Validator;
}
