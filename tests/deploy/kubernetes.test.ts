import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeployError } from '../../tools/homelab/src/deploy/errors';
import {
  cannotStart,
  isNamespaceDefault,
  jobFailure,
  kubectlCommands,
  type LiveObject,
  type LivePod,
  type Manifest,
  parseManifests,
  prepareManifests,
  pruneSelection,
  syncWaves,
} from '../../tools/homelab/src/deploy/kubernetes';
import { ToolRunner } from '../../tools/homelab/src/deploy/process';
import { Reporter } from '../../tools/homelab/src/deploy/progress';
import { resolveRequest } from '../../tools/homelab/src/deploy/request';
import { requireTool, run } from '../support/tools';
import { DeployWorkspace, freePorts } from './support';

/**
 * The Kubernetes adapter against the real `kubectl` binary of the machine (the version users
 * run), talking to a kubeconfig whose server is a closed port on 127.0.0.1: kubectl checks its
 * flags before it connects, so every command line the adapter runs must fail on the
 * connection, never on a refused flag combination. What to prune, and which pods cannot start,
 * are pure functions, tested on their own. The sequence of a deploy (apply, rollout, prune,
 * rollback, down and its namespace) runs on the real API server in
 * tests/kubernetes-api/deploy.test.ts.
 *
 * `argocd` cannot run here (no ArgoCD, and no argocd CLI): a strict stand-in accepts only
 * the three command lines the adapter documents, refuses any other, and logs each call.
 */

const kubectl = requireTool('kubectl');
const SECRET = 'k8s-secret-never-in-argv-41c7';

const ARGOCD = `#!/usr/bin/env node
const fs = require('fs');
const argv = process.argv.slice(2);
const known = [
  /^app sync [a-z0-9/-]+ --timeout [0-9]+$/,
  /^app wait [a-z0-9/-]+ --sync --health --timeout [0-9]+$/,
  /^app diff [a-z0-9/-]+$/,
];
const line = argv.join(' ');
if (!known.some((re) => re.test(line))) {
  process.stderr.write('argocd stand-in: not a command line the adapter documents: ' + line + '\\n');
  process.exit(2);
}
fs.appendFileSync(process.env.ARGOCD_LOG, JSON.stringify(argv) + '\\n');
if (process.env.ARGOCD_FAIL && line.startsWith(process.env.ARGOCD_FAIL)) {
  process.stderr.write('FATA[0300] application web-prod is Degraded: deployment "web" exceeded its progress deadline\\n');
  process.exit(20);
}
if (argv[1] === 'diff') { process.stdout.write('===== apps/Deployment web-prod/web ======\\n-  replicas: 1\\n+  replicas: 2\\n'); process.exit(1); }
process.stdout.write('ok\\n');
`;

/** Errors that mean kubectl refused the command line itself (before any connection). */
const REFUSED = /--prune is in alpha|unknown flag|unknown shorthand flag|invalid argument|See 'kubectl .*--help'|error: (?:you must|required flag|flag needs)/;

describe.skipIf(kubectl.skip)('kubernetes deploy with the real kubectl', () => {
  let ws: DeployWorkspace;
  let kubeconfig: string;
  let port: number;
  let bin: string;
  let argocdLog: string;

  const refused = () => new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`);
  const deploy = (env: string, extra: Record<string, unknown> = {}, vars: NodeJS.ProcessEnv = {}, action: 'deploy' | 'down' = 'deploy') =>
    ws.deploy('web', { env, platform: 'kubernetes', yes: true, ...extra }, { PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: kubeconfig, ARGOCD_LOG: argocdLog, API_TOKEN: SECRET, ...vars }, action);
  const argocdCalls = (): string[][] => (fs.existsSync(argocdLog) ? fs.readFileSync(argocdLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const stateFile = (name: string) => path.join(ws.root, '.homelab/state/dev/web', name);

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('deploy-k8s');
    const file = path.join(ws.root, 'homelab.yaml');
    const config = YAML.parse(fs.readFileSync(file, 'utf8'));
    config.environments = [
      { name: 'dev', namespaceSuffix: '-dev', kubernetes: { argocd: false, context: 'kind-homelab' } },
      { name: 'prod', protected: true },
    ];
    fs.writeFileSync(file, YAML.stringify(config));
    ws.addApp({ name: 'web', image: 'homelab-test/busybox:1', port: 8080, secrets: ['API_TOKEN'], volumes: 'data:1Gi:/data' });
    kubeconfig = path.join(ws.root, '.kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'closed', cluster: { server: `https://127.0.0.1:${port}` } }],
        users: [{ name: 'nobody', user: { token: 'not-a-real-token' } }],
        contexts: [{ name: 'kind-homelab', context: { cluster: 'closed', user: 'nobody' } }],
        'current-context': 'kind-homelab',
      }),
    );
    bin = path.join(ws.root, '.stand-in-bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'argocd'), ARGOCD, { mode: 0o755 });
    argocdLog = path.join(ws.root, '.argocd.log');
  });

  afterAll(() => ws?.cleanup());

  describe('every kubectl command line of the direct mode is one kubectl accepts', () => {
    const MANIFEST = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: web-dev\n  labels:\n    homelab.dev/app: web\n    homelab.dev/environment: dev\n';
    const KINDS = ['apps/v1/StatefulSet', 'core/v1/Service', 'external-secrets.io/v1/ExternalSecret'];
    const SELECTOR = 'homelab.dev/app=web,homelab.dev/environment=dev';
    const kubectlRun = (args: string[]) => run('sh', ['-c', 'printf "%s" "$MANIFEST" | kubectl --context kind-homelab "$@"', 'kubectl', ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, MANIFEST }, timeout: 60_000 });

    it.each([
      ['apply', kubectlCommands.apply()],
      ['diff', kubectlCommands.diff()],
      ['namespace', kubectlCommands.namespace('web-dev')],
      ['list by label', kubectlCommands.list(KINDS, { selector: SELECTOR })],
      ['list a namespace', kubectlCommands.list([...KINDS, 'core/v1/PersistentVolumeClaim'], { namespace: 'web-dev' })],
      ['delete objects', kubectlCommands.deleteObjects()],
      ['delete jobs in the foreground', kubectlCommands.deleteObjects(true)],
      ['wait for a job, one step', kubectlCommands.waitJob('migrate', 'web-dev', 5)],
      ['get a job', kubectlCommands.getJob('migrate', 'web-dev')],
      ['delete labelled', kubectlCommands.deleteLabelled(KINDS, SELECTOR)],
      ['delete namespace', kubectlCommands.deleteNamespace('web-dev')],
      ['rollout status', kubectlCommands.rollout('statefulset/web', 'web-dev')],
      ['rollout status, one step', kubectlCommands.rollout('statefulset/web', 'web-dev', 5)],
      ['pods of a workload', kubectlCommands.pods('web-dev', 'app.kubernetes.io/name=web')],
      ['generation', kubectlCommands.generation('statefulset/web', 'web-dev')],
      ['wait for the observed generation', kubectlCommands.waitObserved('statefulset/web', 'web-dev', '3')],
    ])('%s: fails on the connection, not on its flags', (_name, args) => {
      const result = kubectlRun(args);

      expect(result.status).not.toBe(0);
      expect(result.stderr).not.toMatch(REFUSED);
      expect(result.stderr).toMatch(refused());
    });

    it('the check tells the two apart: the old apply with --prune is refused before any connection', () => {
      const result = kubectlRun(['apply', '--server-side', '--field-manager=homelab', '--prune', '-l', SELECTOR, '-f', '-']);

      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(REFUSED);
      expect(result.stderr).not.toMatch(refused());
    });
  });

  describe('an environment without ArgoCD, through the deploy worker', () => {
    it('stops at the first kubectl call when the cluster cannot be reached, names it, and records nothing', async () => {
      const result = await deploy('dev');

      expect(result.status).toBe(1);
      const errors = (result.stdout + result.stderr).split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: web \(dev\): kubectl get namespace web-dev failed: .*connection refused/);
      expect(errors[0]).not.toMatch(REFUSED);
      expect(result.stdout).toContain('[target]   namespace web-dev, context kind-homelab; objects labelled homelab.dev/app=web,homelab.dev/environment=dev');
      expect(fs.existsSync(stateFile('kubernetes.yaml'))).toBe(false);
      expect(result.stdout + result.stderr).not.toContain(SECRET);
    });

    it('--dry-run without a reachable cluster says why in one line, lists what a deploy would apply, and succeeds', async () => {
      const result = await deploy('dev', { dryRun: true });

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\[plan\] +the cluster cannot be asked from here, so the plan is not compared with it \(kubectl diff failed: .*connection refused/);
      expect(result.stdout).toMatch(/\[plan\] +a deploy would apply \d+ object\(s\) of the rendered manifests:/);
      expect(result.stdout).toContain('+ StatefulSet web (namespace web-dev)');
      expect(result.stdout).toContain('dry run: nothing was changed (a deploy would apply the objects above)');
      expect(result.stdout + result.stderr).not.toContain(SECRET);
    });

    it('HOMELAB_KUBECTL names the kubectl binary the adapter runs', async () => {
      const result = await deploy('dev', {}, { HOMELAB_KUBECTL: path.join(ws.root, 'no-such-kubectl') });

      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('no-such-kubectl');
    });

    it('down --dry-run plans the recorded kinds, keeps the claims, and removes the namespace it created once empty', async () => {
      fs.mkdirSync(path.dirname(stateFile('kubernetes.json')), { recursive: true });
      fs.writeFileSync(
        stateFile('kubernetes.json'),
        JSON.stringify({ deployedAt: '2026-11-29T00:00:00.000Z', kinds: ['apps/v1/StatefulSet', 'core/v1/PersistentVolumeClaim', 'core/v1/Service'], namespace: { name: 'web-dev', created: true } }),
      );
      try {
        const kept = await deploy('dev', { dryRun: true }, {}, 'down');
        const deleted = await deploy('dev', { dryRun: true, volumes: true }, {}, 'down');

        expect(kept.status, kept.stdout + kept.stderr).toBe(0);
        expect(kept.stdout).toContain(
          '[plan]     delete statefulset.apps,service labelled homelab.dev/app=web,homelab.dev/environment=dev (PersistentVolumeClaims kept; add --volumes --delete-data=web to delete them), then namespace web-dev if nothing remains in it',
        );
        expect(deleted.stdout).toContain('[plan]     delete statefulset.apps,persistentvolumeclaim,service labelled homelab.dev/app=web,homelab.dev/environment=dev, then namespace web-dev if nothing remains in it');
      } finally {
        fs.rmSync(stateFile('kubernetes.json'), { force: true });
      }
    });

    it('down leaves a namespace it did not create out of its plan', async () => {
      fs.mkdirSync(path.dirname(stateFile('kubernetes.json')), { recursive: true });
      fs.writeFileSync(stateFile('kubernetes.json'), JSON.stringify({ deployedAt: '2026-11-29T00:00:00.000Z', kinds: ['core/v1/Service'], namespace: { name: 'web-dev', created: false } }));
      try {
        const result = await deploy('dev', { dryRun: true }, {}, 'down');

        expect(result.status, result.stdout + result.stderr).toBe(0);
        expect(result.stdout).toContain('[plan]     delete service labelled homelab.dev/app=web,homelab.dev/environment=dev (PersistentVolumeClaims kept; add --volumes --delete-data=web to delete them)\n');
      } finally {
        fs.rmSync(stateFile('kubernetes.json'), { force: true });
      }
    });
  });

  describe('an environment managed by ArgoCD: sync the Application, wait for Synced and Healthy', () => {
    it('syncs, then waits, naming the Application of the app and environment', async () => {
      fs.rmSync(argocdLog, { force: true });
      const result = await deploy('prod');

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(argocdCalls()).toEqual([
        ['app', 'sync', 'web-prod', '--timeout', '300'],
        ['app', 'wait', 'web-prod', '--sync', '--health', '--timeout', '300'],
      ]);
      expect(result.stdout).toContain('ArgoCD application web-prod is Synced and Healthy');
    });

    it('fails in one line when the app does not become healthy', async () => {
      const result = await deploy('prod', {}, { ARGOCD_FAIL: 'app wait' });

      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/error: web \(prod\): web-prod did not become Synced and Healthy: FATA\[0300\] application web-prod is Degraded: .*; .*git revert/);
    });

    it('--dry-run asks ArgoCD for the diff only', async () => {
      fs.rmSync(argocdLog, { force: true });
      const result = await deploy('prod', { dryRun: true });

      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(argocdCalls()).toEqual([['app', 'diff', 'web-prod']]);
      expect(result.stdout).toContain('+  replicas: 2');
    });
  });
});

describe('what a direct deploy applies and prunes (pure)', () => {
  const target = { project: 'web', env: 'dev', namespace: 'web-dev' };
  const labels = { 'homelab.dev/app': 'web', 'homelab.dev/environment': 'dev' };
  const doc = (apiVersion: string, kind: string, name: string, namespace?: string): Manifest => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
  const live = (apiVersion: string, kind: string, name: string, namespace?: string, extra: Partial<LiveObject['metadata']> = {}): LiveObject => ({
    apiVersion,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), labels, ...extra },
  });

  it('labels every object with the app and environment, and puts namespaced objects without a namespace into the environment\'s', () => {
    const prepared = prepareManifests(
      [doc('apps/v1', 'Deployment', 'web'), doc('v1', 'Service', 'web', 'elsewhere'), doc('rbac.authorization.k8s.io/v1', 'ClusterRole', 'web-reader')],
      target,
    );

    expect(prepared.map((d) => [d.kind, d.metadata.namespace, d.metadata.labels])).toEqual([
      ['Deployment', 'web-dev', labels],
      ['Service', 'elsewhere', labels],
      ['ClusterRole', undefined, labels],
    ]);
  });

  const KINDS = ['apps/v1/Deployment', 'apps/v1/StatefulSet', 'core/v1/Service', 'core/v1/PersistentVolumeClaim', 'networking.k8s.io/v1/Ingress'];
  const DESIRED = prepareManifests([doc('apps/v1', 'Deployment', 'web'), doc('v1', 'Service', 'web')], target);

  it.each<[string, LiveObject, boolean]>([
    ['an object still rendered is kept', live('apps/v1', 'Deployment', 'web', 'web-dev'), false],
    ['an object no longer rendered is deleted', live('networking.k8s.io/v1', 'Ingress', 'web', 'web-dev'), true],
    ['a kind rendered last time only (a StatefulSet that became a Deployment) is deleted', live('apps/v1', 'StatefulSet', 'web', 'web-dev'), true],
    ['the same name in another namespace is another object, and is deleted', live('v1', 'Service', 'web', 'old-ns'), true],
    ['a rendered object listed in another version of its group is kept', live('apps/v1beta2', 'Deployment', 'web', 'web-dev'), false],
    ['a PersistentVolumeClaim is never deleted, even of a kind in the list', live('v1', 'PersistentVolumeClaim', 'data-web', 'web-dev'), false],
    ['an object a controller owns is left to its owner', live('v1', 'Service', 'web-headless', 'web-dev', { ownerReferences: [{ controller: true }] }), false],
    ['an object of a kind outside the list is not touched', live('v1', 'ConfigMap', 'web-config', 'web-dev'), false],
  ])('%s', (_name, object, deleted) => {
    const selected = pruneSelection([object], DESIRED, KINDS);

    expect(selected).toEqual(deleted ? [{ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace }] : []);
  });

  it('returns what to delete in a stable order', () => {
    const selected = pruneSelection([live('v1', 'Service', 'b', 'web-dev'), live('apps/v1', 'StatefulSet', 'a', 'web-dev'), live('v1', 'Service', 'a', 'web-dev')], DESIRED, KINDS);

    expect(selected.map((r) => `${r.kind}/${r.name}`)).toEqual(['Service/a', 'Service/b', 'StatefulSet/a']);
  });

  it.each<[string, LiveObject, boolean]>([
    ["the namespace's default ServiceAccount", live('v1', 'ServiceAccount', 'default', 'web-dev'), true],
    ['the root CA ConfigMap Kubernetes publishes into every namespace', live('v1', 'ConfigMap', 'kube-root-ca.crt', 'web-dev'), true],
    ['an object a controller owns', live('v1', 'Secret', 'web-token', 'web-dev', { ownerReferences: [{ controller: true }] }), true],
    ["the app's own ServiceAccount", live('v1', 'ServiceAccount', 'web', 'web-dev'), false],
    ['a claim', live('v1', 'PersistentVolumeClaim', 'web-data', 'web-dev'), false],
  ])('a namespace holding only defaults is empty to down: %s', (_name, object, isDefault) => {
    expect(isNamespaceDefault(object)).toBe(isDefault);
  });

  it.each<[string, LivePod[], string | undefined]>([
    ['a crash-looping container', [pod('web-0', { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' })], 'pod web-0: container web is CrashLoopBackOff (back-off restarting failed container)'],
    ['an image that cannot be pulled', [pod('web-0', { reason: 'ImagePullBackOff' })], 'pod web-0: container web is ImagePullBackOff'],
    ['a container still being created', [pod('web-0', { reason: 'ContainerCreating' })], undefined],
    ['a running container', [pod('web-0')], undefined],
    ['a crash-looping pod that is being deleted', [pod('web-0', { reason: 'CrashLoopBackOff' }, true)], undefined],
  ])('cannotStart: %s', (_name, pods, expected) => {
    expect(cannotStart(pods)).toBe(expected);
  });
});

function pod(name: string, waiting?: { reason: string; message?: string }, deleting = false): LivePod {
  return {
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-11-29T00:00:00Z' } : {}) },
    status: { containerStatuses: [{ name: 'web', state: waiting ? { waiting } : {} }] },
  };
}

describe('sync waves and Jobs of a direct deploy (pure)', () => {
  const doc = (kind: string, name: string, wave?: unknown): Manifest => ({
    apiVersion: 'v1',
    kind,
    metadata: { name, ...(wave === undefined ? {} : { annotations: { 'argocd.argoproj.io/sync-wave': wave } }) },
  });
  const waves = (docs: Manifest[]) => syncWaves(docs, 'dist/dev/kubernetes/web.yaml').map((w) => [w.wave, w.docs.map((d) => d.metadata.name)]);

  it('is one wave for objects without the annotation: the deploy of before', () => {
    expect(waves([doc('Service', 'web'), doc('Deployment', 'web')])).toEqual([[0, ['web', 'web']]]);
  });

  it('groups by wave, lowest first (negative ones too), keeping the order of the manifests in a wave', () => {
    expect(waves([doc('Deployment', 'server', '2'), doc('Service', 'db'), doc('Job', 'migrate', '1'), doc('Secret', 'early', '-1'), doc('Deployment', 'db', '0')])).toEqual([
      [-1, ['early']],
      [0, ['db', 'db']],
      [1, ['migrate']],
      [2, ['server']],
    ]);
  });

  it.each(['one', '1.5', ''])('refuses the wave %j in one line naming the object', (value) => {
    expect(() => syncWaves([doc('Job', 'migrate', value)], 'dist/dev/kubernetes/web.yaml')).toThrow(
      new DeployError(`dist/dev/kubernetes/web.yaml: Job migrate has argocd.argoproj.io/sync-wave ${JSON.stringify(value)}, which is not a whole number; run the build target again`),
    );
  });

  it.each([
    [{}, undefined],
    [{ status: { conditions: [{ type: 'Complete', status: 'True' }] } }, undefined],
    [{ status: { conditions: [{ type: 'Failed', status: 'False' }] } }, undefined],
    [{ status: { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } }, 'BackoffLimitExceeded: Job has reached the specified backoff limit (2 failed pod(s))'],
    [{ status: { conditions: [{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } }, 'DeadlineExceeded: Job was active longer than specified deadline'],
  ])('reads why a Job failed from %j', (job, expected) => {
    expect(jobFailure(job)).toBe(expected);
  });
});
