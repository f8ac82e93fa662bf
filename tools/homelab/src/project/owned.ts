import { type FileHost, listFilesRecursive } from '../host';
import type { RenderedFile } from '../render/engine';
import { composeMonitoringDir, environmentPaths, type Layer, type ProjectId, projectPaths } from './paths';

/**
 * What a project's spec owns besides its two bases, each environment's compose.generated.yaml
 * and ArgoCD Application. Overlays and compose.override.yaml are the user's; an app also owns
 * the generated/ component of each overlay and its restore runbook.
 */
const OWNS: Record<Layer, { generatedOverlay: boolean; runbook: boolean }> = {
  applications: { generatedOverlay: true, runbook: true },
  infrastructure: { generatedOverlay: false, runbook: false },
};

/** Spec-owned files of a project that exist on the host, sorted: what a render may rewrite or delete. */
export function ownedFiles(host: FileHost, { layer, name }: ProjectId): string[] {
  const paths = projectPaths(layer, name);
  const owned = [
    ...listFilesRecursive(host, paths.k8sBase),
    // .env holds real secret values for a local run and is never ours to touch.
    ...listFilesRecursive(host, paths.composeBase).filter((f) => !f.endsWith('/.env')),
  ];
  if (OWNS[layer].generatedOverlay) {
    for (const env of host.list(`${layer}/kubernetes/overlays`)) owned.push(...listFilesRecursive(host, `${environmentPaths(layer, name, env).overlay}/generated`));
  }
  for (const env of host.list(`${layer}/compose/environments`)) {
    const file = `${environmentPaths(layer, name, env).composeEnv}/compose.generated.yaml`;
    if (host.isFile(file)) owned.push(file);
  }
  // What the Compose Prometheus and Grafana read of the project: its dashboard, its rule file per environment.
  if (host.isFile(paths.composeDashboard)) owned.push(paths.composeDashboard);
  for (const env of host.list(`${composeMonitoringDir(layer)}/rules`)) {
    const file = environmentPaths(layer, name, env).composeRules;
    if (host.isFile(file)) owned.push(file);
  }
  for (const env of host.list('platform/argocd/applications')) {
    const file = environmentPaths(layer, name, env).argocdApp;
    if (host.isFile(file)) owned.push(file);
  }
  if (OWNS[layer].runbook && host.isFile(paths.runbook)) owned.push(paths.runbook);
  // The spec itself is the user's: it is written by `nx g` and never deleted or rewritten by sync.
  return owned.sort();
}

export interface ApplyResult {
  written: string[];
  deleted: string[];
  kept: string[];
}

/**
 * Brings the host in line with rendered files: spec-owned files are written when they
 * differ and deleted when no longer rendered; user-owned files are only created.
 * `project` names whose owned files may be deleted (null: nothing is, as for the platform's
 * files). With `check`, the same result is computed without touching the host.
 */
export function applyRendered(host: FileHost, files: RenderedFile[], project: ProjectId | null, check = false): ApplyResult {
  const result: ApplyResult = { written: [], deleted: [], kept: [] };
  const rendered = new Set(files.map((f) => f.path));
  for (const file of files) {
    const current = host.read(file.path);
    if (file.owner === 'user' && current !== null) {
      result.kept.push(file.path);
      continue;
    }
    if (current === file.content) continue;
    if (!check) host.write(file.path, file.content);
    result.written.push(file.path);
  }
  for (const stale of project ? ownedFiles(host, project) : []) {
    if (rendered.has(stale)) continue;
    if (!check) host.delete(stale);
    result.deleted.push(stale);
  }
  return result;
}
