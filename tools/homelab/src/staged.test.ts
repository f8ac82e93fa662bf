import { describe, expect, it } from 'vitest';
import { stagedHost } from './staged';
import type { FileHost } from './host';

/** A FileHost over a plain map, recording what it was asked to write and delete. */
function memoryHost(files: Record<string, string>): FileHost & { log: string[] } {
  const data = new Map(Object.entries(files));
  const log: string[] = [];
  const children = (dir: string) => [...new Set([...data.keys()].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]))].sort();
  return {
    log,
    read: (f) => data.get(f) ?? null,
    exists: (f) => data.has(f) || children(f).length > 0,
    isFile: (f) => data.has(f),
    list: children,
    write: (f, c) => {
      log.push(`write ${f}`);
      data.set(f, c);
    },
    delete: (f) => {
      log.push(`delete ${f}`);
      data.delete(f);
    },
  };
}

describe('stagedHost', () => {
  it('reads its own writes and deletes, and leaves the underlying host alone until commit', () => {
    const base = memoryHost({ 'a/x.yaml': 'x', 'a/y.yaml': 'y' });
    const stage = stagedHost(base);

    stage.write('a/b/z.yaml', 'z');
    stage.delete('a/y.yaml');

    expect(stage.read('a/b/z.yaml')).toBe('z');
    expect(stage.read('a/y.yaml')).toBeNull();
    expect(stage.list('a')).toEqual(['b', 'x.yaml']);
    expect(stage.exists('a/b')).toBe(true);
    expect(stage.isFile('a/y.yaml')).toBe(false);
    expect(base.log).toEqual([]);
  });

  it('commits only what differs from the underlying host, in path order', () => {
    const base = memoryHost({ 'a/x.yaml': 'x', 'a/y.yaml': 'y' });
    const stage = stagedHost(base);
    stage.write('a/x.yaml', 'x');
    stage.write('b.yaml', 'b');
    stage.delete('a/y.yaml');
    stage.delete('a/none.yaml');

    expect(stage.commit()).toEqual(['a/y.yaml', 'b.yaml']);
    expect(base.log).toEqual(['delete a/y.yaml', 'write b.yaml']);
  });
});
