import { createHash } from 'node:crypto';
import type { Docker } from './docker';
import { DeployError } from './errors';
import type { RunOptions, ToolRunner } from './process';

/**
 * What a successful Compose deploy leaves on the Docker host for `homelab status` (docs/deploy.md,
 * "What a deploy leaves on the Docker host"): one empty Docker volume per Compose project,
 * `<project>-deploy`, whose labels carry the record. `.homelab/state/` belongs to the machine that
 * deployed; this record is read by any machine that reaches the engine.
 *
 * Why a volume and not container labels: Compose's config hash covers labels, so a label that
 * changes with every commit would recreate every container at every deploy. A volume's labels are
 * set when it is created, so each successful deploy removes the volume and creates it again; no
 * container mounts it, so that never touches what runs. It is labelled `homelab.deploy.project`, not
 * with Compose's own project label: Compose did not create it, and listings of a project's volumes by
 * that label stay what Compose made.
 */
export const RECORD_PREFIX = 'homelab.deploy.';

/** The label naming the Compose project whose record a volume holds. */
export const PROJECT_LABEL = `${RECORD_PREFIX}project`;

export interface DeployRecord {
  /** ISO 8601, when the deploy ended. */
  at: string;
  /** The workspace's HEAD commit; null outside a git checkout. */
  commit: string | null;
  /** The project's files had uncommitted changes. */
  dirty: boolean;
  /** sha256 of the project's spec file, as the deploy read it. */
  specDigest: string;
  /** sha256 of the rendered Compose file the deploy applied (it holds no secret value). */
  renderedDigest: string;
}

/** The volume that holds the record of a Compose project. */
export function recordVolume(project: string): string {
  return `${project}-deploy`;
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The record as volume labels. */
export function recordLabels(project: string, record: DeployRecord): Record<string, string> {
  return {
    [PROJECT_LABEL]: project,
    [`${RECORD_PREFIX}at`]: record.at,
    [`${RECORD_PREFIX}commit`]: record.commit ?? '',
    [`${RECORD_PREFIX}dirty`]: String(record.dirty),
    [`${RECORD_PREFIX}spec-digest`]: record.specDigest,
    [`${RECORD_PREFIX}rendered-digest`]: record.renderedDigest,
  };
}

/** The record back from the volume's labels; null when a label deploy writes is missing. */
export function parseRecordLabels(labels: Record<string, string> | null | undefined): DeployRecord | null {
  const at = labels?.[`${RECORD_PREFIX}at`];
  if (!labels || !at) return null;
  const commit = labels[`${RECORD_PREFIX}commit`] ?? '';
  return {
    at,
    commit: commit === '' ? null : commit,
    dirty: labels[`${RECORD_PREFIX}dirty`] === 'true',
    specDigest: labels[`${RECORD_PREFIX}spec-digest`] ?? '',
    renderedDigest: labels[`${RECORD_PREFIX}rendered-digest`] ?? '',
  };
}

/** Replaces the record of a project: the volume removed (it is never mounted) and created with the new labels. */
export async function writeDeployRecord(docker: Docker, project: string, record: DeployRecord, options?: RunOptions): Promise<void> {
  const name = recordVolume(project);
  await docker.run(['volume', 'rm', '-f', name], options);
  const labels = Object.entries(recordLabels(project, record)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  await docker.ok(['volume', 'create', ...labels, name], 'docker volume create', options);
}

/** The record of a project, or null when no deploy left one (never deployed, or removed by down). */
export async function readDeployRecord(docker: Docker, project: string, options?: RunOptions): Promise<DeployRecord | null> {
  const result = await docker.run(['volume', 'inspect', '--format', '{{json .Labels}}', recordVolume(project)], options);
  if (result.code !== 0) {
    if (/no such volume|not found/i.test(result.stderr)) return null;
    throw new DeployError(`docker volume inspect ${recordVolume(project)} failed: ${docker.tools.tail(result, 1)}`);
  }
  try {
    return parseRecordLabels(JSON.parse(result.stdout.trim() || 'null') as Record<string, string> | null);
  } catch {
    return null;
  }
}

/** Removes the record (down: the project no longer runs there). */
export async function removeDeployRecord(docker: Docker, project: string, options?: RunOptions): Promise<void> {
  await docker.run(['volume', 'rm', '-f', recordVolume(project)], options);
}

/**
 * The commit a deploy renders from and whether the project's files had uncommitted changes
 * (`paths`, relative to the workspace). Outside a git checkout, or without git: null, not dirty.
 */
export async function gitProvenance(tools: ToolRunner, root: string, paths: string[]): Promise<{ commit: string | null; dirty: boolean }> {
  try {
    const head = await tools.run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: root, uninterruptible: true });
    if (head.code !== 0) return { commit: null, dirty: false };
    const status = await tools.run('git', ['status', '--porcelain', '--untracked-files=all', '--', ...paths], { cwd: root, uninterruptible: true });
    return { commit: head.stdout.trim(), dirty: status.code !== 0 || status.stdout.trim() !== '' };
  } catch {
    return { commit: null, dirty: false };
  }
}
