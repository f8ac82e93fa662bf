import type { ErrorObject } from 'ajv';
import type YAML from 'yaml';
import { InputError, show } from '../errors';
import { type DocPath, positionIn } from './locate';

/** The rules of `dependsOn` and autoscale problems, which normalize reports under their own names (validate/rules.ts). */
const DEPENDENCY_RULES = ['deps/unknown-component', 'deps/unknown-app', 'deps/app-environment', 'deps/cycle', 'autoscale/requests'] as const;

/** The rules of replicated services' refusals (app/steps/replicas.ts, app/steps/storage.ts). */
const REPLICA_RULES = ['replicas/read-write-once', 'replicas/stateful', 'availability/blocks-drain'] as const;

/** The validate rule a spec problem is reported under (validate/rules.ts). */
export type SpecRule = 'schema/unknown-field' | 'schema/missing-field' | 'schema/invalid' | 'spec/invalid' | (typeof DEPENDENCY_RULES)[number] | (typeof REPLICA_RULES)[number];

/** A normalize problem's own rule (an InputError's), when it has one a spec problem is reported under. */
export function isSpecRule(rule: string | undefined): rule is (typeof DEPENDENCY_RULES)[number] | (typeof REPLICA_RULES)[number] {
  return ([...DEPENDENCY_RULES, ...REPLICA_RULES] as readonly (string | undefined)[]).includes(rule);
}

/** One mistake in a spec: where (a path into the document) and what, in one line with the fix. */
export interface SpecProblem {
  path: DocPath;
  /** The key itself is wrong (an unknown field, an invalid name): it is located at the key, not its value. */
  key?: string;
  rule: SpecRule;
  /** `ports[0].port: 70000 is above 65535; use a whole number from 1 to 65535` */
  message: string;
}

/** A problem with its place: file, line and column; file '' for a problem of another file, which its message names. */
export interface LocatedProblem {
  file: string;
  line?: number;
  col?: number;
  rule: SpecRule;
  message: string;
}

/** `file:line:col: message`: how a problem is printed by nx g and nx sync (validate prints its findings' own way). */
export function formatProblem(p: LocatedProblem): string {
  if (p.file === '') return p.message;
  return p.line === undefined ? `${p.file}: ${p.message}` : `${p.file}:${p.line}:${p.col ?? 1}: ${p.message}`;
}

/**
 * A spec that cannot render: every problem found, one line each, in the order of the file.
 * nx g and nx sync print the message (all lines); validate reports each problem as a finding.
 */
export class SpecError extends InputError {
  constructor(readonly problems: LocatedProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SpecError';
  }
}

/** Orders problems by file and position; drops a problem said twice at one place. */
export function sortProblems(problems: LocatedProblem[]): LocatedProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.file}\0${p.line}\0${p.col}\0${p.message}`;
      return !seen.has(key) && seen.add(key);
    })
    .sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) : a.file < b.file ? -1 : 1));
}

/** Locates each problem in the document it was found in (the `yaml` package's nodes and LineCounter). */
export function locateProblems(problems: SpecProblem[], file: string, source: { doc: YAML.Document.Parsed; lc: YAML.LineCounter }): LocatedProblem[] {
  return problems.map((p) => {
    const at = positionIn(source.doc, source.lc, p.path, p.key) ?? { line: 1, col: 1 };
    return { file, line: at.line, col: at.col, rule: p.rule, message: p.message };
  });
}

/** `services.web.ports[0].port`: a path as the messages and the docs write a field. */
export function fieldName(path: DocPath): string {
  return path.map((s, i) => (typeof s === 'number' || /^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Splits an ajv instancePath (`/services/web/ports/0`) into segments; list indexes become numbers. */
export function pointerPath(pointer: string): DocPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * The first field path of a normalize message after its `<spec file>: ` prefix
 * (`services.web.dependsOn.db: "db" is not a service…` -> ['services', 'web', 'dependsOn', 'db']),
 * and the value it quotes when the field is a list that holds it (`dependsOn "mysql" …`).
 */
export function pathOfMessage(message: string): { path: DocPath; value?: string } {
  const m = /^([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*)(?::|\s+("(?:[^"\\]|\\.)*"))?/.exec(message);
  if (!m) return { path: [] };
  const path: DocPath = [];
  for (const part of m[1].matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(part[2] !== undefined ? Number(part[2]) : part[1]);
  return { path, value: m[2] === undefined ? undefined : (JSON.parse(m[2]) as string) };
}

type Schema = { description?: string; type?: string | string[]; minimum?: number; maximum?: number; properties?: Record<string, Schema>; anyOf?: Schema[]; required?: string[] };

/** The description of the schema a keyword sits in: the text the editor shows, reused as the fix. */
const descriptionOf = (e: ErrorObject): string | undefined => (e.parentSchema as Schema | undefined)?.description;
/** A field description ("An absolute path.") read as what is expected ("an absolute path"). */
const expected = (hint: string) => (/^[A-Z](?![A-Z0-9_-])/.test(hint) ? hint.charAt(0).toLowerCase() + hint.slice(1) : hint).replace(/\.$/, '');
/** A value in a message: text quoted, numbers and booleans as written. */
const shown = (value: unknown) => (typeof value === 'string' || (typeof value === 'object' && value !== null) ? show(value) : String(value));
/** Branches that each only require fields (`anyOf: [{required: [tag]}, {required: [digest]}]`). */
const requiredBranches = (branches: unknown): string[][] | null =>
  Array.isArray(branches) && branches.every((b) => Array.isArray((b as Schema).required) && Object.keys(b as object).length === 1) ? branches.map((b) => (b as Schema).required!) : null;

const KIND_OF: Record<string, string> = { string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a map', null: 'empty' };
function kindOf(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'a boolean';
  return Number.isInteger(value) ? 'a whole number' : 'a number';
}
function want(type: string, value: unknown): string {
  const numeric = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
  if ((type === 'integer' || type === 'number') && numeric) return `write ${KIND_OF[type]} without quotes: ${Number(value)}`;
  if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return `write text (quote it: "${String(value)}")`;
  return `write ${KIND_OF[type] ?? type}`;
}

/** The closest of `choices` to a misspelt word (at most two edits away), for "did you mean". */
export function closest(word: string, choices: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        prev = row[j];
        row[j] = next;
      }
    }
    return row[b.length];
  };
  const ranked = choices.map((c) => ({ c, d: distance(word, c) })).filter((x) => x.d <= 2 && x.d < word.length).sort((a, b) => a.d - b.d);
  return ranked[0]?.c;
}

/** A value of the wrong type: what it is and what to write; a map or list in place of the other adds the field's description (which form needs which). */
function typeMessage(field: string, value: unknown, types: string[], hint: string | undefined): string {
  const fix = types.map((t) => want(t, value)).join(' or ').replace(/ or write /g, ' or ');
  if (typeof value === 'object' && value !== null) return `${field} is ${kindOf(value)}; ${fix}${hint ? `: ${hint}` : ''}`;
  return `${field}: ${shown(value)} is ${kindOf(value)}; ${fix}${hint ? ` (${expected(hint)})` : ''}`;
}

function range(schema: Schema | undefined, value: number): string {
  const number = schema?.type === 'integer' ? 'a whole number' : 'a number';
  if (schema?.minimum !== undefined && schema?.maximum !== undefined) return `use ${number} from ${schema.minimum} to ${schema.maximum}`;
  return schema?.maximum !== undefined ? `use ${schema.maximum} or less` : schema?.minimum !== undefined ? `use ${schema.minimum} or more` : `change ${value}`;
}

/**
 * The validator's error kinds in plain words, one line each with the fix: the one table of
 * them. Where the schema describes the field, its description (what the editor shows) is the
 * fix, so the editor and the tool say the same.
 */
const SCHEMA_MESSAGES: Record<string, (e: ErrorObject, field: string) => string> = {
  maximum: (e, f) => `${f}: ${e.data} is above ${(e.params as { limit: number }).limit}; ${range(e.parentSchema as Schema, e.data as number)}`,
  minimum: (e, f) => `${f}: ${e.data} is below ${(e.params as { limit: number }).limit}; ${range(e.parentSchema as Schema, e.data as number)}`,
  exclusiveMaximum: (e, f) => `${f}: ${e.data} must be below ${(e.params as { limit: number }).limit}; use a smaller number`,
  exclusiveMinimum: (e, f) => `${f}: ${e.data} must be above ${(e.params as { limit: number }).limit}; use a larger number`,
  type: (e, f) => typeMessage(f, e.data, [(e.params as { type: string | string[] }).type].flat().join(',').split(','), descriptionOf(e)),
  enum: (e, f) => {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    const guess = typeof e.data === 'string' ? closest(e.data, allowed.filter((a): a is string => typeof a === 'string')) : undefined;
    return `${f}: ${shown(e.data)} is not one of ${allowed.map((v) => (typeof v === 'string' ? v : show(v))).join(', ')}${guess ? `; did you mean ${guess}?` : ''}`;
  },
  const: (e, f) => `${f}: ${show(e.data)} must be ${show((e.params as { allowedValue: unknown }).allowedValue)}`,
  pattern: (e, f) => {
    const hint = descriptionOf(e);
    return `${f}: ${show(e.data)} is invalid; ${hint ? `expected ${expected(hint)}` : `it must match ${(e.params as { pattern: string }).pattern}`}`;
  },
  minLength: (e, f) => `${e.data === '' ? `${f} is empty` : `${f}: ${show(e.data)} is too short`}; ${descriptionOf(e) ? `expected ${expected(descriptionOf(e)!)}` : `write at least ${(e.params as { limit: number }).limit} characters`}`,
  maxLength: (e, f) => `${f} is longer than ${(e.params as { limit: number }).limit} characters; shorten it`,
  minItems: (e, f) => `${f} ${(e.data as unknown[]).length === 0 ? 'is empty' : `lists ${(e.data as unknown[]).length}`}; list at least ${(e.params as { limit: number }).limit}`,
  maxItems: (e, f) => `${f} lists ${(e.data as unknown[]).length}; list at most ${(e.params as { limit: number }).limit}`,
  uniqueItems: (e, f) => `${f} lists ${shown((e.data as unknown[])[(e.params as { j: number }).j])} twice; list each once`,
  minProperties: (e, f) => `${f} is empty; set ${Object.keys((e.parentSchema as Schema).properties ?? {}).join(' or ') || 'a field'}, or remove it`,
  dependencies: (e, f) => {
    const { property, missingProperty } = e.params as { property: string; missingProperty: string };
    return `${f ? `${f}.` : ''}${property} needs ${missingProperty}; add ${missingProperty} or remove ${property}`;
  },
  not: (e, f) => {
    const hint = descriptionOf(e);
    if (hint) return `${f || 'the spec'} ${hint}`;
    const both = (requiredBranches((e.schema as Schema).anyOf) ?? []).find((fields) => fields.every((k) => Object.hasOwn(e.data as object, k)));
    return both ? `${f}: sets both ${both.join(' and ')}; keep one` : `${f}: sets fields that exclude each other; keep one`;
  },
  oneOf: (e, f) => {
    const hint = descriptionOf(e);
    if (hint) return `${f || 'the spec'} ${hint}`;
    return (e.params as { passingSchemas?: number[] | null }).passingSchemas ? `${f}: fits more than one form; keep the fields of one` : `${f}: ${show(e.data)} fits none of the forms this field takes`;
  },
  anyOf: (e, f) => {
    const hint = descriptionOf(e);
    if (hint) return `${f || 'the spec'} ${hint}`;
    const branches = requiredBranches(e.schema);
    return branches ? `${f} sets none of ${branches.map((b) => b.join(' and ')).join(', ')}; set one` : `${f}: ${show(e.data)} fits none of the forms this field takes`;
  },
};

/**
 * The validator's errors (ajv, allErrors) as problems: wrapper noise collapsed (an `if`; a
 * oneOf/anyOf/not that the schema describes stands for its branches; an undescribed oneOf is
 * the branch that fits the value's type), each problem once.
 */
export function schemaProblems(errors: ErrorObject[]): SpecProblem[] {
  const stands = (e: ErrorObject) => ['oneOf', 'anyOf', 'not'].includes(e.keyword) && (descriptionOf(e) !== undefined || (e.keyword !== 'oneOf' && requiredBranches(e.schema) !== null) || e.keyword === 'not');
  const standing = errors.filter(stands);
  const inBranch = (e: ErrorObject) => standing.some((o) => e !== o && e.schemaPath.startsWith(`${o.schemaPath}/`));
  // An undescribed oneOf/anyOf: the branches' errors say more, except each branch's `type` at the
  // field itself, which only says that the value has another branch's form.
  const open = errors.filter((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && !stands(e));
  const under = (e: ErrorObject, o: ErrorObject) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`);
  const specific = (o: ErrorObject) => errors.some((e) => e !== o && under(e, o) && !(e.keyword === 'type' && e.instancePath === o.instancePath) && !open.includes(e) && !inBranch(e));
  const kept = errors.filter((e) => {
    if (e.keyword === 'if' || e.keyword === 'propertyNames' || inBranch(e)) return false;
    const wrapper = open.find((o) => o === e);
    if (wrapper) return !specific(wrapper);
    return !(e.keyword === 'type' && open.some((o) => o.instancePath === e.instancePath && specific(o)));
  });
  // A value that fits no branch's type is one problem naming every type it could have.
  const types = new Map<string, ErrorObject[]>();
  for (const e of kept) if (e.keyword === 'type') types.set(e.instancePath, [...(types.get(e.instancePath) ?? []), e]);
  const seen = new Set<string>();
  const out: SpecProblem[] = [];
  for (const e of kept) {
    if (open.includes(e) && types.has(e.instancePath)) continue;
    const sameField = e.keyword === 'type' ? types.get(e.instancePath)! : [];
    if (sameField.length > 1 && sameField[0] !== e) continue;
    const problem =
      sameField.length > 1
        ? { path: pointerPath(e.instancePath), rule: 'schema/invalid' as const, message: typeMessage(fieldName(pointerPath(e.instancePath)), e.data, sameField.flatMap((t) => [(t.params as { type: string | string[] }).type].flat()), undefined) }
        : describeError(e);
    const key = `${problem.path.join('\0')}\0${problem.key}\0${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

function describeError(e: ErrorObject): SpecProblem {
  const path = pointerPath(e.instancePath);
  if (e.propertyName !== undefined) {
    // A key that breaks propertyNames (a service named Web_1): located at the key.
    const hint = descriptionOf(e);
    return { path, key: e.propertyName, rule: 'schema/invalid', message: `${fieldName([...path, e.propertyName])}: the name ${show(e.propertyName)} is invalid; ${hint ? `expected ${expected(hint)}` : 'rename it'}` };
  }
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const guess = closest(key, Object.keys((e.parentSchema as Schema | undefined)?.properties ?? {}));
    return { path, key, rule: 'schema/unknown-field', message: `${fieldName([...path, key])}: unknown field; ${guess ? `did you mean ${guess}?` : 'remove it or fix its spelling'}` };
  }
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const hint = (e.parentSchema as Schema | undefined)?.properties?.[missing]?.description;
    return { path, rule: 'schema/missing-field', message: `${fieldName([...path, missing])} is missing; add it${hint ? ` (${expected(hint)})` : ''}` };
  }
  const field = fieldName(path);
  const text = SCHEMA_MESSAGES[e.keyword]?.(e, field) ?? `${field}: ${show(e.data)} ${e.message ?? 'is invalid'}${descriptionOf(e) ? `; expected ${expected(descriptionOf(e)!)}` : ''}`;
  return { path, rule: 'schema/invalid', message: text.replace(/^: /, '') };
}
