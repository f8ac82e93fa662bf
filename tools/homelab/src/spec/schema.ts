import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import * as appSchema from '../../schemas/app.schema.json';
import * as workspaceSchema from '../../schemas/workspace.schema.json';
import * as infraSchema from '../../schemas/infra.schema.json';
import * as secretStoreSchema from '../../schemas/secret-store.schema.json';
import { InputError, show } from '../errors';

/** Where the committed JSON schemas live, relative to the workspace root (for modelines). */
export const APP_SCHEMA_PATH = 'tools/homelab/schemas/app.schema.json';
export const WORKSPACE_SCHEMA_PATH = 'tools/homelab/schemas/workspace.schema.json';

/** The documents a schema checks. */
export type SchemaName = 'app' | 'workspace' | 'infra' | 'secret-store';
const SCHEMAS: Record<SchemaName, unknown> = { app: appSchema, workspace: workspaceSchema, infra: infraSchema, 'secret-store': secretStoreSchema };

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    ajv ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    // A namespace import of JSON: bundlers put the whole document under `default` and drop the
    // keys that are not identifiers (`if`, `else`) from the named exports; Node's loader gives
    // the document itself.
    const module = SCHEMAS[name] as Record<string, unknown>;
    const { default: whole, ...named } = module;
    fn = ajv.compile((whole as Record<string, unknown> | undefined) ?? named);
    compiled.set(name, fn);
  }
  return fn;
}

/**
 * Checks a document against the app or workspace schema and throws one InputError
 * whose single line names the first offending value and how to fix it, followed by
 * how many other problems there are.
 */
export function assertSchema(name: SchemaName, value: unknown, file: string): void {
  const fn = validator(name);
  if (fn(value)) return;
  const errors = relevant(fn.errors ?? []);
  const first = describe(errors[0]);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  throw new InputError(`${file}: ${first}${more}`);
}

/**
 * anyOf/not wrappers repeat their branches' errors: keep the most specific ones. A oneOf
 * whose schema describes its alternatives stands for its branches' errors (which only say
 * that one branch's field is missing).
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const described = errors.filter((e) => e.keyword === 'oneOf' && describedBy(e));
  const inBranch = (e: ErrorObject) => described.some((o) => e !== o && e.schemaPath.startsWith(`${o.schemaPath}/`));
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if' && !(e.keyword === 'oneOf' && !describedBy(e)) && !inBranch(e));
  return specific.length > 0 ? specific : errors;
}

const describedBy = (error: ErrorObject): string | undefined => (error.parentSchema as { description?: string } | undefined)?.description;

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? 'the document' : error.instancePath.slice(1).replace(/\//g, '.');
  const hint = (error.parentSchema as { description?: string } | undefined)?.description;
  const fix = hint ? `; ${hint}` : '';
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      return `${at} has an unknown field ${show(extra)}; remove it or check its spelling against the schema`;
    }
    case 'required':
      return `${at} misses the field ${show((error.params as { missingProperty: string }).missingProperty)}; add it`;
    case 'propertyNames':
      return `${at} has an invalid key ${show((error.params as { propertyName: string }).propertyName)}${fix || '; keys are identifiers'}`;
    case 'enum':
      return `${at} is ${show(error.data)}; use one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => show(v)).join(', ')}`;
    case 'type': {
      const type = (error.params as { type: string }).type;
      // A map or list in place of the other: the field's description says which form needs which.
      if (hint && typeof error.data === 'object' && error.data !== null) return `${at} must be ${type === 'array' ? 'a list' : 'a map'}: ${hint}`;
      return `${at} ${show(error.data)} must be a ${type}; write it as one (quote numbers and booleans meant as text)`;
    }
    case 'pattern':
      return `${at} ${show(error.data)} does not match ${show((error.params as { pattern: string }).pattern)}${fix || '; see the description of this field in the schema'}`;
    case 'not':
      return hint ? `${at} ${hint}` : `${at} sets both alternatives; keep only one`;
    case 'oneOf':
      return hint ? `${at} ${hint}` : `${at} ${error.message ?? 'is invalid'}`;
    case 'anyOf':
      return `${at} must set one of its alternatives (e.g. image.tag or image.digest); add one`;
    default:
      return `${at} ${show(error.data)} ${error.message ?? 'is invalid'}${fix}`;
  }
}
