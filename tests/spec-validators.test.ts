import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { SPEC_AJV_OPTIONS, SPEC_SCHEMAS, SPEC_VALIDATORS, specValidatorsSource } from '../scripts/build-spec-validators';
import { checkSchema, type SchemaName } from '../tools/homelab/src/spec/schema';

const FIXTURES = path.join(__dirname, 'support/fixtures');
const SCHEMAS_DIR = path.join(__dirname, '../tools/homelab/schemas');
const load = (file: string) => yaml.load(fs.readFileSync(file, 'utf8'));

/** Documents of every kind, valid and not: the fixtures' own specs, and each broken in a few ways. */
function documents(): { name: SchemaName; label: string; doc: unknown }[] {
  const stacks = fs.readdirSync(path.join(FIXTURES, 'stacks')).filter((f) => f.endsWith('.yaml'));
  const apps = stacks.map((f) => ({ name: 'app' as const, label: `stacks/${f}`, doc: load(path.join(FIXTURES, 'stacks', f)) }));
  const broken = apps.slice(0, 3).flatMap(({ label, doc }) => [
    { name: 'app' as const, label: `${label} with an unknown field`, doc: { ...(doc as object), replicaz: 2 } },
    { name: 'app' as const, label: `${label} with a wrong type`, doc: { ...(doc as object), name: 42 } },
    { name: 'app' as const, label: `${label} without its name`, doc: { ...(doc as object), name: undefined } },
  ]);
  const workspace = load(path.join(FIXTURES, 'fresh-homelab/homelab.yaml'));
  const store = load(path.join(FIXTURES, 'fresh-homelab/platform/secrets/specs/homelab.yaml'));
  return [
    ...apps,
    ...broken,
    { name: 'app', label: 'a scalar', doc: 'web' },
    { name: 'workspace', label: 'fresh-homelab/homelab.yaml', doc: workspace },
    { name: 'workspace', label: 'homelab.yaml with an unknown field', doc: { ...(workspace as object), environmentz: [] } },
    { name: 'secret-store', label: 'the default secret store', doc: store },
    { name: 'secret-store', label: 'a secret store with a wrong type', doc: { ...(store as object), name: [] } },
    { name: 'infra', label: 'an empty infra spec', doc: {} },
    { name: 'infra', label: 'an infra spec with an unknown field', doc: { name: 'ingress', bogus: true } },
  ];
}

describe('precompiled spec validators (scripts/build-spec-validators.ts)', () => {
  it('are built from the current schemas (run `npx tsx scripts/build-spec-validators.ts` after editing one)', () => {
    expect(fs.readFileSync(SPEC_VALIDATORS, 'utf8') === specValidatorsSource()).toBe(true);
  });

  // The reference: what schema.ts compiled at run time before, with the same options.
  const runtime = new Ajv(SPEC_AJV_OPTIONS);
  const compiled = Object.fromEntries(
    Object.entries(SPEC_SCHEMAS).map(([name, file]) => [name, runtime.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')))]),
  );
  const cases = documents();

  it('cover valid and invalid documents of every kind', () => {
    const verdicts = cases.map(({ name, doc }) => `${name}:${compiled[name](doc)}`);
    for (const name of Object.keys(SPEC_SCHEMAS)) expect(verdicts).toContain(`${name}:false`);
    expect(verdicts).toContain('app:true');
    expect(verdicts).toContain('workspace:true');
  });

  it.each(cases)('$name: $label gets the same problems as a run-time compile', ({ name, doc }) => {
    const reference = compiled[name];
    const valid = reference(doc);
    const problems = checkSchema(name, doc);
    expect(problems.length === 0).toBe(valid);
    // The same error objects (verbose: with their schema, parent schema and data), so the same problems.
    const precompiled = require(SPEC_VALIDATORS)[name];
    expect(precompiled(doc)).toBe(valid);
    expect(precompiled.errors ?? null).toEqual(reference.errors ?? null);
  });
});
