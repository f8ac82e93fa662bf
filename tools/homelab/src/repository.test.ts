import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The tool's own sources (not the homelab content of the workspace). */
const ROOT = path.resolve(__dirname, '../../..');
const SOURCE_DIRS = ['tools', 'generators', 'scripts', 'tests'];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : /\.[cm]?[jt]s$/.test(e.name) ? [full] : [];
  });
}

describe('the repository', () => {
  it('carries no ESLint directive, since it has no ESLint to read one', () => {
    const directive = ['eslint', 'disable'].join('-');
    const files = [...SOURCE_DIRS.flatMap((d) => sources(path.join(ROOT, d))), path.join(ROOT, 'plopfile.ts')];
    const found = files.filter((f) => fs.readFileSync(f, 'utf8').includes(directive)).map((f) => path.relative(ROOT, f));

    expect(files.length).toBeGreaterThan(100);
    expect(found).toEqual([]);
    expect(fs.existsSync(path.join(ROOT, 'eslint.config.js')) || fs.existsSync(path.join(ROOT, '.eslintrc.json'))).toBe(false);
  });
});
