import { InputError } from '../../errors';
import type { WorkspaceConfig } from '../../spec/types';
import { environmentTargets } from '../../workspace/targets';
import type { ComponentSpec } from '../types';

/**
 * The PriorityClass of the shared components (docs/availability.md): their pods win over the
 * apps' under pressure. Apps get no class (priority 0), so their pods are as before.
 */
export const PLATFORM_PRIORITY = { name: 'homelab-platform', value: 1000000 } as const;

/**
 * The environments that install the component somewhere (a cluster or a Docker host, per
 * workspace/targets.ts), each with whether what it installs serves a protected environment.
 */
function installs(workspace: WorkspaceConfig): { env: string; protected: boolean }[] {
  return environmentTargets(workspace)
    .filter((t) => t.installsKubernetes || t.installsCompose)
    .map((t) => ({ env: t.env.name, protected: workspace.environments.some((e) => e.protected && [...t.kubernetesServes, ...t.composeServes].includes(e.name)) }));
}

/**
 * What a NEW spec of postgres or ingress records (the catalog's settings): per installing
 * environment, 2 where the install serves a protected environment (one node can go), else 1.
 * @example defaultInstances(workspace) // { prod: 2 } with the default homelab.yaml (prod installs for dev and prod)
 */
export function defaultInstances(workspace: WorkspaceConfig): Record<string, number> {
  return Object.fromEntries(installs(workspace).map((i) => [i.env, i.protected ? 2 : 1]));
}

/**
 * The instance count of each install of a component: `settings.instances` as a number (every
 * install), as a map keyed by the installing environment (an environment it does not name gets
 * the default of a new spec), or absent: `fallback` (1, as before 0.4.0). Refuses a count that is
 * not a whole number of at least 1, and a key that installs nothing, in one line each.
 * @example instancesOf(spec, workspace, where, 1)('prod') // 2 with settings.instances { prod: 2 }
 */
export function instancesOf(spec: Pick<ComponentSpec, 'name' | 'settings'>, workspace: WorkspaceConfig, where: string, fallback: number): (env: string) => number {
  const value: unknown = spec.settings?.instances;
  const check = (n: unknown, field: string): number => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new InputError(`${where}: ${field} is ${JSON.stringify(n)}; give a whole number of instances of at least 1`);
    }
    return n;
  };
  if (value === undefined) return () => fallback;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const n = check(value, 'settings.instances');
    return () => n;
  }
  const defaults = defaultInstances(workspace);
  for (const [env, n] of Object.entries(value)) {
    if (!(env in defaults)) {
      const owners = Object.keys(defaults).join(', ') || 'none';
      throw new InputError(`${where}: settings.instances.${env}: ${env} installs no ${spec.name} of its own (installing environments: ${owners}); key the count by one of them`);
    }
    check(n, `settings.instances.${env}`);
  }
  const counts = value as Record<string, number>;
  return (env) => counts[env] ?? defaults[env] ?? 1;
}

/**
 * Traefik's chart values of one install: its replicas, and with 2 or more a PodDisruptionBudget
 * that lets one go at a time and a preferred anti-affinity across nodes (a one-node cluster still
 * schedules them all). Value names of the traefik chart (deployment.replicas, podDisruptionBudget,
 * affinity); its pods carry app.kubernetes.io/name: traefik.
 */
export function traefikInstallValues(instances: number): Record<string, unknown> {
  return {
    deployment: { replicas: instances },
    ...(instances >= 2
      ? {
          podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } }, topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
        }
      : {}),
  };
}

/**
 * How many Traefik pods a spec written before settings.instances runs: the replicas its chart
 * values recorded (the catalog wrote deployment.replicas: 1), else 1.
 */
export function recordedTraefikReplicas(spec: ComponentSpec): number {
  const values = spec.kubernetes.charts.find((c) => c.name === 'traefik')?.values as { deployment?: { replicas?: unknown } } | undefined;
  const replicas = values?.deployment?.replicas;
  return typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 1 ? replicas : 1;
}
