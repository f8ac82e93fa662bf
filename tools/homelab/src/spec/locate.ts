import YAML from 'yaml';

/** A path into a parsed document: keys and list indexes. */
export type DocPath = (string | number)[];

/**
 * Line and column (1-based) of a field inside a document parsed by the `yaml` package with a
 * LineCounter: the value's position for a bad value, the key's position when `key` is given
 * (an unknown field). Walks the deepest part of the path that exists; `depth` says how many
 * segments were found, so a caller can prefer the best of several documents.
 *
 * @example positionIn(doc, lc, ['services', 'web', 'ports', 0, 'port']) // { line: 7, col: 15, depth: 5 }
 */
export function positionIn(doc: YAML.Document.Parsed, lc: YAML.LineCounter, path: DocPath, key?: string): { line: number; col: number; depth: number } | null {
  let node: unknown = doc.contents;
  let pos: number | undefined = (node as YAML.Node | null)?.range?.[0];
  let depth = 0;
  const segments = key === undefined ? path : [...path, key];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (YAML.isAlias(node)) node = node.resolve(doc);
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => (YAML.isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as YAML.Node | null;
      pos = i === segments.length - 1 && key !== undefined ? keyNode?.range?.[0] : ((pair.value as YAML.Node | null)?.range?.[0] ?? keyNode?.range?.[0]);
      node = pair.value;
    } else if (YAML.isSeq(node) && /^\d+$/.test(String(seg))) {
      const item = node.items[Number(seg)] as YAML.Node | undefined;
      if (!item) break;
      pos = item.range?.[0];
      node = item;
    } else break;
    depth++;
  }
  if (pos === undefined) return null;
  const lp = lc.linePos(pos);
  return { line: lp.line, col: lp.col, depth };
}
