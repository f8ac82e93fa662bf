import { readableAppSpecs } from '../app/plan';
import { appHost } from '../app/steps/hosts';
import { HomelabError, InputError, show } from '../errors';
import type { FileHost } from '../host';
import { appPaths } from '../project/paths';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import { environmentTargets } from './targets';

/** An app's host in one environment, and where that environment routes it: its cluster and its Docker host. */
export interface HostClaim {
  app: string;
  env: string;
  host: string;
  /** The environment's cluster (kubernetes.server): one ingress controller and one cert-manager serve it. */
  server: string;
  /** The environment's Docker host (compose.context): one Traefik serves it. */
  context: string;
  /** The app's namespace there (the Gateway admits routes from it). */
  namespace: string;
  /** The app serves the host with TLS (the Gateway gets an HTTPS listener for it). */
  tls: boolean;
}

/**
 * The hosts one app claims: one per environment it runs in (its spec's list, else every
 * environment of homelab.yaml), each computed by appHost. None for an app without ingress.
 */
export function claimsOf(spec: AppSpec, workspace: WorkspaceConfig): HostClaim[] {
  if (!spec.ingress) return [];
  const where = appPaths(spec.name).spec;
  const listed = spec.environments ? Object.keys(spec.environments) : null;
  return environmentTargets(workspace)
    .filter((t) => listed === null || listed.includes(t.env.name))
    .map((t) => ({ app: spec.name, env: t.env.name, host: appHost(spec, t.env, where), server: t.server, context: t.context, namespace: `${spec.name}${t.env.namespaceSuffix ?? ''}`, tls: spec.ingress?.tls ?? true }));
}

/**
 * The apps' specs that can claim a host: those whose text holds `ingress` or a backslash (a key
 * spelled with an escape). A spec without either has no `ingress` key, so claimsOf gives it no
 * claim, and it is not parsed (500 specs took 0.4 s to parse, for a check of one app).
 */
export function hostClaimingSpecs(host: FileHost): AppSpec[] {
  return readableAppSpecs(host, mayClaimHosts);
}

/**
 * Whether a spec's text may claim a host: only one that names an ingress does (a `\` may spell the
 * word in a quoted key; a key of YAML cannot span lines). The others need not be parsed.
 */
export function mayClaimHosts(text: string): boolean {
  return text.includes('ingress') || text.includes('\\');
}

/**
 * Every host the apps of the workspace claim. A spec that does not read or normalize claims
 * nothing here: its own render reports it.
 */
export function workspaceClaims(host: FileHost, workspace: WorkspaceConfig, specs: readonly AppSpec[] = hostClaimingSpecs(host)): HostClaim[] {
  return specs.flatMap((spec) => {
    try {
      return claimsOf(spec, workspace);
    } catch (error) {
      if (error instanceof HomelabError) return [];
      throw error;
    }
  });
}

/** Two claimants of one host on one cluster or Docker host, in one line naming both and the fix. */
export interface HostCollision {
  first: HostClaim;
  second: HostClaim;
  message: string;
}

/**
 * Claims of one host by two apps, or by two environments of one app, that share a cluster or a
 * Docker host: one ingress controller would route the host to either, and cert-manager or
 * Traefik would order its certificate twice. Only equal hosts collide (a wildcard and a host it
 * covers do not: the exact host wins). Each pair once, in the order of the claims.
 */
export function hostCollisions(claims: readonly HostClaim[]): HostCollision[] {
  const out: HostCollision[] = [];
  claims.forEach((first, i) => {
    for (const second of claims.slice(i + 1)) {
      if (first.host !== second.host) continue;
      const shared = [
        first.server === second.server ? `the cluster ${first.server}` : '',
        first.context === second.context ? `the Docker host ${show(first.context)}` : '',
      ].filter(Boolean);
      if (shared.length === 0) continue;
      const fix =
        first.app === second.app
          ? `give ${second.env} hosts of its own (its hostPattern in homelab.yaml), or set environments.${second.env}.host in ${appPaths(second.app).spec}`
          : `give one app another ingress.host, or set environments.${second.env}.host in ${appPaths(second.app).spec}`;
      out.push({
        first,
        second,
        message: `host ${show(first.host)} is claimed by ${first.app} in ${first.env} and by ${second.app} in ${second.env}, which share ${shared.join(' and ')}; ${fix}`,
      });
    }
  });
  return out;
}

/**
 * Refuses an app whose hosts another app of the workspace already claims on the same cluster
 * or Docker host (nx g homelab:app, before anything is written). Collisions between the app's
 * own environments come from homelab.yaml's patterns: validate reports those.
 */
export function refuseTakenHosts(host: FileHost, spec: AppSpec, workspace: WorkspaceConfig): void {
  const others = workspaceClaims(host, workspace).filter((c) => c.app !== spec.name);
  const taken = hostCollisions([...others, ...claimsOf(spec, workspace)]).find((c) => c.first.app !== spec.name && c.second.app === spec.name);
  if (taken) throw new InputError(`${appPaths(spec.name).spec}: ${taken.message}`);
}
