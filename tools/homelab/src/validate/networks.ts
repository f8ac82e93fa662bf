import type { NormalizedApp } from '../app/normalized';
import { environmentNetwork, managedNetwork, reachedOverNetwork } from '../project/networks';
import { isObj, type Obj } from './objects';

export interface NetworkIssue {
  rule: 'parity/networks' | 'parity/egress';
  message: string;
  path: (string | number)[];
}

/**
 * The networks of an app's merged Compose in one environment against what its Kubernetes side
 * gets (docs/validate.md, `parity/networks`): each service on its project's default network and,
 * where the NetworkPolicy opens the way to a shared component (ingress, metrics, a dependency
 * reached over the network), on `homelab-<env>`, never on another environment's or on the
 * infrastructure's `homelab`; the default network internal where the policy allows no egress to
 * the internet. The spec's normalized app says what each service gets (app/steps/compose-networks.ts),
 * the same facts the NetworkPolicy is rendered from, so a hand edit of compose.override.yaml that
 * takes a network away or adds one shows here. Only the project's default network and the shared
 * ones are compared: another app's network is the dependency's. A service with `network_mode`
 * (host networking, a sidecar in its service's) joins no network and is left to `policy/host-network`.
 */
export function networkIssues(app: NormalizedApp, env: string, compose: Obj): NetworkIssue[] {
  const environment = app.environments.find((e) => e.name === env);
  if (!environment) return [];
  const declared = isObj(compose.networks) ? compose.networks : {};
  const nameOf = (key: string) => (isObj(declared[key]) && typeof declared[key].name === 'string' ? declared[key].name : key);
  const defaultName = nameOf('default') === 'default' ? `${environment.composeProject}_default` : nameOf('default');
  // The networks the rule speaks of, by their names on the engine: the project's default and the shared ones.
  const compared = (name: string) => name === defaultName || managedNetwork(name) !== null;
  const shown = (name: string) => (name === defaultName ? 'default' : name);
  const issues: NetworkIssue[] = [];
  const services = isObj(compose.services) ? compose.services : {};
  for (const planned of environment.composeServices) {
    const svc = services[planned.name];
    if (!isObj(svc) || svc.network_mode !== undefined) continue;
    const actual = new Set(Object.keys(isObj(svc.networks) ? svc.networks : { default: null }).map(nameOf).map((n) => (n === 'default' ? defaultName : n)).filter(compared));
    const wanted = new Set((planned.networks ?? ['default']).map((n) => (n === 'default' ? defaultName : n)));
    const missing = [...wanted].filter((n) => !actual.has(n)).map(shown);
    const extra = [...actual].filter((n) => !wanted.has(n)).map(shown);
    if (missing.length === 0 && extra.length === 0) continue;
    const why = planned.networks ? `it needs ${environmentNetwork(env)} for ${reasons(app, planned.name)}, as its NetworkPolicy allows on Kubernetes` : 'it needs no shared component, and its NetworkPolicy opens no way to one on Kubernetes';
    const parts = [missing.length ? `leaves out ${missing.join(', ')}` : '', extra.length ? `joins ${extra.join(', ')}` : ''].filter(Boolean).join(' and ');
    issues.push({
      rule: 'parity/networks',
      message: `service ${planned.name}: Compose ${parts}, but ${why}; run \`npx nx sync\`, or take the change out of compose.override.yaml`,
      path: ['services', planned.name, 'networks'],
    });
  }
  const defaultNetwork = isObj(declared.default) ? declared.default : {};
  if (app.composeNetworks.internal && defaultNetwork.internal !== true) {
    issues.push({
      rule: 'parity/networks',
      message: `the project's default network routes to the internet, but network.allowInternet is false (on Kubernetes the NetworkPolicy allows no egress there); keep \`internal: true\` on networks.default, or set network.allowInternet: true in the spec`,
      path: ['networks', 'default'],
    });
  }
  if (app.composeNetworks.notInternal) {
    issues.push({
      rule: 'parity/egress',
      message: `network.allowInternet is false, so Kubernetes allows no egress to the internet, but on Compose the app's containers reach it: ${app.composeNetworks.notInternal}; accept the difference, or set network.allowInternet: true`,
      path: ['networks', 'default'],
    });
  }
  return issues;
}

/** Why a service is on the environment's network, in words. */
function reasons(app: NormalizedApp, service: string): string {
  const out: string[] = [];
  if (app.ingress.enabled && app.ingress.service === service) out.push('Traefik (it serves the host)');
  if (service === metricsService(app)) out.push('Prometheus (it serves metrics)');
  const deps = app.dependsOn.filter(reachedOverNetwork);
  if (deps.length > 0) out.push(`its dependencies (${deps.join(', ')})`);
  return out.join(', ') || 'the shared components';
}

/** The Compose service labelled for scraping. */
function metricsService(app: NormalizedApp): string | undefined {
  return app.composeServices.find((s) => s.compose.labels['prometheus.io/scrape'] === 'true')?.name;
}
