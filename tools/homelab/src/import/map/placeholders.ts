import { InputError } from '../../errors';

/**
 * Values a stack's documentation asks its owner to replace, which no running stack holds:
 * `/path/to/…`, `@version@`, a template's `{{ name }}`, `<your-…>` or `<YOUR_TOKEN>`.
 * Go and Jinja templates that do real work (`{{.Name}}`, `{{range .}}`) are not placeholders.
 * Weak but working values such as `changeme` are not refused: the stack runs with them
 * (a secret's is a warning, see env.ts).
 */
const PLACEHOLDERS: [RegExp, string][] = [
  [/(^|[\s:=,])\/path\/to(\/|$)/i, '/path/to/…'],
  [/@[A-Za-z][A-Za-z0-9_.-]*@/, '@…@'],
  [/\{\{\s*(?!(end|else|break|continue)\s*\}\})[A-Za-z_][A-Za-z0-9_-]*\s*\}\}/, '{{ … }}'],
  [/<(your|my|insert|enter|put|replace)[-_ a-z0-9]*>/i, '<your-…>'],
  [/<[A-Z][A-Z0-9]*(_[A-Z0-9]+)+>/, '<…>'],
];

/** The placeholder form a value holds, or null. */
export function placeholderIn(value: string): string | null {
  for (const [re, form] of PLACEHOLDERS) if (re.test(value)) return form;
  return null;
}

/**
 * Refuses a placeholder in one line naming where it is (`services.web.image`) and the fix.
 * The message shows the placeholder's form, never the value (it may sit in a secret).
 */
export function refusePlaceholder(value: string | undefined | null, path: string): void {
  if (typeof value !== 'string') return;
  const form = placeholderIn(value);
  if (form) {
    throw new InputError(`${path} holds a placeholder (${form}), not a real value; replace it in the source (or its .env) with what the stack should use, and import again`);
  }
}
