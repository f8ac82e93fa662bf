import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Kubectl, type ClusterApi, kubernetesDeploy, parseManifests } from '../../tools/homelab/src/deploy/kubernetes';
import { ToolRunner } from '../../tools/homelab/src/deploy/process';
import { Reporter } from '../../tools/homelab/src/deploy/progress';
import { resolveRequest } from '../../tools/homelab/src/deploy/request';
import { HomelabError } from '../../tools/homelab/src/errors';
import { useCluster } from '../support/cluster';
import { JOB_FAILS_IMAGE, NEVER_READY_IMAGE } from '../support/control-plane';
import { renderKubernetes } from '../../tools/homelab/src/build/dist';
import { DeployWorkspace } from '../deploy/support';
import { installCatalogCrds } from '../support/crds';

/**
 * The direct Kubernetes deploy of an app of several services on the real API server, from what
 * `build` renders of a real spec (tests/support/fixtures/multi-service/stack.yaml: database in
 * wave 0, the migrate Job and worker in wave 1, server in wave 2): waves applied in order, the Job
 * waited for, created again by every deploy, and a Job that fails or cannot start failing the
 * deploy, rolled back.
 *
 * To show the order really held, the deploy runs in this process with the real kubectl, observed:
 * each apply first records what the cluster holds at that moment (read with kubectl), then passes
 * the call on unchanged. kwok plays the node (tests/support/control-plane.ts).
 */
const cluster = useCluster();
const APP = `stack-${randomBytes(3).toString('hex')}`;
const NS = `${APP}-dev`;
const SPEC = path.join(__dirname, '../support/fixtures/multi-service/stack.yaml');

interface Seen {
  /** `Kind/name` of the objects an apply sent. */
  applied: string[];
  /** What ran in the namespace just before: `Kind/name` -> ready (Deployment) or succeeded (Job). */
  live: Record<string, boolean>;
}

describe.skipIf(cluster.skip)('direct deploy in sync waves, with Jobs, on the real API server', { timeout: 400_000 }, () => {
  let ws: DeployWorkspace;
  const env = () => ({ ...process.env, KUBECONFIG: cluster.kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin });
  let built: string;
  /** Writes what `build` rendered of the spec, the manifests deploy reads, with `edit` applied to their text. */
  const render = (edit: (text: string) => string = (t) => t) => {
    const file = path.join(ws.root, `dist/dev/kubernetes/${APP}.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, edit(built));
  };
  const live = (): Record<string, boolean> => {
    const items = JSON.parse(cluster.kubectlOk(['get', 'deployments,jobs', '-n', NS, '-o', 'json'])).items as any[];
    return Object.fromEntries(
      items.map((o) => [
        `${o.kind}/${o.metadata.name}`,
        o.kind === 'Job' ? (o.status?.conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True') : (o.status?.readyReplicas ?? 0) >= 1,
      ]),
    );
  };
  /** A deploy in this process, through the real kubectl, each apply observed; returns the output and what each apply saw. */
  const deploy = async (extra: Record<string, unknown> = {}) => {
    const lines: string[] = [];
    const seen: Seen[] = [];
    const ctx = { tools: new ToolRunner(env()), report: new Reporter((l) => lines.push(l)), env: env() };
    const real = new Kubectl(ctx, 'homelab-test');
    const observed: ClusterApi = Object.assign(Object.create(real) as Kubectl, {
      apply: async (manifest: string, what: string, options?: object) => {
        const applied = parseManifests(manifest, 'apply').map((d) => `${d.kind}/${d.metadata.name}`);
        if (!applied.includes(`Namespace/${NS}`)) seen.push({ applied, live: live() });
        return real.apply(manifest, what, options);
      },
    });
    const request = resolveRequest(ws.root, APP, { layer: 'applications', env: 'dev', platform: 'kubernetes', ...extra }, 'deploy');
    let error: string | undefined;
    try {
      await kubernetesDeploy(request, ctx, observed);
    } catch (e) {
      if (!(e instanceof HomelabError)) throw e;
      error = e.message;
    }
    return { output: lines.join('\n'), seen, error };
  };
  /** The manifests with the container image of the workload `kind/name` replaced. */
  const withImage = (text: string, kind: string, name: string, image: string) =>
    YAML.parseAllDocuments(text)
      .map((doc) => {
        const o = doc.toJS();
        if (o.kind === kind && o.metadata.name === name) o.spec.template.spec.containers[0].image = image;
        return YAML.stringify(o);
      })
      .join('---\n');
  // The namespace's quota first and its limit range before any workload, as kustomize orders them (the quota admission sees them before a pod).
  const WAVE_0 = [`ResourceQuota/${APP}`, `ServiceAccount/${APP}`, `ConfigMap/${APP}-dashboard`, 'Service/database', `LimitRange/${APP}`, 'Deployment/database', `PrometheusRule/${APP}`, 'NetworkPolicy/default-deny', `NetworkPolicy/${APP}`];
  const uid = (ref: string) => cluster.kubectlOk(['get', ref, '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
  const image = (ref: string) => cluster.kubectlOk(['get', ref, '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);

  beforeAll(() => {
    ws = DeployWorkspace.create('api-waves');
    ws.directKubernetes();
    ws.addSpec(APP, fs.readFileSync(SPEC, 'utf8').replace(/^name: stack$/m, `name: ${APP}`));
    built = renderKubernetes(ws.root, 'applications', APP, 'dev');
    // The render holds a PrometheusRule: the monitoring component's CRD must be there, as in a homelab.
    installCatalogCrds(cluster);
    render();
  }, 300_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('plans the waves on --dry-run before the first deploy, when kubectl diff cannot ask a namespace that does not exist yet', async () => {
    const r = await deploy({ dryRun: true });

    expect(r.error, r.output).toBeUndefined();
    expect(r.output).toMatch(/ {11}wave 0:\n.*\+ ResourceQuota .*\n.*\+ ServiceAccount .*\n.*\+ ConfigMap .*\n.*\+ Service database .*\n.*\+ LimitRange .*\n.*\+ Deployment database .*\n(.*\n){3} {11}wave 1:\n.*\+ Deployment worker .*\n.*\+ Job migrate .*\n {11}wave 2:\n/);
    expect(cluster.kubectl(['get', 'namespace', NS]).status).not.toBe(0);
  });

  it('applies wave by wave: a wave only once the one before is ready, its Job only once the database is', async () => {
    const r = await deploy();

    expect(r.error, r.output).toBeUndefined();
    expect(r.seen.map((s) => s.applied)).toEqual([
      WAVE_0,
      ['Deployment/worker', 'Job/migrate'],
      ['Service/server', 'Deployment/server'],
      // The deploy's record (docs/deploy.md, "What a deploy leaves on the cluster"), once every wave is ready.
      [`ConfigMap/homelab-deploy-${APP}`],
    ]);
    expect(r.seen[0].live).toEqual({});
    expect(r.seen[1].live).toEqual({ 'Deployment/database': true });
    expect(r.seen[2].live).toEqual({ 'Deployment/database': true, 'Deployment/worker': true, 'Job/migrate': true });
    expect(live()).toEqual({ 'Deployment/database': true, 'Deployment/worker': true, 'Deployment/server': true, 'Job/migrate': true });
    expect(r.output).toContain(`[job]      job/migrate in ${NS}: waiting until it succeeds`);
    expect(r.output).toContain(`deployed ${APP} to dev: 13 object(s) applied in 3 waves, workloads rolled out, 1 job(s) succeeded`);
  });

  it('a redeploy deletes the Job and creates it again (it runs on every deploy), and changes nothing else', async () => {
    const job = uid('job/migrate');
    const server = cluster.kubectlOk(['get', 'deployment/server', '-n', NS, '-o', 'jsonpath={.metadata.resourceVersion}']);

    const r = await deploy();

    expect(r.error, r.output).toBeUndefined();
    expect(r.output).toContain(`[job]      wave 1: deleting job/migrate in ${NS} before applying it again (it runs on every deploy)`);
    expect(uid('job/migrate')).not.toBe(job);
    expect(live()['Job/migrate']).toBe(true);
    expect(cluster.kubectlOk(['get', 'deployment/server', '-n', NS, '-o', 'jsonpath={.metadata.resourceVersion}'])).toBe(server);
  });

  it('plans the waves on --dry-run, and says the Job runs again', async () => {
    const job = uid('job/migrate');

    const r = await deploy({ dryRun: true });

    expect(r.error, r.output).toBeUndefined();
    expect(r.output).toContain(`[plan]     job/migrate: deleted and created again (a Job runs on every deploy), then waited for until it succeeds`);
    expect(r.output).toContain(`[plan]     wave 0: ${WAVE_0.map((ref) => ref.toLowerCase()).join(', ')}\n`);
    expect(r.output).toContain('[plan]     wave 1: deployment/worker, job/migrate\n');
    expect(r.output).toContain('[plan]     wave 2: service/server, deployment/server\n');
    expect(r.output).toContain('dry run: nothing was changed (the cluster already matches, and the jobs above would run again)');
    expect(uid('job/migrate')).toBe(job);
  });

  it.each([
    // A rendered Job tries three times (backoffLimit 2) before it fails.
    ['fails', JOB_FAILS_IMAGE, /job\/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit \(3 failed pod\(s\)\)/],
    ['cannot start', NEVER_READY_IMAGE, /job\/migrate failed: pod migrate-[a-z0-9]+: container migrate is CrashLoopBackOff \(back-off restarting failed container\)/],
  ])('a Job that %s fails the deploy in one line before the next wave, and is rolled back', async (_what, jobImage, reason) => {
    // The new version: server :2 behind a migration that fails.
    render((text) => withImage(withImage(text, 'Job', 'migrate', jobImage), 'Deployment', 'server', 'homelab-test/busybox:2'));
    try {
      const started = Date.now();
      const r = await deploy();

      expect(r.error).toMatch(reason);
      expect(r.error).toMatch(/; rolled back to the last successful deploy$/);
      expect(r.error).not.toContain('\n');
      expect(Date.now() - started).toBeLessThan(120_000);
      // The server's wave was never applied; the rollback ran the last deploy's Job again.
      expect(r.seen.some((s) => s.applied.includes('Deployment/server') && s.live['Job/migrate'] === false)).toBe(false);
      expect(image('deployment/server')).toBe('homelab-test/busybox:1');
      expect(image('job/migrate')).toBe('homelab-test/busybox:1');
      expect(live()).toEqual({ 'Deployment/database': true, 'Deployment/worker': true, 'Deployment/server': true, 'Job/migrate': true });
    } finally {
      render();
    }
  });
});
