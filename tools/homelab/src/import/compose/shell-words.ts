/**
 * Splits a command string into words as Compose does for `command: "…"` and `entrypoint: "…"`
 * (go-shellwords with its defaults): quotes group, a backslash escapes the next character outside
 * single quotes, `$(…)` and backticks are kept as written, and an unquoted `;`, `&`, `|`, `<` or
 * `>` ends the command (Compose drops what follows).
 *
 * @example
 * shellWords(`sh -c "echo hi; exit 0"`) // ['sh', '-c', 'echo hi; exit 0']
 * @returns the words, or undefined when a quote is not closed or a `(` is unquoted
 */
export function shellWords(line: string): string[] | undefined {
  const args: string[] = [];
  let buf = '';
  let got = false;
  let escaped = false;
  let single = false;
  let double = false;
  let back = false;
  let dollar = false;
  for (const r of line) {
    if (escaped) {
      buf += r;
      escaped = false;
      got = true;
      continue;
    }
    if (r === '\\') {
      if (single) buf += r;
      else escaped = true;
      continue;
    }
    if (r === ' ' || r === '\t' || r === '\r' || r === '\n') {
      if (single || double || back || dollar) buf += r;
      else if (got) {
        args.push(buf);
        buf = '';
        got = false;
      }
      continue;
    }
    const quiet = !single && !double;
    if (r === '`' && quiet && !dollar) back = !back;
    else if (r === ')' && quiet && !back) dollar = false;
    else if (r === '(' && quiet && !back) {
      if (!dollar && buf.endsWith('$')) {
        dollar = true;
        buf += '(';
        continue;
      }
      return undefined;
    } else if (r === '"' && !single && !dollar) {
      if (double) got = true;
      double = !double;
      continue;
    } else if (r === "'" && !double && !dollar) {
      if (single) got = true;
      single = !single;
      continue;
    } else if (';&|<>'.includes(r) && quiet && !back && !dollar) {
      // `2>` drops the descriptor number with the rest.
      if (r === '>' && /^[0-9]/.test(buf)) got = false;
      break;
    }
    got = true;
    buf += r;
  }
  if (escaped || single || double || back || dollar) return undefined;
  if (got) args.push(buf);
  return args;
}
