import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run, runOk } from '../support/tools';
import { makeTempDir, removeDir, REPO_ROOT } from '../support/workspace';

/** Rendering a kustomize folder needs kubectl (or kustomize); CI must have it. */
const kubectl = requireTool('kubectl');
const BIN = path.join(REPO_ROOT, 'tools/homelab/bin/homelab.js');
const FIXTURES = path.join(__dirname, 'fixtures');
const homelab = (args: string[], cwd = FIXTURES) => run(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });

describe('homelab validate (the standalone command, spawned)', () => {
  it('exits 0 and says valid on the valid fixtures folder', () => {
    const r = homelab(['validate', 'valid']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^8 file\(s\), 18 document\(s\): valid$/m);
  });

  it('exits 1 on the invalid folder and prints path:line:col  rule  message for every finding', () => {
    const r = homelab(['validate', 'invalid', '--skip', 'render']);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const findings = lines.slice(0, -1);
    expect(findings.length).toBeGreaterThanOrEqual(fs.readdirSync(path.join(FIXTURES, 'invalid')).length);
    for (const line of findings) expect(line).toMatch(/^invalid\/[\w.-]+:\d+:\d+ {2}[a-z]+\/[a-z-]+ {2}\S.*; /);
    expect(lines.at(-1)).toMatch(/error\(s\)/);
  });

  it('writes SARIF 2.1.0 that code scanning accepts', () => {
    const r = homelab(['validate', 'invalid/extra-property.yaml', 'invalid/image-latest.yaml', '--format', 'sarif']);
    expect(r.status).toBe(1);
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const { driver } = log.runs[0].tool;
    expect(driver.name).toBe('homelab validate');
    expect(driver.rules.every((r: { id: string; shortDescription: { text: string } }) => r.id && r.shortDescription.text)).toBe(true);
    const results = log.runs[0].results;
    expect(results.map((x: { ruleId: string }) => x.ruleId).sort()).toEqual(['policy/image-tag', 'schema/unknown-field']);
    for (const res of results) {
      expect(driver.rules[res.ruleIndex].id).toBe(res.ruleId);
      expect(res.level).toBe('error');
      expect(res.message.text).toBeTruthy();
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).toMatch(/^invalid\//);
      expect(loc.region.startLine).toBeGreaterThan(2);
      expect(loc.region.startColumn).toBeGreaterThanOrEqual(1);
    }
  });

  it('writes JSON with the counts and every finding', () => {
    const r = homelab(['validate', 'invalid/duplicate-key.yaml', '--format', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ files: 1, findings: [{ file: 'invalid/duplicate-key.yaml', line: 7, rule: 'parse/duplicate-key', severity: 'error' }] });
  });

  it.skipIf(kubectl.skip)('builds a kustomize folder and maps rendered findings to the source line; says so when no kustomize exists', () => {
    const dir = makeTempDir('validate-kustomize');
    try {
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - deployment.yaml\n');
      fs.copyFileSync(path.join(FIXTURES, 'invalid/image-latest.yaml'), path.join(dir, 'deployment.yaml'));
      const r = homelab(['validate', '.', '--format', 'json'], dir);
      expect(r.status).toBe(1);
      // The source file's finding and the rendered one land on the same line: reported once.
      expect(JSON.parse(r.stdout).findings).toMatchObject([{ file: 'deployment.yaml', line: 27, rule: 'policy/image-tag' }]);
      const none = run(process.execPath, [BIN, 'validate', '.', '--format', 'json'], { cwd: dir, env: { ...process.env, HOMELAB_KUSTOMIZE: 'none' } });
      expect(JSON.parse(none.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['policy/image-tag', 'render/tool-missing']);
    } finally {
      removeDir(dir);
    }
  });

  it.each([
    [['validate', '--format', 'xml'], /--format xml: use pretty, json or sarif/],
    [['validate', 'no-such-folder'], /no-such-folder: no such file or folder/],
    [['validate', '--only', 'lint'], /--only lint: not a check/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('a usage error (%j) exits 2 with one line and no stack', (args, message) => {
    const r = homelab(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('homelab validate --server-dry-run: usage errors, before any cluster is asked', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('validate-server-usage');
    fs.mkdirSync(path.join(dir, 'ws'));
    fs.writeFileSync(path.join(dir, 'ws/homelab.yaml'), 'environments: []\n');
  });
  afterAll(() => removeDir(dir));

  it.each([
    [['validate', '--server-dry-run'], /--server-dry-run sends the overlays of a homelab workspace: run it inside one .* or pass --workspace DIR/],
    [['validate', '--server-dry-run', '--workspace', 'ws', '--skip', 'render'], /--server-dry-run sends the rendered overlays, so it needs the render check: drop render from --skip/],
    [['validate', '--server-dry-run', '--workspace', 'ws', '--only', 'parse,schema'], /needs the render check/],
    [['validate', '--server-dry-run=yes', '--workspace', 'ws'], /--server-dry-run takes no value; write `--server-dry-run` alone/],
    [['validate', '--only', 'server', '--workspace', 'ws'], /--only server: not a check/],
  ])('%j exits 2 with one line, and asks no cluster', (args, message) => {
    // A kubectl that would fail loudly if it were run: the error comes first.
    const r = run(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, HOMELAB_KUBECTL: path.join(dir, 'no-kubectl-here') } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

/** The verdicts kubeconform -strict gives on plain manifests (parse and schema only). */
describe('kubeconform-style verdicts on plain manifests', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('validate-verdicts');
  });
  afterAll(() => removeDir(dir));

  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "1"\n';
  it.each([
    ['valid', cm, 0, []],
    ['invalid type', cm.replace('  a: "1"', '  a: 1'), 1, ['schema/invalid']],
    ['missing kind', cm.replace('kind: ConfigMap\n', ''), 1, ['schema/missing-kind']],
    ['missing apiVersion', cm.replace('apiVersion: v1\n', ''), 1, ['schema/missing-apiversion']],
    ['extra property', cm.replace('data:', 'dta:'), 1, ['schema/unknown-field']],
    ['duplicate property', `${cm}data:\n  b: "2"\n`, 1, ['parse/duplicate-key']],
    ['valid List', `apiVersion: v1\nkind: List\nitems:\n${cm.replace(/^/gm, '    ').replace(/^ {4}/, '  - ')}`, 0, []],
    ['List with an invalid item', `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: y}\n    data: {a: 1}\n`, 1, ['schema/invalid']],
    ['ConfigMapList', `apiVersion: v1\nkind: ConfigMapList\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: y}\n`, 0, []],
  ])('%s', (name, text, status, rules) => {
    const file = `${String(name).replace(/\W+/g, '-')}.yaml`;
    fs.writeFileSync(path.join(dir, file), text as string);
    const r = homelab(['validate', file, '--only', 'parse,schema', '--format', 'json'], dir);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(rules);
  });
});

/** What `kubectl create … --dry-run=client -o yaml` writes (with `creationTimestamp: null`) passes, as kubeconform says. */
describe.skipIf(kubectl.skip)('kubectl create --dry-run=client -o yaml output', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('validate-kubectl-create');
  });
  afterAll(() => removeDir(dir));

  const CREATE: string[][] = [
    ['deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80'],
    ['service', 'clusterip', 'web', '--tcp=80:8080'],
    ['configmap', 'cfg', '--from-literal=a=b'],
    ['job', 'once', '--image=busybox:1'],
    ['cronjob', 'tick', '--image=busybox:1', '--schedule=*/5 * * * *'],
    ['ingress', 'web', '--rule=web.example.org/*=web:80'],
    ['namespace', 'demo'],
    ['serviceaccount', 'sa'],
    ['rolebinding', 'rb', '--role=r', '--serviceaccount=default:sa'],
    ['poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=1'],
    ['priorityclass', 'high', '--value=1000'],
  ];

  it('is valid for every kind, and still rejects a creationTimestamp that is neither a time nor null', () => {
    for (const args of CREATE) {
      const text = runOk('kubectl', ['create', ...args, '--dry-run=client', '-o', 'yaml']);
      expect(text).toMatch(/creationTimestamp: null/);
      fs.writeFileSync(path.join(dir, `${args[0]}.yaml`), text);
    }
    const r = homelab(['validate', '.', '--only', 'parse,schema', '--format', 'json'], dir);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: CREATE.length, findings: [] });
    expect(r.status).toBe(0);

    fs.writeFileSync(path.join(dir, 'wrong.yaml'), fs.readFileSync(path.join(dir, 'deployment.yaml'), 'utf8').replace('creationTimestamp: null', 'creationTimestamp: 5'));
    const wrong = homelab(['validate', 'wrong.yaml', '--only', 'parse,schema', '--format', 'json'], dir);
    expect(JSON.parse(wrong.stdout).findings).toMatchObject([{ rule: 'schema/invalid', line: 4, message: expect.stringMatching(/metadata\.creationTimestamp must be string;/) }]);
  });
});

describe('homelab schemas add', () => {
  let dir: string;
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: { kind: Widget, plural: widgets }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: { type: integer }
                port: { x-kubernetes-int-or-string: true }
                extra: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;
  const widget = (spec: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n${spec}`;
  beforeAll(() => {
    dir = makeTempDir('validate-crd');
    fs.writeFileSync(path.join(dir, 'homelab.yaml'), '# a workspace root\n');
    fs.writeFileSync(path.join(dir, 'crd.yaml'), crd);
    fs.writeFileSync(path.join(dir, 'good.yaml'), widget('  size: 3\n  port: http\n  extra: { anything: [1, 2] }\n'));
    fs.writeFileSync(path.join(dir, 'typo.yaml'), widget('  size: 3\n  sise: 4\n'));
  });
  afterAll(() => removeDir(dir));

  it('reports a kind with no schema, then validates it strictly once its CRD is added', () => {
    const before = homelab(['validate', 'good.yaml', '--only', 'parse,schema', '--format', 'json'], dir);
    expect(JSON.parse(before.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['schema/unknown-kind']);

    const add = homelab(['schemas', 'add', 'crd.yaml'], dir);
    expect(add.status).toBe(0);
    expect(add.stdout).toBe('wrote schemas/custom/example.com/widget_v1.json\n');

    expect(homelab(['validate', 'good.yaml', '--only', 'parse,schema'], dir).status).toBe(0);
    const typo = homelab(['validate', 'typo.yaml', '--only', 'parse,schema', '--format', 'json'], dir);
    expect(typo.status).toBe(1);
    expect(JSON.parse(typo.stdout).findings).toMatchObject([{ rule: 'schema/unknown-field', line: 7 }]);
  });

  it('refuses a file without a CRD, in one line', () => {
    const r = homelab(['schemas', 'add', 'good.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds no CustomResourceDefinition/);
  });
});
