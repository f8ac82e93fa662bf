/**
 * Dotenv files as Compose reads them, and masking their values in output: shared by deploy
 * (secret values it resolves), validate (a standalone Compose project's own `.env`) and import
 * (a stack's `.env` and env_files, interpolated as Compose does).
 */
import { InputError } from './errors';

/** Values shorter than this are not masked in output (they would garble every line); deploy warns about them. */
export const MIN_MASKED_LENGTH = 4;

/** One statement of a dotenv file. */
export interface DotenvEntry {
  key: string;
  /** The value; undefined for a bare `KEY` line whose variable the lookup does not know. */
  value: string | undefined;
  /** The value as written (quotes removed, escapes expanded), before interpolation; absent for a bare `KEY` line. */
  written?: string;
  /** True when Compose interpolates the value (unquoted or double-quoted), false when it is taken literally. */
  interpolated: boolean;
  /** The line the statement starts on (1-based). */
  line: number;
}

export interface DotenvOptions {
  /**
   * Interpolates an unquoted or double-quoted value, given the values read so far in the file
   * (Compose: `${VAR}` from the environment, else from an earlier line). Without it values are
   * taken literally (`\$` in double quotes is a `$`).
   */
  expand?: (written: string, earlier: ReadonlyMap<string, string>) => string;
  /** Where a bare `KEY` line takes its value (Compose: the environment). */
  lookup?: (name: string) => string | undefined;
  /** Throw a DotenvSyntaxError at the first malformed statement instead of skipping its line. */
  strict?: boolean;
}

/** A malformed statement; the message names the line and the problem, never a value. */
export class DotenvSyntaxError extends InputError {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'DotenvSyntaxError';
  }
}

/**
 * Reads a dotenv file statement by statement the way Compose (compose-go's dotenv parser) does:
 * `KEY=value`, `KEY: value`, `export KEY=value`, a bare `KEY` (taken from `lookup`), comments,
 * unquoted values cut at ` #` and trimmed, 'single-quoted' values taken literally (`\'` is a
 * quote), "double-quoted" values with shell escapes (`\n`, `\t`, `\"`, `\\`, `\$`, `\0ooo`); both
 * quoted forms may span lines. Unquoted and double-quoted values go through `expand`.
 *
 * @example
 * readDotenv('A=1\nB="x${A}"\n', { expand: (v, earlier) => v.replace('${A}', earlier.get('A') ?? '') })
 * // → [{ key: 'A', value: '1', … }, { key: 'B', value: 'x1', written: 'x${A}', … }]
 */
export function readDotenv(text: string, options: DotenvOptions = {}): DotenvEntry[] {
  const entries: DotenvEntry[] = [];
  const earlier = new Map<string, string>();
  const scanner = new DotenvScanner(text);
  while (scanner.nextStatement()) {
    const line = scanner.line;
    try {
      const entry = scanner.statement(options, earlier);
      entry.line = line;
      entries.push(entry);
      if (entry.value !== undefined) earlier.set(entry.key, entry.value);
    } catch (error) {
      if (options.strict || !(error instanceof DotenvSyntaxError)) throw error;
      scanner.skipLine(line);
    }
  }
  return entries;
}

/**
 * Parses a dotenv file into its values, taken literally (no interpolation), skipping malformed
 * lines: what deploy reads from its own secrets file and validate masks.
 */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of readDotenv(text)) if (entry.value !== undefined) values.set(entry.key, entry.value);
  return values;
}

/** Spaces that do not end a line (compose-go's isSpace). */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r' || c === '\u0085' || c === '\u00a0';
}

function isKeyChar(c: string): boolean {
  return c === '_' || c === '.' || c === '-' || c === '[' || c === ']' || /[\p{L}\p{N}]/u.test(c);
}

class DotenvScanner {
  private i = 0;
  line = 1;

  constructor(private readonly text: string) {}

  /** Skips blank space and comments; false at the end of the text. */
  nextStatement(): boolean {
    const t = this.text;
    for (;;) {
      while (this.i < t.length && /\s/u.test(t[this.i])) {
        if (t[this.i] === '\n') this.line++;
        this.i++;
      }
      if (this.i >= t.length) return false;
      if (t[this.i] !== '#') return true;
      while (this.i < t.length && t[this.i] !== '\n') this.i++;
    }
  }

  /** Moves past the line a malformed statement started on (lenient reading). */
  skipLine(from: number): void {
    const t = this.text;
    if (this.line > from) return;
    while (this.i < t.length && t[this.i] !== '\n') this.i++;
  }

  statement(options: DotenvOptions, earlier: ReadonlyMap<string, string>): DotenvEntry {
    const t = this.text;
    const exported = /^export\s+/.exec(t.slice(this.i, this.i + 64));
    if (exported) {
      this.i += 'export'.length;
      while (this.i < t.length && isSpace(t[this.i])) this.i++;
    }
    const start = this.i;
    let inherited = true;
    let end = t.length;
    for (; this.i < t.length; this.i++) {
      const c = t[this.i];
      if (isSpace(c)) continue;
      if (c === '=' || c === ':' || c === '\n') {
        inherited = c === '\n';
        end = this.i;
        break;
      }
      if (!isKeyChar(c)) throw new DotenvSyntaxError(this.line, `unexpected character ${JSON.stringify(c)} in a variable name; names hold letters, digits, _ . -`);
    }
    const key = t.slice(start, end).trimEnd();
    if (key === '') throw new DotenvSyntaxError(this.line, 'a value without a variable name; write KEY=value');
    if (key.includes(' ')) throw new DotenvSyntaxError(this.line, 'a variable name with a space; write KEY=value');
    if (this.i < t.length) this.i++; // past the terminator
    if (inherited) {
      if (t[end] === '\n') this.line++;
      return { key, value: options.lookup?.(key), interpolated: false, line: this.line };
    }
    while (this.i < t.length && isSpace(t[this.i])) this.i++;
    const quote = t[this.i];
    if (quote !== '"' && quote !== "'") {
      let stop = t.indexOf('\n', this.i);
      if (stop < 0) stop = t.length;
      const raw = t.slice(this.i, stop);
      this.i = stop;
      const cut = raw.indexOf(' #');
      const written = (cut >= 0 ? raw.slice(0, cut) : raw).replace(/\s+$/u, '');
      return { key, value: options.expand ? options.expand(written, earlier) : written, written, interpolated: true, line: this.line };
    }
    let chars = '';
    let escaped = false;
    let lines = 0;
    for (let j = this.i + 1; j < t.length; j++) {
      const c = t[j];
      if (c === '\n') lines++;
      if (escaped) {
        escaped = false;
        if (c !== quote) chars += '\\';
        chars += c;
      } else if (c === '\\') {
        escaped = true;
      } else if (c === quote) {
        this.i = j + 1;
        this.line += lines;
        if (quote === "'") return { key, value: chars, written: chars, interpolated: false, line: this.line };
        const written = expandEscapes(chars, options.expand !== undefined);
        return { key, value: options.expand ? options.expand(written, earlier) : written, written, interpolated: true, line: this.line };
      } else {
        chars += c;
      }
    }
    throw new DotenvSyntaxError(this.line, `a quoted value without its closing ${quote}; close the quote`);
  }
}

const CONTROL: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

/** Shell escapes in double quotes, as compose-go expands them; `\$` stays an escaped `$$` when the value is interpolated next. */
function expandEscapes(value: string, interpolated: boolean): string {
  return value.replace(/\\(?:[abcfnrtv$"\\]|0\d{0,3})/g, (match) => {
    const c = match[1];
    if (c === '$') return interpolated ? '$$' : '$';
    if (c === '0') {
      const digits = match.slice(2);
      const code = /^[0-7]{3}$/.test(digits) ? parseInt(digits, 8) : NaN;
      return code <= 0o377 ? String.fromCharCode(code) : match;
    }
    return CONTROL[c] ?? match;
  });
}

/** Replaces every secret value (longest first) by `***` in a text. */
export function makeMasker(values: Iterable<string>): (text: string) => string {
  const secrets = [...new Set([...values].filter((v) => v.length >= MIN_MASKED_LENGTH))].sort((a, b) => b.length - a.length);
  // Also the forms a value takes in YAML/JSON output and in env files.
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(s.replace(/\$/g, '$$$$'));
    for (const line of s.split(/\r?\n/)) if (line.length >= MIN_MASKED_LENGTH) forms.add(line);
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of ordered) out = out.split(s).join('***');
    return out;
  };
}
