#!/usr/bin/env node
'use strict';
// The `homelab` command: loads src/cli/main.ts as one cached JavaScript bundle (built on the first
// run of each version of the sources), or through tsx's loader where no bundle can be had
// (src/cli/bundle.js), then hands over to it.
require('../src/cli/bundle.js')
  .loadCli()
  .then(({ mainAsync }) => mainAsync(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
