import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The benchmarks (scripts/bench-*.ts) run under tsx, outside vitest, and some import test
 * helpers (the deploy workspace, the loopback balancer). A helper that imports vitest, directly
 * or through another, makes such a benchmark fail at its first line, as `npm run bench:deploy`
 * once did: each test module a script imports must load in a plain node.
 */

const ROOT = path.resolve(__dirname, '..');

/** The test modules the scripts import, as paths relative to the repository root. */
function testModulesOfScripts(): string[] {
  const modules = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts')) {
        for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']*\/tests\/[^']*)'/g)) {
          modules.add(path.relative(ROOT, path.resolve(path.dirname(file), spec)));
        }
      }
    }
  };
  walk(path.join(ROOT, 'scripts'));
  return [...modules].sort();
}

describe('the test helpers the benchmarks import', () => {
  const modules = testModulesOfScripts();

  it('are found (the deploy workspace and the loopback balancer at least)', () => {
    expect(modules).toEqual(expect.arrayContaining(['tests/deploy/loopback', 'tests/deploy/support']));
  });

  it.each(modules)('%s loads outside vitest', (module) => {
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', `require(${JSON.stringify(`./${module}`)})`], { cwd: ROOT, encoding: 'utf8' });
    expect(child.status, child.stderr.split('\n').find((line) => /Error/.test(line)) ?? child.stderr).toBe(0);
  });
});
