import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, show } from '../errors';
import { diskHost } from '../host';
import { projectEnvironments } from '../project/environments';
import { type Layer, specsDir } from '../project/paths';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import type { WorkspaceEnvironment } from '../spec/types';
import { ToolRunner } from '../deploy/process';
import { composeStatus } from './compose';
import { isKubernetesEnvironment, kubernetesStatus } from './kubernetes';
import type { StatusRow, StatusReport } from './types';

/** One project in one environment, on the platform deploy picks there (Compose when it has Compose files, as deploy does). */
export interface StatusTarget {
  project: string;
  layer: Layer;
  env: string;
  platform: 'compose' | 'kubernetes';
  settings: WorkspaceEnvironment;
}

export interface StatusOptions {
  /** Only this environment (an unknown one is an InputError naming those there are). */
  env?: string;
  /** Only this project (the Nx target's). */
  project?: string;
  requireDeployed?: boolean;
  /** The environment the platforms' CLIs run with (DOCKER_HOST, KUBECONFIG). */
  processEnv?: NodeJS.ProcessEnv;
  now?: Date;
  tmpDir?: string;
  /** The Kubernetes reader; default: kubernetesRows. */
  kubernetes?: KubernetesReader;
}

/** The rows of the Kubernetes environments' targets. */
export type KubernetesReader = (root: string, targets: StatusTarget[], options: StatusOptions) => Promise<StatusRow[]>;

/**
 * The Kubernetes reader `homelab status` uses: `status/kubernetes.ts` (the API and ArgoCD's
 * Applications), keeping the rows of the targets asked for.
 */
export const kubernetesRows: KubernetesReader = async (root, targets, options) => {
  const wanted = new Set(targets.map((t) => `${t.project}\u0000${t.env}`));
  const rows = await kubernetesStatus(root, {
    env: options.env,
    requireDeployed: options.requireDeployed,
    projects: [...new Set(targets.map((t) => t.project))],
    processEnv: options.processEnv,
    now: options.now?.toISOString(),
  });
  return rows.filter((r) => wanted.has(`${r.project}\u0000${r.environment}`));
};

/**
 * The platforms status reads a project on in an environment. Kubernetes where the Kubernetes
 * reader reports it (`isKubernetesEnvironment`: homelab.yaml gives the environment a `kubernetes`
 * entry, or the project has Kubernetes files only); Compose where the project has Compose files,
 * unless the environment names a cluster and no Docker host (then its Compose files are not what
 * runs there). An environment with both entries is read on both: a row each.
 */
export function statusPlatforms(settings: WorkspaceEnvironment, files: { kubernetes: boolean; compose: boolean }): ('compose' | 'kubernetes')[] {
  const kubernetes = isKubernetesEnvironment(settings, files);
  const compose = files.compose && !(kubernetes && settings.compose === undefined);
  return [...(compose ? (['compose'] as const) : []), ...(kubernetes ? (['kubernetes'] as const) : [])];
}

/** The environments of the workspace, in homelab.yaml's order. */
export function workspaceEnvironments(root: string): WorkspaceEnvironment[] {
  const file = path.join(root, WORKSPACE_FILE);
  return parseWorkspaceConfig(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null).environments;
}

/**
 * Every project (apps and infrastructure components, by their specs) × environment it has files
 * for, in name order and then homelab.yaml's order of environments.
 */
export function statusTargets(root: string, options: Pick<StatusOptions, 'env' | 'project'> = {}): StatusTarget[] {
  const environments = workspaceEnvironments(root);
  const names = environments.map((e) => e.name);
  if (options.env !== undefined && !names.includes(options.env)) {
    throw new InputError(`--env ${show(options.env)} is not an environment of ${WORKSPACE_FILE}; use one of ${names.map((n) => show(n)).join(', ') || '(none)'}`);
  }
  const host = diskHost(root);
  const projects: { layer: Layer; name: string }[] = [];
  for (const layer of ['applications', 'infrastructure'] as Layer[]) {
    for (const file of host.list(specsDir(layer))) {
      if (file.endsWith('.yaml')) projects.push({ layer, name: file.slice(0, -'.yaml'.length) });
    }
  }
  projects.sort((a, b) => a.name.localeCompare(b.name));
  if (options.project !== undefined && !projects.some((p) => p.name === options.project)) {
    throw new InputError(`${show(options.project)} is not a project of this workspace (no spec under applications/specs or infrastructure/specs)`);
  }
  const targets: StatusTarget[] = [];
  for (const p of projects) {
    if (options.project !== undefined && p.name !== options.project) continue;
    const found = projectEnvironments(host, p.layer, p.name);
    for (const settings of environments) {
      if (options.env !== undefined && settings.name !== options.env) continue;
      const e = found.find((f) => f.env === settings.name);
      if (!e) continue;
      for (const platform of statusPlatforms(settings, e)) targets.push({ project: p.name, layer: p.layer, env: settings.name, platform, settings });
    }
  }
  return targets;
}

/**
 * The status of the workspace's projects: the Compose rows from the engines (compose.ts), the
 * Kubernetes rows from the reader (`options.kubernetes`), in the order of statusTargets.
 */
export async function readStatus(root: string, options: StatusOptions = {}): Promise<StatusReport> {
  const targets = statusTargets(root, options);
  const tools = new ToolRunner(options.processEnv ?? process.env);
  const compose = targets.filter((t) => t.platform === 'compose');
  const kubernetes = targets.filter((t) => t.platform === 'kubernetes');
  const [composeRows, kubernetesRowsRead] = await Promise.all([
    composeStatus(root, compose, { tools, requireDeployed: options.requireDeployed, now: options.now, tmpDir: options.tmpDir }),
    kubernetes.length > 0 ? (options.kubernetes ?? kubernetesRows)(root, kubernetes, options) : Promise.resolve([]),
  ]);
  const key = (project: string, env: string, platform: string) => `${project}\u0000${env}\u0000${platform}`;
  const byKey = new Map([...composeRows, ...kubernetesRowsRead].map((r) => [key(r.project, r.environment, r.platform), r]));
  const rows = targets.map((t) => byKey.get(key(t.project, t.env, t.platform))).filter((r): r is StatusRow => r !== undefined);
  const envs = workspaceEnvironments(root)
    .map((e) => e.name)
    .filter((n) => options.env === undefined || n === options.env);
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    commit: await headCommit(tools, root),
    environments: envs,
    rows,
    ok: rows.every((r) => r.ok),
  };
}

async function headCommit(tools: ToolRunner, root: string): Promise<string | null> {
  try {
    const result = await tools.run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: root });
    return result.code === 0 ? result.stdout.trim() : null;
  } catch {
    return null;
  }
}
