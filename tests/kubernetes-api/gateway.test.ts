import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, workspaceYamlWith } from '../support/workspace';

/**
 * `ingress.kind: httproute` on the real API server, with the Gateway API CRDs the catalog pins
 * (v1.2.1, what Traefik v3.4 implements) and cert-manager's: the Gateway the ingress component
 * renders (its Namespace, a listener per host), the ClusterIssuer whose HTTP-01 solver names it
 * and the apps' HTTPRoutes that attach to it are all accepted, CRD schemas and CEL rules included.
 * No controller runs here: whether Traefik programs the Gateway and cert-manager issues its
 * certificates cannot be exercised (no images can be pulled).
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();
const GATEWAY_NS = `gw-${randomBytes(4).toString('hex')}`;
const APP_NS = `whoami-${randomBytes(4).toString('hex')}`;

describe.skipIf(kubectl.skip || cluster.skip)('the Gateway of ingress.kind httproute on the real Kubernetes API', { timeout: 300_000 }, () => {
  let root: string;
  /** The objects an overlay renders, with the pinned kustomize. */
  const render = (overlay: string): any[] => {
    const result = run('kubectl', ['kustomize', overlay], { cwd: root });
    if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay}: ${result.stderr}`);
    return parseDocs(result.stdout).filter(Boolean);
  };
  const apply = (objects: any[], dryRun: boolean) =>
    cluster.kubectl(['apply', '--server-side', '--field-manager=homelab-test', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    });

  beforeAll(() => {
    root = makeDiskWorkspace('api-gateway', workspaceYamlWith((c) => (c.ingress = { ...c.ingress, kind: 'httproute', gateway: { name: 'homelab', namespace: GATEWAY_NS } })));
    const host = diskHost(root);
    generateInit(host, {});
    generateInfra(host, { component: 'ingress', email: 'admin@example.org' });
    generateInfra(host, { component: 'cert-manager', email: 'admin@example.org' });
    generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80, host: 'whoami.home.example.org' });
    generateApp(host, { name: 'any', image: 'traefik/whoami:v1.10.4', port: 80, host: '*.apps.example.org' });
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of [GATEWAY_NS, APP_NS]) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('creates the Gateway in its own Namespace, with an HTTPS listener per host of both environments', () => {
    const objects = render(path.join('infrastructure/kubernetes/overlays/prod/ingress'));
    const mine = objects.filter((o) => (o.kind === 'Namespace' && o.metadata.name === GATEWAY_NS) || o.kind === 'Gateway');
    expect(mine.map((o) => o.kind)).toEqual(['Namespace', 'Gateway']);

    const result = apply(mine, false);
    expect(result.status, result.stderr).toBe(0);

    const gateway = JSON.parse(cluster.kubectlOk(['get', 'gateway/homelab', '-n', GATEWAY_NS, '-o', 'json']));
    expect(gateway.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
    expect(gateway.spec.listeners.map((l: any) => [l.name, l.hostname ?? null, l.port])).toEqual([
      ['http', null, 8000],
      ['https-wildcard-apps-example-org', '*.apps.example.org', 8443],
      ['https-wildcard-dev-apps-example-org', '*.dev.apps.example.org', 8443],
      ['https-whoami-dev-home-example-org', 'whoami.dev.home.example.org', 8443],
      ['https-whoami-home-example-org', 'whoami.home.example.org', 8443],
    ]);
  });

  it('accepts the ClusterIssuer whose HTTP-01 solver routes through that Gateway', () => {
    const issuer = render('infrastructure/kubernetes/overlays/prod/cert-manager').filter((o) => o.kind === 'ClusterIssuer');
    expect(issuer[0].spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs).toEqual([{ kind: 'Gateway', name: 'homelab', namespace: GATEWAY_NS }]);

    // Cluster-scoped: named apart from any issuer another test of this cluster applied.
    issuer[0].metadata.name = `letsencrypt-${GATEWAY_NS}`;
    const result = apply(issuer, true);
    expect(result.status, result.stderr).toBe(0);
  });

  it('accepts the apps\' HTTPRoutes that attach to it, each with its environment\'s host', () => {
    cluster.kubectlOk(['create', 'namespace', APP_NS]);
    for (const [env, host] of [
      ['dev', 'whoami.dev.home.example.org'],
      ['prod', 'whoami.home.example.org'],
    ]) {
      const routes = render(`applications/kubernetes/overlays/${env}/whoami`).filter((o) => o.kind === 'HTTPRoute');
      expect(routes.map((r) => [r.spec.hostnames, r.spec.parentRefs])).toEqual([[[host], [{ name: 'homelab', namespace: GATEWAY_NS }]]]);
      for (const r of routes) r.metadata.namespace = APP_NS;

      const result = apply(routes, true);
      expect(result.status, result.stderr).toBe(0);
    }
  });
});
