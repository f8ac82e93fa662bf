/**
 * For tests: where the positions a parse kept (positions.ts, from js-yaml's listener or the block
 * reader) answer otherwise than the yaml package's parse of the same text.
 */
import { type DocPath, Locator, type SourceFile } from './source';

/** Every path of a parsed document (values, and each key as the `key` of its parent's path), plus paths that do not exist. */
export function pathsOf(doc: unknown): { path: DocPath; key?: string }[] {
  const out: { path: DocPath; key?: string }[] = [{ path: ['missing'] }, { path: [], key: 'missing' }];
  const visit = (v: unknown, p: DocPath, depth: number): void => {
    out.push({ path: p });
    if (p.length) out.push({ path: p.slice(0, -1), key: String(p[p.length - 1]) });
    out.push({ path: [...p, 'missing', 0] });
    if (depth > 40 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...p, i], depth + 1));
    else for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], [...p, k], depth + 1);
  };
  visit(doc, [], 0);
  return out;
}

/** Where the positions of the first parse and the yaml package's re-parse disagree: [] when they agree everywhere. */
export function disagreements(src: SourceFile): string[] {
  const locator = new Locator();
  const out: string[] = [];
  src.docs.forEach((doc, i) => {
    for (const { path: p, key } of pathsOf(doc)) {
      const fast = locator.locate(src, i, p, key);
      const slow = locator.reparse(src.text, i, p, key);
      if (fast.line !== slow.line || fast.col !== slow.col || fast.depth !== slow.depth) {
        out.push(`document ${i} ${JSON.stringify(p)}${key === undefined ? '' : ` key ${key}`}: ${fast.line}:${fast.col}/${fast.depth}, yaml package ${slow.line}:${slow.col}/${slow.depth}`);
      }
    }
  });
  return out;
}
