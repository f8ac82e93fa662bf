import * as path from 'node:path';

/** V8's code cache (code-cache.js), plain JavaScript required where it is: the bundles keep it outside. */
const codeCache = require('./code-cache.js') as {
  cacheDir(): string;
  compileWrapped(file: string, dir: string): (...args: unknown[]) => void;
  requireCached(file: string, dir: string): unknown;
};

/** Where the code caches of the large files outside the bundles live: the precompiled validators and templates. */
const v8Dir = () => path.join(codeCache.cacheDir(), 'v8');

/** `require(file)` of a large plain JavaScript file, compiled with V8's code cache (code-cache.js). */
export function requireWithCodeCache(file: string): unknown {
  return codeCache.requireCached(file, v8Dir());
}

/** The CommonJS wrapper function of a file (Module.wrap), compiled with V8's code cache (code-cache.js). */
export function compileWithCodeCache(file: string): (...args: unknown[]) => void {
  return codeCache.compileWrapped(file, v8Dir());
}
