import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * generators.json names each generator's factory as `../../generators/entry.js#<name>`; the entry
 * exports one getter per name, each taking the generator from the plugin's `generators`
 * (src/index.ts), which requires its generator.ts. The three must name the same generators, and
 * each must give the function its generator.ts exports. Checked in a node with tsx's CommonJS
 * loader, as the plugin's sources load without a bundle: the plugin requires TypeScript files,
 * which vitest's own `require` does not transpile.
 */
const ROOT = path.resolve(__dirname, '..');

const CHECK = `
const path = require('node:path');
const { generators } = require(path.resolve('tools/homelab/src/index.ts'));
const out = {};
for (const name of Object.keys(generators)) {
  const own = require(path.resolve('generators', name, 'generator.ts')).default;
  out[name] = { fn: typeof own === 'function', same: generators[name]().default === own };
}
process.stdout.write(JSON.stringify(out));
`;

describe("the generators' entry", () => {
  const collection = JSON.parse(fs.readFileSync(path.join(ROOT, 'tools/homelab/generators.json'), 'utf8')) as {
    generators: Record<string, { factory: string }>;
  };
  const names = Object.keys(collection.generators).sort();

  it('names in generators.json and the entry the same generators, each a folder of generators/', () => {
    expect(Object.values(collection.generators).map((g) => g.factory)).toEqual(Object.keys(collection.generators).map((n) => `../../generators/entry.js#${n}`));
    const entry = require(path.join(ROOT, 'generators/entry.js')) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(names);
    for (const name of names) expect(fs.existsSync(path.join(ROOT, 'generators', name, 'generator.ts'))).toBe(true);
  });

  it("gives each generator from the plugin's `generators`: the function its generator.ts exports", () => {
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', CHECK], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const seen = JSON.parse(r.stdout) as Record<string, { fn: boolean; same: boolean }>;
    expect(Object.keys(seen).sort()).toEqual(names);
    for (const name of names) expect(seen[name], name).toEqual({ fn: true, same: true });
  });
});
