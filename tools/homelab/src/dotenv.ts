/**
 * Dotenv files as Compose reads them, and masking their values in output: shared by deploy
 * (secret values it resolves) and validate (a standalone Compose project's own `.env`).
 */

/** Values shorter than this are not masked in output (they would garble every line); deploy warns about them. */
export const MIN_MASKED_LENGTH = 4;

/**
 * Parses a dotenv file the way Compose reads one: `KEY=value`, `export KEY=value`,
 * 'single-quoted' (literal), "double-quoted" (\n, \", \\ and \$ escapes), comments.
 */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    values.set(match[1], unquote(match[2]));
  }
  return values;
}

function unquote(value: string): string {
  if (value.startsWith("'")) {
    const end = value.indexOf("'", 1);
    return end > 0 ? value.slice(1, end) : value.slice(1);
  }
  if (value.startsWith('"')) {
    let out = '';
    for (let i = 1; i < value.length; i++) {
      const c = value[i];
      if (c === '"') break;
      if (c === '\\' && i + 1 < value.length) {
        const next = value[++i];
        out += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next;
      } else out += c;
    }
    return out;
  }
  return value.replace(/\s+#.*$/, '').trim();
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
