import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRequest } from '../../tools/homelab/src/deploy/request';
import { kubernetesStatus } from '../../tools/homelab/src/status/kubernetes';
import type { StatusRow } from '../../tools/homelab/src/status/types';
import { useCluster } from '../support/cluster';
import { NEVER_READY_IMAGE } from '../support/control-plane';
import { installCatalogCrds } from '../support/crds';
import { run } from '../support/tools';
import { DeployWorkspace } from '../deploy/support';

/**
 * `kubernetesStatus` on the real API server: apps deployed in direct mode through the deploy
 * worker (as `nx run <app>:deploy` does), then changed by hand with kubectl, and read back from
 * the cluster alone (no `.homelab/state/`). kwok plays the node (tests/support/control-plane.ts):
 * pods of NEVER_READY_IMAGE crash-loop, every other pod becomes Ready.
 *
 * No ArgoCD controller runs here: for the environment ArgoCD manages (stage), the test applies
 * the rendered overlay itself, as ArgoCD would, and creates the Applications (the catalog's
 * real CRD) with a status it writes, as ArgoCD would.
 */
const cluster = useCluster();
// Names of their own per run: a namespace of an earlier run may still be terminating.
const id = randomBytes(3).toString('hex');
const [A, B, C, D] = ['ksa', 'ksb', 'ksc', 'ksd'].map((p) => `${p}-${id}`);
const ARGOCD_NS = `ks-argocd-${id}`;

describe.skipIf(cluster.skip)('homelab status of Kubernetes environments, on the real API server', { timeout: 400_000 }, () => {
  let ws: DeployWorkspace;
  const kubeEnv = () => ({ KUBECONFIG: cluster.kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin });
  const deploy = (app: string) => ws.deploy(app, { env: 'dev', platform: 'kubernetes' }, kubeEnv());
  const status = async (env: string, projects: string[], requireDeployed = false): Promise<Record<string, StatusRow>> => {
    const rows = await kubernetesStatus(ws.root, { env, projects, requireDeployed, processEnv: { ...process.env, ...kubeEnv() } });
    return Object.fromEntries(rows.map((r) => [r.project, r]));
  };
  const git = (args: string[]) => {
    const r = run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', ...args], { cwd: ws.root });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const namespaces = () => [A, B, C, D].flatMap((app) => [`${app}-dev`, `${app}-stage`]);
  let head = '';
  let volumes: string[] = [];

  beforeAll(() => {
    installCatalogCrds(cluster);
    ws = DeployWorkspace.create('api-status');
    ws.settings((config) => {
      config.environments = [
        { name: 'dev', namespaceSuffix: '-dev', kubernetes: { argocd: false, context: 'homelab-test' } },
        { name: 'stage', namespaceSuffix: '-stage', kubernetes: { argocd: true, context: 'homelab-test' } },
      ];
      config.gitops = { ...config.gitops, argocdNamespace: ARGOCD_NS };
    });
    for (const app of [A, B]) ws.addApp({ name: app, image: 'homelab-test/busybox:1', port: 8080 });
    // D has a volume, so a backup (a VolSync ReplicationSource); its claim binds to this volume.
    ws.addApp({ name: D, image: 'homelab-test/busybox:1', port: 8080, volumes: 'data:1Gi:/data' });
    volumes = cluster.staticVolumes(1, '1Gi', { namespace: `${D}-dev`, name: `${D}-data` });
    ws.addApp({ name: C, image: NEVER_READY_IMAGE, port: 8080 });
    // A git checkout, so the deploy records its commit.
    git(['init', '-q']);
    git(['add', '--', 'applications', 'homelab.yaml']);
    git(['commit', '-q', '-m', 'apps']);
    head = git(['rev-parse', 'HEAD']);
  }, 300_000);
  afterAll(() => {
    for (const ns of [...namespaces(), ARGOCD_NS]) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    if (volumes.length > 0) cluster.kubectl(['delete', 'persistentvolume', ...volumes, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('two apps deployed: both healthy, versions shown, in step, the last deploy from the cluster alone', async () => {
    for (const app of [A, B]) {
      const r = await deploy(app);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
    // What the deploying machine remembers is gone: status reads the cluster only.
    fs.rmSync(path.join(ws.root, '.homelab/state'), { recursive: true, force: true });
    const rows = await status('dev', [A, B]);

    for (const app of [A, B]) {
      const row = rows[app];
      expect(row, app).toMatchObject({ environment: 'dev', platform: 'kubernetes', deployed: true, health: 'healthy', wantedVersion: '1', runningVersion: '1', drift: [], problems: [], ok: true });
      expect(row.services).toEqual([expect.objectContaining({ name: `Deployment/${app}`, wantedImage: 'homelab-test/busybox:1', runningImage: 'homelab-test/busybox:1', health: 'healthy', state: '1/1 ready' })]);
      expect(row.lastDeploy).toEqual({ at: expect.any(String), commit: head });
      expect(Date.now() - Date.parse(row.lastDeploy!.at)).toBeLessThan(10 * 60_000);
      expect(row.argocd).toBeUndefined();
    }
  });

  it('one scaled to 0 by hand: stopped, with the replicas drift', async () => {
    cluster.kubectlOk(['scale', `deployment/${B}`, '-n', `${B}-dev`, '--replicas=0']);
    const row = (await status('dev', [B]))[B];

    expect(row).toMatchObject({ health: 'stopped', ok: false, runningVersion: null });
    expect(row.drift).toContainEqual({ service: `Deployment/${B}`, what: 'replicas', wanted: '1', running: '0' });
    expect(row.problems).toContain(`Deployment/${B} is stopped (scaled to 0)`);
  });

  it('one changed with kubectl set env: drift naming the variable, its value not shown', async () => {
    cluster.kubectlOk(['set', 'env', `deployment/${A}`, '-n', `${A}-dev`, 'HAND_SET_TOKEN=ks-by-hand-value']);
    const row = (await status('dev', [A]))[A];

    expect(row.ok).toBe(false);
    expect(row.drift).toContainEqual({ service: `Deployment/${A}`, what: 'env HAND_SET_TOKEN', wanted: '(unset)', running: '(a value set by hand, not shown)' });
    expect(JSON.stringify(row)).not.toContain('ks-by-hand-value');
  });

  it('one whose pods never get ready: unhealthy, saying why, with no last deploy (it failed)', async () => {
    const r = await deploy(C);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    const row = (await status('dev', [C]))[C];

    expect(row).toMatchObject({ deployed: true, health: 'unhealthy', ok: false, lastDeploy: null });
    expect(row.services[0].state).toMatch(/CrashLoopBackOff/);
    expect(row.problems.join('\n')).toMatch(new RegExp(`Deployment/${C} is unhealthy .*CrashLoopBackOff`));
  });

  it('one never deployed: not-deployed, ok unless deploys are required', async () => {
    expect((await status('dev', [D]))[D]).toMatchObject({ deployed: false, health: 'not-deployed', runningVersion: null, lastDeploy: null, problems: [], ok: true });
    expect((await status('dev', [D], true))[D]).toMatchObject({ ok: false, problems: [`${D} was never deployed to dev (--require-deployed)`] });
  });

  it("where ArgoCD manages the environment: the Application's sync and health, a missing Application a problem", async () => {
    const target = resolveRequest(ws.root, A, { layer: 'applications', env: 'stage', platform: 'kubernetes' }).kubernetes;
    expect(target.argocdNamespace).toBe(ARGOCD_NS);
    // What ArgoCD would do on a sync: the overlay applied to its destination namespace.
    const overlay = cluster.kubectlOk(['kustomize', path.join(ws.root, `applications/kubernetes/overlays/stage/${A}`)]);
    for (const ns of [target.namespace, ARGOCD_NS]) cluster.kubectlOk(['create', 'namespace', ns]);
    cluster.kubectlOk(['apply', '--server-side', '--field-manager=argocd-controller', '-n', target.namespace, '-f', '-'], { input: overlay });
    cluster.kubectlOk(['rollout', 'status', `deployment/${A}`, '-n', target.namespace, '--timeout=120s']);
    const writeApplication = (sync: string, health: string) => {
      const app = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: target.argocdApp, namespace: ARGOCD_NS },
        spec: { project: 'default', source: { repoURL: 'https://git.example.org/me/homelab.git', path: `applications/kubernetes/overlays/stage/${A}`, targetRevision: 'main' }, destination: { server: 'https://kubernetes.default.svc', namespace: target.namespace } },
        // What ArgoCD's controller writes; no controller runs here, so the test writes it.
        status: { sync: { status: sync, revision: head }, health: { status: health }, operationState: {
            operation: { sync: { revision: head } },
            phase: 'Succeeded',
            startedAt: '2026-11-30T09:59:00Z',
            finishedAt: '2026-11-30T10:00:00Z',
            syncResult: { revision: head },
          },
        },
      };
      cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-test', '-f', '-'], { input: JSON.stringify(app) });
      const written = JSON.parse(cluster.kubectlOk(['get', 'applications.argoproj.io', target.argocdApp, '-n', ARGOCD_NS, '-o', 'json']));
      expect(written.status?.sync?.status).toBe(sync);
    };

    writeApplication('Synced', 'Healthy');
    let rows = await status('stage', [A, B]);
    expect(rows[A]).toMatchObject({ deployed: true, health: 'healthy', drift: [], problems: [], ok: true, argocd: { application: `${ARGOCD_NS}/${target.argocdApp}`, sync: 'Synced', health: 'Healthy' } });
    expect(rows[A].lastDeploy).toEqual({ at: '2026-11-30T10:00:00Z', commit: head });
    expect(rows[B]).toMatchObject({ deployed: false, ok: false, argocd: null });
    const missing = resolveRequest(ws.root, B, { layer: 'applications', env: 'stage', platform: 'kubernetes' }).kubernetes.argocdApp;
    expect(rows[B].problems[0]).toMatch(new RegExp(`^ArgoCD application ${ARGOCD_NS}/${missing} does not exist yet`));

    writeApplication('OutOfSync', 'Degraded');
    rows = await status('stage', [A]);
    expect(rows[A]).toMatchObject({ ok: false, argocd: { sync: 'OutOfSync', health: 'Degraded' } });
    expect(rows[A].problems).toEqual([
      `ArgoCD application ${ARGOCD_NS}/${target.argocdApp} is OutOfSync (revision ${head.slice(0, 12)})`,
      `ArgoCD application ${ARGOCD_NS}/${target.argocdApp} is Degraded`,
    ]);
  });

  it('deployed with uncommitted changes: no commit, dirty; a new backup with no success yet within its grace, then its success read', async () => {
    ws.editSpec(D, (spec) => {
      spec.image.tag = '2';
    });
    const r = await deploy(D);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    let row = (await status('dev', [D]))[D];

    expect(row).toMatchObject({ deployed: true, health: 'healthy', wantedVersion: '2', runningVersion: '2', drift: [], ok: true });
    expect(row.lastDeploy).toEqual({ at: expect.any(String), commit: null, dirty: true });
    // The ReplicationSource was created just now: it has twice its schedule's gap to succeed once (the unit tests hold the case past it).
    expect(row.lastBackup).toEqual({ at: null, schedule: expect.any(String), healthy: true });
    expect(row.problems).toEqual([]);

    // What VolSync writes after a successful sync; no VolSync controller runs here, so the test writes it.
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const patch = ['patch', 'replicationsource', `${D}-data`, '-n', `${D}-dev`, '--type=merge', '-p', JSON.stringify({ status: { lastSyncTime: at } })];
    cluster.kubectlOk([...patch, '--subresource=status']);
    row = (await status('dev', [D]))[D];

    expect(row.lastBackup).toEqual({ at, schedule: expect.any(String), healthy: true });
    expect(row).toMatchObject({ problems: [], ok: true });
  });
});
