/**
 * A unified diff of two texts (what ran last vs what would run), for `deploy --dry-run`.
 * Plain LCS over lines: rendered files are small (hundreds of lines).
 *
 * @example unifiedDiff('a\nb\n', 'a\nc\n', 'deployed', 'rendered')
 * // '--- deployed\n+++ rendered\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n'
 */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = lineOps(a, b);
  // Group the changed lines that are at most 2 * context apart; each group is a hunk.
  const changed = ops.flatMap((op, index) => (op.kind === ' ' ? [] : [index]));
  const groups: [number, number][] = [];
  for (const index of changed) {
    const last = groups[groups.length - 1];
    if (last && index - last[1] <= 2 * context + 1) last[1] = index;
    else groups.push([index, index]);
  }
  const hunks: string[] = [];
  for (const [first, last] of groups) {
    const slice = ops.slice(Math.max(0, first - context), Math.min(ops.length, last + context + 1));
    const aLines = slice.filter((o) => o.kind !== '+');
    const bLines = slice.filter((o) => o.kind !== '-');
    const aStart = aLines.length > 0 ? aLines[0].aIndex + 1 : slice[0].aIndex;
    const bStart = bLines.length > 0 ? bLines[0].bIndex + 1 : slice[0].bIndex;
    hunks.push(`@@ -${aStart},${aLines.length} +${bStart},${bLines.length} @@`);
    for (const op of slice) hunks.push(`${op.kind}${op.text}`);
  }
  return `--- ${fromName}\n+++ ${toName}\n${hunks.join('\n')}\n`;
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  /** Index in a (for ' ' and '-') or the position in a where an insertion happens. */
  aIndex: number;
  bIndex: number;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function lineOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i], aIndex: i, bIndex: j });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: '-', text: a[i], aIndex: i, bIndex: j });
      i++;
    } else {
      ops.push({ kind: '+', text: b[j], aIndex: i, bIndex: j });
      j++;
    }
  }
  return ops;
}
