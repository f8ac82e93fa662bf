import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { DeployWorkspace } from './support';

/**
 * The Kubernetes adapter up to the kubectl and argocd boundary: fake `kubectl` and
 * `argocd` on PATH record each call (argv, stdin, a few environment variables) in order.
 * Rendering still uses the real `kubectl kustomize` (the fake hands that call over).
 */

const kubectl = requireTool('kubectl');
const SECRET = 'k8s-secret-never-in-argv-41c7';

/** One recorded call of a fake tool. */
interface Call {
  tool: string;
  argv: string[];
  stdin: string;
  env: Record<string, string | undefined>;
}

const FAKE = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const tool = path.basename(process.argv[1]);
const argv = process.argv.slice(2);
if (tool === 'kubectl' && argv[0] === 'kustomize') {
  // build renders with a clean environment: the real kubectl's path is in a file beside the fake.
  const real = fs.readFileSync(path.join(__dirname, 'real-kubectl'), 'utf8').trim();
  const r = require('child_process').spawnSync(real, argv, { stdio: 'inherit' });
  process.exit(r.status);
}
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify({ tool, argv, stdin, env: { KUBECONFIG: process.env.KUBECONFIG, API_TOKEN: process.env.API_TOKEN } }) + '\\n');
const line = tool + ' ' + argv.join(' ');
if (process.env.FAKE_FAIL && new RegExp(process.env.FAKE_FAIL).test(line)) {
  const counter = process.env.FAKE_LOG + '.failed';
  const failed = fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) : 0;
  if (failed < Number(process.env.FAKE_FAIL_TIMES || 1e9)) {
    fs.writeFileSync(counter, String(failed + 1));
    process.stderr.write('fake ' + tool + ': error: deployment "web" exceeded its progress deadline\\n');
    process.exit(1);
  }
}
if (argv.includes('diff')) { process.stdout.write('-  replicas: 1\\n+  replicas: 2\\n'); process.exit(1); }
process.stdout.write(tool + ' ok\\n');
`;

describe.skipIf(kubectl.skip)('kubernetes deploy to the kubectl and argocd boundary', () => {
  let ws: DeployWorkspace;
  let bin: string;
  let log: string;

  const calls = (): Call[] =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Call)
      : [];
  const deploy = (env: string, extra: Record<string, unknown> = {}, vars: NodeJS.ProcessEnv = {}, action: 'deploy' | 'down' = 'deploy') =>
    ws.deploy('web', { env, platform: 'kubernetes', yes: true, ...extra }, { PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, API_TOKEN: SECRET, KUBECONFIG: '/nonexistent/kubeconfig', ...vars }, action);

  beforeAll(() => {
    ws = DeployWorkspace.create('deploy-k8s');
    const file = path.join(ws.root, 'homelab.yaml');
    const config = YAML.parse(fs.readFileSync(file, 'utf8'));
    config.environments = [
      { name: 'dev', namespaceSuffix: '-dev', kubernetes: { argocd: false, context: 'kind-homelab' } },
      { name: 'prod', protected: true },
    ];
    fs.writeFileSync(file, YAML.stringify(config));
    ws.addApp({ name: 'web', image: 'homelab-test/busybox:1', port: 8080, secrets: ['API_TOKEN'], volumes: 'data:1Gi:/data' });
    bin = path.join(ws.root, '.fake-bin');
    fs.mkdirSync(bin);
    for (const tool of ['kubectl', 'argocd']) fs.writeFileSync(path.join(bin, tool), FAKE, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'real-kubectl'), run('sh', ['-c', 'command -v kubectl']).stdout);
  });

  beforeEach(() => {
    log = path.join(ws.root, `.fake-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  });

  afterAll(() => ws?.cleanup());

  describe('an environment without ArgoCD: server-side apply, prune by label, rollout status', () => {
    it('applies the namespace, then the objects, then waits for the rollout, all in the kube context of the environment', async () => {
      const result = await deploy('dev');

      expect(result.status, result.stdout + result.stderr).toBe(0);
      const argv = calls().map((c) => [c.tool, ...c.argv]);
      expect(argv).toEqual([
        ['kubectl', '--context', 'kind-homelab', 'apply', '--server-side', '--field-manager=homelab', '-f', '-'],
        [
          'kubectl', '--context', 'kind-homelab', 'apply', '--server-side', '--field-manager=homelab', '--prune',
          '-l', 'homelab.dev/app=web,homelab.dev/environment=dev',
          '--prune-allowlist=apps/v1/StatefulSet',
          '--prune-allowlist=core/v1/ConfigMap',
          '--prune-allowlist=core/v1/Service',
          '--prune-allowlist=core/v1/ServiceAccount',
          '--prune-allowlist=external-secrets.io/v1/ExternalSecret',
          '--prune-allowlist=monitoring.coreos.com/v1/PrometheusRule',
          '--prune-allowlist=networking.k8s.io/v1/NetworkPolicy',
          '--prune-allowlist=volsync.backube/v1alpha1/ReplicationSource',
          '-f', '-',
        ],
        ['kubectl', '--context', 'kind-homelab', 'rollout', 'status', 'statefulset/web', '-n', 'web-dev', '--timeout=300s'],
      ]);
    });

    it('hands the objects over on stdin, each labelled for pruning and placed in the namespace', async () => {
      await deploy('dev');
      const [namespace, apply] = calls();

      expect(YAML.parse(namespace.stdin)).toMatchObject({ kind: 'Namespace', metadata: { name: 'web-dev' } });
      const docs = YAML.parseAllDocuments(apply.stdin).map((d) => d.toJS());
      expect(docs.length).toBeGreaterThan(5);
      for (const doc of docs) {
        expect(doc.metadata.labels, doc.kind).toMatchObject({ 'homelab.dev/app': 'web', 'homelab.dev/environment': 'dev' });
        expect(doc.metadata.namespace, doc.kind).toBe('web-dev');
      }
    });

    it('puts no secret value on a command line', async () => {
      await deploy('dev');
      for (const call of calls()) {
        expect(call.argv.join(' ')).not.toContain(SECRET);
        expect(call.stdin).not.toContain(SECRET);
      }
    });

    it('keeps pruning a kind that is no longer rendered (it was applied last time), but never a PersistentVolumeClaim', async () => {
      await deploy('dev');
      ws.editSpec('web', (spec) => {
        delete spec.volumes;
      });

      const earlier = calls().length;
      const result = await deploy('dev');

      expect(result.status, result.stdout + result.stderr).toBe(0);
      const apply = calls()[earlier + 1];
      expect(apply.stdin).not.toContain('kind: StatefulSet');
      expect(apply.stdin).not.toContain('kind: ReplicationSource');
      expect(apply.argv).toContain('--prune-allowlist=apps/v1/StatefulSet');
      expect(apply.argv).toContain('--prune-allowlist=volsync.backube/v1alpha1/ReplicationSource');
      expect(apply.argv).toContain('--prune-allowlist=apps/v1/Deployment');
      expect(apply.argv).not.toContain('--prune-allowlist=core/v1/PersistentVolumeClaim');
    });

    it('re-applies the last successful manifests when the rollout fails, and says so in one line', async () => {
      const last = fs.readFileSync(path.join(ws.root, '.homelab/state/dev/web/kubernetes.yaml'), 'utf8');
      ws.editSpec('web', (spec) => {
        spec.image.tag = '2';
      });

      const result = await deploy('dev', {}, { FAKE_FAIL: 'rollout status', FAKE_FAIL_TIMES: '1' });

      expect(result.status).toBe(1);
      const steps = calls().map((c) => `${c.argv[2]} ${c.argv[3]}`);
      expect(steps).toEqual(['apply --server-side', 'apply --server-side', 'rollout status', 'apply --server-side', 'rollout status']);
      expect(calls()[2].argv).toContain('deployment/web');
      expect(calls()[3].stdin).toBe(last);
      const errors = (result.stdout + result.stderr).split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toEqual([
        'error: web (dev): deploy failed: rollout of deployment/web failed: fake kubectl: error: deployment "web" exceeded its progress deadline; rolled back to the last successful deploy',
      ]);
    });

    it('--dry-run runs kubectl diff only', async () => {
      const result = await deploy('dev', { dryRun: true });

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(calls().map((c) => c.argv.slice(0, 6))).toEqual([['--context', 'kind-homelab', 'diff', '--server-side', '--field-manager=homelab', '-f']]);
      expect(result.stdout).toContain('+  replicas: 2');
      expect(result.stdout).toContain('dry run: nothing was changed');
    });

    it('down deletes what carries the labels and keeps the PersistentVolumeClaims unless --volumes', async () => {
      const result = await deploy('dev', {}, {}, 'down');

      expect(result.status, result.stdout + result.stderr).toBe(0);
      const [del] = calls();
      expect(del.argv.slice(0, 3)).toEqual(['--context', 'kind-homelab', 'delete']);
      expect(del.argv[3].split(',')).not.toContain('persistentvolumeclaim');
      expect(del.argv[3].split(',')).toContain('deployment.apps');
      expect(del.argv.slice(4)).toEqual(['-l', 'homelab.dev/app=web,homelab.dev/environment=dev', '--all-namespaces', '--ignore-not-found', '--wait=true']);
    });
  });

  describe('an environment managed by ArgoCD: sync the Application, wait for Synced and Healthy', () => {
    it('syncs, then waits, naming the Application of the app and environment', async () => {
      const result = await deploy('prod');

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(calls().map((c) => [c.tool, ...c.argv])).toEqual([
        ['argocd', 'app', 'sync', 'web-prod', '--timeout', '300'],
        ['argocd', 'app', 'wait', 'web-prod', '--sync', '--health', '--timeout', '300'],
      ]);
      expect(result.stdout).toContain('ArgoCD application web-prod is Synced and Healthy');
    });

    it('fails in one line when the app does not become healthy', async () => {
      const result = await deploy('prod', {}, { FAKE_FAIL: 'app wait' });

      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/error: web \(prod\): web-prod did not become Synced and Healthy: fake argocd: .*; .*git revert/);
    });

    it('--dry-run asks ArgoCD for the diff only', async () => {
      const result = await deploy('prod', { dryRun: true });

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(calls().map((c) => [c.tool, ...c.argv])).toEqual([['argocd', 'app', 'diff', 'web-prod']]);
    });
  });
});
