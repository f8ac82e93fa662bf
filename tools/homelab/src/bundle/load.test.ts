import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The loader is plain CommonJS (it runs before any TypeScript loader): required as it is.
const load = require('./load.js') as {
  loadBundle(entry: Entry, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>>;
  loadBundleSync(entry: Entry, env: NodeJS.ProcessEnv): Record<string, unknown>;
  freshBundle(entry: Entry, env: NodeJS.ProcessEnv): string | null;
  loaded: Map<string, string>;
  asciiOnly(source: string): string;
  RACY_MS: number;
};
interface Entry {
  file: string;
  kind: string;
  via?: string;
  fallback?: (file: string) => unknown;
}

/**
 * src/bundle/load.js on a small entry of its own (a temp folder: two TypeScript modules, a data
 * file read relative to __dirname, a plain JavaScript file kept outside the bundle), built by the
 * real esbuild into a temp cache.
 */
let dir: string;
let env: NodeJS.ProcessEnv;
let entry: Entry;

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-bundle-')));
  fs.mkdirSync(path.join(dir, 'src/lib'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src/lib/data.txt'), 'read at load time\n');
  fs.writeFileSync(path.join(dir, 'src/lib/plain.js'), "module.exports = { where: __filename };\n");
  fs.writeFileSync(
    path.join(dir, 'src/lib/data.ts'),
    [
      "import * as fs from 'node:fs';",
      "import * as path from 'node:path';",
      "export const data: string = fs.readFileSync(path.join(__dirname, 'data.txt'), 'utf8');",
      'export const here = { dir: __dirname, file: __filename };',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'src/main.ts'),
    [
      "import { data, here } from './lib/data';",
      "const plain = require('./lib/plain.js') as { where: string };",
      'export const version: number = 1;',
      'export { data, here, plain };',
      '',
    ].join('\n'),
  );
  env = { HOMELAB_CACHE_DIR: path.join(dir, 'cache') };
  entry = {
    file: path.join(dir, 'src/main.ts'),
    kind: 'test',
    via: 'the test',
    // What the sources export, with no transpiler: marks that the fallback ran.
    fallback: () => ({ fallback: true }),
  };
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A bundle required twice must be a fresh module: the loader's require cache is cleared of it. */
function fresh<T>(f: () => T): T {
  for (const key of Object.keys(require.cache)) if (key.startsWith(path.join(dir, 'cache'))) delete require.cache[key];
  return f();
}

describe('loading an entry as one cached bundle (src/bundle/load.js)', () => {
  it('builds the bundle synchronously on the first load and keeps each module where its sources are', () => {
    const exports = fresh(() => load.loadBundleSync(entry, env));
    const file = load.freshBundle(entry, env);
    expect(file).not.toBeNull();
    expect(path.dirname(file!)).toBe(path.join(dir, 'cache/test'));
    expect(load.loaded.get(entry.file)).toBe(file);
    expect(exports.version).toBe(1);
    // __dirname and __filename are the module's own, so files beside it are read from there.
    expect(exports.data).toBe('read at load time\n');
    expect(exports.here).toEqual({ dir: path.join(dir, 'src/lib'), file: path.join(dir, 'src/lib/data.ts') });
    // A plain JavaScript file stays outside the bundle, required where it is.
    expect((exports.plain as { where: string }).where).toBe(path.join(dir, 'src/lib/plain.js'));
    expect(fs.readFileSync(file!, 'utf8')).not.toContain('module.exports = { where');
  });

  it('writes the bundle in ASCII, each other character escaped where it stands, and the code means the same', () => {
    // Node 20 reads a file holding one character beyond ASCII through a far slower decoder.
    fs.writeFileSync(
      path.join(dir, 'src/main.ts'),
      [
        '// A comment: durations → milliseconds, “quoted”.',
        'export const unit = /^[0-9]+(?:µs|ms)$/;',
        "export const text: string = 'café … 😀';",
        'export const template = `naïve ${1 + 1} ✓`;',
        'export const raw = String.raw`x`;',
        '',
      ].join('\n'),
    );
    const exports = fresh(() => load.loadBundleSync(entry, env)) as { unit: RegExp; text: string; template: string; raw: string };
    const bundle = fs.readFileSync(load.freshBundle(entry, env)!, 'utf8');
    expect(bundle).not.toMatch(/[^\x00-\x7f]/);
    // esbuild leaves a regular expression's characters as they are: the loader escapes them.
    expect(bundle).toContain('(?:\\u00b5s|ms)');
    expect(exports.unit.test('5µs')).toBe(true);
    expect(exports.unit.test('5us')).toBe(false);
    expect(exports.text).toBe('café … 😀');
    expect(exports.template).toBe('naïve 2 ✓');
    expect(exports.raw).toBe('x');
    expect(load.asciiOnly('a → b')).toBe('a \\u2192 b');
    expect(load.asciiOnly('plain ASCII\n')).toBe('plain ASCII\n');
  });

  it('gives the same exports asynchronously, from the same bundle', async () => {
    const sync = fresh(() => load.loadBundleSync(entry, env));
    const file = load.freshBundle(entry, env);
    const async = await fresh(() => load.loadBundle(entry, env));
    expect(async).toEqual(sync);
    expect(load.freshBundle(entry, env)).toBe(file);
    expect(fs.readdirSync(path.join(dir, 'cache/test')).filter((f) => f.endsWith('.js'))).toEqual([path.basename(file!)]);
  });

  it('builds again when any module of the bundle changed, and runs the changed code', () => {
    fresh(() => load.loadBundleSync(entry, env));
    const before = load.freshBundle(entry, env);
    fs.writeFileSync(path.join(dir, 'src/lib/data.txt'), 'not an input: the bundle stays\n');
    expect(load.freshBundle(entry, env)).toBe(before);
    fs.appendFileSync(path.join(dir, 'src/lib/data.ts'), 'export const edited = true;\n');
    expect(load.freshBundle(entry, env)).toBeNull();
    const main = path.join(dir, 'src/main.ts');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('export { data', "export { edited } from './lib/data';\nexport { data"));
    const exports = fresh(() => load.loadBundleSync(entry, env));
    expect(exports.edited).toBe(true);
    expect(load.freshBundle(entry, env)).not.toBe(before);
  });

  it('knows the bundle fresh from the stats its manifest recorded, without reading the sources, and still sees every edit', async () => {
    fresh(() => load.loadBundleSync(entry, env));
    const file = load.freshBundle(entry, env);
    const manifestFile = fs.readdirSync(path.join(dir, 'cache/test')).find((f) => f.endsWith('.json'))!;
    const manifest = () => JSON.parse(fs.readFileSync(path.join(dir, 'cache/test', manifestFile), 'utf8')) as { inputs: string[]; stats?: (string | null)[] };
    const inputs = manifest().inputs;
    expect(inputs).toContain(path.join(dir, 'src/lib/data.ts'));
    // The sources were written just now: an edit in the same clock tick could keep their stats, so they are not recorded yet.
    expect(manifest().stats!.slice(1).every((s) => s === null)).toBe(true);
    // The loader's own `fs` (CommonJS, one object): which of the inputs a check reads.
    const cjsFs = require('node:fs') as typeof fs;
    const reads = (check: () => unknown) => {
      const read: string[] = [];
      const original = cjsFs.readFileSync;
      cjsFs.readFileSync = ((target: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
        if (typeof target === 'string' && inputs.includes(target)) read.push(target);
        return (original as (...args: unknown[]) => unknown)(target, ...rest);
      }) as typeof fs.readFileSync;
      try {
        return { result: check(), read };
      } finally {
        cjsFs.readFileSync = original;
      }
    };
    expect(reads(() => load.freshBundle(entry, env))).toEqual({ result: file, read: inputs });
    // A modification time a file system keeps exactly (whole seconds), to be set back to below.
    const data = path.join(dir, 'src/lib/data.ts');
    const past = new Date('2026-01-01T00:00:00Z');
    fs.utimesSync(data, past, past);

    await new Promise((resolve) => setTimeout(resolve, load.RACY_MS + 50));
    // Settled: read once more, and their stats recorded...
    expect(reads(() => load.freshBundle(entry, env))).toEqual({ result: file, read: inputs });
    expect(manifest().stats!.every((s) => typeof s === 'string')).toBe(true);
    // ...so that the next start reads none of them.
    expect(reads(() => load.freshBundle(entry, env))).toEqual({ result: file, read: [] });

    // An edit to the same size, its modification time set back, seen once settled: the change time still moved.
    fs.writeFileSync(data, fs.readFileSync(data, 'utf8').replace('here', 'HERE'));
    fs.utimesSync(data, past, past);
    expect(fs.statSync(data).mtimeMs).toBe(past.getTime());
    await new Promise((resolve) => setTimeout(resolve, load.RACY_MS + 50));
    expect(load.freshBundle(entry, env)).toBeNull();
    // Put back as it was, with another stat: its contents are read again, and the bundle is the same.
    fs.writeFileSync(data, fs.readFileSync(data, 'utf8').replace('HERE', 'here'));
    expect(reads(() => load.freshBundle(entry, env))).toEqual({ result: file, read: inputs });

    // Another Node's stats are not trusted.
    fs.writeFileSync(path.join(dir, 'cache/test', manifestFile), JSON.stringify({ ...manifest(), node: 'v0.0.0' }));
    expect(reads(() => load.freshBundle(entry, env))).toEqual({ result: file, read: inputs });
  });

  it('builds the packages of BUNDLED_PACKAGES into the bundle, keeps the others outside, and builds again when a file of theirs changes', () => {
    const pkg = (name: string, files: Record<string, string>) => {
      fs.mkdirSync(path.join(dir, 'node_modules', name, 'lib'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
      for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'node_modules', name, file), text);
    };
    // Named like a bundled package: one of its own modules requires another.
    pkg('js-yaml', { 'index.js': "module.exports = { part: require('./lib/part.js') };\n", 'lib/part.js': "module.exports = 'bundled part';\n" });
    pkg('left-out', { 'index.js': "module.exports = 'required where it is';\n" });
    fs.writeFileSync(
      path.join(dir, 'src/main.ts'),
      [
        "import jsyaml from 'js-yaml';",
        "import leftOut from 'left-out';",
        "export const inside: string = (jsyaml as unknown as { part: string }).part;",
        'export const outside: string = leftOut as unknown as string;',
        "export const manifest: string = require.resolve('js-yaml/package.json');",
        '',
      ].join('\n'),
    );
    const exports = fresh(() => load.loadBundleSync(entry, env));
    expect(exports).toMatchObject({ inside: 'bundled part', outside: 'required where it is', manifest: path.join(dir, 'node_modules/js-yaml/package.json') });
    const text = fs.readFileSync(load.freshBundle(entry, env)!, 'utf8');
    expect(text).toMatch(/["']bundled part["']/);
    expect(text).not.toContain(`require(${JSON.stringify(path.join(dir, 'node_modules/js-yaml/index.js'))})`);
    expect(text).toContain(`require(${JSON.stringify(path.join(dir, 'node_modules/left-out/index.js'))})`);
    expect(text).not.toMatch(/["']required where it is["']/);

    fs.writeFileSync(path.join(dir, 'node_modules/js-yaml/lib/part.js'), "module.exports = 'bundled part, upgraded';\n");
    expect(load.freshBundle(entry, env)).toBeNull();
    expect(fresh(() => load.loadBundleSync(entry, env)).inside).toBe('bundled part, upgraded');
  });

  it.each([
    ['HOMELAB_BUNDLE=0', { HOMELAB_BUNDLE: '0' }],
    ['a cache that cannot be written', { HOMELAB_CACHE_DIR: '/dev/null/cache' }],
  ])('falls back to the entry’s own loader with %s', async (_, extra) => {
    expect(fresh(() => load.loadBundleSync(entry, { ...env, ...extra }))).toEqual({ fallback: true });
    expect(await fresh(() => load.loadBundle(entry, { ...env, ...extra }))).toEqual({ fallback: true });
    expect(fs.existsSync(path.join(dir, 'cache'))).toBe(false);
  });

  it('falls back when the sources do not build, naming why', () => {
    fs.appendFileSync(path.join(dir, 'src/main.ts'), "import './nowhere';\n");
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((line: string) => lines.push(line) > 0) as typeof process.stderr.write;
    try {
      expect(fresh(() => load.loadBundleSync(entry, { ...env, HOMELAB_DEBUG: 'test' }))).toEqual({ fallback: true });
    } finally {
      process.stderr.write = write;
    }
    expect(lines).toEqual([expect.stringMatching(/^homelab: running the sources through the test \(no bundle: .*nowhere.*\)\n$/)]);
  });
});
