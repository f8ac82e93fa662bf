import type jsyaml from 'js-yaml';
import type { DocPath } from '../spec/locate';

/**
 * Source positions kept from js-yaml's one parse of a file, so that a finding's line and column
 * cost no second parse. js-yaml calls a listener when it opens and closes each node; the
 * recorder keeps, for every mapping and sequence it builds, the offsets of its keys and values
 * in one flat array per file (numbers and the key strings the parse made anyway: nothing for the
 * garbage collector to trace per node), and, per document, the offset of its root. Offsets are
 * the parser's raw ones (before the separation space and the node's properties); `locate` turns
 * them into the yaml package's node starts only for the few paths a finding asks for.
 *
 * Where js-yaml builds a collection in a way the recorder cannot pair with its nodes (a sequence
 * item or explicit key without a node, a stray empty node), the file is marked incomplete and
 * its findings fall back to the yaml package's parse (Locator in source.ts): same answers, the
 * slow way.
 */

/** What one file's parse leaves behind: where each document starts and the records of its collections. */
export class FilePositions {
  /** False when a collection could not be paired with its nodes: the file's findings are located by a re-parse. */
  complete = true;
  /**
   * True when every record was written beside the collection it describes (the block reader's):
   * no merge key or alias can have made a record and its mapping differ, so `locate` needs no check.
   */
  paired = false;
  /** Each document's root as parsed (kept to check a record against what it describes). */
  readonly roots: unknown[] = [];
  /** Each document's root record (-1: a scalar or empty document). */
  readonly rootRecords: number[] = [];
  /** Each document's raw start (an empty one's as -offset - 1). */
  readonly starts: number[] = [];
  /**
   * The collections' records, flat: a mapping is `'m', pairs` then (key, keyAt, valueAt,
   * valueRecord) per pair; a sequence `'s', items` then (itemAt, itemRecord) per item. Offsets
   * are raw (an empty node's as -offset - 1); a record of -1 is a scalar.
   */
  records: unknown[] = [];
  private lineStarts: Int32Array | null = null;

  constructor(readonly text: string) {}

  /**
   * Line and column (1-based) of `path` in document `docIndex`, as `positionIn` (spec/locate.ts)
   * finds them in the yaml package's parse: the value's start, or the key's when `key` is given;
   * the deepest part of the path that exists, with `depth` segments found. null where the
   * document is empty; undefined where this file's positions cannot answer.
   */
  locate(docIndex: number, path: DocPath, key?: string): { line: number; col: number; depth: number } | null | undefined {
    if (!this.complete || docIndex >= this.starts.length || this.roots[docIndex] === DROPPED) return undefined;
    const rec = this.records;
    let node: unknown = this.roots[docIndex];
    let r = this.rootRecords[docIndex];
    let at = this.starts[docIndex];
    let depth = 0;
    const n = key === undefined ? path.length : path.length + 1;
    for (let i = 0; i < n && r >= 0; i++) {
      const seg = i < path.length ? path[i] : (key as string);
      const count = rec[r + 1] as number;
      if (rec[r] === 's') {
        const index = typeof seg === 'number' ? seg : /^\d+$/.test(String(seg)) ? Number(seg) : -1;
        if (!(index >= 0 && Number.isInteger(index)) || index >= count) break;
        const e = r + 2 + index * 2;
        at = rec[e] as number;
        r = rec[e + 1] as number;
        node = (node as unknown[])[index];
      } else {
        if (!this.paired && !pairsWith(node, rec, r)) return undefined;
        const want = String(seg);
        let e = r + 2;
        const end = e + count * 4;
        while (e < end && String(rec[e]) !== want) e += 4;
        if (e >= end) break;
        at = i === n - 1 && key !== undefined ? (rec[e + 1] as number) : (rec[e + 2] as number);
        r = rec[e + 3] as number;
        node = (node as Record<string, unknown>)[want];
      }
      depth++;
    }
    const offset = depth === 0 && at < 0 ? this.emptyDocumentStart(-at - 1) : this.start(at);
    if (offset === null) return null;
    const { line, col } = this.lineCol(offset);
    return { line, col, depth };
  }
  /** Where the yaml package starts the node js-yaml opened at `raw`: past the separation space and properties (an empty node: past the spaces of its line). */
  private start(raw: number): number {
    const t = this.text;
    if (raw < 0) {
      let p = -raw - 1;
      while (t[p] === ' ' || t[p] === '\t') p++;
      return p;
    }
    let p = raw;
    for (;;) {
      const c = t[p];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') p++;
      else if (c === '#') {
        while (p < t.length && t[p] !== '\n') p++;
      } else if (c === '&' || c === '!') {
        while (p < t.length && !/\s/.test(t[p])) p++;
      } else return p;
    }
  }

  /**
   * An empty document starts right after its `---` (the yaml package's empty node there); one
   * without a marker has no node at all (null). js-yaml opened it past the comments and blank
   * lines that follow the marker (or on the next document's marker), so its own marker is the last line before `raw` that starts with `---`.
   */
  private emptyDocumentStart(raw: number): number | null {
    const t = this.text;
    // js-yaml may have opened it on the next document's marker: that is not its own.
    let end = (raw === 0 || t[raw - 1] === '\n') && t.startsWith('---', raw) ? raw - 1 : raw;
    while (end > 0) {
      const lineStart = t.lastIndexOf('\n', end - 1) + 1;
      if (t.startsWith('---', lineStart)) return lineStart + 3;
      const line = t.slice(lineStart, end).trim();
      if (line !== '' && !line.startsWith('#')) return null;
      end = lineStart - 1;
    }
    return null;
  }

  private lineCol(offset: number): { line: number; col: number } {
    if (!this.lineStarts) this.lineStarts = lineStartsOf(this.text);
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo] + 1 };
  }

  /** Keeps only the documents still needed: the others' objects may be collected (and their findings, if any, re-parse). */
  retainOnly(docIndexes: ReadonlySet<number>): void {
    if (docIndexes.size === 0) this.records = [];
    for (let i = 0; i < this.roots.length; i++) if (!docIndexes.has(i)) this.roots[i] = DROPPED;
  }
}

/** Where lines start in texts: filled for each text, then copied at the size it needs. */
let lineScratch = new Int32Array(1 << 14);

/**
 * The offset of each line's start in `text`, in an array of exactly as many: no array grown by
 * copies a line at a time (the line starts of the files with findings were 15 of the 218 MB a
 * validate of the bench's 10,000 documents allocated), and none the garbage collector scans.
 */
function lineStartsOf(text: string): Int32Array {
  let scratch = lineScratch;
  let n = 0;
  scratch[n++] = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (n === scratch.length) {
      const larger = new Int32Array(scratch.length * 2);
      larger.set(scratch);
      scratch = lineScratch = larger;
    }
    scratch[n++] = i + 1;
  }
  return scratch.slice(0, n);
}

/** The root of a document whose objects were let go. */
const DROPPED = Symbol('dropped');

/**
 * Does mapping record `r` describe `node`: every key one of its own (or a merge key, `<<`, whose
 * keys js-yaml merged in), and, without merge keys, as many? Checked where a finding asks, not
 * while parsing.
 */
function pairsWith(node: unknown, rec: unknown[], r: number): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  const count = rec[r + 1] as number;
  let merge = false;
  for (let e = r + 2; e < r + 2 + count * 4; e += 4) {
    const key = rec[e];
    if (key !== null && typeof key === 'object') return false;
    if (String(key) === '<<') merge = true;
    else if (!Object.hasOwn(node, String(key))) return false;
  }
  return merge || Object.keys(node).length === count;
}

interface ParserState {
  position: number;
  result: unknown;
  tag: string | null;
  anchor: string | null;
}

/**
 * A js-yaml `listener` that records `positions` while the file is parsed, into flat arrays: no
 * allocation per node. Each open node pushes where its children begin and its offset; a closing
 * collection writes its children into its record, and every closing node leaves (offset, result,
 * record) for its parent.
 */
export function recordPositions(positions: FilePositions): (event: jsyaml.EventType, parser: jsyaml.State) => void {
  // Two stacks with their own tops (setting an array's length to truncate it costs more than the rest).
  const marks: number[] = [];
  let marksTop = 0;
  const kids: unknown[] = [];
  let kidsTop = 0;
  /** Records of anchored collections, for their aliases. */
  let anchors: Map<unknown, number> | null = null;
  return (event, parser) => {
    const state = parser as unknown as ParserState;
    if (event === 'open') {
      marks[marksTop++] = kidsTop;
      marks[marksTop++] = state.position;
      return;
    }
    const open = marks[--marksTop];
    const base = marks[--marksTop];
    const result = state.result;
    const at = result === null && state.tag === null && state.anchor === null ? -open - 1 : open;
    let r = -1;
    if (result !== null && typeof result === 'object') {
      const n = kidsTop - base;
      if (n === 3 && kids[base + 1] === result) r = kids[base + 2] as number;
      else if (n === 0) {
        // An alias (of an anchored collection), or an empty collection.
        r = anchors?.get(result) ?? -1;
        if (r < 0 && (Array.isArray(result) ? result.length > 0 : Object.keys(result).length > 0)) positions.complete = false;
      } else {
        r = writeRecord(positions.records, result, kids, base, kidsTop);
        if (r < 0) positions.complete = false;
      }
      if (state.anchor !== null && r >= 0) (anchors ??= new Map()).set(result, r);
    }
    kidsTop = base;
    if (marksTop === 0) {
      // A document's root.
      positions.roots.push(result);
      positions.rootRecords.push(r);
      positions.starts.push(at);
      return;
    }
    kids[kidsTop++] = at;
    kids[kidsTop++] = result;
    kids[kidsTop++] = r;
  };
}

/** Writes a collection's record from its children's (offset, result, record) triples, `kids[base..top)`; -1 when they do not pair with it. */
function writeRecord(rec: unknown[], result: object, kids: unknown[], base: number, top: number): number {
  const r = rec.length;
  if (Array.isArray(result)) {
    if (top - base !== result.length * 3) return -1;
    rec.push('s', result.length);
    for (let k = base; k < top; k += 3) rec.push(kids[k], kids[k + 2]);
    return r;
  }
  // A block mapping ends where js-yaml's attempt to read one more key finds nothing: that empty node is no child of it.
  let end = top;
  if ((end - base) % 6 === 3 && kids[end - 2] === null && (kids[end - 3] as number) < 0) end -= 3;
  if ((end - base) % 6 !== 0) return -1;
  rec.push('m', (end - base) / 6);
  for (let k = base; k < end; k += 6) rec.push(kids[k + 1], kids[k], kids[k + 3], kids[k + 5]);
  return r;
}
