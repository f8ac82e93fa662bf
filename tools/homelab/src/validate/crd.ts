import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, show } from '../errors';
import { isObj, type Obj } from './objects';
import { compileCustomSchema, CUSTOM_SCHEMAS_DIR, customSchemaPath, K8S_NAMES } from './schemas';
import { LIMITS, parseYaml, readText } from './source';
import { strictify } from './strictify';

/**
 * `homelab schemas add <crd.yaml>`: converts each served version of each CustomResourceDefinition
 * into a strict JSON schema under <workspace>/schemas/custom/<group>/<kind>_<version>.json, which
 * validation then uses for that kind (before any built-in schema).
 *
 * A CRD is downloaded from anywhere, so it is treated as hostile: its group, versions, kind and
 * plural must follow Kubernetes' own name rules before any of them becomes part of a path, the
 * path must stay inside schemas/custom, and only the schema keywords that change validation are
 * kept (an allow-list, applied at every level). A CRD that breaks a rule is refused in one line,
 * and nothing is written unless every CRD of every file converts.
 */

type Json = any;

/** One served version of a CRD as a strict JSON schema, ready for ajv. */
export interface CrdSchema {
  apiVersion: string;
  kind: string;
  schema: Json;
}

/** The largest converted schema written (the same limit as a validated file). */
const MAX_SCHEMA_BYTES = LIMITS.maxFileBytes;

const OPENAPI_TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string']);

type Check = (v: unknown) => boolean;
const isBool: Check = (v) => typeof v === 'boolean';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isCount: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isStrings: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const compiles = (v: string) => {
  try {
    new RegExp(v, 'u');
    return true;
  } catch {
    return false;
  }
};
/**
 * CRD patterns are Go regular expressions. One that JavaScript cannot compile only because of
 * Go's inline flags (`(?i)`, `(?s:…)`, as prometheus-operator's CRDs use) is Go-only syntax;
 * anything else that does not compile (`(`) is broken in Go too.
 */
const goOnly = (v: string) => !compiles(v) && compiles(v.replace(/\(\?[imsU-]+\)/g, '').replace(/\(\?[imsU-]+:/g, '(?:'));

/**
 * The keywords kept from a CRD's openAPIV3Schema, with what their value must be: the JSON-schema
 * keywords Kubernetes allows in a CRD and the extensions that change what validates. Any other key
 * (description, default, example, x-kubernetes-validations, and whatever else a file holds) is
 * dropped. Sub-schemas (properties, items, allOf, …) are walked the same way.
 */
const KEPT: Record<string, Check | 'schema' | 'schemas' | 'schema-map' | 'schema-or-bool'> = {
  type: (v) => typeof v === 'string' && OPENAPI_TYPES.has(v),
  maximum: isNumber,
  minimum: isNumber,
  exclusiveMaximum: isBool,
  exclusiveMinimum: isBool,
  multipleOf: (v) => isNumber(v) && (v as number) > 0,
  maxLength: isCount,
  minLength: isCount,
  maxItems: isCount,
  minItems: isCount,
  maxProperties: isCount,
  minProperties: isCount,
  uniqueItems: isBool,
  // A string; one in Go-only syntax (e.g. the `(?i)` flag, which prometheus-operator's CRDs use) is
  // dropped below, not refused: the API server still checks it.
  pattern: (v) => typeof v === 'string' && (compiles(v) || goOnly(v)),
  enum: (v) => Array.isArray(v),
  required: isStrings,
  nullable: isBool,
  items: 'schema',
  not: 'schema',
  allOf: 'schemas',
  anyOf: 'schemas',
  oneOf: 'schemas',
  properties: 'schema-map',
  additionalProperties: 'schema-or-bool',
  'x-kubernetes-preserve-unknown-fields': isBool,
  'x-kubernetes-int-or-string': isBool,
  'x-kubernetes-embedded-resource': isBool,
  'x-kubernetes-list-type': (v) => v === 'atomic' || v === 'set' || v === 'map',
  'x-kubernetes-list-map-keys': isStrings,
  'x-kubernetes-map-type': (v) => v === 'atomic' || v === 'granular',
};

/** Keywords the API server refuses in a CRD schema: a CRD holding one is not one a cluster accepts. */
const REFUSED = new Set(['$ref', 'definitions', 'dependencies', 'patternProperties', 'additionalItems', 'id']);

const at = (where: string[]) => where.join('.');

/** A copy of a CRD schema with only the kept keywords; throws on a refused keyword or a wrong value. */
function allowList(schema: unknown, where: string[], refuse: (message: string) => never): Json {
  if (!isObj(schema)) refuse(`${at(where)} must be a schema object`);
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (REFUSED.has(key)) refuse(`${at([...where, key])}: Kubernetes refuses "${key}" in a CRD schema`);
    const rule = KEPT[key];
    if (rule === undefined) continue;
    const here = [...where, key];
    if (rule === 'schema') out[key] = allowList(value, here, refuse);
    else if (rule === 'schemas') {
      if (!Array.isArray(value)) refuse(`${at(here)} must be a list of schemas`);
      out[key] = value.map((sub, i) => allowList(sub, [...here, String(i)], refuse));
    } else if (rule === 'schema-map') {
      if (!isObj(value)) refuse(`${at(here)} must map field names to schemas`);
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, allowList(sub, [...here, name], refuse)]));
    } else if (rule === 'schema-or-bool') {
      out[key] = typeof value === 'boolean' ? value : allowList(value, here, refuse);
    } else if (key === 'pattern' && typeof value === 'string' && goOnly(value)) continue;
    else if (rule(value)) out[key] = value;
    else refuse(`${at(here)} has a value Kubernetes does not accept there (${show(value)})`);
  }
  return out;
}

/**
 * Converts one CustomResourceDefinition (parsed, untrusted) into one strict schema per served
 * version. Throws an InputError, one line naming the CRD, the field and the fix, for anything
 * the API server would refuse.
 *
 * @example
 * crdSchemas(jsyaml.load(text), 'crd.yaml') // [{ apiVersion: 'example.com/v1', kind: 'Widget', schema: {...} }]
 */
export function crdSchemas(crd: unknown, where = 'CRD'): CrdSchema[] {
  const name = isObj(crd) && isObj(crd.metadata) && typeof crd.metadata.name === 'string' ? crd.metadata.name : '?';
  const refuse = (message: string): never => {
    throw new InputError(`${where}: CRD ${show(name)}: ${message}; use the CRD the project publishes, unmodified`);
  };
  if (!isObj(crd) || crd.kind !== 'CustomResourceDefinition') refuse('not a CustomResourceDefinition');
  const spec: Obj = isObj((crd as Obj).spec) ? (crd as Obj).spec : refuse('has no spec (is it apiextensions.k8s.io/v1?)');
  const group: unknown = spec.group;
  const names: Obj = isObj(spec.names) ? spec.names : refuse('has no spec.names');
  const { kind, plural } = names;
  if (typeof group !== 'string' || !K8S_NAMES.group(group) || !group.includes('.')) {
    refuse(`spec.group ${show(group)} is not an API group (a DNS subdomain with at least one dot, e.g. example.com)`);
  }
  if (typeof kind !== 'string' || !K8S_NAMES.kind(kind)) refuse(`spec.names.kind ${show(kind)} is not a kind (letters, digits and dashes, starting with a letter, e.g. Widget)`);
  if (typeof plural !== 'string' || !K8S_NAMES.label(plural)) refuse(`spec.names.plural ${show(plural)} is not a plural (a lower-case DNS label, e.g. widgets)`);
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) refuse('has no spec.versions (is it apiextensions.k8s.io/v1?)');
  const out: CrdSchema[] = [];
  (spec.versions as unknown[]).forEach((version, i) => {
    if (!isObj(version)) refuse(`spec.versions[${i}] is not a version`);
    const v = version as Obj;
    if (typeof v.name !== 'string' || !K8S_NAMES.label(v.name)) refuse(`spec.versions[${i}].name ${show(v.name)} is not a version name (a lower-case DNS label, e.g. v1 or v1beta1)`);
    if (v.served === false) return;
    const openApi = v.schema?.openAPIV3Schema;
    if (!isObj(openApi)) refuse(`${kind} ${v.name} has no schema.openAPIV3Schema (a CRD without a schema cannot be validated)`);
    const apiVersion = `${group}/${v.name}`;
    const strict = strictify(allowList(openApi, [`spec.versions[${i}].schema.openAPIV3Schema`], refuse));
    const schema = {
      $comment: `${kind} (${apiVersion}) from CRD ${K8S_NAMES.group(name) ? name : ''}, converted by \`homelab schemas add\`: strict (unknown fields are errors).`,
      ...strict,
      properties: {
        ...(strict.properties ?? {}),
        apiVersion: { type: 'string', enum: [apiVersion] },
        kind: { type: 'string', enum: [kind] },
        metadata: { type: ['object', 'null'] },
      },
      required: [...new Set(['apiVersion', 'kind', ...(Array.isArray(strict.required) ? strict.required : [])])],
      additionalProperties: false,
    };
    try {
      compileCustomSchema(schema);
    } catch (error) {
      refuse(`the schema of ${v.name} does not compile (${(error as Error).message.split('\n')[0]})`);
    }
    out.push({ apiVersion, kind: kind as string, schema });
  });
  return out;
}

/** Every CRD of a file, converted (nothing written). The file is read with validate's limits. */
export function readCrdFile(file: string, label = file): CrdSchema[] {
  const text = readText(file, label);
  const parsed = typeof text === 'string' ? parseYaml(text, label) : text;
  if ('rule' in parsed) throw new InputError(`${parsed.file}:${parsed.line}:${parsed.col}: ${parsed.message}`);
  const crds = parsed.docs.filter((d): d is Obj => isObj(d) && d.kind === 'CustomResourceDefinition');
  if (crds.length === 0) throw new InputError(`${label} holds no CustomResourceDefinition; pass the CRD manifest (kind: CustomResourceDefinition, apiextensions.k8s.io/v1)`);
  return crds.flatMap((crd) => crdSchemas(crd, label));
}

/**
 * Where a schema goes, as an absolute path that is checked to be inside <root>/schemas/custom
 * (also through symbolic links already there); throws in one line otherwise.
 */
function confined(root: string, s: CrdSchema): { rel: string; abs: string } {
  const rel = customSchemaPath(s.apiVersion, s.kind);
  const base = path.resolve(root, CUSTOM_SCHEMAS_DIR);
  const abs = rel === null ? '' : path.resolve(root, rel);
  const outside = () => new InputError(`${s.kind} (${s.apiVersion}) would be written outside ${CUSTOM_SCHEMAS_DIR}; refusing to write it`);
  if (rel === null || !abs.startsWith(base + path.sep)) throw outside();
  // The nearest folder that exists, followed through links, must still be inside schemas/custom.
  let existing = path.dirname(abs);
  while (!fs.existsSync(existing) && existing.startsWith(base)) existing = path.dirname(existing);
  if (existing.startsWith(base) && !`${fs.realpathSync(existing)}${path.sep}`.startsWith(`${fs.realpathSync(base)}${path.sep}`)) throw outside();
  if (fs.lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink()) throw outside();
  return { rel, abs };
}

/**
 * `homelab schemas add`: converts every CRD of every file, checks every target path, and only
 * then writes. Returns the files written, relative to the workspace root.
 */
export function addCrdSchemas(crdFiles: { abs: string; label: string }[], workspaceRoot: string): string[] {
  const schemas = crdFiles.flatMap((f) => readCrdFile(f.abs, f.label));
  const planned = schemas.map((s) => {
    const text = `${JSON.stringify(s.schema, null, 2)}\n`;
    if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) {
      throw new InputError(`${s.kind} (${s.apiVersion}): the converted schema is over ${MAX_SCHEMA_BYTES / 1024 / 1024} MiB; refusing to write it`);
    }
    return { ...confined(workspaceRoot, s), text };
  });
  for (const { abs, text } of planned) {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  }
  return planned.map((p) => p.rel);
}
