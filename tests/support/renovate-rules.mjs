// Applies a renovate.json5's packageRules to dependencies with Renovate's own rule engine and
// template compiler (the Renovate npx runs: its package is found from the `renovate` on PATH), and
// prints each one's group, automerge and labels as JSON. Run by tests/support/renovate.ts.
// Usage: node renovate-rules.mjs <renovate.json5> '<JSON list of dependencies>'
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const pkg = path.dirname(path.dirname(fs.realpathSync(execSync('command -v renovate').toString().trim())));
const { applyPackageRules } = await import(path.join(pkg, 'dist/util/package-rules/index.js'));
const { compile } = await import(path.join(pkg, 'dist/util/template/index.js'));
// homelab writes JSON with whole-line // comments (tools/homelab/src/platform/renovate.ts).
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((line) => !/^\s*\/\//.test(line)).join('\n'));
const out = [];
for (const dep of JSON.parse(process.argv[3])) {
  const applied = await applyPackageRules({ ...config, ...dep });
  out.push({ groupName: applied.groupName ? compile(applied.groupName, applied, false) : null, automerge: applied.automerge ?? false, labels: applied.labels ?? [] });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
