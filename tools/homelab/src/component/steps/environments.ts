import { componentPaths, environmentPaths } from '../../project/paths';
import type { WorkspaceConfig } from '../../spec/types';
import { environmentTargets } from '../../workspace/targets';
import type { NormalizedChart, NormalizedComponentEnv } from '../normalize';
import type { ComponentName } from '../types';

/**
 * The environments that install the component: one installation per cluster and per Docker
 * host (the environment that owns it), each with the value files ArgoCD merges for it.
 */
export function componentEnvironments(
  name: ComponentName,
  workspace: WorkspaceConfig,
  platforms: { isKubernetes: boolean; isCompose: boolean },
  charts: NormalizedChart[],
): Omit<NormalizedComponentEnv, 'composeNetworks'>[] {
  const environments: Omit<NormalizedComponentEnv, 'composeNetworks'>[] = [];
  for (const target of environmentTargets(workspace)) {
    const kubernetes = platforms.isKubernetes && target.installsKubernetes;
    const compose = platforms.isCompose && target.installsCompose;
    if (!kubernetes && !compose) continue;
    const paths = environmentPaths('infrastructure', name, target.env.name);
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
      paths,
    });
  }
  return environments;
}
