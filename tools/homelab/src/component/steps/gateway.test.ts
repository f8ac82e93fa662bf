import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { workspaceYamlWith } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { WorkspaceConfig } from '../../spec/types';
import { claimsOf } from '../../workspace/hosts';
import { catalogSpec } from '../catalog';
import { normalizeAcme } from './acme';
import { gatewayListeners, MAX_LISTENERS, normalizeGateway } from './gateway';

const WHERE = 'infrastructure/specs/ingress.yaml';
const HTTPROUTE: WorkspaceConfig = parseWorkspaceConfig(workspaceYamlWith((c) => (c.ingress = { ...c.ingress, kind: 'httproute' })));
const gatewayOf = (workspace: WorkspaceConfig, component: 'ingress' | 'postgres' = 'ingress') =>
  normalizeGateway(component, workspace, normalizeAcme(catalogSpec(component, {}, workspace), workspace, WHERE), 'traefik');

describe('component steps: the Gateway of ingress.kind httproute', () => {
  it('is the ingress component\'s, named as the ClusterIssuer\'s solver and the apps\' parentRefs name it, only with httproute', () => {
    expect(gatewayOf(HTTPROUTE)).toEqual({ enabled: true, name: 'homelab', namespace: 'traefik', ownNamespace: false, className: 'traefik', clusterIssuer: 'letsencrypt' });
    expect(gatewayOf(HTTPROUTE, 'postgres').enabled).toBe(false);
    expect(gatewayOf(parseWorkspaceConfig(workspaceYamlWith(() => undefined))).enabled).toBe(false);
  });

  it('listens on HTTP for every host and on HTTPS per host with TLS of the environments on the cluster, admitting their namespaces', () => {
    const claims = [
      ...claimsOf(specOf('whoami', { ingress: { host: 'whoami.home.example.org' } }), HTTPROUTE),
      ...claimsOf(specOf('plain', { ingress: { host: 'plain.home.example.org', tls: false }, environments: { prod: {} } }), HTTPROUTE),
    ];

    expect(gatewayListeners(gatewayOf(HTTPROUTE), ['prod', 'dev'], claims, WHERE)).toEqual({
      listeners: [
        { name: 'http', hostname: null, protocol: 'HTTP', port: 8000, certificate: null },
        { name: 'https-whoami-dev-home-example-org', hostname: 'whoami.dev.home.example.org', protocol: 'HTTPS', port: 8443, certificate: 'whoami-dev-home-example-org-tls' },
        { name: 'https-whoami-home-example-org', hostname: 'whoami.home.example.org', protocol: 'HTTPS', port: 8443, certificate: 'whoami-home-example-org-tls' },
      ],
      namespaces: ['plain', 'traefik', 'whoami', 'whoami-dev'],
    });
    // Another cluster's Gateway holds only its own environments' hosts.
    expect(gatewayListeners(gatewayOf(HTTPROUTE), ['dev'], claims, WHERE).listeners.map((l) => l.hostname)).toEqual([null, 'whoami.dev.home.example.org']);
  });

  it('names a wildcard host\'s listener and certificate in the names Kubernetes allows', () => {
    const claims = claimsOf(specOf('any', { ingress: { host: '*.home.example.org' }, environments: { prod: {} } }), HTTPROUTE);
    expect(gatewayListeners(gatewayOf(HTTPROUTE), ['prod'], claims, WHERE).listeners[1]).toMatchObject({ name: 'https-wildcard-home-example-org', certificate: 'wildcard-home-example-org-tls' });
  });

  it(`refuses more than ${MAX_LISTENERS} listeners, naming the count and the fix`, () => {
    const claims = Array.from({ length: MAX_LISTENERS }, (_, i) => claimsOf(specOf(`app${i}`, { ingress: { host: `app${i}.example.org` }, environments: { prod: {} } }), HTTPROUTE)).flat();
    expect(() => gatewayListeners(gatewayOf(HTTPROUTE), ['prod'], claims, WHERE)).toThrow(
      `${WHERE}: the Gateway traefik/homelab would need 65 listeners for the hosts of prod, and Gateway API allows 64; serve fewer hosts with TLS on this cluster, or use ingress.kind: ingress in homelab.yaml`,
    );
  });
});
