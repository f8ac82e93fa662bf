import type { ErrorObject } from 'ajv';
import { describe, isObj, type Issue, type K8sObject } from './objects';
import type { SchemaRegistry, Validator } from './schemas';
import type { DocPath } from './source';

/** Splits an ajv instancePath (`/spec/containers/0`) into segments. */
export function splitPointer(pointer: string): DocPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const dotted = (path: DocPath) => (path.length === 0 ? 'the document' : path.map((s) => (/^\d+$/.test(String(s)) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, ''));

/**
 * Turns ajv errors into issues with a fix. Values are not quoted (they may be secrets): a
 * message names the field, what the schema wants and how to fix it.
 */
export function schemaIssues(errors: ErrorObject[], target: K8sObject, what: string, options: { skipRequired?: boolean } = {}): Issue[] {
  // anyOf/oneOf wrappers repeat what their branches say: keep the branches when there are any.
  // A `null` branch (`anyOf: [$ref, null]`, a nullable reference) says nothing the other branch does not.
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if' && !(e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null'));
  const list = specific.length ? specific : errors;
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    if (options.skipRequired && e.keyword === 'required') continue;
    const path = splitPointer(e.instancePath);
    const at = dotted(path);
    let issue: Issue;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        issue = { rule: 'schema/unknown-field', message: `unknown field "${dotted([...path, key])}" in ${what}; remove it or fix its spelling (strict schema)`, target, path, key };
        break;
      }
      case 'required': {
        const field = String((e.params as { missingProperty: string }).missingProperty);
        issue = { rule: 'schema/missing-field', message: `${what}: ${dotted([...path, field])} is required; add it`, target, path };
        break;
      }
      case 'type':
        issue = { rule: 'schema/invalid', message: `${what}: ${at} must be ${[(e.params as { type: string | string[] }).type].flat().filter((t) => t !== 'null').join(' or ')}; fix its type (quote numbers meant as text)`, target, path };
        break;
      case 'enum':
        issue = { rule: 'schema/invalid', message: `${what}: ${at} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`, target, path };
        break;
      default:
        issue = { rule: 'schema/invalid', message: `${what}: ${at} fails "${e.keyword}" ${JSON.stringify(e.params)}; fix the value`, target, path };
    }
    const key = `${issue.rule}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

/**
 * Schema checks of one Kubernetes object: apiVersion and kind present, a schema for the kind,
 * strict validation. Items of `List` kinds are checked one by one by the caller.
 */
export function checkKubernetes(t: K8sObject, schemas: SchemaRegistry): Issue[] {
  const o = t.obj;
  const issues: Issue[] = [];
  const apiVersion = o.apiVersion;
  const kind = o.kind;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    issues.push({ rule: 'schema/missing-apiversion', message: `${describe(o)} has no apiVersion; add one (e.g. apps/v1)`, target: t, path: [] });
  }
  if (typeof kind !== 'string' || kind === '') {
    issues.push({ rule: 'schema/missing-kind', message: `document has no kind; add one (e.g. Deployment)`, target: t, path: [] });
  }
  if (issues.length) return issues;
  const validate: Validator | undefined = schemas.kubernetes(apiVersion, kind);
  if (!validate) {
    // A custom schema that exists but cannot be used is reported once, on its own file.
    if (schemas.isBroken(apiVersion, kind)) return [];
    return [{ rule: 'schema/unknown-kind', message: `no schema for ${kind} (${apiVersion}); check the apiVersion, or add the CRD's schema with \`npx homelab schemas add <crd.yaml>\``, target: t, path: ['kind'] }];
  }
  if (validate(o)) return [];
  return schemaIssues(validate.errors ?? [], t, `${kind} (${apiVersion})`, { skipRequired: t.patch });
}

/** A `List` (v1 List or any <Kind>List with items): its items are validated one by one. */
export function isList(o: unknown): boolean {
  return isObj(o) && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}
