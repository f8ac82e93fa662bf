import { environmentNetwork, reachedOverNetwork } from '../../project/networks';

/** The Compose networks of an app, before an environment names its shared network. */
export interface AppNetworks {
  /** The Compose services that join the environment's shared network `homelab-<env>`, in the Compose file's order. */
  shared: string[];
  /** The project's default network is `internal: true`: the counterpart of the NetworkPolicy's closed egress (network.allowInternet false). */
  internal: boolean;
  /** Why the default network cannot be internal although the spec closes egress (a published port); null otherwise. */
  notInternal: string | null;
}

/**
 * Which Compose services of an app join the environment's shared network, where the
 * infrastructure that serves apps lives (Traefik, Prometheus, PostgreSQL: docs/infrastructure.md,
 * "Compose wiring"), and whether the project's default network is internal.
 *
 * A service joins exactly when it needs a shared component, as its Kubernetes NetworkPolicy opens
 * the way to one: the service behind the host (Traefik routes to it), the one serving metrics
 * (Prometheus scrapes it), and every service of an app whose `dependsOn` names a component reached
 * over the network (PostgreSQL: on Kubernetes every pod of the app may reach it). A service in
 * another network namespace (`network_mode`: a sidecar in its service's, host networking, the
 * scheduler's none) joins nothing. Every other app stays on its project's default network alone.
 *
 * With `network.allowInternet: false` (the default) the default network is internal, so the app's
 * containers have no route out of the host, as the NetworkPolicy allows no egress to the internet;
 * Docker publishes no port of a container on internal networks only, so an app that publishes a
 * port keeps a routed default network, and validate says so (parity/egress).
 */
export function appNetworks(
  services: { name: string; networkMode: string | null; published: boolean }[],
  roles: { ingress: string | null; metrics: string | null; dependsOn: readonly string[]; allowInternet: boolean },
): AppNetworks {
  const everyService = roles.dependsOn.some(reachedOverNetwork);
  const shared = services.filter((s) => s.networkMode === null && (everyService || s.name === roles.ingress || s.name === roles.metrics)).map((s) => s.name);
  const publishing = services.filter((s) => s.published).map((s) => s.name);
  const notInternal =
    roles.allowInternet || publishing.length === 0
      ? null
      : `${publishing.join(', ')} publish${publishing.length === 1 ? 'es' : ''} a port, which Docker does not do on an internal network`;
  // Compose leaves out a network no service joins: with every service in another's network namespace there is no default network to close.
  const onDefault = services.some((s) => s.networkMode === null);
  return { shared, internal: onDefault && !roles.allowInternet && notInternal === null, notInternal };
}

/** A Compose service's networks in one environment: its project's default and, when it needs a shared component, the environment's; null: Compose's default alone. */
export function serviceNetworks(networks: AppNetworks, env: string, service: string): string[] | null {
  return networks.shared.includes(service) ? ['default', environmentNetwork(env)] : null;
}
