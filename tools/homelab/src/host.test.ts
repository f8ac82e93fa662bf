import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diskHost, readOnceHost } from './host';

describe('readOnceHost', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  function workspace(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-host-'));
    roots.push(root);
    fs.mkdirSync(path.join(root, 'applications/specs'), { recursive: true });
    fs.writeFileSync(path.join(root, 'applications/specs/a.yaml'), 'name: a\n');
    fs.writeFileSync(path.join(root, 'other.txt'), 'one\n');
    return root;
  }

  it('reads a shared file once, and every other file each time it is asked for', () => {
    const root = workspace();
    const reads: string[] = [];
    const disk = diskHost(root);
    const host = readOnceHost({ ...disk, read: (f) => (reads.push(f), disk.read(f)) }, (f) => f.startsWith('applications/specs/'));

    expect([host.read('applications/specs/a.yaml'), host.read('applications/specs/a.yaml')]).toEqual(['name: a\n', 'name: a\n']);
    fs.writeFileSync(path.join(root, 'other.txt'), 'two\n');
    expect(host.read('other.txt')).toBe('two\n');
    expect(host.read('other.txt')).toBe('two\n');
    expect(reads).toEqual(['applications/specs/a.yaml', 'other.txt', 'other.txt']);
    // A missing shared file reads as missing, once.
    expect(host.read('applications/specs/b.yaml')).toBeNull();
    expect(host.read('applications/specs/b.yaml')).toBeNull();
    expect(reads.filter((f) => f.endsWith('b.yaml'))).toHaveLength(1);
  });

  it('lists a folder once, and a caller changing the list it got does not change the next one', () => {
    const root = workspace();
    const host = readOnceHost(diskHost(root), () => false);

    const first = host.list('applications/specs');
    first.push('changed.yaml');
    expect(host.list('applications/specs')).toEqual(['a.yaml']);
  });

  it('refuses to write or delete, so nothing it keeps goes stale', () => {
    const root = workspace();
    const host = readOnceHost(diskHost(root), () => true);

    expect(() => host.write('applications/specs/a.yaml', 'name: b\n')).toThrow('applications/specs/a.yaml: this file host only reads (readOnceHost)');
    expect(() => host.delete('other.txt')).toThrow('other.txt: this file host only reads');
    expect(fs.readFileSync(path.join(root, 'applications/specs/a.yaml'), 'utf8')).toBe('name: a\n');
    expect(fs.existsSync(path.join(root, 'other.txt'))).toBe(true);
  });
});
