import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { uniqueName } from '../deploy/support';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { specOf, writeSpec } from '../support/spec';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * The NetworkPolicies homelab renders, on the real API server: two apps, `web` depending on
 * `api` (which has a host, a metrics port and a backed-up volume), built with the pinned
 * kustomize and applied into the namespaces they name (`<app>-dev`), then read back.
 *
 * What cannot be exercised here: the policies' effect. The test control plane has no CNI
 * plugin (kwok plays the nodes), so no packet is ever allowed or dropped; the test checks what
 * the server stored, and that the selectors in it select what they must: the namespaces by the
 * `kubernetes.io/metadata.name` label the server itself sets, the pods by their templates' labels.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const API = uniqueName('api');
const WEB = uniqueName('web');
const NS = { api: `${API}-dev`, web: `${WEB}-dev` };

let root = '';

/** The NetworkPolicies of a namespace, by name, as the server stored them. */
function policies(ns: string): Record<string, any> {
  const items = JSON.parse(cluster.kubectlOk(['get', 'networkpolicies', '-n', ns, '-o', 'json'])).items as any[];
  return Object.fromEntries(items.map((p) => [p.metadata.name, p.spec]));
}

const namespaceOf = (peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];

describe.skipIf(kubectl.skip || cluster.skip)('network policies on the real Kubernetes API', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-netpol', WORKSPACE_YAML);
    const host = diskHost(root);
    writeSpec(
      host,
      specOf(API, {
        ports: [{ name: 'http', port: 8080, http: true }, { name: 'metrics', port: 9090 }],
        monitoring: { metrics: { port: 'metrics' } },
        ingress: { host: 'api.home.example.org' },
        volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }],
      }),
    );
    writeSpec(host, specOf(WEB, { dependsOn: [API] }));
    syncAll(host);
    installCatalogCrds(cluster);
    for (const [app, ns] of [[API, NS.api], [WEB, NS.web]]) {
      const built = run('kubectl', ['kustomize', `applications/kubernetes/overlays/dev/${app}`], { cwd: root });
      if (built.status !== 0) throw new Error(built.stderr);
      cluster.kubectlOk(['create', 'namespace', ns]);
      // The ArgoCD Application is the platform's (another namespace); here only the app's own objects.
      const objects = parseDocs(built.stdout).filter((o) => o && o.kind !== 'Application');
      const file = path.join(root, `.rendered-${ns}.json`);
      fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      cluster.kubectlOk(['apply', '--server-side', '--field-manager=homelab', '-n', ns, '-f', file]);
    }
  }, 600_000);
  afterAll(() => {
    for (const ns of Object.values(NS)) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('stores default-deny, the app policy, the backup movers\' and the one between apps in each namespace', () => {
    expect(Object.keys(policies(NS.api)).sort()).toEqual([API, `${API}-apps`, `${API}-backup-mover`, 'default-deny'].sort());
    expect(Object.keys(policies(NS.web)).sort()).toEqual([WEB, `${WEB}-apps`, 'default-deny'].sort());
  });

  it('lets the ingress controller reach the ingress port, monitoring the metrics port, and the app its DNS', () => {
    const own = policies(NS.api)[API];

    expect(own.ingress).toEqual(
      expect.arrayContaining([
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } } }], ports: [{ port: 8080, protocol: 'TCP' }] },
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 9090, protocol: 'TCP' }] },
      ]),
    );
    const dns = own.egress.find((rule: any) => namespaceOf(rule.to[0]) === 'kube-system');
    expect(dns).toEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
    });
  });

  it("opens the dependent's egress to the dependency's namespace, and the dependency's ingress from the dependent's to its named ports", () => {
    const egress = policies(NS.web)[`${WEB}-apps`];
    const ingress = policies(NS.api)[`${API}-apps`];

    expect(egress.policyTypes).toEqual(['Egress']);
    expect(egress.egress.map((rule: any) => namespaceOf(rule.to[0]))).toEqual([NS.api]);
    expect(ingress.policyTypes).toEqual(['Ingress']);
    expect(ingress.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS.web } } }],
        ports: [
          { port: 'http', protocol: 'TCP' },
          { port: 'metrics', protocol: 'TCP' },
        ],
      },
    ]);
    // The namespace selectors select the namespaces: the server labels each namespace with its name.
    for (const ns of [NS.api, NS.web]) {
      expect(cluster.kubectlOk(['get', 'namespaces', '-l', `kubernetes.io/metadata.name=${ns}`, '-o', 'name']).trim()).toBe(`namespace/${ns}`);
    }
    // The named ports are the pods' own: the ingress reaches the ports of the pods it selects.
    const sts = JSON.parse(cluster.kubectlOk(['get', 'statefulset', API, '-n', NS.api, '-o', 'json']));
    const selector = ingress.podSelector.matchLabels;
    expect(sts.spec.template.metadata.labels).toMatchObject(selector);
    expect(sts.spec.template.spec.containers[0].ports.map((p: any) => p.name).sort()).toEqual(['http', 'metrics']);
  });

  it("lets VolSync's mover pods reach DNS and their repository (unknown here: any address), and nothing else of the app", () => {
    const mover = policies(NS.api)[`${API}-backup-mover`];

    expect(mover.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/created-by': 'volsync' } });
    expect(mover.policyTypes).toEqual(['Egress']);
    expect(mover.egress).toEqual([
      expect.objectContaining({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }),
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] },
    ]);
    expect(mover.ingress).toBeUndefined();
  });
});
