import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { DRY_RUN_FIELD_MANAGER } from '../../tools/homelab/src/validate/server';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { buildReadmeHomelab, kustomizationFolders } from '../support/homelab';
import { requireTool, run, type RunResult } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * `homelab validate --server-dry-run` against the real API server with the catalog's real CRDs:
 * the README homelab made from scratch, then broken by hand in ways the offline schemas accept
 * and the server does not. The command runs as a user runs it (the workspace's own `homelab`
 * bin, KUBECONFIG, HOMELAB_KUBECTL naming the server's kubectl). Its kubeconfig's context names
 * a namespace of this test's own, so what the dry run puts in "the context's namespace" (the
 * apps' namespaces do not exist on this cluster) cannot meet other test files' objects.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

let dir: string;
let namespace: string;
let kubeconfig: string;

function validate(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  return run(process.execPath, [path.join(dir, 'tools/homelab/bin/homelab.js'), 'validate', '--server-dry-run', ...args], {
    cwd: dir,
    env: { ...process.env, KUBECONFIG: kubeconfig, HOMELAB_KUBECTL: cluster.kubectlBin, ...env },
    timeout: 600_000,
  });
}

const errorLines = (r: RunResult) => r.stdout.split('\n').filter((l) => /^\S+:\d+:\d+ {2}/.test(l) && !l.endsWith('[warning]'));

/** Writes `file` of the workspace for one test and puts the original back afterwards. */
function patched(file: string, change: (text: string) => string, test: () => void): void {
  const abs = path.join(dir, file);
  const before = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
  fs.writeFileSync(abs, change(before ?? ''));
  try {
    test();
  } finally {
    if (before === null) fs.rmSync(abs);
    else fs.writeFileSync(abs, before);
  }
}

/** Every object of every kind the server lists, with its managers, in all namespaces. */
function everything(): { id: string; version: string; managers: string[] }[] {
  const kinds = cluster.kubectlOk(['api-resources', '--verbs=list', '-o', 'name']).split('\n').filter(Boolean);
  const list = JSON.parse(cluster.kubectlOk(['get', kinds.join(','), '--all-namespaces', '--show-managed-fields', '-o', 'json'], { timeout: 120_000 }));
  return list.items.map((o: any) => ({
    id: `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
    version: `${o.metadata.uid}@${o.metadata.resourceVersion}`,
    managers: (o.metadata.managedFields ?? []).map((m: any) => m.manager),
  }));
}

describe.skipIf(kubectl.skip || cluster.skip)('homelab validate --server-dry-run on the real Kubernetes API', () => {
  beforeAll(async () => {
    dir = await buildReadmeHomelab(makeTempDir('server-dry-run'));
    installCatalogCrds(cluster);
    namespace = cluster.namespace('dry-run');
    cluster.kubectlOk(['create', 'namespace', namespace]);
    // What the controller manager puts in every namespace is there before anything is compared.
    for (const object of ['serviceaccount/default', 'configmap/kube-root-ca.crt']) {
      for (let i = 0; cluster.kubectl(['get', object, '-n', namespace]).status !== 0; i++) {
        if (i === 60) throw new Error(`${object} never appeared in ${namespace}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    kubeconfig = path.join(dir, '.kubeconfig');
    fs.copyFileSync(cluster.kubeconfig, kubeconfig);
    cluster.kubectlOk(['--kubeconfig', kubeconfig, 'config', 'set-context', '--current', `--namespace=${namespace}`]);
  }, 600_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
    removeDir(dir);
  });

  it('passes a from-scratch homelab clean, sends every overlay, and stores nothing on the cluster', () => {
    const before = everything();
    const r = validate([]);
    const after = everything();

    expect(r.stderr).toBe('');
    expect(errorLines(r)).toEqual([]);
    expect(r.stdout).not.toMatch(/server\//);
    expect(r.status).toBe(0);
    // Every overlay of every app and component, and the three platform kustomizations (ArgoCD's
    // bootstrap, the secret stores, the PriorityClass), went to the server.
    const overlays = ['applications', 'infrastructure', 'platform'].flatMap((root) => kustomizationFolders(dir, root));
    expect(overlays.length).toBe(2 * 3 + COMPONENT_NAMES.length * 2 + 3);
    expect(r.stdout).toMatch(new RegExp(`, \\d+ object\\(s\\) of ${overlays.length} overlay\\(s\\) dry-run on the cluster: 0 error\\(s\\)`));
    // Nothing stored: no object anywhere carries the dry run's field manager (other test files
    // write to this control plane at the same time, so only that, not the whole list, is
    // compared), and the namespace the dry run put the apps' objects in is as it was.
    expect(after.filter((o) => o.managers.includes(DRY_RUN_FIELD_MANAGER)).map((o) => o.id)).toEqual([]);
    const inOwn = (list: typeof before) => list.filter((o) => o.id.includes(`/${namespace}/`)).map((o) => `${o.id} ${o.version}`).sort();
    expect(inOwn(after)).toEqual(inOwn(before));
    expect(inOwn(before).length).toBeGreaterThan(0);
  });

  it("refuses an overlay patched with a value the schemas accept: one line naming the object, the overlay and the server's message, exit 1", () => {
    const overlay = 'applications/kubernetes/overlays/dev/whoami';
    const patch = '\npatches:\n  - target: { kind: Deployment, name: whoami }\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: -1\n';
    patched(`${overlay}/kustomization.yaml`, (text) => text + patch, () => {
      // The offline checks alone accept it (an int32 without a minimum in the OpenAPI schema).
      const offline = run(process.execPath, [path.join(dir, 'tools/homelab/bin/homelab.js'), 'validate', 'applications/specs/whoami.yaml'], { cwd: dir });
      expect(errorLines(offline)).toEqual([]);

      const r = validate(['applications/specs/whoami.yaml']);

      expect(r.status).toBe(1);
      const lines = errorLines(r);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('  server/rejected  ');
      expect(lines[0]).toContain(`Deployment whoami of ${overlay} (dry run in namespace ${namespace}): the API server refuses it: `);
      expect(lines[0]).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');
      expect(lines[0]).toMatch(/; fix that field in the spec or the overlay$/);
      // prod renders the same base without the patch: accepted.
      expect(r.stdout).not.toContain('overlays/prod/whoami (dry run');
    });
  });

  it("points a finding in prod's output at prod's file, not at dev's file of the same object", () => {
    const overlay = 'applications/kubernetes/overlays/prod/whoami';
    // dev and prod each render a PrometheusRule whoami from their own generated/ folder; only prod's is broken.
    const patch = '\npatches:\n  - target: { kind: PrometheusRule, name: whoami }\n    patch: |-\n      - op: add\n        path: /metadata/labels/broken\n        value: "not valid!"\n';
    patched(`${overlay}/kustomization.yaml`, (text) => text + patch, () => {
      const r = validate(['applications/specs/whoami.yaml']);

      expect(r.status).toBe(1);
      const lines = errorLines(r);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${overlay}/generated/prometheusrule\\.yaml:\\d+:\\d+  server/rejected  PrometheusRule whoami of ${overlay} `));
      expect(lines[0]).toContain('metadata.labels: Invalid value: "not valid!"');
    });
  });

  it('says which kind has no CRD on the cluster instead of failing on it, exit 1', () => {
    const overlay = 'applications/kubernetes/overlays/dev/notes';
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.org' },
      spec: {
        group: 'example.org',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
      },
    };
    // Its schema is known offline (`homelab schemas add`), its CRD is not installed on the cluster.
    fs.writeFileSync(path.join(dir, '.widget-crd.json'), JSON.stringify(crd));
    expect(run(process.execPath, [path.join(dir, 'tools/homelab/bin/homelab.js'), 'schemas', 'add', '.widget-crd.json'], { cwd: dir }).status).toBe(0);
    fs.writeFileSync(path.join(dir, overlay, 'widget.yaml'), 'apiVersion: example.org/v1\nkind: Widget\nmetadata:\n  name: gadget\nspec:\n  size: 3\n');
    patched(`${overlay}/kustomization.yaml`, (text) => text.replace('resources:\n', 'resources:\n  - widget.yaml\n'), () => {
      const r = validate(['applications/specs/notes.yaml']);

      expect(r.status).toBe(1);
      const lines = errorLines(r);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${overlay}/widget\\.yaml:2:7  server/no-crd  Widget gadget \\(example\\.org/v1\\) of ${overlay}: the cluster serves no Widget of example\\.org, its CRD is not installed; install the CRD that defines it on the cluster first`));
    });
    fs.rmSync(path.join(dir, overlay, 'widget.yaml'));
  });

  it('says in one line that the cluster cannot be reached, exit 1, without a word of the kubeconfig\'s credentials', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const token = 'dry-run-test-token-0123456789';
    const closed = path.join(dir, '.closed.kubeconfig');
    fs.writeFileSync(
      closed,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${port}` } }],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'u' } }],
        'current-context': 'gone',
      }),
    );

    const r = validate([], { KUBECONFIG: closed });

    expect(r.status).toBe(1);
    const lines = errorLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^homelab\\.yaml:1:1  server/unreachable  the cluster KUBECONFIG points at cannot be reached: .*127\\.0\\.0\\.1:${port}.*; start the cluster or point KUBECONFIG at a reachable one$`));
    expect(r.stdout + r.stderr).not.toContain(token);
  });
});
