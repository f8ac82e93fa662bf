import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPLATES_DIR, VALUE_HELPERS } from './engine';

/**
 * Every template under templates/, scanned for interpolations that bypass the emitters:
 * each `{{…}}` is a block statement (`#if`, `#each`, `else`, `/if`…) or a call of one of
 * the value helpers, and on a comment line only the one-line `line` helper may write.
 * A raw `{{value}}` (or a triple-stash) is how a user value once reached a YAML comment
 * unescaped; this keeps any from coming back.
 */
function templates(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? templates(full) : e.name.endsWith('.hbs') ? [full] : [];
  });
}

const FILES = templates(TEMPLATES_DIR).map((f) => path.relative(TEMPLATES_DIR, f).split(path.sep).join('/'));
// Blocks, and partials (`{{> app/pod}}`), which are templates under _partials/ scanned like the others.
const BLOCK = /^(?:[#/^>]|else\b)/;

/** The interpolations of a template that are neither blocks nor allowed helper calls, as "line: text". */
function rawInterpolations(file: string): string[] {
  const source = fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8');
  const isYaml = /\.ya?ml\.hbs$/.test(file);
  const isAlloy = file.endsWith('.alloy.hbs');
  const isJson5 = file.endsWith('.json5.hbs');
  const problems: string[] = [];
  source.split('\n').forEach((text, i) => {
    const comment = (isYaml && /^\s*#/.test(text)) || ((isAlloy || isJson5) && /^\s*\/\//.test(text));
    for (const match of text.matchAll(/\{\{(\{?)~?\s*([^}]*?)\s*~?\}\}/g)) {
      const [whole, triple, inner] = match;
      if (triple) {
        problems.push(`${i + 1}: ${whole} (triple-stash)`);
        continue;
      }
      if (BLOCK.test(inner)) continue;
      const helper = inner.split(/\s+/)[0];
      const allowed = comment ? helper === 'line' : (VALUE_HELPERS as readonly string[]).includes(helper);
      if (!allowed) problems.push(`${i + 1}: ${whole}${comment ? ' (a comment takes only {{line …}})' : ''}`);
    }
  });
  return problems;
}

describe('templates', () => {
  it('finds the templates to scan', () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(FILES).toContain('secret-store/onepassword/platform/secrets/stores/__name__.yaml.hbs');
  });

  it.each(FILES)('%s interpolates every value through an emitter helper', (file) => {
    expect(rawInterpolations(file)).toEqual([]);
  });
});
