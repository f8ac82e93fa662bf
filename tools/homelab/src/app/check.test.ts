import { describe, expect, it } from 'vitest';
import { FIVE_MISTAKES, inputErrorOf, specOf } from '../../../../tests/support/spec';
import { workspaceTree } from '../../../../tests/support/workspace';
import { treeHost } from '../host';
import { stringifyAppSpec } from '../spec/io';
import { SpecError } from '../spec/problems';
import { checkAppSpec } from './check';
import { readWorkspace } from './plan';

const file = 'applications/specs/shop.yaml';
const check = (text: string, name = 'shop') => {
  const host = treeHost(workspaceTree().tree);
  return checkAppSpec(host, text, `applications/specs/${name}.yaml`, readWorkspace(host));
};
const problemsOf = (text: string, name = 'shop') => {
  try {
    check(text, name);
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a SpecError');
};

describe('checkAppSpec', () => {
  it('a spec with five mistakes reports five problems with their lines, the schema\'s and normalize\'s at once', () => {
    expect(problemsOf(FIVE_MISTAKES.text)).toEqual(FIVE_MISTAKES.problems);
  });

  it('prints one line per problem, `file:line:col: message`', () => {
    const message = inputErrorOf(() => check(FIVE_MISTAKES.text));

    expect(message.split('\n')).toEqual(FIVE_MISTAKES.problems.map((p) => `${file}:${p}`));
  });

  it('locates a normalize problem at its field, not at 1:1', () => {
    const text = stringifyAppSpec(specOf('shop', { ingress: { host: 'shop.home.example.org', port: 'admin' } }));
    const line = text.split('\n').findIndex((l) => l.includes('port: admin')) + 1;

    expect(problemsOf(text)).toEqual([expect.stringMatching(new RegExp(`^${line}:\\d+: ingress\\.port "admin" is not a port`))]);
  });

  it('names the dependency that is neither an app nor a component, at its entry, under its own rule', () => {
    const text = 'name: shop\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80, http: true }]\ndependsOn:\n  - mysql\n';

    expect(() => check(text)).toThrow(SpecError);
    try {
      check(text);
    } catch (error) {
      expect((error as SpecError).problems).toEqual([expect.objectContaining({ line: 5, col: 5, rule: 'deps/unknown-app' })]);
    }
  });

  it.each([
    ['availability/blocks-drain', 'replicas: 3\navailability: { minAvailable: 3 }\n', 5],
    ['replicas/stateful', 'replication: redis sentinel\n', 4],
  ])('reports a refusal of replicated services under its rule %s, at its field', (rule, fields, line) => {
    const text = `name: shop\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80, http: true }]\n${fields}`;
    try {
      check(text);
    } catch (error) {
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).problems).toEqual([expect.objectContaining({ line, rule })]);
      return;
    }
    throw new Error('expected a SpecError');
  });

  it('leaves out what only setting a refused value aside would cause', () => {
    // The volume fits two kinds at once and is set aside: the mount that names it is not a second problem.
    const text = 'name: shop\nservices:\n  web:\n    image: { repository: a, tag: "1" }\n    mounts: [{ volume: data, path: /data }]\nvolumes:\n  data: { size: 1Gi, hostPath: /srv/data }\n';

    expect(problemsOf(text)).toEqual([expect.stringMatching(/^7:9: volumes\.data must be exactly one kind of volume/)]);
  });

  it('refuses a name that is not the file\'s, at the name', () => {
    expect(problemsOf('name: other\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80, http: true }]\n')).toEqual([
      '1:7: name: the app is named "other" but its file is shop.yaml; a spec\'s name must match its file name, so rename one of them',
    ]);
  });

  it('returns the normalized app of a valid spec', () => {
    expect(check(stringifyAppSpec(specOf('shop'))).app.name).toBe('shop');
  });
});
