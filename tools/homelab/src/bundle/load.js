'use strict';
/**
 * How homelab's TypeScript entries load fast: as one JavaScript bundle of an entry file and
 * everything it imports, built with esbuild (tsx's own, which tsx resolves) the first time a
 * version of the sources runs and kept in the cache (`$HOMELAB_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/homelab`, else `~/.cache/homelab`, one folder an entry kind: `cli/`, `plugin/`,
 * `executors/`). Through a transpiler (tsx, or the swc Nx registers) each of the ~270 TypeScript
 * modules is resolved, transpiled or looked up in a cache and registered on every start (0.4-0.8 s
 * of CPU before any work); the bundle is one file Node compiles lazily (about 0.1-0.2 s).
 *
 * Used by the `homelab` command (bin/homelab.js), the Nx plugin's entry (plugin.js, the package's
 * `main`) and the executors' entries (src/executors/<name>/entry.js).
 *
 * A bundle is never stale: it is named after a digest of the contents of every file it was built
 * from (and of this file, and the Node version), and used only while those files still have that
 * digest; any change builds a new one. A start knows they do from their stats where they are
 * those recorded when the contents were last digested (freshBundle), as git's index does.
 * Anything that goes wrong (no esbuild, a cache that cannot be written, a build error) falls back
 * to the TypeScript sources through the entry's own loader (tsx, or Nx's), as before, with the
 * same results. `HOMELAB_BUNDLE=0` always runs the sources (readable
 * stack traces, debugging; `HOMELAB_CLI_BUNDLE=0` for the command alone); `HOMELAB_DEBUG=bundle`
 * (or the entry kind: `cli`, `plugin`, `executors`) prints which of the two runs. Bundles of
 * checkouts that are gone are removed.
 *
 * A bundle holds machine-local absolute paths (each module's __dirname and __filename, the
 * packages it requires), which is why it lives in the cache and is never committed.
 *
 * Packages stay outside the bundle, required where they are, but for the few every entry loads at
 * start whose many small modules cost more to resolve and load one by one than to run
 * (BUNDLED_PACKAGES: yaml 37 ms as ~80 modules against 12 ms as one file, js-yaml 19 against 6,
 * Handlebars' runtime 14 against 4, cold processes on 2 cores): they go into the bundle whole,
 * with what they require. A file of node_modules is checked for freshness by its size and
 * modification time rather than its contents (packages change as a whole, by npm, which rewrites
 * them), so a start does not read the ~150 files of those packages.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { cacheDir, requireCached, writeWhole } = require('./code-cache.js');

/** The package the entries belong to (tools/homelab): esbuild's working folder. */
const PACKAGE_ROOT = path.resolve(__dirname, '../..');
/** Bumped when the way a bundle is built changes in a way the digest of the inputs does not see. */
const FORMAT = 3;

/**
 * The packages built into each bundle (see the header), matched on the request's package name;
 * what their own modules require comes along. Handlebars whole (its compiler loads lazily, only
 * to compile an edited template), so its runtime and compiler stay one copy, as outside a bundle.
 */
const BUNDLED_PACKAGES = new Set(['yaml', 'js-yaml', 'handlebars']);

/** The package a bare request names (`yaml`, `handlebars/runtime` -> `handlebars`, `@scope/name/x` -> `@scope/name`). */
function packageOf(request) {
  const parts = request.split('/');
  return request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Whether a file is a package's: below a node_modules folder, seen from the package the entries
 * belong to (so a checkout that itself lies below a folder named node_modules is still sources).
 */
function isPackageFile(file) {
  return /(^|[\\/])node_modules[\\/]/.test(path.relative(PACKAGE_ROOT, file));
}

/**
 * Which bundle each entry was loaded from in this process (entry file -> bundle file; absent: the
 * sources), for worker threads to load the same code (validate/parallel.ts).
 */
const loaded = new Map();

/**
 * @typedef {object} Entry
 * @property {string} file the TypeScript entry, absolute
 * @property {string} kind the cache folder and the `HOMELAB_DEBUG` flag: `cli`, `plugin`, `executors`
 * @property {string} [via] how the fallback loads the sources, for the debug line (default `tsx`)
 * @property {(file: string) => unknown} [fallback] loads the sources (default: tsx's CommonJS loader)
 */

/** Digest of a bundle's inputs as they are now (null when one cannot be read). */
function digestOf(inputs) {
  const hash = crypto.createHash('sha256').update(`${FORMAT}\0${process.version}\0`).update(fs.readFileSync(__filename));
  for (const file of inputs) {
    let text;
    try {
      if (isPackageFile(file)) {
        const stat = fs.statSync(file);
        text = `${stat.size}:${stat.mtimeMs}`;
      } else {
        text = fs.readFileSync(file);
      }
    } catch {
      return null;
    }
    hash.update(`\0${file}\0`).update(text);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The manifest of an entry's bundle in this checkout: which files it was built from, and their digest. */
function manifestPath(entry, env) {
  const checkout = crypto.createHash('sha256').update(entry.file).digest('hex').slice(0, 16);
  return path.join(cacheDir(env), entry.kind, `${checkout}.json`);
}

/**
 * A file changed less than this before its stat was taken may change again with the same stat:
 * file systems keep times to a clock tick (a few milliseconds here, two seconds on some), so an
 * edit in the same tick, to the same size, would look the same.
 */
const RACY_MS = 2000;

/**
 * Each input's stat as a string (size, modification and change times, inode and device), or
 * null for an input changed within RACY_MS of `takenAt` (its contents must be read); null
 * altogether when one cannot be stat'ed. The change time moves on every write and cannot be set
 * back (`touch -d` sets only the modification time), so an input whose string is what it was
 * when its contents were last found unchanged has the same contents (git's index works the same
 * way).
 */
function statsOf(inputs, takenAt) {
  const out = [];
  for (const file of inputs) {
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return null;
    }
    const settled = Math.max(stat.mtimeMs, stat.ctimeMs) < takenAt - RACY_MS;
    out.push(settled ? `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}:${stat.dev}` : null);
  }
  return out;
}

/**
 * The entry's cached bundle, if it was built from the sources as they are now. Where every input
 * (and this file, under the same Node) still has the stat the manifest recorded when its contents
 * were last found unchanged (statsOf), that is known without reading the ~270 sources: about 1 ms
 * instead of 5-10 on every start of the command, the plugin and the executors. Otherwise their
 * contents are digested, and, when they are unchanged, the stats recorded for the next start.
 */
function freshBundle(entry, env = process.env) {
  const manifestFile = manifestPath(entry, env);
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(manifest.inputs)) return null;
  // The digest covers this file and the Node version too (digestOf): so do the stats.
  const stats = statsOf([__filename, ...manifest.inputs], Date.now());
  const recorded = manifest.node === process.version && Array.isArray(manifest.stats) ? manifest.stats : [];
  const unchanged = stats !== null && stats.every((s, i) => s !== null && s === recorded[i]);
  if (!unchanged) {
    if (digestOf(manifest.inputs) !== manifest.digest) return null;
    if (stats !== null && stats.some((s, i) => s !== recorded[i])) {
      try {
        writeWhole(manifestFile, JSON.stringify({ ...manifest, node: process.version, stats }));
      } catch {
        // A manifest that cannot be written changes nothing but the time.
      }
    }
  }
  const file = path.join(path.dirname(manifestFile), `${manifest.digest}.js`);
  return fs.existsSync(file) ? file : null;
}

/**
 * esbuild plugins that keep the bundle's behaviour the sources': each module keeps its own
 * __dirname and __filename (files are read relative to them: templates, schemas, scripts, worker
 * modules), and packages and plain JavaScript files (the precompiled validators, this loader) stay
 * outside, required where they are.
 */
const keepPlaces = {
  name: 'homelab-keep-places',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point' || args.path.startsWith('node:')) return undefined;
      const relative = args.path.startsWith('.') || path.isAbsolute(args.path);
      // A bundled package, and whatever the modules of a package inside the bundle require: esbuild's own
      // resolution. Not a `require.resolve` of one (a package.json read for its version): that stays a path.
      if (args.kind !== 'require-resolve' && ((!relative && BUNDLED_PACKAGES.has(packageOf(args.path))) || isPackageFile(args.importer))) return undefined;
      if (relative && !/\.c?js$/.test(args.path)) return undefined;
      try {
        return { path: require.resolve(args.path, { paths: [args.resolveDir] }), external: true };
      } catch {
        return undefined;
      }
    });
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = fs
        .readFileSync(args.path, 'utf8')
        .replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path)))
        .replace(/\b__filename\b/g, JSON.stringify(args.path));
      return { contents: text, loader: 'ts' };
    });
  },
};

/**
 * The JavaScript source with every character beyond ASCII written as its `\u` escape. Node 20 reads a
 * file holding even one such character through a slower decoder (and V8 keeps the whole source two
 * bytes a character): the plugin's bundle, 1.2 MB with 42 of them (in comments and a regular
 * expression that esbuild leaves as they are), took 10-12 ms to read instead of 5-6, and loading it
 * about 6 ms more CPU, on every Nx command. Where they stand an escape means the same character: a string, a regular expression, an
 * identifier, a comment (esbuild escapes template literals itself). The precompiled validators and
 * templates are written the same way (scripts/build-spec-validators.ts, scripts/build-templates.ts).
 * @example asciiOnly('"µs" // →') // '"\\u00b5s" // \\u2192'
 * @param {string} source
 */
function asciiOnly(source) {
  return source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Builds the entry's bundle into the cache; resolves to its path (null when an input cannot be read). */
async function buildBundle(entry, env = process.env) {
  const esbuild = require(require.resolve('esbuild', { paths: [path.dirname(require.resolve('tsx/package.json'))] }));
  const result = await esbuild.build({
    entryPoints: [entry.file],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PACKAGE_ROOT,
    plugins: [keepPlaces],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((input) => path.resolve(PACKAGE_ROOT, input))
    .sort();
  // The stats first: an input changed while its contents are read then no longer has them.
  const stats = statsOf([__filename, ...inputs], Date.now());
  const digest = digestOf(inputs);
  if (digest === null) return null;
  const manifest = manifestPath(entry, env);
  const file = path.join(path.dirname(manifest), `${digest}.js`);
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  writeWhole(file, asciiOnly(result.outputFiles[0].text));
  writeWhole(manifest, JSON.stringify({ root: entry.file, digest, inputs, ...(stats ? { node: process.version, stats } : {}) }));
  prune(path.dirname(manifest));
  return file;
}

/**
 * Builds the entry's bundle and waits for it: esbuild's own synchronous build takes no plugins,
 * so this runs buildBundle in a child process (only when the sources changed).
 */
function buildBundleSync(entry, env = process.env) {
  const { spawnSync } = require('node:child_process');
  const child = spawnSync(process.execPath, [__filename, JSON.stringify({ file: entry.file, kind: entry.kind })], {
    env: { ...env, NODE_OPTIONS: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(child.stderr.trim() || `the bundle build exited ${child.status}`);
  return child.stdout.trim() || null;
}

/** An hour: a file younger than that may belong to a build still running in another process. */
const SETTLED_MS = 60 * 60 * 1000;

/**
 * Removes what no checkout uses any more: the manifests of entries that are gone (a test's
 * temporary copy of the repository) and every settled bundle, code cache or temporary file no
 * manifest names.
 */
function prune(dir) {
  const used = new Set();
  const names = fs.readdirSync(dir);
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const { root, digest } = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (typeof root === 'string' && fs.existsSync(root)) used.add(digest);
      else fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Being written by another process, or not ours: left alone.
    }
  }
  const now = Date.now();
  // A bundle is `<digest>.js`, its code cache `<digest>.<source digest>.<V8 tag>.v8`: kept while a manifest names the digest.
  const kept = (n) => n.endsWith('.json') || (used.has(n.split('.')[0]) && !n.endsWith('.tmp'));
  for (const name of names.filter((n) => !kept(n))) {
    try {
      if (now - fs.statSync(path.join(dir, name)).mtimeMs > SETTLED_MS) fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/** Whether the sources must run as they are (`HOMELAB_BUNDLE=0`; the command also reads `HOMELAB_CLI_BUNDLE=0`): the variable that says so. */
function turnedOff(entry, env) {
  if (env.HOMELAB_BUNDLE === '0') return 'HOMELAB_BUNDLE=0';
  if (entry.kind === 'cli' && env.HOMELAB_CLI_BUNDLE === '0') return 'HOMELAB_CLI_BUNDLE=0';
  return null;
}

/** The default fallback: the sources through tsx's CommonJS loader, registered for the whole process. */
function throughTsx(file) {
  require('tsx/cjs');
  return require(file);
}

/** Requires the bundle, or, when there is none, the sources through the entry's fallback. */
function settle(entry, env, file, why) {
  if (file) {
    // With V8's code cache beside the bundle (code-cache.js): most of what a start costs is compiling it.
    const exports = requireCached(file, path.dirname(file), env);
    loaded.set(entry.file, file);
    debug(entry, env, `running the bundle ${file}`);
    return exports;
  }
  debug(entry, env, `running the sources through ${entry.via ?? 'tsx'} (${why})`);
  return (entry.fallback ?? throughTsx)(entry.file);
}

/** Why a build failed, in one line: esbuild's first error where it has one, with its place. */
function firstLine(error) {
  const first = error?.errors?.[0];
  if (first?.text) return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
  return String(error?.message ?? error).split('\n')[0];
}

/**
 * Resolves to the exports of the entry: from its bundle (built first when the sources changed), or
 * from the TypeScript sources when the bundle cannot be had or is turned off.
 *
 * @example const { mainAsync } = await loadBundle({ file: path.join(__dirname, 'main.ts'), kind: 'cli' });
 * @param {Entry} entry
 */
async function loadBundle(entry, env = process.env) {
  const off = turnedOff(entry, env);
  if (off) return settle(entry, env, null, off);
  let file = null;
  let why = 'no bundle';
  try {
    file = freshBundle(entry, env) ?? (await buildBundle(entry, env));
  } catch (error) {
    why = `no bundle: ${firstLine(error)}`;
  }
  return settle(entry, env, file, why);
}

/**
 * The exports of the entry, synchronously, for callers that cannot wait (Nx `require`s a plugin's
 * main and an executor's implementation): the fresh bundle is a plain `require`; a stale one is
 * rebuilt by a child process first.
 *
 * @param {Entry} entry
 */
function loadBundleSync(entry, env = process.env) {
  const off = turnedOff(entry, env);
  if (off) return settle(entry, env, null, off);
  let file = null;
  let why = 'no bundle';
  try {
    file = freshBundle(entry, env) ?? buildBundleSync(entry, env);
  } catch (error) {
    why = `no bundle: ${firstLine(error)}`;
  }
  return settle(entry, env, file, why);
}

/** `HOMELAB_DEBUG=bundle` (or the entry's kind; `1` for the command) says which code runs. */
function debug(entry, env, line) {
  const flags = (env.HOMELAB_DEBUG ?? '').split(',');
  if (flags.includes('bundle') || flags.includes(entry.kind) || (entry.kind === 'cli' && flags.includes('1'))) {
    process.stderr.write(`homelab: ${line}\n`);
  }
}

module.exports = { loadBundle, loadBundleSync, loaded, digestOf, freshBundle, buildBundle, asciiOnly, RACY_MS };

// `node load.js '{"file":…,"kind":…}'`: loadBundleSync's child, which builds and prints the bundle's path.
if (require.main === module) {
  buildBundle(JSON.parse(process.argv[2])).then(
    (file) => process.stdout.write(`${file ?? ''}\n`),
    (error) => {
      process.stderr.write(`${firstLine(error)}\n`);
      process.exitCode = 1;
    },
  );
}
