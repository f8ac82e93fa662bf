import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Handlebars from 'handlebars';
import YAML from 'yaml';
import { requireWithCodeCache } from '../bundle/cached';
import { RenderError } from '../errors';
import { quickCoreDocument } from '../import/compose/yaml';

/** The templates/ folder at the workspace root, shared by the Nx generators and plop. */
export const TEMPLATES_DIR = path.resolve(__dirname, '../../../../templates');

/** Who owns a rendered file: the spec (rewritten on sync, drift is reported) or the user (scaffolded once). */
export type Owner = 'spec' | 'user';

export interface RenderedFile {
  /** Path relative to the workspace root, always with '/'. */
  path: string;
  content: string;
  owner: Owner;
}

/**
 * No folding, ever: `lineWidth: 0` keeps long lines whole, and an unbounded
 * `doubleQuotedMinMultiLineLength` keeps the line breaks of a double-quoted string as
 * `\n` escapes. The yaml library otherwise folds double-quoted strings of 40 characters
 * or more onto continuation lines indented for where it thinks the scalar sits, which a
 * helper that emits one scalar into a template cannot know (the lines landed at column 0).
 */
const scalarOptions: YAML.ToStringOptions = { lineWidth: 0, minContentWidth: 0, blockQuote: false, doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER };

/** Characters YAML 1.1 parsers (Go's yaml in kubectl, kustomize and Compose) read as line breaks or a BOM. */
const GO_BREAKS = /[\u0085\u2028\u2029\ufeff]/;

/**
 * Whether a string, written plain, reads back as another value in YAML 1.1: remembered per string,
 * since the round trip is most of what a render's emitters cost and the same strings (names, image
 * references, labels) come back in every file of an app and every app of a validate batch.
 */
const changedByYaml11 = new Map<string, boolean>();

/** The value `compute` gives for `key`, remembered in `memo`; a memo of 100,000 strings starts over, so a long batch stays bounded. */
function remembered<K, T>(memo: Map<K, T>, key: K, compute: () => T): T {
  let value = memo.get(key);
  if (value === undefined) {
    value = compute();
    if (memo.size >= 100_000) memo.clear();
    memo.set(key, value);
  }
  return value;
}

/**
 * Must this string be double-quoted? The yaml library writes YAML 1.2, where `yes`,
 * `on`, `1_000`, `1:20` or `2001-12-14` are plain strings; kubectl reads YAML 1.1 and
 * Go's yaml.v3 (kustomize, Compose) reads `1_000`, `0X1F` or dates as numbers and
 * times, and both fold U+2028/U+2029/U+0085 as line breaks. Such strings, and any
 * string that starts like a number (a relative path `./`, `../` does not), are double-quoted. `inline`: the string is emitted
 * on one line (a scalar or flow item in a template), so a line break must be an escape
 * too; in a whole document the library indents multi-line strings itself.
 */
function mustDoubleQuote(value: string, inline: boolean): boolean {
  if (plainWord(value)) return false;
  if (GO_BREAKS.test(value) || (/^[-+]?[._0-9]/.test(value) && !/^\.\.?\//.test(value)) || (inline && /[\n\r]/.test(value))) return true;
  if (notYaml11Typed(value)) return false;
  return remembered(changedByYaml11, value, () => {
    try {
      return YAML.parse(YAML.stringify(value, scalarOptions), { version: '1.1' }) !== value;
    } catch {
      return true;
    }
  });
}

/**
 * The words YAML 1.1 reads as a boolean or null in any casing it knows (`y`, `Yes`, `OFF`,
 * `Null`, …). Anything else that starts with a letter and holds only letters, digits, dashes,
 * dots, slashes, underscores and single inner spaces (names, labels, paths, dotted keys, most
 * values and messages of a spec) is a plain string in YAML 1.1 and 1.2 alike, but for an exponent
 * without digits before it (`e10`, `E-5`: the yaml library's YAML 1.1 reads a float).
 * engine.test.ts checks every such string of up to three characters over the letters of these
 * words, `e`, `x`, digits and those signs: both versions read it back, and it is what the
 * round trip gave before (so files rendered before render the same).
 */
const YAML11_WORDS = new Set(['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null']);

/**
 * A character none of YAML 1.1's implicit types (booleans, null, integers, floats, timestamps,
 * merge and value keys) can hold, nor a quote of either style.
 */
const NOT_IN_YAML11_TYPES = /[(){}[\]"'#,!$%&*/;?@\\^`|]/;

/**
 * A line of printable ASCII with such a character: whatever the yaml library writes for it
 * (plain or quoted), YAML 1.1 reads back the same string, so the round trip of mustDoubleQuote
 * cannot differ. Most strings that are not plain words are of this kind (PromQL expressions,
 * alert messages, paths with `{{ }}`): each was two YAML passes before it was written.
 * engine.test.ts holds every such string of up to three characters, and random longer ones, to
 * the round trip's answer.
 */
function notYaml11Typed(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value) && NOT_IN_YAML11_TYPES.test(value);
}

/** A string that YAML writes plain and both YAML versions read back unchanged, known without a round trip. */
function plainWord(value: string): boolean {
  return (
    /^[A-Za-z][A-Za-z0-9._/ -]*$/.test(value) &&
    !value.endsWith(' ') &&
    !value.includes('  ') &&
    !YAML11_WORDS.has(value.toLowerCase()) &&
    !/^[eE]-?[0-9]/.test(value)
  );
}

/** Escapes the characters of GO_BREAKS; only called on text whose strings holding them are double-quoted. */
function escapeGoBreaks(text: string): string {
  return text.replace(new RegExp(GO_BREAKS.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The scalar yamlScalar emits for each string, remembered: the same strings come back in every file of an app and every app of a batch. */
const stringScalars = new Map<string, string>();
const otherScalars = new Map<unknown, string>();

/**
 * Emits one YAML scalar (string, number, boolean or null) that parses back to exactly
 * the same value, in YAML 1.2 and in the YAML 1.1 that kubectl and Compose read:
 * quoting, escapes and multi-line strings are the yaml library's job, never string
 * concatenation's.
 * @example yamlScalar('yes') // '"yes"'
 */
export function yamlScalar(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    throw new RenderError(`yaml helper got an object; use yamlFlow for lists and maps`);
  }
  if (value === undefined) throw new RenderError('yaml helper got undefined; the normalized spec misses a value');
  if (typeof value !== 'string') {
    // Numbers, booleans and null: the same few (ports, replicas, flags) in every file. -0 and 0 are one key of a Map, not one scalar.
    return Object.is(value, -0) ? YAML.stringify(value, scalarOptions).trimEnd() : remembered(otherScalars, value, () => YAML.stringify(value, scalarOptions).trimEnd());
  }
  if (plainWord(value)) return value;
  return remembered(stringScalars, value, () =>
    mustDoubleQuote(value, true)
      ? escapeGoBreaks(YAML.stringify(value, { ...scalarOptions, defaultStringType: 'QUOTE_DOUBLE' }).trimEnd())
      : YAML.stringify(value, scalarOptions).trimEnd(),
  );
}

/** Emits a list or map in YAML flow style on one line, e.g. ["CMD", "wget"]; strings are quoted as yamlScalar quotes them. */
export function yamlFlow(value: unknown): string {
  if (value === undefined) throw new RenderError('yamlFlow helper got undefined; the normalized spec misses a value');
  const doc = new YAML.Document(value);
  if (YAML.isCollection(doc.contents)) doc.contents.flow = true;
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && mustDoubleQuote(node.value, true)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeGoBreaks(doc.toString({ ...scalarOptions, flowCollectionPadding: false }).trimEnd());
}

/**
 * Emits a whole value as a block-style YAML document, quoting strings exactly as
 * yamlScalar does, for data files (Helm values, config files) built in code.
 * @example yamlDocument({ a: 'yes' }) // 'a: "yes"\n'
 */
export function yamlDocument(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && mustDoubleQuote(node.value, false)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeGoBreaks(doc.toString({ ...scalarOptions, blockQuote: 'literal' }));
}

/**
 * Compose interpolates `$VAR` and `${VAR}` in every value; `$$` is a literal `$`. Values
 * from a spec are literal (Kubernetes passes them as written), so a Compose file doubles
 * every `$` in them.
 * @example composeLiteral('pa$word') // 'pa$$word'
 */
export function composeLiteral(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$/g, '$$$$');
  if (Array.isArray(value)) return value.map(composeLiteral);
  return value;
}

/**
 * The kubelet expands `$(VAR)` in a container's env values, command and args, and reads `$$` as
 * one `$` (k8s.io/kubernetes third_party/forked/golang/expansion). Values from a spec are
 * literal, so a `$` followed by `$` or `(` is doubled; every other `$` arrives as written
 * already, and a value without either renders as it always did.
 * @example kubernetesLiteral('$(HOME) costs $$') // '$$(HOME) costs $$$'
 */
export function kubernetesLiteral(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$(?=[$(])/g, '$$$$');
  if (Array.isArray(value)) return value.map(kubernetesLiteral);
  return value;
}

/**
 * Emits a multi-line string as a YAML literal block (`|`) whose lines are indented by
 * `indent` spaces, for embedded JSON or Markdown. Strings a literal block cannot hold
 * exactly (control characters, a trailing space on a line, CR) fall back to a quoted scalar.
 */
export function yamlBlock(value: unknown, indent: number): string {
  if (typeof value !== 'string') throw new RenderError('yamlBlock helper needs a string');
  // The indentation indicator is relative to the parent node, which a helper cannot see:
  // a first line that starts with white space falls back to a quoted scalar too.
  if (!value.includes('\n') || /^[ \t]|[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]|[ \t]\n/.test(value)) {
    return yamlScalar(value);
  }
  const body = value.replace(/\n+$/, '');
  const trailing = value.length - body.length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const pad = ' '.repeat(indent);
  const lines = value.slice(0, trailing > 1 ? value.length - 1 : body.length).split('\n');
  return `|${chomp}\n${lines.map((l) => (l === '' ? '' : pad + l)).join('\n')}`;
}

/** Line breaks and control characters a line of text must not hold (a tab may stay). */
const NOT_ONE_LINE = /[\x00-\x08\x0a-\x1f\x7f\u0085\u2028\u2029\ufeff]/g;

/**
 * Emits a value as one line of text, for YAML and Alloy comments and the runbook's prose:
 * a line break or control character becomes its escape (`\n`, `\u2028`), so no value can
 * end a comment and start YAML of its own.
 * @example lineText('a\n- b') // 'a\\n- b'
 */
export function lineText(value: unknown): string {
  if (value === undefined) throw new RenderError('line helper got undefined; the normalized spec misses a value');
  if (value !== null && typeof value === 'object') throw new RenderError('line helper got an object; give it one value');
  return String(value).replace(NOT_ONE_LINE, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * Emits an environment variable name for a dotenv file (`.env.example`). Names are
 * checked by the spec schema; anything else here is a bug, refused rather than written.
 * @example envKey('API_TOKEN') // 'API_TOKEN'
 */
export function envKey(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new RenderError(`envKey helper got ${JSON.stringify(value)}, which is not an environment variable name; the spec schema should have refused it`);
  }
  return value;
}

/**
 * Emits a value as JSON (a JSON5 file such as renovate.json5): two-space indentation, every
 * line after the first indented by `indent` spaces more, so a value sits at any depth.
 * @example jsonValue({ a: [1] }, 2) // '{\n    "a": [\n      1\n    ]\n  }'
 */
export function jsonValue(value: unknown, indent: number): string {
  if (value === undefined) throw new RenderError('json helper got undefined; the normalized configuration misses a value');
  const pad = ' '.repeat(indent);
  return JSON.stringify(value, null, 2).split('\n').join(`\n${pad}`);
}

/**
 * The helpers through which every value enters a template: YAML scalars and flow
 * collections (Compose forms double `$`, Kubernetes forms escape the kubelet's `$(VAR)` and `$$`), literal blocks, whole block documents (a spec's
 * patches, at the top of a file or as a literal block's text), one-line text for comments and
 * prose, dotenv names, Alloy strings and JSON values. `join` only builds a value for one of them.
 * templates.test.ts refuses any other interpolation in templates/.
 */
export const VALUE_HELPERS = ['yaml', 'yamlFlow', 'composeYaml', 'composeYamlFlow', 'kubernetesYaml', 'kubernetesYamlFlow', 'yamlBlock', 'yamlDocument', 'line', 'envKey', 'alloyString', 'json'] as const;

type HandlebarsEnvironment = typeof Handlebars;

let runtimeInstance: HandlebarsEnvironment | undefined;
let fullInstance: HandlebarsEnvironment | undefined;

/**
 * The Handlebars environment that compiles (and precompiles) templates: strict (a missing value
 * throws), no HTML escaping, YAML helpers. Loaded only when a template must be compiled: one a
 * user edited, or `HOMELAB_TEMPLATES=compile`.
 */
export function handlebars(): HandlebarsEnvironment {
  fullInstance ??= withHelpers((require('handlebars') as HandlebarsEnvironment).create());
  return fullInstance;
}

/**
 * The environment that runs the precompiled templates, with the same helpers: Handlebars' runtime
 * alone, without its parser and compiler (loading them took about a third of the time
 * `nx g homelab:app` spends loading its modules). A template compiled at run time calls partials
 * of this one and the other way round; each runs with the helpers of its own environment, which
 * are the same.
 */
function runtimeHandlebars(): HandlebarsEnvironment {
  runtimeInstance ??= withHelpers((require('handlebars/runtime') as HandlebarsEnvironment).create());
  return runtimeInstance;
}

function withHelpers(hb: HandlebarsEnvironment): HandlebarsEnvironment {
  hb.registerHelper('yaml', (value: unknown) => yamlScalar(value));
  hb.registerHelper('yamlFlow', (value: unknown) => yamlFlow(value));
  // For spec values in Compose files: the exact value after Compose's interpolation.
  hb.registerHelper('composeYaml', (value: unknown) => yamlScalar(composeLiteral(value)));
  hb.registerHelper('composeYamlFlow', (value: unknown) => yamlFlow(composeLiteral(value)));
  // For spec values the kubelet expands (env values, command, args): the exact value after its expansion.
  hb.registerHelper('kubernetesYaml', (value: unknown) => yamlScalar(kubernetesLiteral(value)));
  hb.registerHelper('kubernetesYamlFlow', (value: unknown) => yamlFlow(kubernetesLiteral(value)));
  hb.registerHelper('yamlBlock', (value: unknown, indent: unknown) => yamlBlock(value, Number(indent)));
  hb.registerHelper('yamlDocument', (value: unknown) => {
    if (value === null || typeof value !== 'object') throw new RenderError('yamlDocument helper needs a map or a list; use yaml for a scalar');
    return yamlDocument(value).trimEnd();
  });
  hb.registerHelper('line', (value: unknown) => lineText(value));
  hb.registerHelper('envKey', (value: unknown) => envKey(value));
  // Alloy's configuration language quotes strings like JSON.
  hb.registerHelper('alloyString', (value: unknown) => JSON.stringify(String(value)));
  hb.registerHelper('json', (value: unknown, indent: unknown) => jsonValue(value, Number(indent)));
  hb.registerHelper('join', (list: unknown, sep: unknown) => {
    if (!Array.isArray(list)) throw new RenderError('join helper needs a list');
    return list.join(String(sep));
  });
  return hb;
}

/**
 * How every template and partial is compiled, at run time and ahead of time alike: strict (a
 * missing value throws), no HTML escaping, and our helpers known, so a call goes straight to the
 * helper instead of looking for it among the helpers and then the context (7% of a batch's renders).
 */
export const TEMPLATE_OPTIONS = { strict: true, noEscape: true, knownHelpers: Object.fromEntries([...VALUE_HELPERS, 'join'].map((name) => [name, true])) };

/**
 * The templates compiled ahead of time (scripts/build-templates.ts, `npm run build:templates`), each
 * with the sha256 of the source it was compiled from; tests/precompiled-templates.test.ts fails
 * while it is stale.
 */
export const PRECOMPILED_TEMPLATES = path.join(__dirname, 'templates.precompiled.js');

/** The module scripts/build-templates.ts writes: the Handlebars version that compiled it and one entry per template. */
export interface PrecompiledTemplates {
  handlebars: string;
  templates: Record<string, { sha256: string; spec: TemplateSpecification }>;
}

/** The hash a precompiled template is kept under: the sha256 of its source text. */
export function templateHash(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/**
 * `HOMELAB_TEMPLATES=compile`: every template compiled at run time, as before templates were
 * precompiled (a debugging switch; the tests compare both ways byte for byte and the bench times them).
 */
const compileAtRunTime = () => process.env.HOMELAB_TEMPLATES === 'compile';

let precompiled: PrecompiledTemplates['templates'] | null | undefined;

/** How many templates and partials this process took precompiled and compiled at run time (for the tests and the bench). */
export const templateCounts = { precompiled: 0, compiled: 0 };

/** The precompiled templates, or null where there is no module or it was compiled by another Handlebars version. */
function precompiledTemplates(): PrecompiledTemplates['templates'] | null {
  if (precompiled === undefined) {
    try {
      // With V8's code cache: compiling 670 KB of templates is much of a generator's start.
      const module = requireWithCodeCache(PRECOMPILED_TEMPLATES) as PrecompiledTemplates;
      precompiled = module.handlebars === runtimeHandlebars().VERSION ? module.templates : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      precompiled = null;
    }
  }
  return precompiled;
}

/**
 * A template or partial as a function: its precompiled form when `source` is the text it was
 * precompiled from (the common case: compiling costs most of a render), else compiled now, so a
 * template a user edited in their workspace renders as edited. `name` is its path below the
 * templates folder without `.hbs`.
 */
function compileTemplate(name: string, source: string, runtime: boolean): Handlebars.TemplateDelegate {
  const entry = runtime ? undefined : precompiledTemplates()?.[name];
  if (entry && entry.sha256 === templateHash(source)) {
    templateCounts.precompiled++;
    return runtimeHandlebars().template(entry.spec);
  }
  templateCounts.compiled++;
  return handlebars().compile(source, TEMPLATE_OPTIONS);
}

/** Every `.hbs` file below `dir`, as its path below `dir` with '/' and without `.hbs`, sorted. */
export function templateNames(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const name = prefix === '' ? e.name : `${prefix}/${e.name}`;
      return e.isDirectory() ? templateNames(dir, name) : e.name.endsWith('.hbs') ? [name.slice(0, -'.hbs'.length)] : [];
    })
    .sort();
}

const compiledTemplates = new Map<string, Handlebars.TemplateDelegate>();
const partialSets = new Map<string, Record<string, Handlebars.TemplateDelegate>>();

/**
 * The partials of a templates folder, read once: `<group>/_partials/<name>.hbs` is
 * `{{> <group>/<name>}}`, a piece several templates share (the pod of a Deployment, a
 * StatefulSet, a Job and a CronJob). A partial called alone on an indented line is indented
 * as a whole, so one pod renders at every depth. Partials render nothing by themselves.
 * They are given to each render of a template of that folder, so two folders never mix.
 */
function partialsOf(templatesDir: string, runtime: boolean): Record<string, Handlebars.TemplateDelegate> {
  const key = `${runtime}:${templatesDir}`;
  let partials = partialSets.get(key);
  if (partials) return partials;
  partials = {};
  let groups: string[] = [];
  try {
    groups = fs.readdirSync(templatesDir);
  } catch {
    groups = [];
  }
  for (const group of groups) {
    const dir = path.join(templatesDir, group, '_partials');
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
      const name = `${group}/${file.slice(0, -'.hbs'.length)}`;
      partials[name] = compileTemplate(`${group}/_partials/${file.slice(0, -'.hbs'.length)}`, fs.readFileSync(path.join(dir, file), 'utf8'), runtime);
    }
  }
  partialSets.set(key, partials);
  return partials;
}

/** Renders templates/<template>.hbs with a context; a missing value in strict mode is a RenderError. */
export function renderTemplate(template: string, context: unknown, templatesDir = TEMPLATES_DIR): string {
  const runtime = compileAtRunTime();
  const file = path.join(templatesDir, `${template}.hbs`);
  const key = `${runtime}:${file}`;
  let compiled = compiledTemplates.get(key);
  if (!compiled) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      throw new RenderError(`template ${template}.hbs is missing from ${path.relative(process.cwd(), templatesDir) || '.'}; restore it from git`);
    }
    compiled = compileTemplate(template, source, runtime);
    compiledTemplates.set(key, compiled);
  }
  try {
    return compiled(context, { partials: partialsOf(templatesDir, runtime) });
  } catch (error) {
    throw new RenderError(`template ${template}.hbs failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Parses a rendered YAML file back; any syntax error or warning is a RenderError naming the file.
 * A file whose documents js-yaml reads as the yaml package does (quickCoreDocument: no anchors,
 * tags, directives or document markers, every key a string; most rendered files) is read by
 * js-yaml, about five times faster (a third of `nx g homelab:app`'s own time went to parsing its
 * files back). Several documents count when they are separated by lines of `---` alone (as the
 * templates write them) and each is such a document, none empty: what the yaml package reads as
 * the same documents. Anything else, a file js-yaml refuses included, goes to the yaml package,
 * whose error the RenderError quotes.
 */
export function assertParsesBack(file: string, content: string): unknown[] {
  const quick = quickDocuments(content);
  if (quick !== undefined) return quick;
  const docs = YAML.parseAllDocuments(content, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) {
    throw new RenderError(`${file}: rendered YAML is empty in an unexpected way`);
  }
  for (const doc of docs) {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new RenderError(`${file}: rendered YAML does not parse back (${problem.message.split('\n')[0]})`);
  }
  try {
    return docs.map((d) => d.toJS());
  } catch (error) {
    // An alias whose anchor is not before it parses, and fails only here.
    throw new RenderError(`${file}: rendered YAML does not parse back (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * The documents of a rendered file read by js-yaml (quickCoreDocument), its parts split at lines
 * of `---` alone; undefined when a part is not one such document (empty, comments alone, or left
 * to the yaml package), so the whole file goes to the yaml package.
 */
function quickDocuments(content: string): unknown[] | undefined {
  const parts = content.split(/^---\n/m);
  // A first `---` line opens the first document; nothing but that may come before it.
  if (parts[0] === '') parts.shift();
  const docs: unknown[] = [];
  for (const part of parts) {
    const doc = quickCoreDocument(part);
    if (doc === undefined) return undefined;
    docs.push(doc);
  }
  return docs.length > 0 ? docs : undefined;
}
