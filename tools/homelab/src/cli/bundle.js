'use strict';
/**
 * How the `homelab` command loads its code: one JavaScript bundle of src/cli/main.ts and everything
 * it imports, built with esbuild (tsx's own, which tsx resolves) the first time a version of the
 * sources runs and kept in the cache (`$HOMELAB_CACHE_DIR`, else `$XDG_CACHE_HOME/homelab`, else
 * `~/.cache/homelab`, in `cli/`). Through tsx every one of the ~270 TypeScript modules is hashed,
 * looked up in tsx's cache and registered for source maps on each start (about 0.4 s of CPU before
 * any work); the bundle is one file Node compiles lazily (about 0.1 s).
 *
 * The bundle is never stale: it is named after a digest of the contents of every file it was built
 * from (and of this file), and used only while those files still have that digest; any change
 * builds a new one. Anything that goes wrong (no esbuild, a cache that cannot be written, a build
 * error) falls back to the TypeScript sources through tsx, as before, with the same results.
 * `HOMELAB_CLI_BUNDLE=0` always runs the sources through tsx (readable stack traces, debugging);
 * `HOMELAB_DEBUG=cli` prints which of the two runs. Bundles of checkouts that are gone are removed.
 * The bundle holds machine-local absolute paths (each module's __dirname and __filename, the
 * packages it requires), which is why it lives in the cache and is never committed.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ENTRY = path.join(__dirname, 'main.ts');
/** Bumped when the way the bundle is built changes in a way the digest of the inputs does not see. */
const FORMAT = 1;

/** Where the bundle was loaded from (null: the sources through tsx), for worker threads to load the same code. */
const loaded = { file: null };

/** The cache root, as scripts/crds/fetch.ts `cacheDir` finds it. */
function cacheDir(env) {
  if (env.HOMELAB_CACHE_DIR) return path.resolve(env.HOMELAB_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache'), 'homelab');
}

/** Digest of the bundle's inputs as they are now (null when one cannot be read). */
function digestOf(inputs) {
  const hash = crypto.createHash('sha256').update(`${FORMAT}\0${process.version}\0`).update(fs.readFileSync(__filename));
  for (const file of inputs) {
    let text;
    try {
      text = fs.readFileSync(file);
    } catch {
      return null;
    }
    hash.update(`\0${file}\0`).update(text);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The manifest of this checkout's bundle: which files it was built from, and their digest. */
function manifestPath(env) {
  const checkout = crypto.createHash('sha256').update(__dirname).digest('hex').slice(0, 16);
  return path.join(cacheDir(env), 'cli', `${checkout}.json`);
}

/** The cached bundle, if it was built from the sources as they are now. */
function freshBundle(env) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath(env), 'utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(manifest.inputs) || digestOf(manifest.inputs) !== manifest.digest) return null;
  const file = path.join(path.dirname(manifestPath(env)), `${manifest.digest}.js`);
  return fs.existsSync(file) ? file : null;
}

/**
 * esbuild plugins that keep the bundle's behaviour the sources': each module keeps its own
 * __dirname and __filename (files are read relative to them), and packages and plain JavaScript
 * files (the precompiled validators, this loader) stay outside, required where they are.
 */
const keepPlaces = {
  name: 'homelab-keep-places',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point' || args.path.startsWith('node:')) return undefined;
      const relative = args.path.startsWith('.') || path.isAbsolute(args.path);
      if (relative && !/\.c?js$/.test(args.path)) return undefined;
      try {
        return { path: require.resolve(args.path, { paths: [args.resolveDir] }), external: true };
      } catch {
        return undefined;
      }
    });
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8')
        .replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path)))
        .replace(/\b__filename\b/g, JSON.stringify(args.path));
      return { contents: text, loader: 'ts' };
    });
  },
};

/** Builds the bundle into the cache; resolves to its path. */
async function buildBundle(env) {
  const esbuild = require(require.resolve('esbuild', { paths: [path.dirname(require.resolve('tsx/package.json'))] }));
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: path.resolve(__dirname, '../..'),
    plugins: [keepPlaces],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((input) => path.resolve(path.resolve(__dirname, '../..'), input))
    .sort();
  const digest = digestOf(inputs);
  if (digest === null) return null;
  const manifest = manifestPath(env);
  const file = path.join(path.dirname(manifest), `${digest}.js`);
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  // Written whole (a temporary file and a rename): a concurrent run sees the old files or the new ones.
  const write = (target, content) => {
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, target);
  };
  write(file, result.outputFiles[0].contents);
  write(manifest, JSON.stringify({ root: __dirname, digest, inputs }));
  prune(path.dirname(manifest));
  return file;
}

/** An hour: a file younger than that may belong to a build still running in another process. */
const SETTLED_MS = 60 * 60 * 1000;

/**
 * Removes what no checkout uses any more: the manifests of checkouts that are gone (a test's
 * temporary copy of the repository) and every settled bundle or temporary file no manifest names.
 */
function prune(dir) {
  const used = new Set();
  const names = fs.readdirSync(dir);
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const { root, digest } = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (typeof root === 'string' && fs.existsSync(root)) used.add(`${digest}.js`);
      else fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Being written by another process, or not ours: left alone.
    }
  }
  const now = Date.now();
  for (const name of names.filter((n) => !n.endsWith('.json') && !used.has(n))) {
    try {
      if (now - fs.statSync(path.join(dir, name)).mtimeMs > SETTLED_MS) fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Resolves to the exports of src/cli/main.ts: from the bundle (built first when the sources changed), or from
 * the TypeScript sources through tsx when the bundle cannot be had or `HOMELAB_CLI_BUNDLE=0`.
 */
async function loadCli(env = process.env) {
  if (env.HOMELAB_CLI_BUNDLE !== '0') {
    try {
      const file = freshBundle(env) ?? (await buildBundle(env));
      if (file) {
        const cli = require(file);
        loaded.file = file;
        debug(env, `running the bundle ${file}`);
        return cli;
      }
    } catch (error) {
      debug(env, `running the sources through tsx (no bundle: ${String(error?.message ?? error).split('\n')[0]})`);
    }
  } else debug(env, 'running the sources through tsx (HOMELAB_CLI_BUNDLE=0)');
  require('tsx/cjs');
  return require(ENTRY);
}

/** `HOMELAB_DEBUG=cli` (or 1) says which code runs. */
function debug(env, line) {
  const flags = (env.HOMELAB_DEBUG ?? '').split(',');
  if (flags.includes('1') || flags.includes('cli')) process.stderr.write(`homelab: ${line}\n`);
}

module.exports = { loadCli, loaded, digestOf, freshBundle };
