/**
 * The Docker networks of a Compose host (docs/infrastructure.md, "Compose wiring"). Apps and the
 * infrastructure that serves them meet on one network per environment, `homelab-<env>`; the
 * infrastructure services talk among themselves on `homelab`. Both are external to every
 * project: deploy creates a missing one (labelled NETWORK_LABEL), never Compose.
 */

/** The network infrastructure services share among themselves (Prometheus scraping Traefik, Grafana reading Loki). */
export const INFRA_NETWORK = 'homelab';

/** The label deploy puts on a network it creates (value: the network's own name). */
export const NETWORK_LABEL = 'homelab.network';

/**
 * The network an environment's apps share with the infrastructure that serves them.
 * @example environmentNetwork('dev') // 'homelab-dev'
 */
export function environmentNetwork(env: string): string {
  return `${INFRA_NETWORK}-${env}`;
}

/**
 * The Compose services of catalog components that serve apps over the network: each joins the
 * `homelab-<env>` network of every environment its installation serves, and an app whose
 * `dependsOn` names the component joins its environment's network. Alloy (logs) and the backup
 * service reach apps through the Docker socket and need no network of theirs.
 */
export const APP_FACING_SERVICES: Readonly<Record<string, readonly string[]>> = {
  ingress: ['traefik'],
  monitoring: ['prometheus'],
  postgres: ['postgres'],
};

/** Whether an app that `dependsOn` this component reaches it over the network on Compose (a catalog component with an app-facing service). */
export function reachedOverNetwork(component: string): boolean {
  return Object.hasOwn(APP_FACING_SERVICES, component);
}

/**
 * The networks deploy creates when they are missing, and how: `homelab` (routed: Traefik's
 * published ports and ACME, Alertmanager's notifications go out through it) and each
 * `homelab-<env>` (internal: no route out of the host, so an app with `network.allowInternet:
 * false` on an internal default network cannot reach the internet through it either). Any other
 * external network (another app's project network) belongs to its own project: null.
 */
export function managedNetwork(name: string): { internal: boolean } | null {
  if (name === INFRA_NETWORK) return { internal: false };
  // Environment names are lower-case letters, digits and '-' (workspace.schema.json): never `_`, which Compose's project networks hold.
  return /^homelab-[a-z][a-z0-9-]*$/.test(name) ? { internal: true } : null;
}
