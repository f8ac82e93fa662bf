import { InputError } from '../../errors';
import type { WorkspaceConfig } from '../../spec/types';
import type { HostClaim } from '../../workspace/hosts';
import type { NormalizedComponent } from '../normalize';
import type { ComponentName } from '../types';

/**
 * Traefik's entry points in its chart: a Gateway listener binds the entry point of its port
 * (web 8000, websecure 8443; the Service exposes them as 80 and 443).
 */
export const GATEWAY_PORTS = { http: 8000, https: 8443 } as const;
/** Gateway API allows at most 64 listeners on a Gateway. */
export const MAX_LISTENERS = 64;

/** The Gateway of `ingress.kind: httproute`: what the apps' HTTPRoutes and the ClusterIssuer's HTTP-01 solver name. */
export interface NormalizedGateway {
  /** Rendered by the ingress component when homelab.yaml ingress.kind is httproute. */
  enabled: boolean;
  name: string;
  namespace: string;
  /** The Gateway lives outside the component's namespace: its Namespace is rendered beside it. */
  ownNamespace: boolean;
  className: string;
  clusterIssuer: string;
}

/** The Gateway of one cluster: a listener per host its apps answer on there. */
export interface GatewayListeners {
  listeners: { name: string; hostname: string | null; protocol: 'HTTP' | 'HTTPS'; port: number; certificate: string | null }[];
  /** Namespaces whose routes attach: the apps' of the environments on this cluster, and the Gateway's own (cert-manager's solver routes). */
  namespaces: string[];
}

export function normalizeGateway(name: ComponentName, workspace: WorkspaceConfig, acme: NormalizedComponent['acme'], namespace: string): NormalizedGateway {
  return {
    enabled: name === 'ingress' && acme.isHttpRoute,
    name: acme.gateway.name,
    namespace: acme.gateway.namespace,
    ownNamespace: acme.gateway.namespace !== namespace,
    className: workspace.ingress?.className ?? 'traefik',
    clusterIssuer: acme.issuerName,
  };
}

/**
 * The listeners of the Gateway on the cluster of `serves` (the environments that share it):
 * one HTTP listener for every host (ACME's HTTP-01 challenges, and apps without TLS), and one
 * HTTPS listener per host an app with TLS claims there, each with the Secret cert-manager
 * issues into through its Gateway API support (the Gateway's cluster-issuer annotation).
 */
export function gatewayListeners(gateway: NormalizedGateway, serves: readonly string[], claims: readonly HostClaim[], where: string): GatewayListeners {
  const here = claims.filter((c) => serves.includes(c.env));
  const tlsHosts = [...new Set(here.filter((c) => c.tls).map((c) => c.host))].sort();
  if (tlsHosts.length + 1 > MAX_LISTENERS) {
    throw new InputError(
      `${where}: the Gateway ${gateway.namespace}/${gateway.name} would need ${tlsHosts.length + 1} listeners for the hosts of ${serves.join(', ')}, and Gateway API allows ${MAX_LISTENERS}; serve fewer hosts with TLS on this cluster, or use ingress.kind: ingress in homelab.yaml`,
    );
  }
  const slug = (host: string) => host.replace(/^\*/, 'wildcard').replace(/\./g, '-');
  return {
    listeners: [
      { name: 'http', hostname: null, protocol: 'HTTP', port: GATEWAY_PORTS.http, certificate: null },
      ...tlsHosts.map((host) => ({ name: `https-${slug(host)}`, hostname: host, protocol: 'HTTPS' as const, port: GATEWAY_PORTS.https, certificate: `${slug(host)}-tls` })),
    ],
    namespaces: [...new Set([gateway.namespace, ...here.map((c) => c.namespace)])].sort(),
  };
}
