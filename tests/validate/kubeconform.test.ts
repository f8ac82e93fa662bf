import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGo } from '../../scripts/crds/fetch';
import { findKubeconform, homelabSchemaVerdicts, kubeconformArgs, kubeconformVerdicts, verdictDisagreements } from '../../scripts/kubeconform/compare';
import { kubeconformFileName, kubeconformSchemaDir } from '../../scripts/kubeconform/schemas';
import { writeValidateCorpus } from '../../scripts/lib/validate-corpus';
import { ALL_CHECKS } from '../../tools/homelab/src/validate/engine';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { builtinKinds } from '../../tools/homelab/src/validate/schemas';
import { requireTool, run } from '../support/tools';

// kubeconform's schema folder is written from the sources homelab's schemas are built from, fetched
// from the Go module proxy into a cache outside the repository (scripts/crds/fetch.ts): without Go
// these tests are skipped outside CI and FAIL under CI=true, like the other engines.
const go = requireTool('go', [findGo() ?? 'go', 'version']);
const FIXTURES = path.join(__dirname, 'fixtures');
const SUPPORT_FIXTURES = path.resolve(__dirname, '../support/fixtures');
/** Single files, every check but rendering, as tests/validate/fixtures.test.ts checks them. */
const checks = new Set(ALL_CHECKS.filter((c) => c !== 'render'));

/** Every `<apiVersion>/<kind>` of the YAML documents under `dir` (files that do not parse are left out). */
function kindsUnder(dir: string): Set<string> {
  const kinds = new Set<string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    let docs: unknown[];
    try {
      docs = yaml.loadAll(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
    } catch {
      continue; // a fixture that breaks YAML on purpose
    }
    for (const doc of docs as { apiVersion?: unknown; kind?: unknown; items?: unknown }[]) {
      if (doc && typeof doc.apiVersion === 'string' && typeof doc.kind === 'string') kinds.add(`${doc.apiVersion}/${doc.kind}`);
    }
  }
  return kinds;
}

describe('kubeconform file names', () => {
  it.each([
    ['v1', 'Service', 'service-v1.json'],
    ['apps/v1', 'Deployment', 'deployment-apps-v1.json'],
    ['monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitor-monitoring-v1.json'],
    ['postgresql.cnpg.io/v1', 'Backup', 'backup-postgresql-v1.json'],
    ['volsync.backube/v1alpha1', 'ReplicationSource', 'replicationsource-volsync-v1alpha1.json'],
  ])('%s %s is looked up as %s, as kubeconform v0.7.0 names it', (apiVersion, kind, file) => {
    expect(kubeconformFileName(apiVersion, kind)).toBe(file);
  });
});

describe.skipIf(go.skip)('kubeconform schemas from homelab sources', () => {
  let schemas = '';
  let corpus = '';
  beforeAll(() => {
    schemas = kubeconformSchemaDir();
    corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-kubeconform-'));
    writeValidateCorpus(corpus, 3, 20);
  }, 600_000);
  afterAll(() => {
    if (corpus) fs.rmSync(corpus, { recursive: true, force: true });
  });

  it('writes one standalone draft-07 schema for every kind homelab validate bundles', () => {
    const keys = Object.keys(builtinKinds());
    const files = fs.readdirSync(schemas).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(keys.length);
    for (const key of keys) {
      const slash = key.lastIndexOf('/');
      const file = path.join(schemas, kubeconformFileName(key.slice(0, slash), key.slice(slash + 1)));
      const text = fs.readFileSync(file, 'utf8');
      expect(JSON.parse(text).$schema).toBe('http://json-schema.org/draft-07/schema#');
      // Standalone: every reference points into the file itself.
      expect(text.match(/"\$ref":"(?!#\/definitions\/)[^"]*"/g)).toBeNull();
    }
  });

  it('has a schema for every kind the bench corpus and the fixtures use that homelab knows', () => {
    const known = new Set(Object.keys(builtinKinds()));
    const corpusKinds = [...kindsUnder(corpus)];
    // The bench corpus uses only kinds both tools check.
    expect(corpusKinds.filter((k) => !known.has(k))).toEqual([]);
    const used = [...new Set([...corpusKinds, ...kindsUnder(FIXTURES), ...kindsUnder(SUPPORT_FIXTURES)])].filter((k) => known.has(k));
    expect(used.length).toBeGreaterThan(10);
    const missing = used.filter((key) => {
      const slash = key.lastIndexOf('/');
      return !fs.existsSync(path.join(schemas, kubeconformFileName(key.slice(0, slash), key.slice(slash + 1))));
    });
    expect(missing).toEqual([]);
  });

  const kubeconform = requireTool('kubeconform', [findKubeconform() ?? 'kubeconform', '-v']);
  describe.skipIf(kubeconform.skip)('kubeconform with the local schemas', () => {
    const bin = () => findKubeconform()!;
    const check = (targets: string[], cwd: string) => run(bin(), kubeconformArgs(schemas, targets), { cwd });

    it('accepts the bench corpus and the valid Kubernetes fixtures', () => {
      const valid = fs.readdirSync(path.join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml') && !f.startsWith('compose'));
      const result = check(valid.map((f) => `valid/${f}`), FIXTURES);
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout).summary).toMatchObject({ invalid: 0, errors: 0, skipped: 0 });
      expect(result.status).toBe(0);
      const onCorpus = check(['.'], corpus);
      expect(JSON.parse(onCorpus.stdout).summary).toEqual({ valid: 60, invalid: 0, errors: 0, skipped: 0 });
      expect(onCorpus.status).toBe(0);
    });

    it('compiles every kind\'s schema (a schema kubeconform cannot compile reads as a missing one)', () => {
      const docs = Object.keys(builtinKinds()).map((key) => {
        const slash = key.lastIndexOf('/');
        return yaml.dump({ apiVersion: key.slice(0, slash), kind: key.slice(slash + 1), metadata: { name: 'x' } });
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-kubeconform-kinds-'));
      try {
        fs.writeFileSync(path.join(dir, 'kinds.yaml'), docs.join('---\n'));
        const summary = JSON.parse(check(['kinds.yaml'], dir).stdout).summary;
        // Some kinds require a spec (invalid is a verdict); an error would be a schema it could not use.
        expect(summary.valid + summary.invalid).toBe(docs.length);
        expect(summary).toMatchObject({ errors: 0, skipped: 0 });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    // Each invalid Kubernetes fixture says which rule it breaks: kubeconform rejects exactly the
    // ones that break a schema or parse rule, and accepts those that only break a policy.
    const invalid = fs
      .readdirSync(path.join(FIXTURES, 'invalid'))
      .filter((f) => f.endsWith('.yaml') && !f.startsWith('compose-'))
      .map((file) => ({ file, rule: /^# expect: (\S+)$/m.exec(fs.readFileSync(path.join(FIXTURES, 'invalid', file), 'utf8'))![1] }));
    it.each(invalid)('invalid/$file ($rule): kubeconform agrees on the schema verdict', ({ file, rule }) => {
      const result = check([`invalid/${file}`], FIXTURES);
      const rejects = /^(schema|parse)\//.test(rule);
      expect(result.status).toBe(rejects ? 1 : 0);
      if (rule.startsWith('schema/') && rule !== 'schema/unknown-kind' && !rule.startsWith('schema/missing-')) {
        // A rejected document with a schema: the same number of invalid documents as homelab's schema findings.
        const ours = homelabSchemaVerdicts(validatePaths([`invalid/${file}`], { cwd: FIXTURES, workspaceRoot: null, checks }).findings, FIXTURES);
        expect(verdictDisagreements(ours, kubeconformVerdicts(result.stdout, FIXTURES).byFile)).toEqual([]);
        expect(ours.get(`invalid/${file}`)).toBeGreaterThan(0);
      }
    });

    it('counts the same schema-invalid documents as homelab on a corpus with errors in some documents', () => {
      // Break three documents of the first file and one of the second: a typo, a wrong type, a CRD typo.
      const [first, second] = fs.readdirSync(corpus).sort();
      const a = fs.readFileSync(path.join(corpus, first), 'utf8');
      const broken = a.replace('  replicas: 2\n', '  replicas: "2"\n').replace('    - name: http\n      port: 80\n', '    - name: http\n      prot: 80\n      port: 80\n');
      const b = fs.readFileSync(path.join(corpus, second), 'utf8').replace('  refreshInterval: 1h\n', '  refreshIntervall: 1h\n');
      expect(broken).not.toBe(a);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-kubeconform-broken-'));
      try {
        fs.writeFileSync(path.join(dir, first), broken);
        fs.writeFileSync(path.join(dir, second), b);
        const result = check(['.'], dir);
        const theirs = kubeconformVerdicts(result.stdout, dir);
        const ours = homelabSchemaVerdicts(validatePaths(['.'], { cwd: dir, workspaceRoot: null, checks }).findings, dir);
        expect(result.status).toBe(1);
        expect(theirs.summary.invalid).toBe(3);
        expect(ours).toEqual(new Map([[first, 2], [second, 1]]));
        expect(verdictDisagreements(ours, theirs.byFile)).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
