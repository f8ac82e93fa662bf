'use strict';
/**
 * Nx's entry of every homelab generator (tools/homelab/generators.json: `../../generators/entry.js#app`,
 * `#sync`, …). Each export reads the generator's generator.ts as one cached JavaScript bundle
 * (tools/homelab/src/bundle/load.js) when Nx first asks for it, as src/executors/entry.js does for
 * the executors: `nx g homelab:app` loads one file instead of the TypeScript modules it imports,
 * each transpiled on every run (about 0.5 s of CPU). Without a bundle the sources load as Nx loaded
 * them when generators.json named generator.ts: through Nx's loadTsFile.
 */
const path = require('node:path');
const { loadBundleSync } = require('../tools/homelab/src/bundle/load.js');

/** The exports Nx asks for: each generator's folder under generators/. */
const GENERATORS = ['app', 'import', 'remove', 'sync', 'init', 'infra', 'secret-store', 'environment'];

/** Each generator's module, loaded once a process. */
const modules = new Map();

function load(folder) {
  if (!modules.has(folder)) {
    modules.set(
      folder,
      loadBundleSync({
        file: path.join(__dirname, folder, 'generator.ts'),
        kind: 'generators',
        via: "Nx's loadTsFile",
        fallback: (file) => require(require.resolve('nx/src/plugins/js/utils/register', { paths: [__dirname] })).loadTsFile(file),
      }),
    );
  }
  return modules.get(folder);
}

for (const folder of GENERATORS) {
  // Nx calls `module[name]`, else `module.default ?? module`: the generator function.
  Object.defineProperty(exports, folder, { enumerable: true, get: () => load(folder).default ?? load(folder) });
}
