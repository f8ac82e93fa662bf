import { componentPaths, composeRulesDir, environmentPaths } from '../../project/paths';
import type { WorkspaceConfig } from '../../spec/types';
import { environmentTargets } from '../../workspace/targets';
import type { NormalizedChart, NormalizedComponentEnv } from '../normalize';
import type { ComponentName } from '../types';
import { fromComposeBase, PROMETHEUS_RULES_DIR } from './compose-configs';
import type { GatewayListeners } from './gateway';

/**
 * The environments that install the component: one installation per cluster and per Docker
 * host (the environment that owns it), each with the value files ArgoCD merges for it.
 */
export function componentEnvironments(
  name: ComponentName,
  workspace: WorkspaceConfig,
  platforms: { isKubernetes: boolean; isCompose: boolean },
  charts: NormalizedChart[],
  /** The Gateway of the cluster the environment installs the component on, given the environments that share it. */
  gatewayOf: (serves: string[]) => GatewayListeners | null,
): Omit<NormalizedComponentEnv, 'composeNetworks' | 'composeOverrides' | 'instances' | 'clusterPatch' | 'installValues' | 'generated'>[] {
  const environments: ReturnType<typeof componentEnvironments> = [];
  for (const target of environmentTargets(workspace)) {
    const kubernetes = platforms.isKubernetes && target.installsKubernetes;
    const compose = platforms.isCompose && target.installsCompose;
    if (!kubernetes && !compose) continue;
    const paths = environmentPaths('infrastructure', name, target.env.name);
    // Monitoring on Compose loads the apps' rules of exactly the environments this Docker host runs.
    const prometheusRules =
      name === 'monitoring' && compose
        ? target.composeServes.map((served) => ({ source: fromComposeBase(name, composeRulesDir('applications', served)), target: `${PROMETHEUS_RULES_DIR}/${served}` }))
        : [];
    environments.push({
      name: target.env.name,
      kubernetes,
      compose,
      server: target.server,
      argocdAppName: `${name}-${target.env.name}`,
      composeProject: `${name}${target.env.namespaceSuffix ?? ''}`,
      kubernetesServes: target.kubernetesServes,
      composeServes: target.composeServes,
      charts: charts.map((c) => ({
        ...c,
        valueFiles: [`$values/${componentPaths(name).k8sBase}/${c.valuesFile}`, `$values/${paths.overlay}/${c.valuesFile}`],
      })),
      prometheusRules,
      hasPrometheusRules: prometheusRules.length > 0,
      gateway: kubernetes ? gatewayOf(target.kubernetesServes) : null,
      paths,
    });
  }
  return environments;
}
