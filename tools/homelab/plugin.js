'use strict';
// The package's entry, which Nx loads as the inference plugin (`"plugin": "homelab"` in nx.json).
// A .js file, so Nx registers no TypeScript transpiler for it: that registration loads the
// TypeScript compiler (about 0.3 s, in the plugin's worker, on every Nx command). tsx's
// CommonJS loader, scoped to this require, runs the TypeScript sources as they are, as the
// `homelab` command does (bin/homelab.js).
const { require: tsxRequire } = require('tsx/cjs/api');
module.exports = tsxRequire('./src/index.ts', __filename);
