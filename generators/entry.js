'use strict';
/**
 * Nx's entry of every homelab generator (tools/homelab/generators.json: `../../generators/entry.js#app`,
 * `#sync`, …). Each export is the generator's module as the plugin's main (tools/homelab/plugin.js)
 * exports it (`generators` of src/index.ts), when Nx first asks for it: the plugin's cached
 * JavaScript bundle (tools/homelab/src/bundle/load.js) holds the generators, and Nx has it loaded
 * before a generator runs, so `nx g homelab:app` requires no second file. Where the plugin loads
 * as TypeScript sources (no bundle, HOMELAB_BUNDLE=0), the generator does too, through the
 * transpiler Nx registers for the plugin.
 */

/** The exports Nx asks for: each generator's folder under generators/ (a test holds it to generators.json and the plugin's `generators`). */
const GENERATORS = ['app', 'import', 'remove', 'sync', 'init', 'infra', 'secret-store', 'environment'];

/** Each generator's module, loaded once a process. */
const modules = new Map();

function load(folder) {
  if (!modules.has(folder)) modules.set(folder, require('../tools/homelab/plugin.js').generators[folder]());
  return modules.get(folder);
}

for (const folder of GENERATORS) {
  // Nx calls `module[name]`, else `module.default ?? module`: the generator function.
  Object.defineProperty(exports, folder, { enumerable: true, get: () => load(folder).default ?? load(folder) });
}
