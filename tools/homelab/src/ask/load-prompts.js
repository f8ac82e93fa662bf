'use strict';
// @inquirer/prompts is an ES module, loaded with import() when a question is asked. The import()
// lives in this plain CommonJS file, which Node's own loader compiles (the bundles keep such files
// outside): a bundle compiled through V8's code cache (src/bundle/code-cache.js) can hold none.
module.exports = () => import('@inquirer/prompts');
