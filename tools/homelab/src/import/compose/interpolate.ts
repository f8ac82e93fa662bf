/**
 * Compose's interpolation (compose-go's `template` package): `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`,
 * `$$` for a literal `$`, and defaults that interpolate in turn (`${A:-${B:-x}}`).
 */

/** Where a variable's value comes from. Undefined: the variable is unset. */
export type Lookup = (name: string) => string | undefined;

/** How one interpolation used a variable: the default it fell back to, if it did. */
export interface VariableUse {
  name: string;
  /** The (interpolated) default a `-`/`:-` form used because the variable was unset (or empty). */
  fallback?: string;
}

/** Why a template cannot be interpolated; the message never holds a variable's value. */
export class TemplateError extends Error {
  constructor(
    readonly kind: 'required' | 'invalid',
    /** The variable a `:?`/`?` form requires. */
    readonly variable?: string,
    /** The message written after `:?`/`?`, as written (not interpolated). */
    readonly reason?: string,
  ) {
    super(kind === 'required' ? `required variable ${variable} is missing a value${reason ? `: ${reason}` : ''}` : 'invalid interpolation');
    this.name = 'TemplateError';
  }
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;

/**
 * Interpolates one string as Compose does and reports each variable it used, in order.
 *
 * @example
 * substitute('${DB_USER:-app}@$HOST', (n) => ({ HOST: 'db' })[n], (use) => uses.push(use)) // 'app@db'
 */
export function substitute(template: string, lookup: Lookup, onUse: (use: VariableUse) => void = () => undefined): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = dollar + 2;
      while (end < template.length && NAME_CHAR.test(template[end])) end++;
      const name = template.slice(dollar + 1, end);
      onUse({ name });
      out += lookup(name) ?? '';
      i = end;
    } else if (next === '{') {
      const close = closingBrace(template, dollar);
      if (close < 0) throw new TemplateError('invalid');
      out += braced(template.slice(dollar + 2, close), lookup, onUse);
      i = close + 1;
    } else {
      throw new TemplateError('invalid');
    }
  }
  return out;
}

/** The index of the `}` that closes the `${` at `start`, counting nested `${…}`; -1 when none. */
function closingBrace(s: string, start: number): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    } else if (s.startsWith('${', i)) {
      depth++;
      i++;
    }
  }
  return -1;
}

/** One `${…}` body: a name, then nothing or an operator and its (interpolated) argument. */
function braced(body: string, lookup: Lookup, onUse: (use: VariableUse) => void): string {
  let end = 0;
  if (!NAME_START.test(body[0] ?? '')) throw new TemplateError('invalid');
  while (end < body.length && NAME_CHAR.test(body[end])) end++;
  const name = body.slice(0, end);
  const rest = body.slice(end);
  const value = lookup(name);
  if (rest === '') {
    onUse({ name });
    return value ?? '';
  }
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new TemplateError('invalid');
  const argument = rest.slice(op.length);
  const strict = op.startsWith(':');
  const present = value !== undefined && (!strict || value !== '');
  switch (op[op.length - 1]) {
    case '-':
      if (present) {
        onUse({ name });
        return value;
      } else {
        const fallback = substitute(argument, lookup, onUse);
        onUse({ name, fallback });
        return fallback;
      }
    case '?':
      onUse({ name });
      // The message as written: interpolating it could put a value into the error.
      if (!present) throw new TemplateError('required', name, argument);
      return value;
    default: {
      // `+`: the replacement when the variable is set (and not empty for `:+`), else its value.
      onUse({ name });
      return present ? substitute(argument, lookup, onUse) : (value ?? '');
    }
  }
}
