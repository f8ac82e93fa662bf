import { InputError, show } from '../../errors';
import type { AppSpec, WorkspaceEnvironment } from '../../spec/types';
import { type AppLinks, type EnvironmentLinks, type NormalizedEnvironment, SYNC_WAVES } from '../normalized';

/** An environment of an app no other app is linked to: nothing rendered. */
export const NO_ENV_LINKS: EnvironmentLinks = { enabled: false, policyName: '', policyTypes: [], egress: [], hasEgress: false, ingress: [], hasIngress: false, ingressPorts: [], networks: [], hasNetworks: false };

/** The overlay's generated file that holds the NetworkPolicy between apps. */
export const LINKS_POLICY_FILE = 'networkpolicy.yaml';

/** What the app's own render gives the links: its services on the Compose network and the named ports of its Kubernetes Services. */
export interface LinkedSelf {
  /** Compose services that have a network (no network_mode): they join the networks of the apps it depends on. */
  networked: string[];
  /** The services with a Kubernetes Service whose Compose service has a network: the names apps that depend on it reach. */
  reachable: string[];
  /** The named ports of its Kubernetes Services: what the apps that depend on it may reach. */
  ports: { name: string; protocol: 'TCP' | 'UDP' }[];
}

/**
 * Refuses, in one line naming the value and the fix, an app that depends on itself, a cycle of
 * apps, and an app it depends on that does not run in one of its environments. Returns the
 * sync wave of its ArgoCD Applications: applications' wave plus its level in the order of
 * apps, so an app syncs after every app it depends on.
 */
export function checkAppLinks(spec: AppSpec, where: string, links: AppLinks, environments: WorkspaceEnvironment[]): string {
  if ((spec.dependsOn ?? []).includes(spec.name)) {
    throw new InputError(`${where}: dependsOn ${show(spec.name)} names the app itself; remove it from dependsOn`, 'deps/cycle');
  }
  if (links.cycle) {
    throw new InputError(`${where}: dependsOn ${show(links.cycle[1])} makes a cycle of apps (${links.cycle.join(' -> ')}); remove one of these dependencies`, 'deps/cycle');
  }
  for (const app of links.apps.values()) {
    const missing = environments.filter((e) => !app.environments.includes(e.name)).map((e) => e.name);
    if (missing.length > 0) {
      throw new InputError(
        `${where}: dependsOn ${show(app.name)}: ${app.name} does not run in ${missing.join(', ')}, where ${spec.name} runs; add ${missing.join(', ')} to the environments of applications/specs/${app.name}.yaml, or list ${spec.name}'s environments without ${missing.length === 1 ? 'it' : 'them'}`,
        'deps/app-environment',
      );
    }
  }
  const levels = [...links.apps.values()].map((a) => a.level);
  return levels.length === 0 ? SYNC_WAVES.applications : String(Number(SYNC_WAVES.applications) + 1 + Math.max(...levels));
}

/**
 * The links of an app in one environment: egress to the namespace of each app it depends on and
 * its Compose default network joined as external (`<project>_default`, the project deploy
 * brings up first); ingress from the namespace of each app that depends on it (the app's named
 * ports) and the aliases `<service>.<namespace>.svc` and `<service>.<namespace>.svc.cluster.local`
 * on its own default network, so a dependent reaches it by the same name on both platforms.
 * Namespaces and Compose projects are `<app><namespaceSuffix>` on both platforms.
 */
export function linksIn(app: string, where: string, ws: WorkspaceEnvironment, links: AppLinks, self: LinkedSelf): { app: string; links: EnvironmentLinks; aliases: Map<string, string[]>; joins: string[] } {
  const suffix = ws.namespaceSuffix ?? '';
  const egress = [...links.apps.keys()].sort().map((name) => ({ app: name, namespace: `${name}${suffix}` }));
  const ingress = links.dependents.filter((d) => d.environments.includes(ws.name)).map((d) => ({ app: d.name, namespace: `${d.name}${suffix}` }));
  if (ingress.length > 0 && self.networked.length === 0) {
    throw new InputError(
      `${where}: ${ingress.map((d) => d.app).join(', ')} depend${ingress.length === 1 ? 's' : ''} on ${app}, but every service of ${app} uses the host's network (security.hostNetwork), so on Compose no app can join its network; reach it through the host instead and remove ${app} from their dependsOn`,
      'deps/app-environment',
    );
  }
  const networks = egress.map((e) => ({ key: `app-${e.app}`, name: `${e.namespace}_default`, app: e.app }));
  const namespace = `${app}${suffix}`;
  const aliases = new Map<string, string[]>(ingress.length === 0 ? [] : self.reachable.map((s) => [s, [`${s}.${namespace}.svc`, `${s}.${namespace}.svc.cluster.local`]]));
  const joins = networks.length === 0 ? [] : self.networked;
  const hasIngress = ingress.length > 0 && self.ports.length > 0;
  return {
    app,
    links: {
      enabled: egress.length > 0 || hasIngress,
      policyName: `${app}-apps`,
      policyTypes: [...(hasIngress ? ['Ingress'] : []), ...(egress.length > 0 ? ['Egress'] : [])],
      egress,
      hasEgress: egress.length > 0,
      ingress,
      hasIngress,
      ingressPorts: self.ports,
      networks,
      hasNetworks: networks.length > 0,
    },
    aliases,
    joins,
  };
}

/** The environment with its links: the NetworkPolicy among the overlay's resources, the networks and aliases on its Compose services. */
export function withLinks(env: NormalizedEnvironment, linked: ReturnType<typeof linksIn>): NormalizedEnvironment {
  if (!linked.links.enabled) return env;
  const resources = [...env.resources, LINKS_POLICY_FILE];
  const networks = linked.links.networks.map((n) => n.key);
  return {
    ...env,
    links: linked.links,
    resources,
    hasResources: true,
    composeServices: env.composeServices.map((s) => {
      const aliases = linked.aliases.get(s.name) ?? [];
      const joins = linked.joins.includes(s.name) ? networks : [];
      if (aliases.length === 0 && joins.length === 0) return s;
      // The default network (with the names the dependents reach the service by), the shared one when it has it, then the dependencies'.
      const list = s.networkList ?? [{ key: 'default', aliases: null, comment: null }];
      const networkList = [
        ...list.map((n) => (n.key === 'default' && aliases.length > 0 ? { ...n, aliases, comment: `The apps that depend on ${linked.app} reach this service by its names on Kubernetes.` } : n)),
        ...joins.map((key) => ({ key, aliases: null, comment: `The network of an app ${linked.app} depends on.` })),
      ];
      return { ...s, linkNetworks: { aliases, hasAliases: aliases.length > 0, joins }, networkList, hasOverrides: true };
    }),
    hasNetworks: env.hasNetworks || linked.links.hasNetworks,
  };
}
