'use strict';
// The package's main, which Nx loads as the inference plugin (`"plugin": "homelab"` in nx.json):
// src/index.ts (createNodesV2 and the rest) as one cached JavaScript bundle (src/bundle/load.js).
// A .js file, so Nx registers no TypeScript transpiler for it (swc, then every module transpiled:
// about 0.45 s of every Nx command). Nx requires it synchronously: a stale bundle is rebuilt first.
// Without a bundle the TypeScript sources load as they did when this main was src/index.ts: through
// the transpiler Nx registers for a TypeScript plugin, registered for the whole process.
const path = require('node:path');
const { loadBundleSync } = require('./src/bundle/load.js');

module.exports = loadBundleSync({
  file: path.join(__dirname, 'src/index.ts'),
  kind: 'plugin',
  via: "Nx's transpiler",
  fallback(file) {
    require(require.resolve('nx/src/project-graph/plugins/transpiler', { paths: [__dirname] })).registerPluginTSTranspiler();
    return require(file);
  },
});
