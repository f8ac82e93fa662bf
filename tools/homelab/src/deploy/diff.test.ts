import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
const text = (l: string[]) => `${l.join('\n')}\n`;

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\n', 'a\n', 'x', 'y')).toBe('');
  });

  it('shows a changed line with its context, removals first', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'deployed', 'rendered')).toBe('--- deployed\n+++ rendered\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  });

  it('splits changes far apart into hunks with three lines of context', () => {
    const after = lines(20);
    after[1] = 'changed 2';
    after[17] = 'changed 18';
    const diff = unifiedDiff(text(lines(20)), text(after), 'a', 'b');
    expect(diff.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@']);
  });

  it('matches `diff -u` for an insertion into an empty text', () => {
    expect(unifiedDiff('', 'x\n', 'a', 'b')).toBe('--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n');
  });
});
