'use strict';
/**
 * Nx's entry of every homelab executor (executors.json: `./src/executors/entry.js#validate`,
 * `#batchValidate`, …). Each export reads the executor's executor.ts as one cached JavaScript
 * bundle (src/bundle/load.js) when Nx first asks for it, so a task loads its own executor's code
 * only, in one file instead of ~270 TypeScript modules transpiled one by one (0.5-0.8 s of CPU in
 * every task or batch process). Without a bundle the sources load as Nx loaded them when
 * executors.json named executor.ts: through Nx's loadTsFile.
 */
const path = require('node:path');
const { loadBundleSync } = require('../bundle/load.js');

/** The exports Nx asks for: the executor folder and the executor.ts export each stands for. */
const EXPORTS = {
  validate: ['validate', 'default'],
  batchValidate: ['validate', 'batchValidate'],
  build: ['build', 'default'],
  batchBuild: ['build', 'batchBuild'],
  deploy: ['deploy', 'default'],
  down: ['down', 'default'],
  restoreDrill: ['restore-drill', 'default'],
  status: ['status', 'default'],
  logs: ['logs', 'default'],
  diff: ['diff', 'default'],
};

/** Each executor's exports, loaded once a process (an executor and its batch form share them). */
const modules = new Map();

function load(folder) {
  if (!modules.has(folder)) modules.set(folder, loadFolder(folder));
  return modules.get(folder);
}

function loadFolder(folder) {
  return loadBundleSync({
    file: path.join(__dirname, folder, 'executor.ts'),
    kind: 'executors',
    via: "Nx's loadTsFile",
    fallback: (file) => require(require.resolve('nx/src/plugins/js/utils/register', { paths: [__dirname] })).loadTsFile(file),
  });
}

for (const [name, [folder, exported]] of Object.entries(EXPORTS)) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load(folder)[exported] });
}
