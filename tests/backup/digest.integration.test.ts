import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestScript, parseDigests } from '../../tools/homelab/src/deploy/drill/digest';
import { requireTool, run } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * The volume digest the backup mover prints and the drill recomputes on a restored volume
 * (app/backup/digest.sh), run for real in a container (busybox applets, as in the restic image)
 * and held to its definition computed here: sha256 over the `sha256sum` lines (`<hex>  <path>`,
 * the path relative to the volume) of every regular file in bytewise order of their paths,
 * lost+found left out, with the files' count and bytes.
 */

const docker = requireTool('docker compose');
const IMAGE = 'homelab-test/busybox:1';

function expected(dir: string): { sha256: string; files: number; bytes: number } {
  const files: { path: string; content: Buffer }[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (child === 'lost+found') continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        files.push({ path: child, content: fs.readFileSync(path.join(dir, child)) });
      }
    }
  };
  walk('');
  files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const text = files.map((f) => `${createHash('sha256').update(f.content).digest('hex')}  ${f.path}\n`).join('');
  const bytes = files.reduce((sum, f) => sum + f.content.length, 0);
  return { sha256: createHash('sha256').update(text).digest('hex'), files: files.length, bytes };
}

function digestIn(dir: string, volume = 'data') {
  const result = run('docker', ['run', '--rm', '--network', 'none', '-v', `${dir}:/data:ro`, '--entrypoint', '/bin/sh', IMAGE, '-c', digestScript(volume)]);
  expect(result.status, result.stderr).toBe(0);
  return parseDigests(result.stdout).get(volume);
}

describe.skipIf(docker.skip)('the volume digest, in a container', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('drill-digest');
    fs.mkdirSync(path.join(dir, 'a/b c'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'lost+found'));
    fs.writeFileSync(path.join(dir, 'top.txt'), 'hello\n');
    fs.writeFileSync(path.join(dir, 'a/b c/with space.bin'), Buffer.alloc(70_000, 7));
    fs.writeFileSync(path.join(dir, 'a/empty'), '');
    fs.writeFileSync(path.join(dir, 'lost+found/ignored'), 'fsck leftovers');
    fs.symlinkSync('top.txt', path.join(dir, 'link'));
  });
  afterAll(() => removeDir(dir));

  it('is sha256 over the sha256sum lines of the regular files in the order of their paths, with their count and bytes', () => {
    const got = digestIn(dir);
    expect(got).toEqual({ volume: 'data', ...expected(dir) });
    expect(got).toMatchObject({ files: 3, bytes: 70_006 });
  });

  it('changes when one byte of one file changes, and comes back when it is restored', () => {
    const before = digestIn(dir)!;
    fs.writeFileSync(path.join(dir, 'top.txt'), 'hellO\n');
    const changed = digestIn(dir)!;
    fs.writeFileSync(path.join(dir, 'top.txt'), 'hello\n');
    expect(changed.sha256).not.toBe(before.sha256);
    expect(changed.bytes).toBe(before.bytes);
    expect(digestIn(dir)!.sha256).toBe(before.sha256);
  });

  it('is the digest of an empty volume when there is no file', () => {
    const empty = makeTempDir('drill-digest-empty');
    try {
      expect(digestIn(empty, 'db')).toEqual({ volume: 'db', ...expected(empty), files: 0, bytes: 0 });
    } finally {
      removeDir(empty);
    }
  });
});
