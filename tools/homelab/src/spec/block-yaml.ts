/**
 * A reader for the YAML that manifests are written in (block mappings and sequences, one-line
 * scalars and flow collections on their key's line or the line below, literal block scalars),
 * giving what js-yaml's `loadAll` gives with the same schema, and the same source positions, in
 * well under half of the time (0.37-0.48× of js-yaml with validate's position listener on the
 * validate bench's corpus) and with less garbage. Whatever it was not built for (anchors, aliases, tags, directives, tabs,
 * multi-line plain or quoted scalars, folded block scalars, flow collections over several lines,
 * explicit keys, empty documents, duplicate keys, anything malformed) makes it give up on the whole
 * file, and the caller parses the file with js-yaml as before: it never guesses.
 *
 * Its answers are checked against js-yaml's (documents, deep-equal) and the yaml package's
 * (positions) on the test corpora and on thousands of mutated files (block-yaml.test.ts).
 */

/**
 * Where the reader keeps its positions: validate's FilePositions (validate/positions.ts), whose
 * fields these are; see recordPositions there for the layout of `records`.
 */
export interface BlockPositions {
  records: unknown[];
  readonly roots: unknown[];
  readonly rootRecords: number[];
  readonly starts: number[];
  paired: boolean;
}

/** The parts of a js-yaml type the reader uses to resolve a plain scalar (null, bool, int, float, merge). */
export interface ImplicitType {
  tag: string;
  resolve(data: string): boolean;
  construct(data: string): unknown;
}

/** Thrown where the reader gives up: the file is read by js-yaml instead. */
class GiveUp {}
const GIVE_UP = new GiveUp();

const NL = 10;
const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;
const COMMA = 44;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const PIPE = 124;
const BACKSLASH = 92;

/**
 * First characters a plain scalar may not start with in the reader: YAML's indicators, and `?` and
 * `:`, which js-yaml reads in ways of its own. `-` may start one when a character other than a
 * space follows (`-1`, `--flag`): plainStart.
 */
const NOT_PLAIN_START = new Uint8Array(128);
for (const c of '?:,[]{}#&*!|>\'"%@`') NOT_PLAIN_START[c.charCodeAt(0)] = 1;
/**
 * First characters of a plain scalar that one of the core schema's implicit types may resolve
 * (null, bool, int, float; merge resolves `<<` to itself, the text the reader keeps anyway).
 */
const MAY_RESOLVE = new Uint8Array(128);
for (const c of '~nNtTfF-+.0123456789') MAY_RESOLVE[c.charCodeAt(0)] = 1;

/**
 * Characters js-yaml refuses in a stream (controls, U+FFFE, U+FFFF, a lone surrogate), and some it
 * takes (NEL, surrogate pairs) that the reader leaves to it rather than tell apart: one class, one
 * quick scan.
 */
const UNUSUAL_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** The core schema's implicit types: with only these the reader tries them on the plain scalars MAY_RESOLVE picks; with any other, on every one. */
export const KNOWN_IMPLICIT_TAGS = ['tag:yaml.org,2002:null', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:merge'];

/**
 * Every document of `text`, filling the new `positions` (if given) as js-yaml's listener
 * (validate/positions.ts recordPositions) would, or undefined where the reader gives up
 * (`positions` is then to be thrown away). `implicit` is the schema's compiled implicit types, in
 * js-yaml's order: the core schema's (KNOWN_IMPLICIT_TAGS), each tried only on a plain scalar
 * whose first character one of them may resolve, or others, tried on every plain scalar.
 * An error a type's construct throws is the caller's.
 */
export function readBlockYaml(text: string, implicit: readonly ImplicitType[], maxDepth: number, positions?: BlockPositions): unknown[] | undefined {
  if (text.length === 0 || text.charCodeAt(0) === 0xfeff || text.includes('\t') || text.includes('\r') || UNUSUAL_CHARACTER.test(text)) return undefined;
  // Without `positions` no record is written: the caller wants the values only.
  const into = positions ?? { records: [], roots: [], rootRecords: [], starts: [], paired: false };
  // The records' room made at once, about what manifests need (a slot for every 4 characters, at
  // most RECORDS_ROOM), instead of growing the array by copies: those were a fifth of a validate
  // run's allocations.
  const used = into.records.length;
  if (positions && used === 0) into.records = new Array(Math.min(RECORDS_ROOM, (text.length >> 2) + 16));
  const reader = new Reader(text, implicit, maxDepth, into, implicit.every((t) => KNOWN_IMPLICIT_TAGS.includes(t.tag)), positions !== undefined);
  // Records already there (none from validate's parse) stay first.
  reader.recordsTop = used;
  try {
    reader.documents();
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  into.records.length = reader.recordsTop;
  into.paired = true;
  // The positions keep their own list of roots (validate lets go of some): the caller gets a copy.
  return positions ? into.roots.slice() : into.roots;
}

/** The most slots of records made room for at once (larger arrays are grown as they fill). */
const RECORDS_ROOM = 1 << 16;

class Reader {
  private readonly records: unknown[];
  /** Slots of `records` written: the array may have room beyond. */
  recordsTop = 0;
  private readonly n: number;
  /** Indentation of the line `nextContent` last returned. */
  private ind = 0;
  /** Set by each node reader: the record of what it read (-1: a scalar or empty collection)... */
  private rec = -1;
  /** ...and the start of the next line with content after it (or the text's length). */
  private next = 0;
  /** Set by `keyEnd`: the key's value as js-yaml composes it. */
  private key: unknown = null;
  /** Set by the scalar readers: where the scalar ends. */
  private end = 0;
  /** The last `keyEnd` asked and answered (each key's line is asked twice: is it a key, then where does it end). */
  private keyAsked = -1;
  private keyAnswer = -1;
  /** The children of the collections being read, (key, keyAt, valueAt, record) or (at, record) each, as one stack for all. */
  private readonly kids: unknown[] = [];
  private kidsTop = 0;

  constructor(
    private readonly t: string,
    private readonly implicit: readonly ImplicitType[],
    private readonly maxDepth: number,
    private readonly positions: BlockPositions,
    /** The types are the core schema's: a plain scalar whose first character none of them resolves is a string. */
    private readonly core: boolean,
    /** Whether records are written (positions were asked for). */
    private readonly recording: boolean,
  ) {
    this.n = t.length;
    this.records = positions.records;
  }

  documents(): void {
    const t = this.t;
    let p = this.nextContent(0);
    if (p >= this.n) throw GIVE_UP;
    for (;;) {
      if (this.isMarker(p)) {
        // `---` alone on its line (a comment may follow).
        const s = this.skipSpaces(p + 3);
        const c = t.charCodeAt(s);
        if (!(s >= this.n || c === NL || (c === HASH && s > p + 3))) throw GIVE_UP;
        p = this.nextContent(this.lineEnd(s) + 1);
      }
      // An empty document, a document that is a scalar or indented, `...`: js-yaml's to read.
      if (p >= this.n || this.ind !== 0 || this.isMarker(p) || this.t.startsWith('...', p)) throw GIVE_UP;
      if (!this.isSequenceItem(p) && this.keyEnd(p) < 0) throw GIVE_UP;
      const value = this.blockNode(p, 0, 1, -1);
      this.positions.roots.push(value);
      this.positions.rootRecords.push(this.rec);
      this.positions.starts.push(p);
      p = this.next;
      if (p >= this.n) return;
      if (!this.isMarker(p)) throw GIVE_UP;
    }
  }

  /**
   * The node below a key or dash at column `parent`, its first line at `ls`, indented `indent`:
   * a block mapping or sequence, or a one-line scalar or flow collection (`key:` then `{}` below).
   */
  private blockNode(ls: number, indent: number, depth: number, parent: number): unknown {
    const s = ls + indent;
    if (this.isSequenceItem(s)) return this.blockSequence(ls, indent, depth);
    if (this.keyEnd(s) >= 0) return this.blockMapping(s, indent, depth);
    // A block scalar's header on a line of its own: js-yaml's.
    if (this.t.charCodeAt(s) === PIPE) throw GIVE_UP;
    return this.inlineValue(s, parent, depth);
  }

  /** A block mapping whose first key starts at `kp`, its keys at column `indent`. */
  private blockMapping(kp: number, indent: number, depth: number): object {
    if (depth > this.maxDepth) throw GIVE_UP;
    const t = this.t;
    const obj: Record<string, unknown> = {};
    const base = this.kidsTop;
    for (;;) {
      const colon = this.keyEnd(kp);
      if (colon < 0) throw GIVE_UP;
      const key = this.key;
      const name = String(key);
      // Merge keys, __proto__ and duplicates are js-yaml's to handle (or refuse).
      if (name === '<<' || name === '__proto__' || Object.hasOwn(obj, name)) throw GIVE_UP;
      let value: unknown;
      let at: number;
      const s = this.skipSpaces(colon + 1);
      const c = t.charCodeAt(s);
      if (s >= this.n || c === NL || c === HASH) {
        // The value is on the lines below, or empty.
        const q = this.nextContent(this.lineEnd(s) + 1);
        const qi = this.ind;
        if (q < this.n && qi > indent) {
          value = this.blockNode(q, qi, depth + 1, indent);
          at = q + qi;
        } else if (q < this.n && qi === indent && this.isSequenceItem(q + qi)) {
          // A sequence may sit at its key's own indentation.
          value = this.blockSequence(q, indent, depth + 1);
          at = q + qi;
        } else {
          value = null;
          at = -(colon + 1) - 1;
          this.rec = -1;
          this.next = q;
        }
      } else {
        value = this.inlineValue(s, indent, depth + 1);
        at = s;
      }
      obj[name] = value;
      const kids = this.kids;
      let top = this.kidsTop;
      kids[top++] = key;
      kids[top++] = kp;
      kids[top++] = at;
      kids[top++] = this.rec;
      this.kidsTop = top;
      const q = this.next;
      if (q >= this.n) break;
      const qi = this.ind;
      if (qi < indent) break;
      if (qi > indent) throw GIVE_UP;
      if (indent === 0 && (this.isMarker(q) || t.startsWith('...', q))) break;
      kp = q + qi;
    }
    this.rec = this.writeRecord('m', base, 4);
    return obj;
  }

  /** A block sequence whose first item's line starts at `ls`, its dashes at column `indent`. */
  private blockSequence(ls: number, indent: number, depth: number): unknown[] {
    if (depth > this.maxDepth) throw GIVE_UP;
    const t = this.t;
    const arr: unknown[] = [];
    const base = this.kidsTop;
    let line = ls;
    for (;;) {
      const d = line + indent;
      const s = this.skipSpaces(d + 1);
      const c = t.charCodeAt(s);
      let value: unknown;
      let at: number;
      if (s >= this.n || c === NL || c === HASH) {
        const q = this.nextContent(this.lineEnd(s) + 1);
        const qi = this.ind;
        if (q < this.n && qi > indent) {
          value = this.blockNode(q, qi, depth + 1, indent);
          at = q + qi;
        } else {
          // An empty item: js-yaml's to place.
          throw GIVE_UP;
        }
      } else if (this.isSequenceItem(s)) {
        // A sequence as an item on the dash's line.
        throw GIVE_UP;
      } else if (this.keyEnd(s) >= 0) {
        value = this.blockMapping(s, s - line, depth + 1);
        at = s;
      } else {
        value = this.inlineValue(s, indent, depth + 1);
        at = s;
      }
      arr.push(value);
      this.kids[this.kidsTop++] = at;
      this.kids[this.kidsTop++] = this.rec;
      const q = this.next;
      if (q >= this.n) break;
      const qi = this.ind;
      if (qi < indent) break;
      if (qi > indent) throw GIVE_UP;
      if (!this.isSequenceItem(q + qi)) break;
      if (indent === 0 && this.isMarker(q)) break;
      line = q;
    }
    this.rec = this.writeRecord('s', base, 2);
    return arr;
  }

  /**
   * A value that starts on its key's or dash's line at `s`: a scalar, a flow collection or a
   * literal block scalar. `indent` is the column of its key or dash: a line below indented
   * deeper than that would continue it, which the reader leaves to js-yaml.
   */
  private inlineValue(s: number, indent: number, depth: number): unknown {
    const t = this.t;
    const c = t.charCodeAt(s);
    let value: unknown;
    this.rec = -1;
    if (c === PIPE) return this.literal(s, indent);
    if (c === DQUOTE) value = this.doubleQuoted(s);
    else if (c === SQUOTE) value = this.singleQuoted(s);
    else if (c === LBRACKET || c === LBRACE) {
      value = this.flow(s, depth);
    } else {
      value = this.plainBlock(s);
    }
    // Only spaces and a comment may follow on the line.
    const e = this.skipSpaces(this.end);
    const ce = t.charCodeAt(e);
    if (!(e >= this.n || ce === NL || (ce === HASH && e > this.end))) throw GIVE_UP;
    const q = this.nextContent(this.lineEnd(e) + 1);
    if (q < this.n && this.ind > indent) throw GIVE_UP;
    this.next = q;
    return value;
  }

  /** A plain scalar on one line of block context, resolved by the schema; `end` set past it. */
  private plainBlock(s: number): unknown {
    const t = this.t;
    if (!this.plainStart(s, false)) throw GIVE_UP;
    let i = s;
    let last = s;
    for (; i < this.n; i++) {
      const ch = t.charCodeAt(i);
      if (ch === NL) break;
      if (ch === SPACE) continue;
      if (ch === HASH && t.charCodeAt(i - 1) === SPACE) break;
      // `a: b` in a value is a mapping where none may start (or, in a sequence item, one the caller would have seen).
      if (ch === COLON) {
        const after = t.charCodeAt(i + 1);
        if (i + 1 >= this.n || after === SPACE || after === NL) throw GIVE_UP;
      }
      last = i + 1;
    }
    this.end = last;
    return this.resolve(t.slice(s, last));
  }

  /** What js-yaml makes of a plain scalar: the first of the schema's implicit types that resolves it, else the string. */
  private resolve(text: string): unknown {
    const c = text.charCodeAt(0);
    if (!this.core || (c < 128 && MAY_RESOLVE[c])) {
      for (const type of this.implicit) if (type.resolve(text)) return type.construct(text);
    }
    return text;
  }

  /** A double-quoted scalar that closes on its line; `end` set past the closing quote. */
  private doubleQuoted(s: number): string {
    const t = this.t;
    let out = '';
    let from = s + 1;
    for (let i = s + 1; i < this.n; i++) {
      const ch = t.charCodeAt(i);
      if (ch === DQUOTE) {
        this.end = i + 1;
        return out + t.slice(from, i);
      }
      if (ch === NL) throw GIVE_UP;
      if (ch === BACKSLASH) {
        out += t.slice(from, i);
        const e = t[i + 1];
        const simple = ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          i += 1;
        } else if (e === 'x' || e === 'u' || e === 'U') {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = t.slice(i + 2, i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw GIVE_UP;
          const code = parseInt(hex, 16);
          if (code > 0x10ffff) throw GIVE_UP;
          out += String.fromCodePoint(code);
          i += 1 + len;
        } else throw GIVE_UP;
        from = i + 1;
      }
    }
    throw GIVE_UP;
  }

  /** A single-quoted scalar that closes on its line; `end` set past the closing quote. */
  private singleQuoted(s: number): string {
    const t = this.t;
    let out = '';
    let from = s + 1;
    for (let i = s + 1; i < this.n; i++) {
      const ch = t.charCodeAt(i);
      if (ch === NL) throw GIVE_UP;
      if (ch === SQUOTE) {
        if (t.charCodeAt(i + 1) === SQUOTE) {
          out += t.slice(from, i + 1);
          i++;
          from = i + 1;
          continue;
        }
        this.end = i + 1;
        return out + t.slice(from, i);
      }
    }
    throw GIVE_UP;
  }

  /**
   * A literal block scalar (`|` or `|-`) whose header is at `s`, under a key or dash at column
   * `indent`. Indentation indicators, `|+`, an empty scalar, lines of spaces deeper than its text
   * and a text that ends without a line break are left to js-yaml.
   */
  private literal(s: number, indent: number): string {
    const t = this.t;
    let h = s + 1;
    const strip = t.charCodeAt(h) === DASH;
    if (strip) h++;
    const hs = this.skipSpaces(h);
    const hc = t.charCodeAt(hs);
    if (!(hc === NL || (hc === HASH && hs > h))) throw GIVE_UP;
    let line = this.lineEnd(hs) + 1;
    const lines: string[] = [];
    let contentIndent = -1;
    let lastContent = -1;
    let after = line;
    while (line < this.n) {
      const e = this.lineEnd(line);
      const sp = this.skipSpaces(line);
      if (sp === e) {
        // A line of spaces only.
        if (contentIndent >= 0 && sp - line > contentIndent) throw GIVE_UP;
        lines.push('');
        if (contentIndent < 0 && sp - line > indent + 1) {
          // Leading spaces-only lines deeper than the text that follows are an error, or content: js-yaml's.
          throw GIVE_UP;
        }
        line = e + 1;
        continue;
      }
      const ind = sp - line;
      if (contentIndent < 0) {
        if (ind <= indent) break;
        contentIndent = ind;
      } else if (ind < contentIndent) break;
      if (e >= this.n) throw GIVE_UP;
      lines.push(t.slice(line + contentIndent, e));
      lastContent = lines.length;
      line = e + 1;
      after = line;
    }
    if (contentIndent < 0) throw GIVE_UP;
    lines.length = lastContent;
    this.rec = -1;
    this.next = this.nextContent(after);
    if (this.next < this.n && this.ind > indent) throw GIVE_UP;
    const text = lines.join('\n');
    return strip ? text : text + '\n';
  }

  /** A flow sequence or mapping that closes on its line; `rec` and `end` set. */
  private flow(s: number, depth: number): unknown {
    if (depth > this.maxDepth) throw GIVE_UP;
    const t = this.t;
    const seq = t.charCodeAt(s) === LBRACKET;
    const close = seq ? RBRACKET : RBRACE;
    let p = this.skipSpaces(s + 1);
    if (t.charCodeAt(p) === close) {
      this.rec = -1;
      this.end = p + 1;
      return seq ? [] : {};
    }
    const arr: unknown[] = [];
    const obj: Record<string, unknown> = {};
    const base = this.kidsTop;
    const kids = this.kids;
    for (;;) {
      let at = p;
      if (seq) {
        const value = this.flowItem(p, depth, false);
        arr.push(value);
        kids[this.kidsTop++] = at;
        kids[this.kidsTop++] = this.rec;
      } else {
        this.flowItem(p, depth, true);
        const key = this.key;
        const name = String(key);
        if (name === '<<' || name === '__proto__' || Object.hasOwn(obj, name)) throw GIVE_UP;
        const colon = this.skipSpaces(this.end);
        if (t.charCodeAt(colon) !== COLON || t.charCodeAt(colon + 1) !== SPACE) throw GIVE_UP;
        at = this.skipSpaces(colon + 1);
        const value = this.flowItem(at, depth, false);
        obj[name] = value;
        kids[this.kidsTop++] = key;
        kids[this.kidsTop++] = p;
        kids[this.kidsTop++] = at;
        kids[this.kidsTop++] = this.rec;
      }
      p = this.skipSpaces(this.end);
      const c = t.charCodeAt(p);
      if (c === close) break;
      if (c !== COMMA) throw GIVE_UP;
      p = this.skipSpaces(p + 1);
      // A trailing comma, or the collection going on over the next line: js-yaml's.
      const n = t.charCodeAt(p);
      if (n === close || n === COMMA || n === NL || p >= this.n) throw GIVE_UP;
    }
    this.end = p + 1;
    this.rec = seq ? this.writeRecord('s', base, 2) : this.writeRecord('m', base, 4);
    return seq ? arr : obj;
  }

  /** One entry of a flow collection at `s` (a key, where `asKey`); `end` set past it, `rec` set, `key` set for a key. */
  private flowItem(s: number, depth: number, asKey: boolean): unknown {
    const t = this.t;
    const c = t.charCodeAt(s);
    let value: unknown;
    this.rec = -1;
    if (c === DQUOTE) value = this.doubleQuoted(s);
    else if (c === SQUOTE) value = this.singleQuoted(s);
    else if (c === LBRACKET || c === LBRACE) {
      if (asKey) throw GIVE_UP;
      return this.flow(s, depth + 1);
    } else {
      if (!this.plainStart(s, true)) throw GIVE_UP;
      let i = s;
      let last = s;
      for (; i < this.n; i++) {
        const ch = t.charCodeAt(i);
        if (ch === NL || ch === COMMA || ch === RBRACKET || ch === RBRACE) break;
        if (ch === LBRACKET || ch === LBRACE) throw GIVE_UP;
        if (ch === SPACE) continue;
        if (ch === HASH && t.charCodeAt(i - 1) === SPACE) throw GIVE_UP;
        if (ch === COLON) {
          const after = t.charCodeAt(i + 1);
          if (after === SPACE || after === COMMA || after === RBRACKET || after === RBRACE || after === NL) {
            if (!asKey) throw GIVE_UP;
            break;
          }
          // `a:b` as a key is js-yaml's to read; as a value (`http://x`) it is one plain scalar.
          if (asKey) throw GIVE_UP;
        }
        last = i + 1;
      }
      this.end = last;
      value = this.resolve(t.slice(s, last));
    }
    if (asKey) this.key = value;
    return value;
  }

  /**
   * Where the key that starts at `s` ends: the offset of its `:` (followed by a space, a line
   * break or the end), with `key` set to its value; -1 where the line holds no key.
   */
  private keyEnd(s: number): number {
    if (s === this.keyAsked) return this.keyAnswer;
    this.keyAsked = s;
    this.keyAnswer = this.findKeyEnd(s);
    return this.keyAnswer;
  }

  private findKeyEnd(s: number): number {
    const t = this.t;
    const c = t.charCodeAt(s);
    if (c === DQUOTE || c === SQUOTE) {
      let k: string;
      try {
        k = c === DQUOTE ? this.doubleQuoted(s) : this.singleQuoted(s);
      } catch (e) {
        if (e === GIVE_UP) return -1;
        throw e;
      }
      const colon = this.skipSpaces(this.end);
      if (t.charCodeAt(colon) !== COLON) return -1;
      const after = t.charCodeAt(colon + 1);
      if (!(colon + 1 >= this.n || after === SPACE || after === NL)) return -1;
      this.key = k;
      return colon;
    }
    if (!this.plainStart(s, false)) return -1;
    let last = s;
    for (let i = s; i < this.n; i++) {
      const ch = t.charCodeAt(i);
      if (ch === NL) return -1;
      if (ch === SPACE) continue;
      if (ch === HASH && t.charCodeAt(i - 1) === SPACE) return -1;
      if (ch === COLON) {
        const after = t.charCodeAt(i + 1);
        if (i + 1 >= this.n || after === SPACE || after === NL) {
          this.key = this.resolve(t.slice(s, last));
          return i;
        }
      }
      last = i + 1;
    }
    return -1;
  }

  /** Moves the children above `base` on the stack into a new record of `kind`, `width` slots each; its index. */
  private writeRecord(kind: 'm' | 's', base: number, width: number): number {
    if (!this.recording) {
      this.kidsTop = base;
      return -1;
    }
    const records = this.records;
    const kids = this.kids;
    const r = this.recordsTop;
    const top = this.kidsTop;
    let w = r;
    records[w++] = kind;
    records[w++] = (top - base) / width;
    for (let i = base; i < top; i++) records[w++] = kids[i];
    this.recordsTop = w;
    this.kidsTop = base;
    return r;
  }

  /** Can a plain scalar start at `s` (in a flow collection, where `inFlow`)? */
  private plainStart(s: number, inFlow: boolean): boolean {
    const c = this.t.charCodeAt(s);
    if (c === DASH) {
      const after = this.t.charCodeAt(s + 1);
      return !(s + 1 >= this.n || after === SPACE || after === NL || (inFlow && (after === COMMA || after === RBRACKET || after === RBRACE || after === LBRACKET || after === LBRACE)));
    }
    return !(c < 128 && NOT_PLAIN_START[c]);
  }

  /** Is there a block sequence's dash at `s` (followed by a space, a line break or the end)? */
  private isSequenceItem(s: number): boolean {
    if (this.t.charCodeAt(s) !== DASH) return false;
    const c = this.t.charCodeAt(s + 1);
    return s + 1 >= this.n || c === SPACE || c === NL;
  }

  /** Is the line at `ls` a document marker (`---` then a space, a line break or the end)? */
  private isMarker(ls: number): boolean {
    const t = this.t;
    if (t.charCodeAt(ls) !== DASH || t.charCodeAt(ls + 1) !== DASH || t.charCodeAt(ls + 2) !== DASH) return false;
    const c = t.charCodeAt(ls + 3);
    return ls + 3 >= this.n || c === SPACE || c === NL;
  }

  private skipSpaces(p: number): number {
    const t = this.t;
    while (t.charCodeAt(p) === SPACE) p++;
    return p;
  }

  private lineEnd(p: number): number {
    const e = this.t.indexOf('\n', p);
    return e < 0 ? this.n : e;
  }

  /** The start of the first line at or after the line start `p` that holds more than spaces and a comment; `ind` set to its indentation. */
  private nextContent(p: number): number {
    const t = this.t;
    while (p < this.n) {
      const s = this.skipSpaces(p);
      const c = t.charCodeAt(s);
      if (c === NL) p = s + 1;
      else if (c === HASH) p = this.lineEnd(s) + 1;
      else if (s >= this.n) return this.n;
      else {
        this.ind = s - p;
        return p;
      }
    }
    return this.n;
  }
}

/** The escapes of a double-quoted scalar that stand for one fixed text. */
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
