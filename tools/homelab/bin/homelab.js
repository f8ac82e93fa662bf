#!/usr/bin/env node
'use strict';
// The `homelab` command: registers tsx's CommonJS loader so the TypeScript sources run as
// they are (no build step), then hands over to src/cli/main.ts.
require('tsx/cjs');
const { mainAsync } = require('../src/cli/main.ts');
mainAsync(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
