'use strict';
// The package's main, which Nx loads as the inference plugin (`"plugin": "homelab"` in nx.json):
// src/index.ts (createNodesV2 and the rest) as one cached JavaScript bundle (src/bundle/load.js).
// A .js file, so Nx registers no TypeScript transpiler for it (swc, then every module transpiled:
// about 0.45 s of every Nx command). Nx requires it synchronously: a stale bundle is rebuilt first.
// Without a bundle the TypeScript sources load through the transpiler Nx registers for a TypeScript
// plugin (swc), registered for the whole process. Registered by force: on a Node that strips types
// itself (22.18+, 24) Nx would otherwise leave the .ts to Node, which reads this CommonJS package's
// `export` as a syntax error.
const path = require('node:path');
const { loadBundleSync } = require('./src/bundle/load.js');

module.exports = loadBundleSync({
  file: path.join(__dirname, 'src/index.ts'),
  kind: 'plugin',
  via: "Nx's transpiler",
  fallback(file) {
    require(require.resolve('nx/src/project-graph/plugins/transpiler', { paths: [__dirname] })).forceRegisterPluginTSTranspiler();
    return require(file);
  },
});
