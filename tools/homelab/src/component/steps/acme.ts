import { InputError } from '../../errors';
import type { WorkspaceConfig } from '../../spec/types';
import type { NormalizedComponent } from '../normalize';
import type { ComponentSpec } from '../types';
import { COMPOSE_NETWORK } from './compose-configs';

const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/**
 * ACME (Let's Encrypt): cert-manager's ClusterIssuer on Kubernetes, which needs the account's
 * email; Traefik's resolver on Compose, set up when the ingress component is given one.
 */
export function normalizeAcme(spec: ComponentSpec, workspace: WorkspaceConfig, where: string): NormalizedComponent['acme'] {
  const email = spec.settings?.acme?.email ?? '';
  if (spec.name === 'cert-manager' && email === '') {
    throw new InputError(`${where}: settings.acme.email is required for the ACME ClusterIssuer; pass --email you@example.org`);
  }
  const issuerName = workspace.ingress?.clusterIssuer ?? 'letsencrypt';
  return {
    enabled: spec.name === 'cert-manager',
    email,
    server: spec.settings?.acme?.staging ? LETS_ENCRYPT_STAGING : LETS_ENCRYPT,
    issuerName,
    accountSecret: `${issuerName}-account-key`,
    isHttpRoute: (workspace.ingress?.kind ?? 'ingress') === 'httproute',
    ingressClass: workspace.ingress?.className ?? 'traefik',
    gateway: workspace.ingress?.gateway ?? { name: 'homelab', namespace: workspace.ingress?.namespace ?? 'traefik' },
  };
}

/** Traefik's command on Compose: the Docker provider on the shared network, HTTP to HTTPS, and the ACME resolver apps' routers ask for. */
export function traefikCommand(acme: NormalizedComponent['acme'], hasAcme: boolean): string[] {
  return [
    '--providers.docker=true',
    '--providers.docker.exposedByDefault=false',
    `--providers.docker.network=${COMPOSE_NETWORK}`,
    '--entrypoints.web.address=:80',
    '--entrypoints.web.http.redirections.entrypoint.to=websecure',
    '--entrypoints.web.http.redirections.entrypoint.scheme=https',
    '--entrypoints.websecure.address=:443',
    '--ping=true',
    '--metrics.prometheus=true',
    '--accesslog=true',
    // Apps' routers ask for the resolver "letsencrypt" (see their compose.generated.yaml).
    ...(hasAcme
      ? [
          `--certificatesresolvers.letsencrypt.acme.email=${acme.email}`,
          '--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json',
          '--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web',
          `--certificatesresolvers.letsencrypt.acme.caserver=${acme.server}`,
        ]
      : []),
  ];
}
