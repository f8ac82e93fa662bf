/**
 * Where a project lives. A project is an app (applications/) or an infrastructure component
 * (infrastructure/): both have a spec, a Kustomize base and per-environment overlays, a
 * Compose base and per-environment files, and an ArgoCD Application per environment, at the
 * same places under their layer. Every path is relative to the workspace root.
 */
export type Layer = 'applications' | 'infrastructure';

/** One project: its layer and its name (the Nx project name). */
export interface ProjectId {
  layer: Layer;
  name: string;
}

export interface ProjectPaths {
  spec: string;
  /** The folder beside the spec, named like it, that holds files the spec names (an app's `config: { file }`). */
  specFiles: string;
  runbook: string;
  k8sBase: string;
  composeBase: string;
  /** The project's Grafana dashboard for the Compose Grafana (in the folder it provisions from). */
  composeDashboard: string;
  /** The Kustomize base as an environment's overlay refers to it. */
  baseFromOverlay: string;
}

export interface EnvironmentPaths {
  overlay: string;
  composeEnv: string;
  /** The project's Prometheus rule file of the environment, for the Compose Prometheus (in the folder it loads rules from). */
  composeRules: string;
  argocdApp: string;
}

/**
 * The folder of a layer's Compose tree that holds what the Compose Prometheus and Grafana read:
 * `dashboards/<name>.json` and `rules/<env>/<name>.yaml`. The monitoring component mounts only
 * this folder (read-only), never the projects' own folders, which hold local secret files.
 */
export const composeMonitoringDir = (layer: Layer) => `${layer}/compose/monitoring`;

/** The folder of the rule files of one environment, which the Compose Prometheus of its Docker host loads. */
export const composeRulesDir = (layer: Layer, env: string) => `${composeMonitoringDir(layer)}/rules/${env}`;

/** The folder of a layer's specs. */
export const specsDir = (layer: Layer) => `${layer}/specs`;

/** Paths of a project in every tree. @example projectPaths('applications', 'whoami').spec // applications/specs/whoami.yaml */
export function projectPaths(layer: Layer, name: string): ProjectPaths {
  return {
    spec: `${specsDir(layer)}/${name}.yaml`,
    specFiles: `${specsDir(layer)}/${name}`,
    runbook: `${layer}/runbooks/${name}.md`,
    k8sBase: `${layer}/kubernetes/base/${name}`,
    composeBase: `${layer}/compose/base/${name}`,
    composeDashboard: `${composeMonitoringDir(layer)}/dashboards/${name}.json`,
    baseFromOverlay: `../../../base/${name}`,
  };
}

/** Paths of a project in one environment. */
export function environmentPaths(layer: Layer, name: string, env: string): EnvironmentPaths {
  return {
    overlay: `${layer}/kubernetes/overlays/${env}/${name}`,
    composeEnv: `${layer}/compose/environments/${env}/${name}`,
    composeRules: `${composeRulesDir(layer, env)}/${name}.yaml`,
    argocdApp: `platform/argocd/applications/${env}/${name}.yaml`,
  };
}

export const appPaths = (name: string) => projectPaths('applications', name);
export const componentPaths = (name: string) => projectPaths('infrastructure', name);

/**
 * The Compose files of a project in one environment, merged in this order: base, the spec's
 * patch (an app's `patches.compose`, where it has one), generated, the user's override. Callers
 * keep those that exist: build, validate and deploy merge exactly these.
 */
export function composeFiles(layer: Layer, name: string, env: string): string[] {
  const { composeEnv } = environmentPaths(layer, name, env);
  const { composeBase } = projectPaths(layer, name);
  return [`${composeBase}/compose.yaml`, `${composeBase}/${COMPOSE_PATCH_FILE}`, `${composeEnv}/compose.generated.yaml`, `${composeEnv}/compose.override.yaml`];
}

/** The file of the Compose base that holds the spec's `patches.compose` fragment, merged by Compose's own rules. */
export const COMPOSE_PATCH_FILE = 'compose.patch.yaml';

/** The folder Compose resolves the project's relative paths against (the first file's folder). */
export function composeProjectDir(layer: Layer, name: string): string {
  return projectPaths(layer, name).composeBase;
}

/** What `build` writes for deploy, per environment. */
export const distPaths = {
  kubernetes: (env: string, name: string) => `dist/${env}/kubernetes/${name}.yaml`,
  compose: (env: string, name: string) => `dist/${env}/compose/${name}/compose.yaml`,
};
