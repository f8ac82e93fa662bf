#!/usr/bin/env node
'use strict';
// The `homelab` command: loads src/cli/main.ts as one cached JavaScript bundle (built on the first
// run of each version of the sources), or through tsx's loader where no bundle can be had
// (src/bundle/load.js), then hands over to it.
const path = require('node:path');
const { loadBundle } = require('../src/bundle/load.js');

loadBundle({ file: path.join(__dirname, '../src/cli/main.ts'), kind: 'cli' })
  .then(({ mainAsync }) => mainAsync(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
