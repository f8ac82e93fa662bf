import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCluster } from '../support/cluster';
import { renderKubernetes } from '../../tools/homelab/src/build/dist';
import { DeployWorkspace } from '../deploy/support';
import { installCatalogCrds } from '../support/crds';

/**
 * A cron service on Kubernetes, deployed directly (no ArgoCD) on the real API server from what
 * `build` renders of a real spec (tests/support/fixtures/cron-service/files.yaml: a server
 * Deployment and the cron service's CronJob with concurrencyPolicy Forbid, no sync wave). The
 * API server accepts the CronJob as render writes it; deploy applies it and waits for nothing
 * (only the Deployment is rolled out); a Job the CronJob owns is never pruned; a CronJob the app
 * no longer renders is pruned like any other object. The CronJob's schedule is one the test never
 * reaches: it creates a Job from the CronJob by hand, as the CronJob controller would.
 */
const cluster = useCluster();
const APP = `files-${randomBytes(3).toString('hex')}`;
const NS = `${APP}-dev`;
const SPEC = path.join(__dirname, '../support/fixtures/cron-service/files.yaml');

describe.skipIf(cluster.skip)('a CronJob in the direct Kubernetes deploy, on the real API server', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  const env = () => ({ KUBECONFIG: cluster.kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin });
  const deploy = async () => {
    const r = await ws.deploy(APP, { env: 'dev', platform: 'kubernetes' }, env());
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return r.stdout;
  };
  let built: string;
  /** Writes what `build` rendered of the spec, the manifests deploy reads, without the documents of the kinds `drop` names. */
  const render = (drop: string[] = []) => {
    const docs = built.split('\n---\n');
    const kept = docs.filter((d) => !drop.some((kind) => new RegExp(`^kind: ${kind}$`, 'm').test(d)));
    const file = path.join(ws.root, `dist/dev/kubernetes/${APP}.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, kept.join('\n---\n'));
  };
  const get = (ref: string) => cluster.kubectl(['get', ref, '-n', NS, '-o', 'json']);

  beforeAll(() => {
    ws = DeployWorkspace.create('api-cron');
    ws.directKubernetes();
    ws.addSpec(APP, fs.readFileSync(SPEC, 'utf8').replace(/^name: files$/m, `name: ${APP}`));
    built = renderKubernetes(ws.root, 'applications', APP, 'dev');
    // The render holds a PrometheusRule: the monitoring component's CRD must be there, as in a homelab.
    installCatalogCrds(cluster);
    render();
  }, 300_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('applies the CronJob as rendered (Forbid, its schedule, the app labels) and waits only for the Deployment', async () => {
    const out = await deploy();

    const cronJob = JSON.parse(cluster.kubectlOk(['get', 'cronjob/cleanup', '-n', NS, '-o', 'json']));
    expect(cronJob.spec).toMatchObject({ concurrencyPolicy: 'Forbid', schedule: '0 3 * * *', suspend: false });
    expect(cronJob.metadata.labels).toMatchObject({ 'homelab.dev/app': APP, 'homelab.dev/environment': 'dev' });
    expect(out).toContain(`[rollout]  deployment/server in ${NS}`);
    expect(out).not.toMatch(/\[(rollout|job)\] .*cleanup/);
    // Every object of the render in one wave: nothing waits for the cron service.
    expect(out).toContain(`deployed ${APP} to dev: ${built.split('\n---\n').length} object(s) applied, workloads rolled out\n`);
  });

  it('never prunes a Job the CronJob owns, and a redeploy leaves the CronJob as it is', async () => {
    cluster.kubectlOk(['create', 'job', 'cleanup-by-hand', '--from=cronjob/cleanup', '-n', NS]);
    const owner = JSON.parse(get('job/cleanup-by-hand').stdout).metadata.ownerReferences;
    expect(owner).toEqual([expect.objectContaining({ kind: 'CronJob', name: 'cleanup', controller: true })]);
    // The generation counts changes of the spec (the controller writes the status, which moves resourceVersion).
    const generation = JSON.parse(get('cronjob/cleanup').stdout).metadata.generation;

    const out = await deploy();

    expect(out).toMatch(/\[prune\] +nothing to delete/);
    expect(get('job/cleanup-by-hand').status).toBe(0);
    expect(JSON.parse(get('cronjob/cleanup').stdout).metadata.generation).toBe(generation);
  });

  it('prunes the CronJob once the app no longer renders it, and its Job goes with it', async () => {
    render(['CronJob']);

    const out = await deploy();

    expect(out).toContain(`cronjob/cleanup in ${NS}`);
    expect(get('cronjob/cleanup').status).not.toBe(0);
    // The garbage collector deletes what the CronJob owned.
    let jobGone = false;
    for (let i = 0; i < 60 && !jobGone; i++) {
      jobGone = get('job/cleanup-by-hand').status !== 0;
      if (!jobGone) await new Promise((r) => setTimeout(r, 500));
    }
    expect(jobGone).toBe(true);
    expect(get('deployment/server').status).toBe(0);
  });
});
