import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { batchValidate } from '../../tools/homelab/src/executors/validate/executor';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { requireTool, run, runOk } from '../support/tools';
import { copyWorkspace, makeTempDir, removeDir } from '../support/workspace';
import { nxTestEnv } from '../support/nx';

/**
 * The Nx `validate` target on a freshly generated app: clean as generated, and each class
 * of defect caught with its file, line and rule. The defects are planted one at a time and
 * checked in-process with validateProject (what the executor runs); the real `nx run` runs
 * twice, clean and with a defect, for the exit code and the output.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const NX_ENV: NodeJS.ProcessEnv = nxTestEnv({ NX_SKIP_NX_CACHE: 'true' });

const STORE = `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: homelab
spec:
  provider:
    kubernetes:
      remoteNamespace: homelab-secrets
      auth:
        serviceAccount:
          name: external-secrets
          namespace: external-secrets
`;

const BASE = 'applications/kubernetes/base/demo';
const OVERLAY = 'applications/kubernetes/overlays/dev/demo/kustomization.yaml';
const OVERRIDE = 'applications/compose/environments/dev/demo/compose.override.yaml';
/** The scaffolded override ends with `  demo: {}`: give the service a body. */
const overrideWith = (text: string, body: string) => text.replace('  demo: {}\n', `  demo:\n${body}`);

describe.skipIf(kubectl.skip || compose.skip)('nx run <app>:validate on a generated app', () => {
  let ws: string;
  const file = (rel: string) => path.join(ws, rel);
  const read = (rel: string) => fs.readFileSync(file(rel), 'utf8');
  const write = (rel: string, text: string) => fs.writeFileSync(file(rel), text);

  /** Plants a defect, validates, and restores every file touched. */
  function withDefect(changes: Record<string, (text: string) => string | null>): ReturnType<typeof validateProject> {
    const saved = Object.fromEntries(Object.keys(changes).map((rel) => [rel, fs.existsSync(file(rel)) ? read(rel) : null]));
    try {
      for (const [rel, change] of Object.entries(changes)) {
        const next = change(saved[rel] ?? '');
        if (next === null) fs.rmSync(file(rel));
        else {
          fs.mkdirSync(path.dirname(file(rel)), { recursive: true });
          write(rel, next);
        }
      }
      return validateProject(ws, 'applications', 'demo');
    } finally {
      for (const [rel, text] of Object.entries(saved)) {
        if (text === null) fs.rmSync(file(rel), { force: true });
        else write(rel, text);
      }
    }
  }

  beforeAll(() => {
    ws = makeTempDir('validate-project');
    copyWorkspace(ws);
    fs.mkdirSync(file('platform/secrets/stores'), { recursive: true });
    write('platform/secrets/stores/homelab.yaml', STORE);
    runOk(
      'npx',
      ['nx', 'g', 'homelab:app', 'demo', '--image', 'traefik/whoami:v1.10.4', '--port', '80', '--secrets', 'API_TOKEN', '--volumes', 'data:1Gi:/data', '--host', 'demo.home.example.org', '--no-interactive'],
      { cwd: ws, env: NX_ENV, timeout: 180_000 },
    );
  });
  afterAll(() => removeDir(ws));

  it('a freshly generated app validates clean, through the real nx', () => {
    const r = run('npx', ['nx', 'run', 'demo:validate'], { cwd: ws, env: NX_ENV, timeout: 180_000 });
    expect(r.stdout + r.stderr).toMatch(/demo: valid/);
    expect(r.status).toBe(0);
    // Clean: the exceptions homelab records for the scheduler and the backup mover it adds to an app
    // with a volume are quiet (docs/validate.md lists them).
    expect(validateProject(ws, 'applications', 'demo')).toEqual([]);
  });

  it('fails through the real nx with the finding printed as path:line:col  rule  message', () => {
    const saved = read(OVERRIDE);
    try {
      write(OVERRIDE, overrideWith(saved, '    environment:\n      GITHUB_TOKEN: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n'));
      const r = run('npx', ['nx', 'run', 'demo:validate'], { cwd: ws, env: NX_ENV, timeout: 180_000 });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(new RegExp(`${OVERRIDE}:\\d+:\\d+  policy/plaintext-credential  service demo: environment GITHUB_TOKEN`));
      expect(r.stdout + r.stderr).not.toMatch(/ghp_abcdef/);
    } finally {
      write(OVERRIDE, saved);
    }
  });

  const cases: { name: string; changes: Record<string, (t: string) => string | null>; rule: string; file: string; line?: number }[] = [
    { name: 'a hand edit of a spec-owned file (drift)', changes: { [`${BASE}/service.yaml`]: (t) => t.replace('type: ClusterIP', 'type: NodePort') }, rule: 'sync/drift', file: `${BASE}/service.yaml`, line: 7 },
    { name: 'a missing secret store', changes: { 'platform/secrets/stores/homelab.yaml': () => null }, rule: 'secrets/store-missing', file: `${BASE}/externalsecret.yaml`, line: 11 },
    { name: 'a parse error in a user-owned file', changes: { [OVERRIDE]: (t) => `${t}  demo: [unclosed\n` }, rule: 'parse/syntax', file: OVERRIDE },
    { name: 'an unknown field in an overlay', changes: { [OVERLAY]: (t) => `${t}commonLabelz:\n  a: b\n` }, rule: 'schema/unknown-field', file: OVERLAY, line: 11 },
    { name: 'an overlay that does not build', changes: { [OVERLAY]: (t) => t.replace('  - ../../../base/demo', '  - ../../../base/demo\n  - missing.yaml') }, rule: 'render/kustomize', file: OVERLAY, line: 1 },
    {
      name: 'image latest through an overlay',
      changes: { [OVERLAY]: (t) => `${t}images:\n  - name: traefik/whoami\n    newTag: latest\n` },
      rule: 'policy/image-tag',
      file: `${BASE}/statefulset.yaml`,
    },
    { name: 'a plaintext credential in Compose', changes: { [OVERRIDE]: (t) => overrideWith(t, '    environment:\n      DB_PASSWORD: hunter2hunter2\n') }, rule: 'policy/plaintext-credential', file: OVERRIDE, line: 11 },
    {
      name: 'a Service port the pods do not have',
      changes: { [OVERLAY]: (t) => `${t}patches:\n  - target: { kind: Service, name: demo }\n    patch: |-\n      - op: replace\n        path: /spec/ports/0/targetPort\n        value: web\n` },
      rule: 'service/target-port',
      file: `${BASE}/service.yaml`,
      line: 13,
    },
    {
      name: 'no NetworkPolicy in the rendered overlay',
      changes: {
        [OVERLAY]: (t) =>
          `${t}patches:\n${['default-deny', 'demo', 'demo-backup-mover'].map((n) => `  - patch: |-\n      apiVersion: networking.k8s.io/v1\n      kind: NetworkPolicy\n      metadata:\n        name: ${n}\n      $patch: delete\n`).join('')}`,
      },
      rule: 'policy/network-policy',
      file: `${BASE}/statefulset.yaml`,
    },
    { name: '.env.example keys that differ from the ExternalSecret', changes: { 'applications/compose/base/demo/.env.example': (t) => `${t}EXTRA_KEY=\n` }, rule: 'secrets/env-example', file: 'applications/compose/base/demo/.env.example' },
    {
      name: 'a Compose alert rules file edited into broken YAML',
      changes: { 'applications/compose/monitoring/rules/dev/demo.yaml': (t) => `${t}  - name: [unclosed\n` },
      rule: 'parse/syntax',
      file: 'applications/compose/monitoring/rules/dev/demo.yaml',
    },
    {
      name: 'an ArgoCD Application pointing at a missing path',
      changes: { 'platform/argocd/applications/dev/demo.yaml': (t) => t.replace('path: applications/kubernetes/overlays/dev/demo', 'path: applications/kubernetes/overlays/dev/dmeo') },
      rule: 'argocd/path-missing',
      file: 'platform/argocd/applications/dev/demo.yaml',
    },
    {
      name: 'an AppProject that is not defined (once any AppProject is)',
      changes: { 'platform/argocd/projects/infrastructure.yaml': () => 'apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: infrastructure\nspec: {}\n' },
      rule: 'argocd/project-missing',
      file: 'platform/argocd/applications/dev/demo.yaml',
    },
    {
      name: 'an Application its AppProject does not admit (another app\'s namespace only)',
      changes: {
        'platform/argocd/projects/applications.yaml': () =>
          'apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: applications\nspec:\n  destinations:\n    - { server: https://kubernetes.default.svc, namespace: other-dev }\n',
      },
      rule: 'argocd/destination',
      file: 'platform/argocd/applications/dev/demo.yaml',
    },
    {
      // Only files that name AppProject are parsed for projects: one that spells the kind with an escape is still read.
      name: 'an AppProject whose kind is written with an escape (read all the same)',
      changes: {
        'platform/argocd/projects/applications.yaml': () =>
          'apiVersion: argoproj.io/v1alpha1\nkind: "App\\x50roject"\nmetadata:\n  name: applications\nspec:\n  destinations:\n    - { server: https://kubernetes.default.svc, namespace: other-dev }\n',
      },
      rule: 'argocd/destination',
      file: 'platform/argocd/applications/dev/demo.yaml',
    },
    {
      name: 'Compose and Kubernetes running different images',
      changes: { [OVERRIDE]: (t) => overrideWith(t, '    image: traefik/whoami:v1.10.3\n') },
      rule: 'parity/image',
      file: OVERRIDE,
    },
    {
      name: "a dev project joining prod's network by hand",
      changes: { [OVERRIDE]: (t) => `${overrideWith(t, '    networks:\n      homelab-prod: {}\n')}networks:\n  homelab-prod:\n    name: homelab-prod\n    external: true\n` },
      rule: 'parity/networks',
      file: OVERRIDE,
    },
    {
      name: "the environment's network taken away from the service behind the host",
      changes: { [OVERRIDE]: (t) => overrideWith(t, '    networks: !reset {}\n') },
      rule: 'parity/networks',
      file: OVERRIDE,
    },
    {
      name: 'a default network that routes to the internet while the spec closes egress',
      changes: { [OVERRIDE]: (t) => `${t}networks:\n  default:\n    internal: false\n` },
      rule: 'parity/networks',
      file: OVERRIDE,
    },
    {
      name: 'a Traefik rule edited by hand on Compose only',
      changes: { [OVERRIDE]: (t) => overrideWith(t, '    labels:\n      traefik.http.routers.demo-dev.rule: Host(`demo.home.example.org`)\n') },
      rule: 'parity/host',
      file: OVERRIDE,
      line: 11,
    },
    {
      name: 'an Ingress host patched by hand on Kubernetes only',
      changes: {
        [OVERLAY]: (t) => `${t}patches:\n  - target: { kind: Ingress, name: demo }\n    patch: |-\n      - op: replace\n        path: /spec/rules/0/host\n        value: elsewhere.example.org\n`,
      },
      rule: 'parity/host',
      file: 'applications/compose/environments/dev/demo/compose.generated.yaml',
    },
    {
      name: 'another app claiming the same host in the same environment',
      changes: { 'applications/specs/other.yaml': () => read('applications/specs/demo.yaml').replace('name: demo\n', 'name: other\n') },
      rule: 'hosts/collision',
      file: 'applications/specs/demo.yaml',
    },
    {
      name: 'two environments on one cluster keeping one host (hostPattern "{host}" on dev)',
      changes: { 'homelab.yaml': (t) => t.replace('hostPattern: "{label}.{env}.{domain}"', 'hostPattern: "{host}"') },
      rule: 'hosts/collision',
      file: 'applications/specs/demo.yaml',
    },
    {
      name: 'a Compose container running as root',
      changes: { [OVERRIDE]: (t) => overrideWith(t, '    user: root\n') },
      rule: 'policy/run-as-non-root',
      file: OVERRIDE,
    },
  ];

  it.each(cases)('catches $name as $rule in $file', ({ changes, rule, file: expectedFile, line }) => {
    const findings = withDefect(changes);
    const hit = findings.find((f) => f.rule === rule && f.file === expectedFile);
    expect(hit, JSON.stringify(findings, null, 1)).toBeDefined();
    expect(hit!.line).toBeGreaterThanOrEqual(1);
    if (line !== undefined) expect(hit!.line).toBe(line);
  });

  it('the batch executor renders up front and reports what validateProject reports', async () => {
    const saved = read(OVERLAY);
    try {
      write(OVERLAY, `${saved}images:\n  - name: traefik/whoami\n    newTag: latest\n`);
      const taskGraph = { tasks: { 'demo:validate': { id: 'demo:validate', target: { project: 'demo', target: 'validate' } } } } as unknown as TaskGraph;
      const results = await batchValidate(taskGraph, { 'demo:validate': { layer: 'applications' } }, {}, { root: ws } as ExecutorContext);
      expect(results['demo:validate'].success).toBe(false);
      const expected = validateProject(ws, 'applications', 'demo').map((f) => `${f.file}:${f.line}:${f.col}  ${f.rule}`);
      expect(expected.some((line) => line.includes('policy/image-tag'))).toBe(true);
      for (const line of expected) expect(results['demo:validate'].terminalOutput).toContain(line);
    } finally {
      write(OVERLAY, saved);
    }
  });

  it('a policy rule turned off in the spec, with a reason, is not reported', () => {
    const spec = 'applications/specs/demo.yaml';
    const findings = withDefect({
      [OVERRIDE]: (t) => overrideWith(t, '    user: root\n'),
      [spec]: (t) => `${t}policy:\n  disable:\n    - rule: policy/run-as-non-root\n      reason: the image needs root to bind its port on this host\n`,
    });
    expect(findings.filter((f) => f.rule === 'policy/run-as-non-root')).toEqual([]);
    expect(findings.filter((f) => f.rule.startsWith('schema/') || f.rule === 'spec/invalid')).toEqual([]);
  });

  it("a patch file the overlay's kustomization names is a partial object, not a manifest missing its fields", () => {
    const scale = 'applications/kubernetes/overlays/dev/demo/scale.yaml';
    const patch = 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: demo\nspec:\n  replicas: 1\n';
    const named = withDefect({ [scale]: () => patch, [OVERLAY]: (t) => `${t}patches:\n  - path: scale.yaml\n` });
    expect(named.filter((f) => f.file === scale)).toEqual([]);
    // The same file, not named by the kustomization, is checked as a whole manifest.
    const unnamed = withDefect({ [scale]: () => patch });
    expect(unnamed.filter((f) => f.file === scale).map((f) => f.rule)).toContain('schema/missing-field');
  });
});
