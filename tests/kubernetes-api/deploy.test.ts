import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCluster } from '../support/cluster';
import { NEVER_READY_IMAGE } from '../support/control-plane';
import { installCatalogCrds } from '../support/crds';
import { DeployWorkspace } from '../deploy/support';

/**
 * The Kubernetes deploy adapter (direct mode: no ArgoCD) end to end on the real API server,
 * through the deploy worker as `nx run <app>:deploy --platform kubernetes` runs it, with the
 * server's own kubectl: first deploy, a redeploy that changes nothing on the server, an image
 * update rolled out, a rollout that never becomes ready rolled back, an object the spec no
 * longer renders pruned while its claim is kept, and down, which removes the namespace it
 * created once nothing kept remains in it. kwok plays the node (tests/support/control-plane.ts):
 * pods of NEVER_READY_IMAGE crash-loop, every other pod becomes Ready.
 */
const cluster = useCluster();
// A name of its own per run: a namespace of an earlier run may still be terminating.
const APP = `shop-${randomBytes(3).toString('hex')}`;
const NS = `${APP}-dev`;

describe.skipIf(cluster.skip)('deploy to Kubernetes without ArgoCD, on the real API server', { timeout: 400_000 }, () => {
  let ws: DeployWorkspace;
  const env = () => ({ KUBECONFIG: cluster.kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin });
  const deploy = (extra: Record<string, unknown> = {}) => ws.deploy(APP, { env: 'dev', platform: 'kubernetes', ...extra }, env());
  const down = (extra: Record<string, unknown> = {}) => ws.deploy(APP, { env: 'dev', platform: 'kubernetes', ...extra }, env(), 'down');
  const ok = async (result: Promise<{ status: number | null; stdout: string; stderr: string }>) => {
    const r = await result;
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return r;
  };
  /** `Kind/name` of every object in the namespace that deploy applies or keeps, sorted. */
  const names = () => {
    const out = cluster.kubectlOk(['get', 'deployments,statefulsets,services,serviceaccounts,persistentvolumeclaims,ingresses,networkpolicies,externalsecrets,replicationsources', '-n', NS, '-o', 'json']);
    return (JSON.parse(out).items as any[]).filter((o) => o.metadata.name !== 'default').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  };
  const versions = () => {
    const out = cluster.kubectlOk(['get', 'all,serviceaccounts,persistentvolumeclaims,networkpolicies,externalsecrets,replicationsources', '-n', NS, '-l', `homelab.dev/app=${APP}`, '-o', 'json']);
    return Object.fromEntries((JSON.parse(out).items as any[]).map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]));
  };
  const image = (kind: string) => cluster.kubectlOk(['get', kind, APP, '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
  const namespaceGone = async () => {
    for (let i = 0; i < 120; i++) {
      if (cluster.kubectl(['get', 'namespace', NS]).status !== 0) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  };

  let volumes: string[] = [];
  beforeAll(() => {
    installCatalogCrds(cluster);
    // The app's claim binds to one of these; each down --delete-data releases one for good.
    volumes = cluster.staticVolumes(3, '1Gi', { namespace: NS, name: `${APP}-data` });
    ws = DeployWorkspace.create('api-deploy');
    // The environment's kube context is the test cluster's (its kubeconfig names it homelab-test).
    ws.directKubernetes();
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: 8080, secrets: ['API_TOKEN'], volumes: 'data:1Gi:/data' });
  }, 300_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    if (volumes.length > 0) cluster.kubectl(['delete', 'persistentvolume', ...volumes, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('a first deploy creates the namespace, applies every object labelled, and rolls the workload out', async () => {
    const r = await ok(deploy());

    expect(names()).toEqual(
      expect.arrayContaining([`StatefulSet/${APP}`, `Service/${APP}`, `PersistentVolumeClaim/${APP}-data`, `ExternalSecret/${APP}-secrets`, `ReplicationSource/${APP}-data`]),
    );
    const labels = JSON.parse(cluster.kubectlOk(['get', 'namespace', NS, '-o', 'json'])).metadata.labels;
    expect(labels).toMatchObject({ 'homelab.dev/app': APP, 'homelab.dev/environment': 'dev' });
    expect(cluster.kubectlOk(['get', 'statefulset', APP, '-n', NS, '-o', 'jsonpath={.status.readyReplicas}'])).toBe('1');
    expect(r.stdout).toContain(`[rollout]  statefulset/${APP} in ${NS}`);
    expect(r.stdout).toMatch(new RegExp(`deployed ${APP} to dev: \\d+ object\\(s\\) applied, workloads rolled out`));
  });

  it('a redeploy with no change changes nothing on the server', async () => {
    const before = versions();
    await ok(deploy());

    expect(Object.keys(before).length).toBeGreaterThan(4);
    expect(versions()).toEqual(before);
  });

  it('an image update is applied and rolled out', async () => {
    ws.editSpec(APP, (spec) => {
      spec.image.tag = '2';
    });
    await ok(deploy());

    expect(image('statefulset')).toBe('homelab-test/busybox:2');
    const status = JSON.parse(cluster.kubectlOk(['get', 'statefulset', APP, '-n', NS, '-o', 'json'])).status;
    expect(status.updateRevision).toBe(status.currentRevision);
    expect(status.readyReplicas).toBe(1);
  });

  it('prunes what the spec no longer renders (the StatefulSet became a Deployment), but never the claim', async () => {
    ws.editSpec(APP, (spec) => {
      delete spec.volumes;
    });
    const r = await ok(deploy());

    const now = names();
    expect(now).toContain(`Deployment/${APP}`);
    expect(now).toContain(`PersistentVolumeClaim/${APP}-data`);
    expect(now).not.toContain(`StatefulSet/${APP}`);
    expect(now).not.toContain(`ReplicationSource/${APP}-data`);
    expect(r.stdout).toMatch(new RegExp(`\\[prune\\] +deleting .*replicationsource/${APP}-data in ${NS}.*statefulset/${APP} in ${NS}`));
  });

  it('a rollout that never becomes ready fails at once on the crash loop, and is rolled back, with what it added pruned', async () => {
    const before = names();
    const [repo, tag] = NEVER_READY_IMAGE.split(':');
    ws.editSpec(APP, (spec) => {
      spec.image = { ...spec.image, repository: repo, tag };
      spec.ingress = { host: `${APP}.example.test` };
    });
    try {
      const started = Date.now();
      const r = await deploy();

      expect(r.status, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toMatch(
        new RegExp(`rollout of deployment/${APP} failed: pod ${APP}-[a-z0-9]+-[a-z0-9]+: container ${APP} is CrashLoopBackOff .*; rolled back to the last successful deploy`),
      );
      // Fails on the crash loop, long before the 300 s rollout timeout.
      expect(Date.now() - started).toBeLessThan(120_000);
      expect(image('deployment')).toBe('homelab-test/busybox:2');
      expect(names()).toEqual(before);
      expect(cluster.kubectl(['rollout', 'status', 'deployment', APP, '-n', NS, '--timeout=60s']).status).toBe(0);
    } finally {
      ws.editSpec(APP, (spec) => {
        spec.image = { ...spec.image, repository: 'homelab-test/busybox', tag: '2' };
        delete spec.ingress;
      });
    }
  });

  it('down keeps the namespace while the claim remains, and says what it holds', async () => {
    const r = await ok(down());

    expect(names()).toEqual([`PersistentVolumeClaim/${APP}-data`]);
    expect(r.stdout).toContain(`removed ${APP} from dev; namespace ${NS} kept, it still holds persistentvolumeclaim/${APP}-data in ${NS}`);
  });

  it('down --volumes --delete-data removes the claim, then the namespace it created', async () => {
    await ok(down({ volumes: true, deleteData: APP }));

    expect(await namespaceGone()).toBe(true);
  });

  it('down leaves a namespace that existed before the first deploy', async () => {
    cluster.kubectlOk(['create', 'namespace', NS]);
    fs.rmSync(path.join(ws.root, '.homelab/state/dev', APP), { recursive: true, force: true });
    await ok(deploy());
    await ok(down({ volumes: true, deleteData: APP }));

    expect(cluster.kubectl(['get', 'namespace', NS]).status).toBe(0);
    expect(names()).toEqual([]);
  });
});
