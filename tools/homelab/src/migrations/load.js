'use strict';
// Nx runs a migration with a plain require() (tools/homelab/migrations.json): register tsx's
// CommonJS loader, as bin/homelab.js does, so the TypeScript migrations run as they are.
require('tsx/cjs');
module.exports = require('./index.ts');
