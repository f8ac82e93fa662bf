import type { WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';

/** ArgoCD's name for the cluster it runs in: the default destination of every environment. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
/** The Docker engine of the machine that runs deploy: the default Compose host. */
export const LOCAL_ENGINE = 'local';

/**
 * Where an environment's infrastructure comes from. Infrastructure is installed once per
 * Kubernetes cluster (an operator owns cluster-wide CRDs, webhooks and ClusterRoles, so
 * two copies fight) and once per Docker host (Traefik binds ports 80 and 443). Environments
 * that share a destination share its infrastructure: the *owner* installs it, the first
 * protected environment on that destination, else the first one in homelab.yaml. With the
 * default homelab.yaml, dev and prod share the in-cluster destination and the local engine,
 * so prod (protected) installs the infrastructure both use.
 */
export interface EnvironmentTarget {
  env: WorkspaceEnvironment;
  server: string;
  context: string;
  installsKubernetes: boolean;
  installsCompose: boolean;
  /** Environments that use what this one installs, itself first (empty when it installs nothing). */
  kubernetesServes: string[];
  composeServes: string[];
}

export function environmentTargets(workspace: WorkspaceConfig): EnvironmentTarget[] {
  const server = (e: WorkspaceEnvironment) => e.kubernetes?.server ?? IN_CLUSTER;
  const context = (e: WorkspaceEnvironment) => e.compose?.context ?? LOCAL_ENGINE;
  const owners = (key: (e: WorkspaceEnvironment) => string) => {
    const groups = new Map<string, WorkspaceEnvironment[]>();
    for (const env of workspace.environments) groups.set(key(env), [...(groups.get(key(env)) ?? []), env]);
    const serves = new Map<string, string[]>();
    for (const group of groups.values()) {
      const owner = group.find((e) => e.protected) ?? group[0];
      serves.set(owner.name, [owner.name, ...group.filter((e) => e !== owner).map((e) => e.name)]);
    }
    return serves;
  };
  const k8s = owners(server);
  const compose = owners(context);
  return workspace.environments.map((env) => ({
    env,
    server: server(env),
    context: context(env),
    installsKubernetes: k8s.has(env.name),
    installsCompose: compose.has(env.name),
    kubernetesServes: k8s.get(env.name) ?? [],
    composeServes: compose.get(env.name) ?? [],
  }));
}
