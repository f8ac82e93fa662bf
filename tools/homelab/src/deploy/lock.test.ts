import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStart } from './lock';
import { StateDir } from './state';

let root: string;
let state: StateDir;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-lock-test-'));
  state = new StateDir(root, 'dev', 'web');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A pid no process has now: that of a process that has ended. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

function writeLock(content: string): void {
  fs.mkdirSync(state.dir, { recursive: true });
  fs.writeFileSync(state.file('deploy.lock'), content);
}

describe('the deploy lock', () => {
  it('lets one deploy at a time hold it, and names the holder and a log that exists', () => {
    const lock = state.lock('web (dev)');

    let message = '';
    try {
      state.lock('web (dev)');
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toBe(`web (dev): another deploy is running (pid ${process.pid}); wait for it, or follow it in .homelab/state/dev/web/last-run.log`);
    expect(fs.existsSync(path.join(root, '.homelab/state/dev/web/last-run.log'))).toBe(true);
    lock.release();
    expect(fs.existsSync(state.file('deploy.lock'))).toBe(false);
    state.lock('web (dev)').release();
  });

  it.each([
    ['a process that is gone', () => JSON.stringify({ pid: deadPid(), start: '1' })],
    ['a process that is gone (the format before start times)', () => `${deadPid()}\n`],
    ['a pid now used by a later process', () => JSON.stringify({ pid: process.pid, start: `${Number(processStart(process.pid)) - 1}` })],
    ['a file that names no process', () => 'garbage'],
  ])('takes over the lock of %s', (_what, content) => {
    writeLock(content());

    const lock = state.lock('web (dev)');

    expect(JSON.parse(fs.readFileSync(state.file('deploy.lock'), 'utf8'))).toEqual({ pid: process.pid, start: processStart(process.pid) });
    lock.release();
    expect(fs.readdirSync(state.dir).filter((f) => f.includes('lock'))).toEqual([]);
  });

  it('keeps out a deploy whose holder runs, in the format before start times too', () => {
    writeLock(`${process.pid}\n`);
    expect(() => state.lock('web (dev)')).toThrow(`another deploy is running (pid ${process.pid})`);
  });

  it('gives the log to the holder: it appends, and keeps the log of the run before', () => {
    const first = state.lock('web (dev)');
    first.log('first run');
    first.release();
    const second = state.lock('web (dev)');
    second.log('second run');

    expect(() => state.lock('web (dev)')).toThrow('another deploy is running');
    second.log('still the second run');
    second.release();

    expect(state.read('last-run.log')).toBe('second run\nstill the second run\n');
    expect(state.read('previous-run.log')).toBe('first run\n');
    expect(fs.statSync(state.file('last-run.log')).mode & 0o777).toBe(0o600);
  });

  it('lets only one of several deployers racing for a stale lock hold it at a time', async () => {
    const register = createRequire(__filename).resolve('@swc-node/register');
    const child = [
      "const fs = require('node:fs');",
      `const { StateDir } = require(${JSON.stringify(path.join(__dirname, 'state.ts'))});`,
      'const [root, out, go] = process.argv.slice(1);',
      "fs.writeFileSync(`${out}.ready.${process.pid}`, '');",
      'while (!fs.existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);',
      'let lock;',
      "try { lock = new StateDir(root, 'dev', 'web').lock('web (dev)'); } catch { fs.appendFileSync(out, 'refused\\n'); process.exit(0); }",
      'const t0 = Date.now();',
      'while (Date.now() - t0 < 300);',
      'fs.appendFileSync(out, `held ${t0} ${Date.now()}\\n`);',
      'lock.release();',
    ].join('\n');
    const deployers = 5;
    for (let round = 0; round < 2; round++) {
      writeLock(JSON.stringify({ pid: deadPid(), start: '1' }));
      const out = path.join(root, `round-${round}`);
      const go = path.join(root, `go-${round}`);
      const exits = Array.from({ length: deployers }, () => {
        const p = spawn(process.execPath, ['-r', register, '-e', child, root, out, go], { stdio: 'inherit' });
        return new Promise<number | null>((resolve) => p.on('close', resolve));
      });
      while (fs.readdirSync(root).filter((f) => f.startsWith(`round-${round}.ready.`)).length < deployers) await new Promise((r) => setTimeout(r, 50));
      fs.writeFileSync(go, '');
      expect(await Promise.all(exits)).toEqual(Array(deployers).fill(0));

      const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
      const held = lines.filter((l) => l.startsWith('held')).map((l) => l.split(' ').slice(1).map(Number)).sort((a, b) => a[0] - b[0]);
      expect(lines).toHaveLength(deployers);
      expect(held.length).toBeGreaterThanOrEqual(1);
      // No two holds overlap: each starts after the one before ended.
      for (let i = 1; i < held.length; i++) expect(held[i][0], JSON.stringify(held)).toBeGreaterThanOrEqual(held[i - 1][1]);
      expect(fs.existsSync(state.file('deploy.lock'))).toBe(false);
    }
  }, 120_000);
});
