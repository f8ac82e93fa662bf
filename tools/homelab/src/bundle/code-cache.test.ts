import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * src/bundle/code-cache.js in fresh node processes (a cache is written when a process exits and
 * read by the next one), on small CommonJS files of a temp folder.
 */
const CODE_CACHE = path.join(__dirname, 'code-cache.js');

let dir: string;
let cache: string;

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-code-cache-')));
  cache = path.join(dir, 'cache');
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib/helper.js'), 'module.exports = (x) => x * 2;\n');
  write('answer = 21');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The module under test: its answer, where it is, and what it requires beside it. */
function write(assignment: string): void {
  fs.writeFileSync(
    path.join(dir, 'lib/mod.js'),
    [`const ${assignment};`, "const double = require('./helper.js');", 'module.exports = { value: double(answer), file: __filename, dir: __dirname };', ''].join('\n'),
  );
}

/** A new node process that requires lib/<name> through requireCached (`m`, from `file`), then runs `lines`. */
function node(name: string, lines: string[], env: NodeJS.ProcessEnv = {}) {
  const script = [
    `const { requireCached } = require(${JSON.stringify(CODE_CACHE)});`,
    `const cache = ${JSON.stringify(cache)};`,
    `const file = ${JSON.stringify(path.join(dir, 'lib', name))};`,
    'const m = requireCached(file, cache);',
    ...lines,
  ].join('\n');
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Requires lib/mod.js through requireCached in a new node process; what it exported, and whether a second require gave the same module. */
function run(env: NodeJS.ProcessEnv = {}): { value: number; file: string; dir: string; same: boolean } {
  const child = node('mod.js', ['const again = requireCached(file, cache);', 'console.log(JSON.stringify({ ...m, same: m === again && require.cache[file].exports === m }));'], env);
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout);
}

const caches = () => (fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.endsWith('.v8')) : []);

describe('code cache', () => {
  it('requires a file as require would: its exports once, its own __filename and __dirname, its neighbours by relative path', () => {
    const out = run();
    expect(out).toEqual({ value: 42, file: path.join(dir, 'lib/mod.js'), dir: path.join(dir, 'lib'), same: true });
  });

  it('writes the cache when the process exits and reads it in the next, which gives the same exports', () => {
    expect(caches()).toEqual([]);
    run();
    const written = caches();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^mod\.[0-9a-f]{24}\.\d+\.v8$/);
    const bytes = fs.readFileSync(path.join(cache, written[0]));
    expect(bytes.length).toBeGreaterThan(0);
    expect(run().value).toBe(42);
    // An accepted cache is not written again.
    expect(caches()).toEqual(written);
    expect(fs.readFileSync(path.join(cache, written[0])).equals(bytes)).toBe(true);
  });

  it('writes it again when the process exits, with the functions the run compiled after the loading', () => {
    // A function called only after the module's top level ran: compiled then, after the first write.
    fs.writeFileSync(path.join(dir, 'lib/late.js'), ['module.exports = { later: (n) => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; } };', ''].join('\n'));
    const lines = [
      'const fs = require("fs");',
      "const atLoad = fs.readdirSync(cache).filter((f) => f.endsWith('.v8')).map((f) => fs.statSync(cache + '/' + f).size)[0];",
      'console.log(JSON.stringify({ atLoad, value: m.later(10) }));',
      // Killed by a signal: no exit handler runs, the cache written at load stays.
      'if (process.env.KILL) process.kill(process.pid, "SIGKILL");',
    ];
    const killed = node('late.js', lines, { KILL: '1' });
    expect(killed.signal).toBe('SIGKILL');
    const [name] = caches();
    const atLoad = fs.statSync(path.join(cache, name)).size;
    expect(JSON.parse(killed.stdout)).toEqual({ atLoad, value: 45 });
    fs.rmSync(cache, { recursive: true });
    const exited = node('late.js', lines);
    expect(exited.status).toBe(0);
    expect(JSON.parse(exited.stdout).atLoad).toBe(atLoad);
    // Written again at exit, now holding the function that ran after the loading.
    expect(fs.statSync(path.join(cache, caches()[0])).size).toBeGreaterThan(atLoad);
  });

  it('never runs a cache of another text: a source of the same length gets its own, and the old one goes', () => {
    run();
    const [before] = caches();
    const size = fs.statSync(path.join(dir, 'lib/mod.js')).size;
    // The same number of characters: V8 itself would take the old cache for it.
    write('answer = 12');
    expect(fs.statSync(path.join(dir, 'lib/mod.js')).size).toBe(size);
    expect(run().value).toBe(24);
    const after = caches();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(run().value).toBe(24);
  });

  it('runs the source when a cache is damaged, and writes a good one in its place', () => {
    run();
    const [name] = caches();
    fs.writeFileSync(path.join(cache, name), Buffer.alloc(4096, 7));
    expect(run().value).toBe(42);
    expect(caches()).toEqual([name]);
    expect(fs.readFileSync(path.join(cache, name)).equals(Buffer.alloc(4096, 7))).toBe(false);
    expect(run().value).toBe(42);
  });

  it('keeps the caches of other files whose names start the same', () => {
    fs.mkdirSync(cache, { recursive: true });
    const other = path.join(cache, 'mod.x.0123456789abcdef01234567.42.v8');
    fs.writeFileSync(other, 'another file of the same folder');
    run();
    expect(fs.existsSync(other)).toBe(true);
    expect(caches()).toHaveLength(2);
  });

  it("keeps another Node's cache of the same file while it is recent, and lets it go once a month old", () => {
    fs.mkdirSync(cache, { recursive: true });
    const recent = path.join(cache, 'mod.0123456789abcdef01234567.1.v8');
    const old = path.join(cache, 'mod.89abcdef0123456789abcdef.2.v8');
    fs.writeFileSync(recent, 'another V8');
    fs.writeFileSync(old, 'another V8, long ago');
    const monthAgo = new Date(Date.now() - 31 * 24 * 60 * 60 * 1000);
    fs.utimesSync(old, monthAgo, monthAgo);
    run();
    expect(fs.existsSync(recent)).toBe(true);
    expect(fs.existsSync(old)).toBe(false);
    expect(caches()).toHaveLength(2);
  });

  it('reads a file of other characters than ASCII as UTF-8, from the cache too', () => {
    fs.writeFileSync(path.join(dir, 'lib/unicode.js'), "module.exports = '5 µs → ✓';\n");
    for (let i = 0; i < 2; i++) {
      const child = node('unicode.js', ['console.log(JSON.stringify(m));']);
      expect(child.stderr).toBe('');
      expect(JSON.parse(child.stdout)).toBe('5 µs → ✓');
      expect(caches()).toHaveLength(1);
    }
  });

  it("leaves a file holding import() to Node's own loader, where the import works", () => {
    fs.writeFileSync(path.join(dir, 'lib/dynamic.js'), "module.exports = () => import('node:path').then((m) => typeof m.join);\n");
    for (const env of [{}, { HOMELAB_CODE_CACHE: '0' }]) {
      const child = node('dynamic.js', ['m().then((t) => console.log(t));'], env);
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe('function');
    }
    expect(caches()).toEqual([]);
  });

  it('writes nothing with HOMELAB_CODE_CACHE=0, nor where the cache cannot be written, and runs the same', () => {
    expect(run({ HOMELAB_CODE_CACHE: '0' }).value).toBe(42);
    expect(caches()).toEqual([]);
    // A file where the cache folder should be: nothing can be written below it.
    fs.writeFileSync(cache, 'not a folder');
    expect(run().value).toBe(42);
    expect(fs.statSync(cache).isFile()).toBe(true);
  });
});
