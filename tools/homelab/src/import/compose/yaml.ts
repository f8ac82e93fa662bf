/**
 * Reading a Compose file's YAML as Compose (Go's yaml.v3) does, with limits that refuse hostile
 * input before any heavy work: anchors, aliases and `<<:` merge keys resolved, plain scalars typed
 * as yaml.v3 types them (`0755` is octal, `1_000` is 1000, `yes` is a string), several documents
 * read in order.
 */
import jsyaml from 'js-yaml';
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { InputError } from '../../errors';
import { type ImplicitType, readBlockYaml } from '../../spec/block-yaml';

/** Files larger than this are refused unread: no Compose file of a real stack comes close. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Maps and sequences nested deeper than this are refused (real stacks nest about 6 deep). */
export const MAX_DEPTH = 64;
/** Aliases a file may use, as the yaml package's `maxAliasCount` counts them. */
export const MAX_ALIASES = 100;
/** Values that alias expansion may create in all (an alias bomb creates billions). */
export const MAX_ALIAS_NODES = 10_000;

/** A refusal of a Compose file's YAML: one line naming the file and what to fix. */
export function yamlError(file: string, problem: string): InputError {
  return new InputError(`${file}: ${problem}`);
}

/** Refuses a file over the size limit before it is read. */
export function checkSize(file: string, bytes: number): void {
  if (bytes > MAX_FILE_BYTES) {
    throw yamlError(file, `is ${bytes} bytes, over the ${MAX_FILE_BYTES}-byte limit for a Compose file; split it with include:`);
  }
}

/**
 * The deepest nesting a text can reach, estimated without parsing: indentation levels plus
 * compact `- - ` items plus flow brackets. It can only over-estimate the depth of block scalars.
 */
export function nestingDepth(text: string): number {
  const indents: number[] = [];
  let deepest = 0;
  let flow = 0;
  for (const line of text.split('\n')) {
    const content = line.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    const indent = line.length - content.length;
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
    }
    const compact = /^(?:[-?:]\s+)*/.exec(content)?.[0].replace(/\s/g, '').length ?? 0;
    let quote = '';
    for (const c of content) {
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || (c === "'" && flow > 0)) quote = c;
      else if (c === '[' || c === '{') flow++;
      else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
      else if (c === '#') break;
      deepest = Math.max(deepest, indents.length + compact + flow);
    }
  }
  return deepest;
}

/** A value read from YAML: null, a boolean, a number, a string, a list or a map. */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/**
 * Parses a Compose file's text into its documents' values (Compose merges several documents in
 * order). Refuses nesting deeper than MAX_DEPTH, more than MAX_ALIASES aliases, alias expansion
 * beyond MAX_ALIAS_NODES values, syntax errors and duplicate keys, each in one line naming `file`.
 *
 * `fast` (validate's Compose merges): first try js-yaml (about 6x faster), for text without what
 * only the yaml package reads as Compose does (quickValues: anchors, tags, merge keys, explicit
 * keys, collections as keys, scalars and flow collections over several lines, documents,
 * directives), keeping its values only when each key is a string as yaml.v3 types it; anything
 * else, js-yaml's refusals included, is read by the yaml package as without it. The values, or the
 * refusal, are the same either way: yaml.test.ts compares both readers on 3,000 mutated Compose
 * files, compose-merge.integration.test.ts on every Compose file of the fixtures.
 */
export function parseComposeYaml(text: string, file: string, options: { fast?: boolean } = {}): YamlValue[] {
  checkSize(file, Buffer.byteLength(text, 'utf8'));
  if (nestingDepth(text) > MAX_DEPTH) throw yamlError(file, `nests deeper than ${MAX_DEPTH} levels; a Compose file needs far fewer, so flatten it`);
  if (options.fast) {
    const quick = quickValues(text);
    if (quick) return quick;
  }
  const lineCounter = new YAML.LineCounter();
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: true, lineCounter, prettyErrors: false }) as YAML.Document.Parsed[];
  } catch (error) {
    throw yamlError(file, `cannot be parsed as YAML (${(error as Error).message.split('\n')[0]}); fix the YAML syntax`);
  }
  if (!Array.isArray(docs)) docs = [docs];
  const values: YamlValue[] = [];
  const budget = { aliases: 0, nodes: 0 };
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) {
      const pos = lineCounter.linePos(problem.pos[0]);
      throw yamlError(`${file}:${pos.line}:${pos.col}`, `${problem.message.split('\n')[0]}; fix the YAML syntax`);
    }
    if (doc.contents === null) continue;
    values.push(new Converter(file, lineCounter, budget).value(doc.contents as Node, 0));
  }
  return values;
}

/** How a reader types a plain scalar: as yaml.v3 does (resolvePlain, Compose) or as the yaml package's YAML 1.2 core schema does (resolveCore, specs). */
export type PlainResolver = (text: string) => YamlValue;

/** js-yaml's schema for each resolver: plain scalars typed by it; quoted and block scalars stay strings. */
const plainSchemas = new Map<PlainResolver, jsyaml.Schema>();

/** The block reader's form of plainScalars: one type that types every plain scalar with `resolve`. */
function plainTypes(resolve: PlainResolver): readonly ImplicitType[] {
  let types = plainTypeLists.get(resolve);
  if (!types) {
    types = [{ tag: 'tag:yaml.org,2002:homelab-plain', resolve: () => true, construct: (text: string) => resolve(text) }];
    plainTypeLists.set(resolve, types);
  }
  return types;
}
const plainTypeLists = new Map<PlainResolver, readonly ImplicitType[]>();

/** Deeper than this the block reader gives up, and js-yaml reads the text as before. */
const QUICK_MAX_DEPTH = 200;

function plainScalars(resolve: PlainResolver): jsyaml.Schema {
  let schema = plainSchemas.get(resolve);
  if (!schema) {
    schema = jsyaml.FAILSAFE_SCHEMA.extend({
      implicit: [new jsyaml.Type('tag:yaml.org,2002:homelab-plain', { kind: 'scalar', resolve: () => true, construct: (text: string) => resolve(text) })],
    });
    plainSchemas.set(resolve, schema);
  }
  return schema;
}

/**
 * What only the yaml package's reader reads as Compose does, seen in the text: explicit `?` keys
 * (js-yaml takes some the yaml package refuses), directives and document markers, a nested
 * sequence item with nothing in it (`- -`: js-yaml puts the items after it in that sequence). Anchors, tags,
 * flow collections used as keys, and quoted or plain scalars or flow collections over several
 * lines (js-yaml is laxer about their indentation) are seen by the parse (quickValues' listener;
 * an alias without an anchor makes js-yaml refuse); `<<` keys and keys that are not strings are
 * seen in its values (keysAreStrings).
 */
const NOT_QUICK = /^[ \t-]*\?(?:[ \t]|$)|[{[,][ \t]*\?(?:[ \t]|$)|^%|^(?:---|\.\.\.)(?:[ \t]|$)|^[ \t]*(?:-[ \t]+)+-[ \t\r]*(?:#.*)?$/m;

/** The first character at or after `at` that is not white space, and where it is. */
function nextVisible(text: string, at: number): { char: string; at: number } {
  let i = at;
  while (i < text.length && /\s/.test(text[i])) i++;
  return { char: text[i] ?? '', at: i };
}

/** The last character before `at` that is not white space. */
function previousVisible(text: string, at: number): string {
  let i = at - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  return text[i] ?? '';
}

/**
 * The values js-yaml reads, when the text and every key allow it (parseComposeYaml's `fast`); else
 * null. `resolve` types plain scalars: yaml.v3's (Compose) by default, or resolveCore (specs).
 */
export function quickValues(text: string, resolve: PlainResolver = resolvePlain): YamlValue[] | null {
  if (NOT_QUICK.test(text)) return null;
  // The block reader first (spec/block-yaml.ts): js-yaml's values where it reads the text, a third of
  // the time; it reads no anchor, tag, explicit key, flow key or scalar over several lines.
  let block: unknown[] | undefined;
  try {
    block = readBlockYaml(text, plainTypes(resolve), QUICK_MAX_DEPTH);
  } catch {
    return null;
  }
  if (block) return block.every((doc) => keysAreStrings(doc, resolve)) ? (block as YamlValue[]) : null;
  let unusual = false;
  // The first character of each open node and where it is: `{` opens a flow mapping.
  const opened: { char: string; at: number }[] = [];
  let docs: unknown[];
  try {
    docs = jsyaml.loadAll(text, undefined, {
      schema: plainScalars(resolve),
      listener: (event, state) => {
        const { anchor, position, kind } = state as unknown as { anchor: string | null; position: number; kind: string | null };
        if (anchor != null) unusual = true;
        if (event === 'open') {
          opened.push(nextVisible(text, position));
          return;
        }
        const start = opened.pop() ?? { char: '', at: position };
        // An explicit tag (`!!str`, `!!seq`, …): left to the yaml package, which reads tags as Compose does.
        if (start.char === '!') unusual = true;
        if (unusual) return;
        const node = text.slice(start.at, position);
        // A block scalar (| or >) spans lines by design; a quoted or plain scalar, or a flow collection, over several lines is left to the yaml package.
        if (node.includes('\n') && (kind === 'scalar' ? !/^[|>]/.test(node) : /^[[{]/.test(node))) unusual = true;
        // A flow collection as a key (`[a]: b`, `{[a]: b}`, `{a, [b]}`): js-yaml turns it into text, the yaml package's reader refuses it.
        if (/^[[{]/.test(start.char)) {
          // js-yaml opens a sequence's item twice at one place (a block node it tries first, then the
          // flow collection itself, `- { port: 53 }`): the parent is the node opened before that place.
          let p = opened.length - 1;
          while (p >= 0 && opened[p].at === start.at) p--;
          const parent = opened[p];
          const asKey = nextVisible(text, position).char === ':' || (parent?.char === '{' && previousVisible(text, start.at) !== ':');
          if (asKey) unusual = true;
        }
      },
    });
  } catch {
    return null;
  }
  return !unusual && docs.every((doc) => keysAreStrings(doc, resolve)) ? (docs as YamlValue[]) : null;
}

/**
 * Every key is a string as yaml.v3 types a plain key, none over 1,024 characters, and none is `<<` (js-yaml turns `1:`, `true:`
 * or `~:` into text and keeps `<<` as a key; the yaml package's reader refuses the first and merges
 * the last).
 */
function keysAreStrings(value: unknown, resolve: PlainResolver): boolean {
  if (Array.isArray(value)) return value.every((v) => keysAreStrings(v, resolve));
  if (value === null || typeof value !== 'object') return true;
  for (const [key, v] of Object.entries(value)) {
    // Over 1,024 characters a key cannot be implicit: the yaml package (and yaml.v3) refuse what js-yaml reads.
    if (key === '<<' || key === '__proto__' || key.length > 1024) return false;
    let typed: YamlValue;
    try {
      typed = resolve(key);
    } catch {
      return false;
    }
    if (typeof typed !== 'string' || !keysAreStrings(v, resolve)) return false;
  }
  return true;
}

/** Turns a parsed document into plain values, the way yaml.v3 decodes into `interface{}`. */
class Converter {
  /** Anchors by name, as far as the document has been read: an alias names the latest one before it. */
  private readonly anchors = new Map<string, YamlValue>();

  constructor(
    private readonly file: string,
    private readonly lines: YAML.LineCounter,
    private readonly budget: { aliases: number; nodes: number },
  ) {}

  private where(node: Node | null | undefined): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.file;
    const pos = this.lines.linePos(offset);
    return `${this.file}:${pos.line}:${pos.col}`;
  }

  value(node: Node | null, depth: number): YamlValue {
    if (depth > MAX_DEPTH) throw yamlError(this.where(node), `nests deeper than ${MAX_DEPTH} levels; flatten it`);
    if (node === null) return null;
    if (isAlias(node)) {
      if (++this.budget.aliases > MAX_ALIASES) throw yamlError(this.where(node), `uses more than ${MAX_ALIASES} aliases; use fewer anchors and aliases`);
      const anchored = this.anchors.get(node.source);
      if (anchored === undefined) throw yamlError(this.where(node), `alias *${node.source} has no complete anchor before it; define &${node.source} first`);
      return this.copy(anchored, node);
    }
    let result: YamlValue;
    if (isScalar(node)) result = this.scalar(node);
    else if (isSeq(node)) result = node.items.map((item) => this.value(item as Node, depth + 1));
    else if (isMap(node)) result = this.map(node, depth);
    else throw yamlError(this.where(node), 'holds a YAML node Compose does not read; remove it');
    if (node.anchor) this.anchors.set(node.anchor, result);
    return result;
  }

  /** An alias is a copy of its anchor's value; every value it copies counts against the budget. */
  private copy(value: YamlValue, at: Node): YamlValue {
    if (++this.budget.nodes > MAX_ALIAS_NODES) {
      throw yamlError(this.where(at), `aliases expand to more than ${MAX_ALIAS_NODES} values (an alias bomb?); write the values out or use fewer aliases`);
    }
    if (Array.isArray(value)) return value.map((v) => this.copy(v, at));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, YamlValue> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.copy(v, at);
      return out;
    }
    return value;
  }

  private map(node: YAML.YAMLMap, depth: number): Record<string, YamlValue> {
    const out: Record<string, YamlValue> = {};
    const merged: Record<string, YamlValue>[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const key = keyNode === null ? null : this.value(keyNode, depth + 1);
      if (isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.value === '<<' && !keyNode.tag) {
        const source = this.value(pair.value as Node, depth + 1);
        const sources = Array.isArray(source) ? source : [source];
        for (const s of sources) {
          if (s === null || typeof s !== 'object' || Array.isArray(s)) throw yamlError(this.where(pair.value as Node), 'a <<: merge key takes a map or a list of maps; merge only maps');
          merged.push(s);
        }
        continue;
      }
      if (typeof key !== 'string') throw yamlError(this.where(keyNode), `key ${JSON.stringify(key)} is not a string; quote it`);
      if (key === '__proto__') throw yamlError(this.where(keyNode), 'key "__proto__" is not a Compose key; remove it');
      out[key] = this.value(pair.value as Node | null, depth + 1);
    }
    // yaml.v3: explicit keys win over merged ones, and earlier merged maps over later ones.
    for (const source of merged) {
      for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = this.copy(v, node);
    }
    return out;
  }

  private scalar(node: YAML.Scalar): YamlValue {
    const text = String(node.value);
    const tag = node.tag;
    if (tag === '!reset' || tag === '!override') throw yamlError(this.where(node), `the ${tag} tag only makes sense in an override file; remove it`);
    if (tag === 'tag:yaml.org,2002:str' || tag === '!') return text;
    if (tag === 'tag:yaml.org,2002:null') return null;
    if (tag && !tag.startsWith('tag:yaml.org,2002:')) throw yamlError(this.where(node), `the YAML tag ${tag} is not one Compose reads; remove it`);
    if (node.type !== 'PLAIN' && !tag) return text;
    return resolvePlain(text);
  }
}

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Types a plain scalar as Go's yaml.v3 does: null, booleans (only true/false), integers in
 * decimal, `0x`, `0o`, `0b` and YAML 1.1's `0755` octal, underscores dropped, floats, and
 * `YYYY-MM-DD` dates (Compose prints them as Go's time). Everything else is a string.
 */
export function resolvePlain(text: string): YamlValue {
  if (NULLS.has(text)) return null;
  if (TRUES.has(text)) return true;
  if (FALSES.has(text)) return false;
  if (['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN'].includes(text)) {
    throw new InputError(`the value ${text} is an infinite or NaN number, which Compose cannot use; quote it`);
  }
  const first = text[0];
  if (first === '.') return YAML_FLOAT.test(text) ? Number(text) : text;
  if (!/[-+0-9]/.test(first)) return text;
  const date = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (date) return `${date[1]}-${date[2].padStart(2, '0')}-${date[3].padStart(2, '0')} 00:00:00 +0000 UTC`;
  const plain = text.replace(/_/g, '');
  const int = goParseInt(plain);
  if (int !== undefined) return int;
  if (/^[-+]?[0-9]+$/.test(plain)) return plain.replace(/^\+/, '');
  if (YAML_FLOAT.test(plain)) return Number(plain);
  return text;
}

/**
 * Types a plain scalar as the yaml package's YAML 1.2 core schema does (its tags in its order:
 * null, booleans, `0o` octal, decimal, `0x` hex, infinities and NaN, floats with and without an
 * exponent), for quickValues over a spec; everything else is a string. `0b101`, `1_000` and
 * `0755` are a string, 5 and 755 here, unlike yaml.v3's resolvePlain.
 */
export function resolveCore(text: string): YamlValue {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) return text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
  return text;
}

/**
 * One document as the yaml package reads it with its core schema (what homelab's specs and
 * homelab.yaml mean), read by js-yaml where the two agree (quickValues with resolveCore);
 * undefined where only the yaml package reads the text as homelab does: what quickValues leaves
 * to it, a carriage return that ends no line (js-yaml takes it for a line break, the yaml package
 * refuses it), several documents or none, a null document (comments alone are none to the yaml package).
 */
export function quickCoreDocument(text: string): YamlValue | undefined {
  if (/\r(?!\n)/.test(text)) return undefined;
  const docs = quickValues(text, resolveCore);
  return docs !== null && docs.length === 1 && docs[0] !== null ? docs[0] : undefined;
}

/** Go's strconv.ParseInt(s, 0, 64) (and ParseUint): sign, then `0x`, `0o`, `0b`, a leading-0 octal, or decimal. */
function goParseInt(s: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2];
  let value: number;
  if (/^0[xX]/.test(digits)) value = parseInt(digits.slice(2), 16);
  else if (/^0[oO]/.test(digits)) value = parseInt(digits.slice(2), 8);
  else if (/^0[bB]/.test(digits)) value = parseInt(digits.slice(2), 2);
  else if (digits.length > 1 && digits.startsWith('0')) value = parseInt(digits.slice(1), 8);
  else value = Number(digits);
  // Beyond 2^53 a JS number loses digits; Go keeps them, and prints them back as written.
  if (!Number.isSafeInteger(value)) return undefined;
  return m[1] === '-' ? -value || 0 : value;
}
