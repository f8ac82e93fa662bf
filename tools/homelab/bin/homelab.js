#!/usr/bin/env node
'use strict';
// The `homelab` command: registers tsx's CommonJS loader so the TypeScript sources run as
// they are (no build step), then hands over to src/cli/main.ts.
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');
process.exitCode = main(process.argv.slice(2));
