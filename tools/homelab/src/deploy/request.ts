import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { show } from '../errors';
import { diskHost } from '../host';
import { projectEnvironments } from '../project/environments';
import type { Layer } from '../project/paths';
import { environmentTargets } from '../workspace/targets';
import { parseWorkspaceConfig, parseYamlDocument, WORKSPACE_FILE } from '../spec/io';
import type { WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';
import { DeployError } from './errors';
import { type SecretSource, secretSource } from './secrets';
import { VOLUME_OWNER_IMAGE } from './volume-owner';

export type Platform = 'compose' | 'kubernetes';
export type Action = 'deploy' | 'down' | 'restore-drill' | 'logs' | 'diff';

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
  /** restore-drill only: leave the scratch project `<project>-drill` for inspection. */
  keep?: boolean;
  /** restore-drill only: restore into tmpfs scratch volumes of this size (e.g. 512m) instead of disk. */
  scratchSize?: string;
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
  /** restore-drill only: keep the scratch project; the tmpfs size of its scratch volumes. */
  drill?: { keep: boolean; scratchSize?: string };
  /**
   * Compose: the image of the one-shot container that sets the owner of new named volumes
   * (homelab.yaml compose.volumeOwner.image), and where the secret values come from (the
   * environment's source, else the workspace's store, else environment variables: undefined).
   */
  compose: { volumeOwnerImage: string; secrets?: SecretSource };
  kubernetes: { argocd: boolean; argocdApp: string; argocdNamespace: string; namespace: string; context?: string };
}

/** One line naming the project and environment, the prefix of every message. */
export function label(request: Pick<DeployRequest, 'project' | 'env'>): string {
  return `${request.project} (${request.env})`;
}

/** Validates the executor options against the workspace and the project's files. */
export function resolveRequest(root: string, project: string, options: DeployOptions, action: Action = 'deploy'): DeployRequest {
  const layer = options.layer;
  const envs = projectEnvironments(diskHost(root), layer, project);
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
    ...(action === 'restore-drill' ? { drill: { keep: Boolean(options.keep), ...(options.scratchSize ? { scratchSize: drillSize(project, options) } : {}) } } : {}),
    compose: { volumeOwnerImage: workspace.compose?.volumeOwner?.image ?? VOLUME_OWNER_IMAGE, secrets: secretSource(root, workspace, settings) },
    kubernetes: {
      argocd: settings.kubernetes?.argocd ?? true,
      argocdApp: application?.name ?? `${project}-${options.env}`,
      argocdNamespace: application?.namespace ?? workspace.gitops.argocdNamespace ?? 'argocd',
      namespace: application?.destination ?? `${project}${settings.namespaceSuffix ?? ''}`,
      context: settings.kubernetes?.context,
    },
  };
}

/** --scratch-size as Docker's tmpfs takes it: a number with an optional k, m or g. */
function drillSize(project: string, options: DeployOptions): string {
  const size = String(options.scratchSize).trim();
  if (!/^[1-9][0-9]*[kmg]?$/i.test(size)) {
    throw new DeployError(`${project} (${options.env}): --scratch-size ${show(size)} is not a size; give bytes with k, m or g, e.g. --scratch-size 512m`, 2);
  }
  return size.toLowerCase();
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

/**
 * Why there is nothing to do for the project in an environment of homelab.yaml it has no
 * files in, or null when files are simply missing (resolveRequest then says so).
 * - A component is installed once per cluster and per Docker host: an environment that
 *   shares them uses the installation of the environment that owns them (workspace/targets.ts).
 *   So `nx affected -t deploy --env dev`, which also runs the deploy of every component an
 *   app depends on, is a no-op for postgres in dev and says where postgres is installed.
 * - An app whose spec lists its environments does not run in the others.
 */
export function absenceNotice(root: string, project: string, options: DeployOptions, action: Action = 'deploy'): string | null {
  const env = options.env;
  if (!env || projectEnvironments(diskHost(root), options.layer, project).some((e) => e.env === env)) return null;
  let workspace: WorkspaceConfig;
  try {
    workspace = parseWorkspaceConfig(readOrNull(path.join(root, WORKSPACE_FILE)));
  } catch {
    return null;
  }
  if (!workspace.environments.some((e) => e.name === env)) return null;
  const nothing = { deploy: 'nothing to deploy', down: 'nothing to remove', 'restore-drill': 'nothing to drill', logs: 'no logs to show', diff: 'nothing to compare' }[action];
  if (options.layer === 'infrastructure') {
    const installed = projectEnvironments(diskHost(root), 'infrastructure', project);
    const targets = environmentTargets(workspace);
    const self = targets.find((t) => t.env.name === env)!;
    const platforms = (['kubernetes', 'compose'] as const).filter((p) => installed.some((e) => e[p]));
    // An environment that installs its own (own cluster or Docker host) and has no files needs `nx sync`.
    if (platforms.some((p) => (p === 'kubernetes' ? self.installsKubernetes : self.installsCompose))) return null;
    const owners = platforms.flatMap((p) =>
      targets
        .filter((t) => t.env.name !== env && (p === 'kubernetes' ? t.kubernetesServes : t.composeServes).includes(env))
        .filter((t) => installed.some((e) => e.env === t.env.name && e[p]))
        .map((t) => ({ owner: t.env.name, what: `${t.env.name}'s ${p === 'kubernetes' ? 'cluster' : 'Docker host'}` })),
    );
    if (owners.length === 0) return null;
    const names = [...new Set(owners.map((o) => o.owner))];
    return `${project} (${env}): ${nothing}: ${env} uses ${project} as installed for ${owners.map((o) => o.what).join(' and ')} (one installation per cluster and Docker host); deploy it with ${names.map((n) => `--env ${n}`).join(' or ')}`;
  }
  const spec = readOrNull(path.join(root, options.layer, 'specs', `${project}.yaml`));
  let listed: string[] | undefined;
  try {
    const environments = spec === null ? undefined : (parseYamlDocument(spec, `${options.layer}/specs/${project}.yaml`) as { environments?: Record<string, unknown> } | null)?.environments;
    listed = environments && typeof environments === 'object' ? Object.keys(environments) : undefined;
  } catch {
    return null;
  }
  if (!listed || listed.includes(env)) return null;
  return `${project} (${env}): ${nothing}: its spec runs it in ${listed.map((n) => show(n)).join(', ')} only`;
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
