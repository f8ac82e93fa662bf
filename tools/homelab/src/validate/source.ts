import * as fs from 'node:fs';
import jsyaml from 'js-yaml';
import YAML from 'yaml';
import type { Finding } from './findings';
import { severityOf } from './rules';
import { type DocPath, positionIn } from '../spec/locate';
import { FilePositions, recordPositions } from './positions';
import { type ImplicitType, readBlockYaml } from '../spec/block-yaml';
import { inRun, perRun } from './run-memo';

export type { DocPath };

/** Limits that keep hostile input from crashing or hanging the run. */
export const LIMITS = {
  /** Larger files are one `parse/too-large` finding, never read into the parser. */
  maxFileBytes: 8 * 1024 * 1024,
  maxDepth: 200,
  /** Nodes a document may expand to through aliases. */
  maxExpandedNodes: 1_000_000,
};

/**
 * js-yaml's core schema (YAML 1.2: no timestamps, so `2001-12-14` stays a string as in JSON)
 * plus merge keys (`<<`), which Kubernetes' YAML reader accepts.
 */
export const LOAD_SCHEMA = jsyaml.CORE_SCHEMA.extend({ implicit: [(jsyaml as unknown as { types: { merge: jsyaml.Type } }).types.merge] });
/**
 * Compose files also take Compose's merge tags `!reset` (drop what the files before set: e.g.
 * `networks: !reset {}` beside a `network_mode` in compose.override.yaml) and `!override`
 * (replace it instead of merging). A Compose file is checked as the value under the tag.
 */
const COMPOSE_LOAD_SCHEMA = LOAD_SCHEMA.extend(
  ['!reset', '!override'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) =>
        new jsyaml.Type(tag, {
          kind,
          // Under an explicit tag a plain `null` stays the text "null": read it (and `~`, nothing) as YAML's null, as Compose does.
          construct: (data: unknown) => (kind === 'scalar' ? (data === null || ['null', 'Null', 'NULL', '~', ''].includes(String(data)) ? null : data) : (data ?? (kind === 'mapping' ? {} : []))),
        }),
    ),
  ),
);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A schema's implicit types, in js-yaml's order: what the block reader resolves plain scalars with. */
export function implicitTypes(schema: jsyaml.Schema): readonly ImplicitType[] {
  return (schema as unknown as { compiledImplicit: ImplicitType[] }).compiledImplicit;
}
const LOAD_IMPLICIT = implicitTypes(LOAD_SCHEMA);
const COMPOSE_IMPLICIT = implicitTypes(COMPOSE_LOAD_SCHEMA);

/** One YAML file read and parsed: its text (for line lookups) and its documents. */
export interface SourceFile {
  /** As reported in findings. */
  file: string;
  text: string;
  /** Parsed documents; `null` for empty ones. */
  docs: unknown[];
  /** Where each node of the parse sits (positions.ts), so that findings need no second parse. */
  positions?: FilePositions;
}

export function finding(file: string, rule: string, message: string, line = 1, col = 1): Finding {
  return { file, line, col, rule, message, severity: severityOf(rule) };
}

/**
 * The bytes of the files one project's check has read, by absolute path (or why a read failed):
 * validate reads each rendered file to compare it with its render, then parses the same file;
 * both go through this, so a file is read once, not read, then stat'ed and read again.
 * Live for one project's check only: the files do not change while it runs.
 */
export class FileBytes {
  private readonly known = new Map<string, Buffer | NodeJS.ErrnoException>();

  /** The file's bytes (read now unless read before), or the error reading it gave. */
  read(absPath: string): Buffer | NodeJS.ErrnoException {
    let bytes = this.peek(absPath);
    if (bytes === undefined) {
      try {
        bytes = fs.readFileSync(absPath);
      } catch (error) {
        bytes = error as NodeJS.ErrnoException;
      }
      this.known.set(absPath, bytes);
    }
    return bytes;
  }

  /** The file's text as fs.readFileSync(…, 'utf8') reads it, or null when it cannot be read. */
  text(absPath: string): string | null {
    const bytes = this.read(absPath);
    return Buffer.isBuffer(bytes) ? bytes.toString('utf8') : null;
  }

  /** What an earlier read gave (this check's, or the run's read ahead of it), without reading. */
  peek(absPath: string): Buffer | NodeJS.ErrnoException | undefined {
    let bytes = this.known.get(absPath);
    if (bytes === undefined) {
      bytes = takeReadAhead(absPath);
      if (bytes !== undefined) this.known.set(absPath, bytes);
    }
    return bytes;
  }
}

/** The run's files read before the check of the project they belong to, by absolute path (readAhead). */
const readAheadBytes = () => perRun('read-ahead', () => new Map<string, Buffer>());

/**
 * fs.readFileSync(absPath, 'utf8'), for a file read before its project's check: a batch parses
 * every app's Compose files to plan their merges before it checks the apps one by one. Within a
 * validate run its bytes are kept until that project's FileBytes takes them, so the check does
 * not read the file again.
 */
export function readAhead(absPath: string): string {
  const bytes = fs.readFileSync(absPath);
  if (inRun()) readAheadBytes().set(absPath, bytes);
  return bytes.toString('utf8');
}

function takeReadAhead(absPath: string): Buffer | undefined {
  if (!inRun()) return undefined;
  const kept = readAheadBytes();
  const bytes = kept.get(absPath);
  if (bytes !== undefined) kept.delete(absPath);
  return bytes;
}

/**
 * Reads a file as UTF-8 text, or returns the one finding that says why it cannot be
 * validated (too large, binary, not UTF-8, unreadable). A file `bytes` has read already is
 * not read again: the same checks run on the bytes it holds.
 */
export function readText(absPath: string, file: string, maxBytes = LIMITS.maxFileBytes, bytes?: FileBytes): string | Finding {
  const unreadable = (error: unknown) => finding(file, 'parse/unreadable', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path and its permissions`);
  const tooLarge = (size: number) => finding(file, 'parse/too-large', `${(size / 1024 / 1024).toFixed(1)} MiB is over the ${(maxBytes / 1024 / 1024).toFixed(0)} MiB limit; split it, or raise --max-file-size`);
  const known = bytes?.peek(absPath);
  if (known !== undefined) {
    if (!Buffer.isBuffer(known)) return unreadable(known);
    return known.length > maxBytes ? tooLarge(known.length) : decode(known, file);
  }
  // One open, its fstat for the size, then readFileSync of the open file: no stat of the path first.
  let fd: number;
  try {
    fd = fs.openSync(absPath, 'r');
  } catch (error) {
    return unreadable(error);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size > maxBytes) return tooLarge(size);
    return decode(fs.readFileSync(fd), file);
  } catch (error) {
    return unreadable(error);
  } finally {
    fs.closeSync(fd);
  }
}

export function decode(buffer: Buffer, file: string): string | Finding {
  const nul = buffer.indexOf(0);
  if (nul !== -1) {
    return finding(file, 'parse/binary', `NUL byte at offset ${nul}: this is a binary file, not YAML; remove it from the validated paths`);
  }
  try {
    const text = decoder.decode(buffer);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return finding(file, 'parse/encoding', 'not valid UTF-8; re-save the file as UTF-8');
  }
}

/**
 * Parses every document of a YAML text with js-yaml (fast; a Compose file with Compose's tags), or returns the findings that
 * stop it: a syntax error or duplicate key with its position, nesting too deep, or aliases
 * that expand beyond the limit.
 */
export function parseYaml(text: string, file: string, compose = false): SourceFile | Finding {
  // Most manifests are read by the block reader (spec/block-yaml.ts): the same documents and positions, faster.
  // It reads no anchor or alias and gives up deeper than maxDepth: nothing to measure.
  const quick = new FilePositions(text);
  const read = readBlockYaml(text, compose ? COMPOSE_IMPLICIT : LOAD_IMPLICIT, LIMITS.maxDepth, quick);
  if (read) return { file, text, docs: read, positions: quick };
  let docs: unknown[];
  const positions = new FilePositions(text);
  try {
    // js-yaml 4.3 stops at maxDepth itself; the measure below also bounds what a parse lets through.
    docs = jsyaml.loadAll(text, undefined, { schema: compose ? COMPOSE_LOAD_SCHEMA : LOAD_SCHEMA, filename: file, maxDepth: LIMITS.maxDepth, listener: recordPositions(positions) } as jsyaml.LoadOptions) as unknown[];
  } catch (error) {
    if (error instanceof RangeError) {
      return finding(file, 'parse/too-deep', `nesting too deep to parse (over ${LIMITS.maxDepth} levels?); flatten the document`);
    }
    const e = error as jsyaml.YAMLException;
    const line = (e.mark?.line ?? 0) + 1;
    const col = (e.mark?.column ?? 0) + 1;
    const reason = e.reason ?? String(error);
    if (/nesting exceeded maxDepth/.test(reason)) {
      return finding(file, 'parse/too-deep', `nesting deeper than ${LIMITS.maxDepth} levels; flatten the document`, line, col);
    }
    if (/duplicated mapping key/.test(reason)) {
      return finding(file, 'parse/duplicate-key', `${reason}; keep one of the two keys (YAML readers disagree on which wins)`, line, col);
    }
    return finding(file, 'parse/syntax', `${reason}; fix the YAML syntax`, line, col);
  }
  // Anchors are the only way to share nodes: without '&' no document can be an alias bomb, and
  // js-yaml's maxDepth has bounded the nesting already.
  // A parse that left as many roots as documents is the one indexed; anything else is located by a re-parse.
  if (positions.roots.length !== docs.length) positions.complete = false;
  if (!text.includes('&')) return { file, text, docs, positions };
  return measured(file, text, docs, positions);
}

/** The parse of a text with a `&`, unless a document nests too deep or expands too far through aliases. */
function measured(file: string, text: string, docs: unknown[], positions: FilePositions): SourceFile | Finding {
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i];
    if (doc === null || typeof doc !== 'object') continue;
    const problem = measure(doc);
    if (problem) {
      const line = docStartLine(text, i);
      return problem === 'deep'
        ? finding(file, 'parse/too-deep', `document ${i + 1} nests deeper than ${LIMITS.maxDepth} levels; flatten it`, line)
        : finding(file, 'parse/alias-bomb', `document ${i + 1} expands to more than ${LIMITS.maxExpandedNodes.toLocaleString('en')} nodes through aliases; remove the nested aliases`, line);
    }
  }
  return { file, text, docs, positions };
}

/**
 * Depth and alias-expanded size of a document, without recursion (so a deep document
 * cannot overflow the stack). Shared nodes are counted once per reference, memoized.
 */
function measure(root: object): 'deep' | 'bomb' | null {
  // Depth through aliases, iterative; shared nodes are walked once.
  const stack: [unknown, number][] = [[root, 1]];
  const seen = new Set<object>();
  let shared = false;
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > LIMITS.maxDepth) return 'deep';
    if (seen.has(node as object)) {
      shared = true;
      continue;
    }
    seen.add(node as object);
    const values = Array.isArray(node) ? node : Object.values(node as object);
    for (const v of values) if (v !== null && typeof v === 'object') stack.push([v, depth + 1]);
  }
  if (!shared) return null;
  // Expanded size with memoization, post-order without recursion.
  const size = new Map<object, number>();
  const work: [object, boolean][] = [[root, false]];
  while (work.length) {
    const [node, done] = work.pop()!;
    if (size.has(node)) continue;
    const children = (Array.isArray(node) ? node : Object.values(node)).filter((v): v is object => v !== null && typeof v === 'object');
    if (!done) {
      work.push([node, true]);
      for (const c of children) if (!size.has(c)) work.push([c, false]);
      continue;
    }
    let total = 1 + (Array.isArray(node) ? node.length : Object.keys(node).length);
    for (const c of children) total += size.get(c) ?? 0;
    if (total > LIMITS.maxExpandedNodes) return 'bomb';
    size.set(node, total);
  }
  return null;
}

/** 1-based line where document `index` starts, by counting `---` separators (no parse). */
export function docStartLine(text: string, index: number): number {
  const lines = text.split('\n');
  const firstContent = lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  // A text that opens with `---` has its first document after that separator.
  let wanted = firstContent !== -1 && lines[firstContent].startsWith('---') ? index + 1 : index;
  if (wanted === 0) return 1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('---') && --wanted === 0) return i + 2 > lines.length ? i + 1 : i + 2;
  }
  return 1;
}

/**
 * Finds line and column of a path inside document `docIndex` of a parsed file. For an unknown
 * field, `key` points at the key itself. Falls back to the deepest part of the path that
 * exists, then to the document's first line. The positions kept from the file's one parse
 * (positions.ts) answer; a file without complete positions is re-parsed with the `yaml` package
 * (slow; cached per text). `fromParse` and `reparsed` count the two ways (HOMELAB_DEBUG=positions
 * prints them).
 */
export class Locator {
  private cache = new Map<string, { docs: YAML.Document.Parsed[]; lc: YAML.LineCounter }>();
  /** Findings located from the first parse's positions. */
  fromParse = 0;
  /** Findings located by a re-parse of their file (no complete positions). */
  reparsed = 0;

  locate(src: Pick<SourceFile, 'text' | 'positions'>, docIndex: number, path: DocPath, key?: string): { line: number; col: number; depth: number } {
    const kept = src.positions?.locate(docIndex, path, key);
    if (kept !== undefined) {
      this.fromParse++;
      return kept ?? { line: docStartLine(src.text, docIndex), col: 1, depth: 0 };
    }
    this.reparsed++;
    return this.reparse(src.text, docIndex, path, key);
  }

  /** The slow way: the yaml package's parse of the text, with a LineCounter. */
  reparse(text: string, docIndex: number, path: DocPath, key?: string): { line: number; col: number; depth: number } {
    let parsed = this.cache.get(text);
    if (!parsed) {
      const lc = new YAML.LineCounter();
      const docs = YAML.parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false }) as YAML.Document.Parsed[];
      parsed = { docs: Array.isArray(docs) ? docs : [], lc };
      if (this.cache.size > 16) this.cache.clear();
      this.cache.set(text, parsed);
    }
    const doc = parsed.docs[docIndex];
    const at = doc ? positionIn(doc, parsed.lc, path, key) : null;
    return at ?? { line: docStartLine(text, docIndex), col: 1, depth: 0 };
  }
}

/** Line and column of a character offset. */
export function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, col: offset - last };
}
