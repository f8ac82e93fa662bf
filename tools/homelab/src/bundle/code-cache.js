'use strict';
/**
 * V8's code cache for the large JavaScript files a homelab process compiles at start: the entry's
 * bundle (load.js) and the precompiled Kubernetes and spec validators and templates (cached.ts,
 * for validate/schemas.ts, spec/schema.ts and render/engine.ts). Compiling them
 * is most of a cold start: a one-file `homelab validate` took 0.14 s, 0.10 s with the cache, and
 * the validate bench's 10,000 documents 0.02-0.06 s less (medians of 5-15 alternated cold runs,
 * 2 cores; `npm run bench:validate` prints the ratio, `npm run bench:graph` that of Nx's runs).
 *
 * The first run of a file compiles it as Node would and, once its top level has run, writes what
 * V8 compiled by then (the module's code and the functions its loading ran) to the cache, and
 * again when the process exits, with every function the run compiled (the spec validators' first
 * calls took 9-15 ms with a cache written at load, 0.1 ms with one written at exit); later runs
 * hand that to V8, which skips parsing and compiling them. The first write is for the processes
 * that end with a signal, which runs no exit handler (Nx's task processes). So a cache holds what
 * the first run of a version of the file compiled: a function only later runs call is compiled
 * by each of them, as without a cache. A cache is used only for the very same source (its name
 * holds a digest of the bytes, as V8 itself checks only the length) and the same V8, flags and CPU
 * (`v8.cachedDataVersionTag()`); V8 refuses any other, and a refused or missing one is written
 * anew. A cache that cannot be read or written changes nothing but the time. `HOMELAB_CODE_CACHE=0`
 * turns it off (the bench's reference runs).
 */
const { isAscii } = require('node:buffer');
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

/** The cache root: `$HOMELAB_CACHE_DIR`, else `$XDG_CACHE_HOME/homelab`, else `~/.cache/homelab` (as scripts/crds/fetch.ts `cacheDir` finds it). */
function cacheDir(env = process.env) {
  if (env.HOMELAB_CACHE_DIR) return path.resolve(env.HOMELAB_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache'), 'homelab');
}

/** Scripts compiled without a usable cache in this process: written again when it exits. */
const firstRuns = [];

/**
 * A file's text, and a digest of its bytes. The bundles and precompiled files are written in ASCII
 * (load.js `asciiOnly`), which is read as latin1, the same text, without UTF-8's slower decoder;
 * with the digest of the bytes, 1.0-2.7 ms for a 1.3 MB bundle against 4.3-8.0 ms decoded as
 * UTF-8 and hashed as text.
 */
function readSource(file) {
  const bytes = fs.readFileSync(file);
  return { text: bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'), digest: crypto.createHash('sha1').update(bytes).digest('hex').slice(0, 24) };
}

/**
 * Whether a file's code goes without the cache: turned off, or a file holding a dynamic import(),
 * which needs the loader's callback that vm.Script in Node 20 cannot take.
 */
function uncached(source, env) {
  return env.HOMELAB_CODE_CACHE === '0' || source.text.includes('import(');
}

/**
 * The function Node makes of a CommonJS file (Module.wrap: exports, require, module, __filename,
 * __dirname), compiled with the code cache kept in `dir` for it (as Node compiles it where the
 * file goes `uncached`); where there was none (or V8 refused it), calling the function also
 * writes one once the module's top level has run.
 * @param {string} file the file's absolute path
 * @param {string} dir where its cache lives
 * @returns {Function}
 */
function compileWrapped(file, dir, env = process.env) {
  const source = readSource(file);
  if (uncached(source, env)) return vm.runInThisContext(Module.wrap(source.text), { filename: file });
  return compileCached(file, dir, source);
}

/** compileWrapped for a file that goes with the cache. */
function compileCached(file, dir, source) {
  const wrapped = Module.wrap(source.text);
  const name = path.basename(file, '.js');
  const target = path.join(dir, `${name}.${source.digest}.${v8.cachedDataVersionTag()}.v8`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(target);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const fn = script.runInThisContext();
  if (cachedData !== undefined && !script.cachedDataRejected) return fn;
  return function runAndCache(...args) {
    const result = fn.apply(this, args);
    writeCache(script, target, name);
    if (firstRuns.length === 0) process.once('exit', () => firstRuns.forEach((r) => writeCache(r.script, r.target, r.name)));
    firstRuns.push({ script, target, name });
    return result;
  };
}

/**
 * Requires a CommonJS file through compileWrapped, as `require(file)` would: one module object
 * in require's cache, its own require resolving from its folder.
 * @param {string} file an absolute path
 * @param {string} dir where its code cache lives
 */
function requireCached(file, dir, env = process.env) {
  const cached = require.cache[file];
  if (cached) return cached.exports;
  if (env.HOMELAB_CODE_CACHE === '0') return require(file);
  const source = readSource(file);
  // Node's own loader gives import() what it needs.
  if (uncached(source, env)) return require(file);
  const fn = compileCached(file, dir, source);
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = m;
  try {
    fn.call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  } catch (error) {
    delete require.cache[file];
    throw error;
  }
  m.loaded = true;
  return m.exports;
}

/** A month: a cache of another V8 written longer ago than that goes (that Node has not written it anew since). */
const UNUSED_MS = 30 * 24 * 60 * 60 * 1000;

/** Writes a file whole (a temporary file and a rename): a concurrent run sees the old file or the new one. */
function writeWhole(target, content) {
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/** Writes a script's cache (whole: writeWhole), and removes the file's older ones. */
function writeCache(script, target, name) {
  try {
    const dir = path.dirname(target);
    fs.mkdirSync(dir, { recursive: true });
    writeWhole(target, script.createCachedData());
    // The same file's caches of another text (the source changed) go; those of another V8 (another
    // Node, which may still be in use: CI runs the suite on three) once a month old.
    const same = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{24}\\.(\\d+)\\.v8$`);
    const tag = String(v8.cachedDataVersionTag());
    for (const other of fs.readdirSync(dir)) {
      const m = same.exec(other);
      if (!m || other === path.basename(target)) continue;
      const file = path.join(dir, other);
      if (m[1] === tag || Date.now() - fs.statSync(file).mtimeMs > UNUSED_MS) fs.rmSync(file, { force: true });
    }
  } catch {
    // A cache that cannot be written costs the next run its compile, nothing more.
  }
}

module.exports = { cacheDir, compileWrapped, requireCached, writeWhole };
