import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAppSpec, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { specOf } from '../support/spec';
import { makeTempDir, removeDir } from '../support/workspace';

/** `policy.disable` in the app spec: each policy rule turned off with its reason. */
describe('app spec policy.disable', () => {
  const disable = [{ rule: 'policy/read-only-root-fs', reason: 'the image writes its cache under /var/lib/app' }];

  it('is kept when a spec is written and read back', () => {
    const spec = specOf('web', { policy: { disable } });
    expect(parseAppSpec(stringifyAppSpec(spec), 'applications/specs/web.yaml').policy).toEqual({ disable });
  });

  it.each([
    [{ disable: [{ rule: 'policy/read-only-root-fs' }] }, /policy\.disable\[0\]\.reason is missing; add it/],
    [{ disable: [{ rule: 'schema/unknown-field', reason: 'not a policy rule' }] }, /policy\.disable\[0\]\.rule: "schema\/unknown-field" is invalid; expected a policy rule id/],
    [{ disable: [{ rule: 'policy/probes', reason: 'x' }] }, /reason/],
  ])('refuses %j', (policy, message) => {
    const text = stringifyAppSpec(specOf('web', { policy: policy as never }));
    expect(() => parseAppSpec(text, 'applications/specs/web.yaml')).toThrow(message);
  });
});

/**
 * validate judges a spec as homelab reads it (spec/io.ts: the yaml package, YAML 1.2 core).
 * js-yaml, which validate parses every file with, reads a few plain scalars differently.
 */
describe('the schema check of an app spec reads it as homelab does', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('spec-read');
  });
  afterAll(() => removeDir(dir));

  const check = (env: Record<string, string>) => {
    const text = stringifyAppSpec(specOf('web', { env }));
    fs.mkdirSync(path.join(dir, 'applications/specs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'applications/specs/web.yaml'), text);
    return { text, rules: validatePaths(['applications/specs/web.yaml'], { cwd: dir, workspaceRoot: dir, checks: new Set(['parse', 'schema']) }).findings.map((f) => `${f.rule} ${f.message}`) };
  };

  it('accepts a value that YAML 1.2 reads as text and js-yaml as a number (0b101)', () => {
    const { text, rules } = check({ BINARY: '0b101' });

    expect(text).toContain('BINARY: 0b101\n');
    expect(parseAppSpec(text, 'web.yaml')).toMatchObject({ env: { BINARY: '0b101' } });
    expect(rules).toEqual([]);
  });

  it('still refuses a value homelab reads as a number', () => {
    const text = stringifyAppSpec(specOf('web', { env: { PORT: '8080' } })).replace('PORT: "8080"', 'PORT: 8080');
    fs.writeFileSync(path.join(dir, 'applications/specs/web.yaml'), text);
    const rules = validatePaths(['applications/specs/web.yaml'], { cwd: dir, workspaceRoot: dir, checks: new Set(['parse', 'schema']) }).findings.map((f) => f.rule);

    expect(text).toContain('PORT: 8080\n');
    expect(rules).toContain('schema/invalid');
  });
});
