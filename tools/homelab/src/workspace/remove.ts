import YAML from 'yaml';
import { checkAppName } from '../app/options';
import { listAppNames, readAppSpec, readWorkspace } from '../app/plan';
import { InputError, show } from '../errors';
import { type FileHost, listFilesRecursive } from '../host';
import { findOrphans, userFiles } from '../project/orphans';
import { ownedFiles } from '../project/owned';
import { environmentPaths, type Layer, projectPaths } from '../project/paths';
import { stagedHost } from '../staged';
import type { WorkspaceConfig } from '../spec/types';
import { dockerLines } from '../tool-env';
import { syncAll } from './sync';

/** The options of `nx g homelab:remove` and `plop remove` (generators/remove/schema.json). */
export interface RemoveOptions {
  /** The app or infrastructure component to remove. */
  name: string;
  /** Remove the user's files of the project too (its overlays, compose.override.yaml files, .env). */
  all?: boolean;
}

/** What runs on this machine's Docker engine: the containers of a Compose project, or null when no engine answers. */
export interface RunningView {
  containers(project: string): string[] | null;
}

export interface RemoveResult {
  /** Every file deleted (the spec, the files beside it, what it rendered, the user's files with --all). */
  deleted: string[];
  /** Files re-rendered because the project is gone (the platform's: AppProjects, the root Application). */
  written: string[];
  /** The user's files left in place. */
  kept: string[];
  /** The report: what still runs where, and how to take it down or delete its data deliberately. */
  lines: string[];
}

/**
 * Removes an app or an infrastructure component from git: its spec and the files beside it,
 * every file it rendered in both trees and its ArgoCD Applications, and (with `all`) the user's
 * files in its folders; then re-renders what spans the workspace. Refused in one line, with
 * nothing changed, for a name that is neither, and for a component an app depends on.
 * Data is never deleted: the report says what still runs in each environment and the command
 * that takes it down with its data kept (docs/lifecycle.md).
 */
export function generateRemove(host: FileHost, options: RemoveOptions, engine: RunningView | null): RemoveResult {
  const name = checkAppName(options.name);
  const workspace = readWorkspace(host);
  const layer = layerOf(host, name);
  // A component or an app another app depends on stays until no app does (an app's dependents re-render without it otherwise fail).
  const dependents = listAppNames(host).filter((app) => app !== name && (readAppSpec(host, app).dependsOn ?? []).includes(name));
  if (dependents.length > 0) {
    throw new InputError(`${layer === 'infrastructure' ? 'component' : 'app'} ${name} is used by ${dependents.map((a) => `app ${a}`).join(', ')} (dependsOn); remove ${name} from their dependsOn first, then remove it`);
  }
  const lines = runningLines(host, workspace, layer, name, engine);
  const staged = stagedHost(host);
  const paths = projectPaths(layer, name);
  const user = userFiles(host, layer, name);
  const doomed = [
    ...(host.isFile(paths.spec) ? [paths.spec] : []),
    ...listFilesRecursive(host, paths.specFiles),
    ...ownedFiles(host, { layer, name }),
    ...(options.all ? user : []),
  ];
  for (const file of doomed) staged.delete(file);
  // The platform's files name every project (AppProject destinations, the root Application): render them without this one.
  const written = syncAll(staged, false, { allowOrphans: true });
  staged.commit();
  const kept = options.all ? [] : user;
  if (kept.length > 0) lines.push(`kept your files (remove them with --all, or by hand): ${kept.join(', ')}`);
  return { deleted: [...new Set(doomed)].sort(), written, kept, lines };
}

/** Which layer the name is a project of: by its spec, else by the files a vanished spec left. */
function layerOf(host: FileHost, name: string): Layer {
  for (const layer of ['applications', 'infrastructure'] as const) if (host.isFile(projectPaths(layer, name).spec)) return layer;
  const orphan = findOrphans(host).find((o) => o.name === name);
  if (orphan) return orphan.layer;
  throw new InputError(`${show(name)} is neither an app nor an infrastructure component here (no applications/specs/${name}.yaml or infrastructure/specs/${name}.yaml, and no files of it); nothing to remove`);
}

/** Per environment: what may still run of the project, and the command that takes it down keeping its data. */
function runningLines(host: FileHost, workspace: WorkspaceConfig, layer: Layer, name: string, engine: RunningView | null): string[] {
  const lines: string[] = [];
  for (const env of workspace.environments) {
    const generated = host.read(`${environmentPaths(layer, name, env.name).composeEnv}/compose.generated.yaml`);
    if (generated !== null) {
      const project = composeProjectName(generated);
      const running = project === null ? null : (engine?.containers(project) ?? null);
      if (project !== null && running === null) {
        lines.push(`${env.name}, Compose: no Docker engine answered here; where project ${project} runs, take it down with \`docker compose -p ${project} down\` (its volumes are kept)`);
      } else if (project !== null && running!.length > 0) {
        lines.push(`${env.name}, Compose: still runs (${running!.join(', ')}): take it down with \`docker compose -p ${project} down\` (its volumes are kept; \`docker volume rm\` them when the data can go)`);
      }
    }
    if (host.isFile(environmentPaths(layer, name, env.name).argocdApp)) {
      // An app's namespace is its name and the environment's suffix; a component's is the catalog's.
      const namespace = layer === 'applications' ? `namespace ${name}${env.namespaceSuffix ?? ''}` : 'its namespace';
      const deleteIt = layer === 'applications' ? `\`kubectl delete namespace ${name}${env.namespaceSuffix ?? ''}\`` : 'deleting that namespace';
      lines.push(
        env.kubernetes?.argocd === false
          ? `${env.name}, Kubernetes (deployed directly): what runs in ${namespace} stays until you delete it; ${deleteIt} deletes its data too`
          : `${env.name}, Kubernetes: once this is pushed, ArgoCD deletes the Application and its workloads; the volumes (PersistentVolumeClaims are Prune=false,Delete=false) and ${namespace} stay: ${deleteIt} when the data can go`,
      );
    }
  }
  return lines;
}

/** The project name (`name:`) of a compose.generated.yaml; null when it has none or does not read. */
export function composeProjectName(text: string): string | null {
  try {
    const name = (YAML.parse(text) as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

/** This machine's Docker engine, through the docker CLI: the running containers of a Compose project; null when it does not answer. */
export function localRunning(): RunningView {
  return {
    containers: (project) => dockerLines(['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'])?.sort() ?? null,
  };
}
