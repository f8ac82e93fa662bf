import { InputError, show } from '../../errors';

/** Refuses a value listed twice, naming the field, the value and the fix. */
export function unique(values: string[], field: string, fix: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new InputError(`${field} ${show(v)} appears twice; ${fix}`);
    seen.add(v);
  }
}
