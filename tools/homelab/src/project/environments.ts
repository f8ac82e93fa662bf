import type { FileHost } from '../host';
import { composeFiles, environmentPaths, type Layer } from './paths';

/** What a project has in one environment: what build renders, validate checks and deploy applies. */
export interface ProjectEnvironment {
  env: string;
  /** The overlay has a kustomization. */
  kubernetes: boolean;
  /** The environment has the project's compose.generated.yaml. */
  compose: boolean;
  /** The overlay folder (build it only when `kubernetes`). */
  overlay: string;
  /** The project's Compose files that exist, in merge order (merge them only when `compose`). */
  composeFiles: string[];
}

/**
 * The environments a project has an overlay or a Compose environment for, by name, read from
 * the host (not from homelab.yaml: a spec may list fewer environments, and the files are what
 * runs).
 */
export function projectEnvironments(host: FileHost, layer: Layer, name: string): ProjectEnvironment[] {
  const envs = new Set([...host.list(`${layer}/kubernetes/overlays`), ...host.list(`${layer}/compose/environments`)]);
  return [...envs]
    .sort()
    .map((env) => {
      const { overlay, composeEnv } = environmentPaths(layer, name, env);
      return {
        env,
        kubernetes: host.isFile(`${overlay}/kustomization.yaml`),
        compose: host.isFile(`${composeEnv}/compose.generated.yaml`),
        overlay,
        composeFiles: composeFiles(layer, name, env).filter((f) => host.isFile(f)),
      };
    })
    .filter((e) => e.kubernetes || e.compose);
}
