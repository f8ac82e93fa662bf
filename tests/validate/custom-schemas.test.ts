import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../tools/homelab/src/cli/main';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * Schemas a workspace keeps under schemas/custom: the ones `homelab schemas add` writes, and
 * ones in kubeconform's format (draft-04) copied there by hand. One unusable file is one
 * finding on that file; the run goes on and checks everything else.
 */

/** A kubeconform-format schema: draft-04, `id`, OpenAPI's boolean exclusiveMinimum. */
const draft04 = ($schema: string | undefined, kind: string) =>
  JSON.stringify({
    ...($schema === undefined ? {} : { $schema }),
    id: `https://schemas.example.org/${kind.toLowerCase()}.json`,
    type: 'object',
    required: ['apiVersion', 'kind', 'spec'],
    additionalProperties: false,
    properties: {
      apiVersion: { type: 'string', enum: ['example.com/v1'] },
      kind: { type: 'string', enum: [kind] },
      metadata: { type: 'object' },
      spec: { type: 'object', additionalProperties: false, properties: { size: { type: 'integer', minimum: 0, exclusiveMinimum: true } } },
    },
  });

const doc = (kind: string, spec: string) => `apiVersion: example.com/v1\nkind: ${kind}\nmetadata:\n  name: x\nspec:\n${spec}`;

/** `homelab validate --only parse,schema --format json` through the command's boundary, in-process. */
function validate(cwd: string, files: string[]): { status: number; findings: { file: string; rule: string; message: string }[]; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = main(['validate', ...files, '--only', 'parse,schema', '--format', 'json'], { cwd, out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, findings: stdout ? JSON.parse(stdout).findings : [], stderr };
}

describe('custom schemas (schemas/custom)', () => {
  let ws: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), text);
  };

  beforeAll(() => {
    ws = makeTempDir('custom-schemas');
    write('homelab.yaml', '# a workspace root\n');
    write('schemas/custom/example.com/widget_v1.json', draft04('http://json-schema.org/draft-04/schema#', 'Widget'));
    write('schemas/custom/example.com/sprocket_v1.json', draft04('http://json-schema.org/schema#', 'Sprocket'));
    write('schemas/custom/example.com/cog_v1.json', draft04(undefined, 'Cog'));
    write('widget-good.yaml', doc('Widget', '  size: 1\n'));
    write('widget-zero.yaml', doc('Widget', '  size: 0\n'));
    write('widget-typo.yaml', doc('Widget', '  sise: 1\n'));
    write('sprocket-zero.yaml', doc('Sprocket', '  size: 0\n'));
    write('cog-good.yaml', doc('Cog', '  size: 2\n'));
  });
  afterAll(() => removeDir(ws));

  it('validates documents with a kubeconform-format draft-04 schema', () => {
    const good = validate(ws, ['widget-good.yaml', 'cog-good.yaml']);
    expect(good.stderr).toBe('');
    expect(good.findings).toEqual([]);
    expect(good.status).toBe(0);

    const bad = validate(ws, ['widget-zero.yaml', 'widget-typo.yaml', 'sprocket-zero.yaml']);
    expect(bad.status).toBe(1);
    expect(bad.findings.map((f) => [f.file, f.rule])).toEqual([
      ['sprocket-zero.yaml', 'schema/invalid'],
      ['widget-typo.yaml', 'schema/unknown-field'],
      ['widget-zero.yaml', 'schema/invalid'],
    ]);
    expect(bad.findings[2].message).toMatch(/spec\.size fails "minimum"/);
  });

  it("never reads a schema from outside schemas/custom through a document's apiVersion or kind", () => {
    const outer = makeTempDir('custom-schemas-traversal');
    try {
      const inner = path.join(outer, 'ws');
      fs.mkdirSync(path.join(inner, 'schemas/custom'), { recursive: true });
      fs.writeFileSync(path.join(inner, 'homelab.yaml'), '# a workspace root\n');
      // A schema that accepts anything, where the kind below points: schemas/custom/x/../../../../outside/evil_v1.json.
      fs.mkdirSync(path.join(outer, 'outside'));
      fs.writeFileSync(path.join(outer, 'outside/evil_v1.json'), '{}');
      fs.writeFileSync(path.join(inner, 'traversal.yaml'), 'apiVersion: x/v1\nkind: ../../../../outside/evil\nmetadata:\n  name: x\n');
      expect(validate(inner, ['traversal.yaml']).findings.map((f) => f.rule)).toEqual(['schema/unknown-kind']);
    } finally {
      removeDir(outer);
    }
  });

  it.each([
    ['is not JSON', '{ "type": "object", '],
    ['does not compile', '{ "type": 5 }'],
    ['is a list', '[]'],
  ])('reports a schema file that %s as one finding and checks every other file', (_what, text) => {
    write('schemas/custom/example.com/gadget_v1.json', text);
    write('schemas/custom/core/configmap_v1.json', text);
    write('gadgets.yaml', `${doc('Gadget', '  size: 1\n')}---\n${doc('Gadget', '  size: 2\n')}`);
    write('configmap.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndta:\n  a: "1"\n');
    const r = validate(ws, ['gadgets.yaml', 'configmap.yaml', 'widget-typo.yaml', 'widget-good.yaml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.findings.map((f) => [f.file, f.rule])).toEqual([
      // The ConfigMap falls back to its built-in schema, which still catches the typo.
      ['configmap.yaml', 'schema/unknown-field'],
      ['schemas/custom/core/configmap_v1.json', 'schema/custom-invalid'],
      ['schemas/custom/example.com/gadget_v1.json', 'schema/custom-invalid'],
      ['widget-typo.yaml', 'schema/unknown-field'],
    ]);
    expect(r.findings[2].message).toMatch(/^not a usable JSON schema \(.+\), so Gadget \(example\.com\/v1\) is checked without it; fix the file/);
  });
});
