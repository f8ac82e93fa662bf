import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderStore, storeSpecFromOptions, storeSpecPath, stringifyStoreSpec } from '../../tools/homelab/src/platform/secret-store';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { requireTool, run } from '../support/tools';
import { makeTempDir, parseDocs, removeDir } from '../support/workspace';
import { busyboxOverride, containers, DeployWorkspace, freePorts, uniqueName } from '../deploy/support';

/**
 * The Kubernetes-provider secret store on the real API server (the test control plane).
 *
 * 1. Its reader ServiceAccount: the rendered store file (Namespace, ServiceAccount, Roles and
 *    RoleBindings, ClusterSecretStore) is applied, and RBAC is asked what the reader may do: get,
 *    list and watch Secrets in the store's namespace, nothing elsewhere, nothing else. The
 *    ClusterSecretStore's `auth.serviceAccount` makes External Secrets' controller request a
 *    token of the reader: that TokenRequest is made here as the controller's ServiceAccount, and
 *    the token reads a Secret of the store's namespace and is refused one of another namespace.
 *    The External Secrets controller itself does not run here (no images), only its API calls.
 * 2. Compose deploys reading from it: an app deployed with Compose on the real Docker Engine, in
 *    a workspace whose default store is that store, gets the values of a Secret the test created,
 *    read by the store's own `kubectl get secret` command.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const cluster = useCluster();

const READER = 'external-secrets-reader';
const CONTROLLER = 'system:serviceaccount:external-secrets:external-secrets';

describe.skipIf(kubectl.skip || cluster.skip)("the Kubernetes store's reader ServiceAccount on the real API server", { timeout: 180_000 }, () => {
  const ns = cluster.namespace('store');
  const other = cluster.namespace('elsewhere');
  let dir = '';
  const as = (who: string, ...args: string[]) => cluster.kubectl(['auth', 'can-i', ...args, '--as', who]).stdout.trim();
  const reader = `system:serviceaccount:${ns}:${READER}`;

  beforeAll(() => {
    installCatalogCrds(cluster);
    dir = makeTempDir('api-secret-store');
    const spec = storeSpecFromOptions({ provider: 'kubernetes', name: ns, namespace: ns });
    const file = path.join(dir, 'store.yaml');
    fs.writeFileSync(file, renderStore(spec).content);
    cluster.kubectlOk(['apply', '--server-side', '--field-manager=homelab', '-f', file]);
    cluster.kubectlOk(['create', 'namespace', other]);
    cluster.kubectlOk(['-n', ns, 'create', 'secret', 'generic', 'wiki', '--from-literal=DB_PASSWORD=pw-in-store-1234']);
    cluster.kubectlOk(['-n', other, 'create', 'secret', 'generic', 'wiki', '--from-literal=DB_PASSWORD=pw-elsewhere-5678']);
  }, 600_000);
  afterAll(() => {
    for (const name of [ns, other]) cluster.kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false']);
    cluster.kubectl(['delete', 'clustersecretstore', ns, '--ignore-not-found']);
    removeDir(dir);
  });

  it('renders the Namespace, the reader, its Role and RoleBinding, the token Role for the controller, and the ClusterSecretStore authenticating as the reader', () => {
    const docs = parseDocs(fs.readFileSync(path.join(dir, 'store.yaml'), 'utf8'));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      `Namespace/${ns}`,
      `ServiceAccount/${READER}`,
      `Role/${READER}`,
      `RoleBinding/${READER}`,
      `Role/${READER}-token`,
      `RoleBinding/${READER}-token`,
      `ClusterSecretStore/${ns}`,
    ]);
    expect(docs.at(-1).spec.provider.kubernetes.auth).toEqual({ serviceAccount: { name: READER, namespace: ns } });
    expect(JSON.parse(cluster.kubectlOk(['get', 'serviceaccount', READER, '-n', ns, '-o', 'json'])).metadata.name).toBe(READER);
  });

  it.each([
    ['get', 'secrets', ns, 'yes'],
    ['list', 'secrets', ns, 'yes'],
    ['watch', 'secrets', ns, 'yes'],
    ['create', 'secrets', ns, 'no'],
    ['update', 'secrets', ns, 'no'],
    ['delete', 'secrets', ns, 'no'],
    ['get', 'configmaps', ns, 'no'],
    ['get', 'pods', ns, 'no'],
    ['get', 'secrets', other, 'no'],
    ['get', 'secrets', 'default', 'no'],
    ['get', 'secrets', 'kube-system', 'no'],
  ])('the reader may %s %s in %s: %s', (verb, resource, namespace, answer) => {
    expect(as(reader, verb, resource, '-n', namespace)).toBe(answer);
  });

  it('the reader may not list Secrets across all namespaces', () => {
    expect(as(reader, 'list', 'secrets', '--all-namespaces')).toBe('no');
  });

  it("External Secrets' controller may request a token of the reader, and of no other ServiceAccount", () => {
    expect(as(CONTROLLER, 'create', `serviceaccounts/${READER}`, '--subresource=token', '-n', ns)).toBe('yes');
    expect(as(CONTROLLER, 'create', 'serviceaccounts/default', '--subresource=token', '-n', ns)).toBe('no');
    expect(as(CONTROLLER, 'create', `serviceaccounts/${READER}`, '--subresource=token', '-n', other)).toBe('no');
  });

  it('the token the controller gets reads a Secret of the store namespace, and is refused one of another namespace', () => {
    const token = cluster.kubectlOk(['create', 'token', READER, '-n', ns, '--as', CONTROLLER, '--duration=10m']).trim();
    const server = JSON.parse(cluster.kubectlOk(['config', 'view', '--minify', '-o', 'json'])).clusters[0].cluster.server;
    // Only the token authenticates: an empty kubeconfig, the server on the command line (the test server's certificate is self-signed, as its kubeconfig says).
    fs.writeFileSync(path.join(dir, 'empty.kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    const asReader = (...args: string[]) =>
      run(cluster.kubectlBin, ['--kubeconfig', path.join(dir, 'empty.kubeconfig'), '--server', server, '--insecure-skip-tls-verify', '--token', token, ...args]);

    const own = asReader('get', 'secret', 'wiki', '-n', ns, '-o', 'jsonpath={.data.DB_PASSWORD}');
    expect(own.status, own.stderr).toBe(0);
    expect(Buffer.from(own.stdout, 'base64').toString()).toBe('pw-in-store-1234');
    const elsewhere = asReader('get', 'secret', 'wiki', '-n', other);
    expect(elsewhere.status).not.toBe(0);
    expect(elsewhere.stderr).toContain(`secrets "wiki" is forbidden: User "${reader}" cannot get resource "secrets" in API group "" in the namespace "${other}"`);
  });
});

describe.skipIf(kubectl.skip || cluster.skip || compose.skip)('a Compose deploy reads secrets from the Kubernetes store with kubectl', { timeout: 180_000 }, () => {
  const ns = cluster.namespace('store-compose');
  const APP = uniqueName('k8s-store');
  const VALUES = { API_TOKEN: `tok-k8s-store $HOME "dq" 's'`, DB_PASSWORD: 'pw-k8s-store-9d8c' };
  let ws: DeployWorkspace;
  let port: number;

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('api-store-compose');
    const spec = storeSpecFromOptions({ provider: 'kubernetes', name: 'cluster-store', namespace: ns });
    fs.mkdirSync(path.join(ws.root, 'platform/secrets/specs'), { recursive: true });
    fs.writeFileSync(path.join(ws.root, storeSpecPath(spec.name)), stringifyStoreSpec(spec));
    ws.settings((config) => {
      config.secrets = { store: spec.name };
    });
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port, secrets: Object.keys(VALUES) });
    ws.override(APP, 'dev', busyboxOverride(port));
    // The store entry of the app: a Secret named after it in the store's namespace, a key per secret.
    cluster.kubectlOk(['create', 'namespace', ns]);
    cluster.kubectlOk(['-n', ns, 'create', 'secret', 'generic', APP, ...Object.entries(VALUES).map(([k, v]) => `--from-literal=${k}=${v}`)]);
  });
  afterAll(() => {
    ws?.cleanup();
    cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  });

  it('every key of the app reaches the container from the Secret, read with the store spec\'s kubectl command; no value is printed', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, cluster.env());

    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(result.stdout).toContain(`[secrets]  2 key(s) from secret store cluster-store (\`kubectl --namespace ${ns} get secret {remoteKey} -o jsonpath={.data.{property}}\`)`);
    const [container] = containers(`${APP}-dev`);
    for (const [key, value] of Object.entries(VALUES)) expect(container.env).toContain(`${key}=${value}`);
    for (const value of Object.values(VALUES)) expect(output).not.toContain(value);
  });

  it('without KUBECONFIG: refused in one line naming it, nothing changed', async () => {
    const before = containers(`${APP}-dev`).map((c) => c.id);
    const result = await ws.deploy(APP, { env: 'dev' }, { ...cluster.env(), KUBECONFIG: '' });

    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('secret store cluster-store: `kubectl` needs KUBECONFIG, which is not set;');
    expect(containers(`${APP}-dev`).map((c) => c.id)).toEqual(before);
  });
});
