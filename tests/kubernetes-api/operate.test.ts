import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiff } from '../../tools/homelab/src/deploy/changes';
import { runLogs } from '../../tools/homelab/src/deploy/logs';
import { ToolRunner } from '../../tools/homelab/src/deploy/process';
import { Reporter } from '../../tools/homelab/src/deploy/progress';
import { resolveRequest } from '../../tools/homelab/src/deploy/request';
import { HomelabError } from '../../tools/homelab/src/errors';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { DeployWorkspace } from '../deploy/support';

/**
 * `nx run <app>:diff` and `nx run <app>:logs` on Kubernetes, against the real API server (direct
 * mode: no ArgoCD): diff is `kubectl diff --server-side` computed by the server, with a Secret of
 * the overlay whose data is never printed. Logs: the test cluster's node is kwok's, which runs no
 * container and, started without its kubelet server (`--server-address=`, tests/support/control-plane.ts),
 * serves no container log; so the test checks what the API server answers for the app's running
 * pods, in one line naming the pod and why, never a secret value.
 */
const cluster = useCluster();
const APP = `ld-${randomBytes(3).toString('hex')}`;
const NS = `${APP}-dev`;
const OLD = { token: 'ld-old-token-9f8e7d', password: 'ld-old-password-1a2b' };
const NEW = { token: 'ld-new-token-5c4b3a', password: 'ld-new-password-7d6e' };

describe.skipIf(cluster.skip)('diff and logs of a Kubernetes app, on the real API server', { timeout: 400_000 }, () => {
  let ws: DeployWorkspace;
  const env = () => ({ ...process.env, KUBECONFIG: cluster.kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin });
  const request = (action: 'diff' | 'logs') => resolveRequest(ws.root, APP, { layer: 'applications', env: 'dev', platform: 'kubernetes' }, action);
  const capture = async (work: (report: Reporter, tools: ToolRunner, out: (l: string) => void) => Promise<number>) => {
    const lines: string[] = [];
    const report = new Reporter((l) => lines.push(l));
    try {
      const code = await work(report, new ToolRunner(env()), (l) => lines.push(l));
      return { code, text: lines.join('\n') };
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error;
      return { code: error.exitCode, text: `${lines.join('\n')}\nerror: ${error.message}` };
    }
  };
  const diff = () => capture((report, tools) => runDiff(request('diff'), { tools, report, env: env() }));
  const overlay = () => path.join(ws.root, `applications/kubernetes/overlays/dev/${APP}`);
  /** A Secret the user keeps in the app's overlay (theirs to extend): one key in data, one in stringData. */
  const writeSecret = (values: { token: string; password: string }) => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${APP}-extra` }, data: { TOKEN: Buffer.from(values.token).toString('base64') }, stringData: { PASSWORD: values.password } };
    fs.writeFileSync(path.join(overlay(), 'secret.yaml'), JSON.stringify(secret));
    ws.clearDist();
  };

  beforeAll(() => {
    installCatalogCrds(cluster);
    ws = DeployWorkspace.create('ld-api-operate');
    ws.directKubernetes();
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: 8080 });
    const kustomization = path.join(overlay(), 'kustomization.yaml');
    fs.writeFileSync(kustomization, fs.readFileSync(kustomization, 'utf8').replace('resources:\n', 'resources:\n  - secret.yaml\n'));
    writeSecret(OLD);
  }, 300_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('diff before the first deploy: the namespace and every object would be created, exit 1', async () => {
    const r = await diff();
    expect(r.code, r.text).toBe(1);
    expect(r.text).toContain(`+ namespace ${NS}: does not exist; a deploy would create it`);
    expect(r.text).toContain(`+ secret/${APP}-extra in ${NS}: create`);
    expect(r.text).not.toContain(OLD.password);
  });

  it('diff right after a deploy: nothing to change, exit 0', async () => {
    const deployed = await ws.deploy(APP, { env: 'dev', platform: 'kubernetes' }, env());
    expect(deployed.status, deployed.stdout + deployed.stderr).toBe(0);
    const r = await diff();
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain(`${APP} in dev matches what a deploy would apply: nothing to change`);
  });

  it('diff after a spec change (image tag) and a new Secret value: the server computes both, the Secret data masked, exit 1', async () => {
    ws.editSpec(APP, (spec) => {
      spec.image.tag = '2';
    });
    writeSecret(NEW);
    const r = await diff();
    expect(r.code, r.text).toBe(1);
    expect(r.text).toMatch(/^ +- +- image: homelab-test\/busybox:1$/m);
    expect(r.text).toMatch(/^ +\+ +- image: homelab-test\/busybox:2$/m);
    expect(r.text).toMatch(new RegExp(`^ +diff -u -N \\S+/v1\\.Secret\\.${NS}\\.${APP}-extra `, 'm'));
    for (const value of [...Object.values(OLD), ...Object.values(NEW)]) {
      expect(r.text).not.toContain(value);
      expect(r.text).not.toContain(Buffer.from(value).toString('base64'));
    }
  });

  it('logs: what the API server answers for pods no kubelet runs, in one line naming the pod and why', async () => {
    const pods = JSON.parse(cluster.kubectlOk(['get', 'pods', '-n', NS, '-l', `app.kubernetes.io/name=${APP}`, '-o', 'json'])).items as { metadata: { name: string } }[];
    expect(pods.length).toBeGreaterThan(0);
    const r = await capture((report, tools, out) => runLogs(request('logs'), {}, { tools, report, env: env() }, { out }));
    expect(r.code, r.text).toBe(2);
    const pod = pods[0].metadata.name;
    // The API server asks the node's kubelet (port 10250), where nothing listens.
    const why = `pod ${pod} (container ${APP}): its node did not serve its logs: dial tcp 127.0.0.1:10250: connect: connection refused`;
    expect(r.text.split('\n')).toEqual([`error: ${why}`, `error: ${APP} (dev): ${why}`]);
  });
});
