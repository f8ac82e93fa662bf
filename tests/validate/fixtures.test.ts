import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../tools/homelab/src/validate/engine';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { RULE_BY_ID, RULES } from '../../tools/homelab/src/validate/rules';
import { REPO_ROOT } from '../support/workspace';

const FIXTURES = path.join(__dirname, 'fixtures');
const list = (dir: string) => fs.readdirSync(path.join(FIXTURES, dir)).sort();
/** Fixtures are single files: no kustomize or Compose rendering, every other check. */
const checks = new Set(ALL_CHECKS.filter((c) => c !== 'render'));
const validate = (rel: string) => validatePaths([rel], { cwd: FIXTURES, workspaceRoot: null, checks });

describe('valid fixtures', () => {
  it.each(list('valid'))('%s has no finding', (file) => {
    expect(validate(`valid/${file}`).findings).toEqual([]);
  });
});

describe('invalid fixtures', () => {
  const cases = list('invalid').map((file) => {
    const text = fs.readFileSync(path.join(FIXTURES, 'invalid', file), 'utf8');
    return { file, breaks: /^# breaks: (.+)$/m.exec(text)?.[1], rule: /^# expect: (\S+)$/m.exec(text)?.[1] };
  });

  it.each(cases)('$file says what it breaks and which rule must fire', ({ breaks, rule }) => {
    expect(breaks).toBeTruthy();
    expect(RULE_BY_ID.has(rule ?? '')).toBe(true);
  });

  it.each(cases)('$file: $rule fires, with a line and a fix', ({ file, rule }) => {
    const { findings } = validate(`invalid/${file}`);
    const hit = findings.filter((f) => f.rule === rule);
    expect(hit.length).toBeGreaterThan(0);
    for (const f of hit) {
      expect(f.file).toBe(`invalid/${file}`);
      // Line 1-2 are the fixture's comments: the finding points into the document.
      expect(f.line).toBeGreaterThan(2);
      expect(f.col).toBeGreaterThanOrEqual(1);
      expect(f.message).toMatch(/;/);
    }
    // One defect each: no other rule fires.
    expect([...new Set(findings.map((f) => f.rule))]).toEqual([rule]);
  });

  it('never prints a secret value', () => {
    const out = ['plaintext-token-env.yaml', 'plaintext-password-env.yaml', 'compose-plaintext-credential.yaml', 'secret-object.yaml'].flatMap((f) => validate(`invalid/${f}`).findings.map((x) => x.message));
    expect(out.join('\n')).not.toMatch(/ghp_abc|correct-horse|xoxb-123|not-here/);
    expect(out.join('\n')).toMatch(/GIT_AUTH/);
  });
});

describe('docs/validate.md', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/validate.md'), 'utf8');
  it('lists every rule, and no rule that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `([a-z]+\/[a-z-]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(RULES.map((r) => r.id).sort());
  });
});
