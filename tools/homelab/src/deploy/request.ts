import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { show } from '../errors';
import { projectEnvironments, type Layer } from '../build/render';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import type { WorkspaceEnvironment } from '../spec/types';
import { DeployError } from './errors';

export type Platform = 'compose' | 'kubernetes';
export type Action = 'deploy' | 'down';

/** Options of the deploy and down executors, as Nx passes them. */
export interface DeployOptions {
  layer: Layer;
  env?: string;
  platform?: Platform;
  dryRun?: boolean;
  yes?: boolean;
  /**
   * deploy only: replace running containers although no earlier deploy is recorded on
   * this machine (so a failed deploy cannot bring them back).
   */
  replaceUnrecorded?: boolean;
  /** down only: remove the project's named volumes (Compose) or PersistentVolumeClaims (Kubernetes) too. */
  volumes?: boolean;
  /**
   * down only: the confirmation that --volumes may delete data, naming the project
   * (`--delete-data=<project>`). Neither --yes nor CI=true stands in for it.
   */
  deleteData?: string;
}

/**
 * Everything a deploy needs, computed once before anything runs: the project, the
 * environment's settings from homelab.yaml, the platform and where ArgoCD and the
 * namespace are. Plain data (JSON), so it can be handed to the deploy worker process.
 */
export interface DeployRequest {
  action: Action;
  root: string;
  layer: Layer;
  project: string;
  env: string;
  platform: Platform;
  dryRun: boolean;
  yes: boolean;
  /** Replace running containers that no recorded deploy could restore (Compose). */
  replaceUnrecorded: boolean;
  /** down only: delete the project's data too (--volumes, confirmed by --delete-data=<project>). */
  volumes: boolean;
  /** The environment's entry of homelab.yaml. */
  settings: WorkspaceEnvironment;
  kubernetes: { argocd: boolean; argocdApp: string; argocdNamespace: string; namespace: string; context?: string };
}

/** One line naming the project and environment, the prefix of every message. */
export function label(request: Pick<DeployRequest, 'project' | 'env'>): string {
  return `${request.project} (${request.env})`;
}

/** Validates the executor options against the workspace and the project's files. */
export function resolveRequest(root: string, project: string, options: DeployOptions, action: Action = 'deploy'): DeployRequest {
  const layer = options.layer;
  const envs = projectEnvironments(root, layer, project);
  const names = envs.map((e) => e.env);
  if (!options.env) {
    throw new DeployError(`${project}: --env is required; use one of ${names.map((n) => show(n)).join(', ') || '(none: run `npx nx sync`)'}`, 2);
  }
  const found = envs.find((e) => e.env === options.env);
  if (!found) {
    throw new DeployError(`${project}: --env ${show(options.env)} is not an environment of this project; use one of ${names.map((n) => show(n)).join(', ')}`, 2);
  }
  const workspace = parseWorkspaceConfig(readOrNull(path.join(root, WORKSPACE_FILE)));
  const settings = workspace.environments.find((e) => e.name === options.env);
  if (!settings) {
    throw new DeployError(`${project}: environment ${show(options.env)} has files but is not in ${WORKSPACE_FILE}; add it there (nx g homelab:environment) or remove its folders`, 2);
  }
  const platform = options.platform ?? (found.compose ? 'compose' : 'kubernetes');
  if (platform !== 'compose' && platform !== 'kubernetes') {
    throw new DeployError(`${project}: --platform ${show(platform)} is not a platform; use compose or kubernetes`, 2);
  }
  if (!found[platform]) {
    const other: Platform = platform === 'compose' ? 'kubernetes' : 'compose';
    throw new DeployError(`${project}: has no ${platform} files for ${options.env}${found[other] ? `; use --platform ${other}` : ''}`, 2);
  }
  confirmDataDeletion(project, options, action);
  const application = readArgoApplication(root, project, options.env);
  return {
    action,
    root,
    layer,
    project,
    env: options.env,
    platform,
    dryRun: Boolean(options.dryRun),
    yes: Boolean(options.yes),
    replaceUnrecorded: Boolean(options.replaceUnrecorded),
    volumes: Boolean(options.volumes),
    settings,
    kubernetes: {
      argocd: settings.kubernetes?.argocd ?? true,
      argocdApp: application?.name ?? `${project}-${options.env}`,
      argocdNamespace: application?.namespace ?? workspace.gitops.argocdNamespace ?? 'argocd',
      namespace: application?.destination ?? `${project}${settings.namespaceSuffix ?? ''}`,
      context: settings.kubernetes?.context,
    },
  };
}

/**
 * Deleting data has a confirmation of its own: `down --volumes` goes ahead only with
 * `--delete-data=<project>` (a dry run excepted), so neither the --yes of a protected
 * environment nor CI=true, nor a copied command line aimed at another project, deletes
 * volumes. Refuses before anything runs.
 */
function confirmDataDeletion(project: string, options: DeployOptions, action: Action): void {
  const who = `${project} (${options.env})`;
  const given = options.deleteData;
  if (given !== undefined && action !== 'down') {
    throw new DeployError(`${who}: --delete-data belongs to down --volumes, not to ${action}; remove it`, 2);
  }
  if (given !== undefined && given !== project) {
    throw new DeployError(`${who}: --delete-data=${show(String(given))} does not name this project; use --delete-data=${project} to confirm deleting its volumes`, 2);
  }
  if (given !== undefined && !options.volumes) {
    throw new DeployError(`${who}: --delete-data=${project} confirms deleting volumes, but --volumes is not set; add --volumes to delete them, or drop --delete-data`, 2);
  }
  if (options.volumes && given === undefined && !options.dryRun) {
    throw new DeployError(
      `${who}: --volumes deletes the data of ${project} in ${options.env} (its volumes); confirm it with --delete-data=${project} (--yes and CI=true do not); nothing was changed`,
      2,
    );
  }
}

/** The ArgoCD Application homelab rendered for the project: its name, namespace and destination namespace. */
function readArgoApplication(root: string, project: string, env: string): { name?: string; namespace?: string; destination?: string } | null {
  const text = readOrNull(path.join(root, 'platform/argocd/applications', env, `${project}.yaml`));
  if (text === null) return null;
  try {
    const doc = YAML.parse(text) as { metadata?: { name?: string; namespace?: string }; spec?: { destination?: { namespace?: string } } } | null;
    return { name: doc?.metadata?.name, namespace: doc?.metadata?.namespace, destination: doc?.spec?.destination?.namespace };
  } catch {
    return null;
  }
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
