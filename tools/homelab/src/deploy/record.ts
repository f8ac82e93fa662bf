import { createHash } from 'node:crypto';
import { environmentPaths, type Layer, projectPaths } from '../project/paths';
import type { ToolRunner } from './process';

/**
 * What a direct Kubernetes deploy leaves on the cluster about itself, so that `homelab status`
 * run from any machine with access to the cluster knows when and from what the project was last
 * deployed: a small ConfigMap `homelab-deploy-<project>` in the project's namespace, with the
 * record in its annotations (docs/deploy.md, "What a deploy leaves on the cluster").
 *
 * Not on the workloads: an annotation that changes at every deploy on a pod template would
 * restart the pods. Not with the app's label: prune selects by it, so the record is neither
 * pruned nor ever a reason to prune; `down` deletes it by name.
 */
export const RECORD_PREFIX = 'homelab-deploy-';
/** What marks the record (its value: the project), with the environment label. */
export const RECORD_LABEL = 'homelab.dev/deploy-record';
export const DEPLOYED_AT = 'homelab.dev/deployed-at';
/** The workspace's HEAD commit at the deploy; absent outside git. */
export const COMMIT = 'homelab.dev/commit';
/** `"true"` when the project's files had uncommitted changes at the deploy. */
export const DIRTY = 'homelab.dev/dirty';
/** `sha256:<hex>` of the project's spec file as deployed. */
export const SPEC_DIGEST = 'homelab.dev/spec-digest';
/** `sha256:<hex>` of the manifests applied (what `rendered-digest` of status compares with git now). */
export const RENDERED_DIGEST = 'homelab.dev/rendered-digest';

export interface DeployProvenance {
  at: string;
  commit: string | null;
  dirty: boolean;
  specDigest: string | null;
  renderedDigest: string;
}

export const recordName = (project: string): string => `${RECORD_PREFIX}${project}`;

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The record as one manifest, for a server-side apply by deploy's field manager. */
export function deployRecordManifest(target: { project: string; env: string; namespace: string }, p: DeployProvenance): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(target.project),
      namespace: target.namespace,
      labels: { [RECORD_LABEL]: target.project, 'homelab.dev/environment': target.env },
      annotations: {
        [DEPLOYED_AT]: p.at,
        ...(p.commit ? { [COMMIT]: p.commit } : {}),
        [DIRTY]: String(p.dirty),
        ...(p.specDigest ? { [SPEC_DIGEST]: p.specDigest } : {}),
        [RENDERED_DIGEST]: p.renderedDigest,
      },
    },
  };
}

/** Reads a record back from the live ConfigMap's annotations; null when it is not one. */
export function parseDeployRecord(object: { metadata?: { annotations?: Record<string, string> } } | null | undefined): DeployProvenance | null {
  const a = object?.metadata?.annotations ?? {};
  if (!a[DEPLOYED_AT] || !a[RENDERED_DIGEST]) return null;
  return { at: a[DEPLOYED_AT], commit: a[COMMIT] ?? null, dirty: a[DIRTY] === 'true', specDigest: a[SPEC_DIGEST] ?? null, renderedDigest: a[RENDERED_DIGEST] };
}

/** The files of a project in one environment that a Kubernetes deploy renders from: what "dirty" looks at. */
export function provenancePaths(layer: Layer, project: string, env: string): string[] {
  const p = projectPaths(layer, project);
  return [p.spec, p.specFiles, p.k8sBase, environmentPaths(layer, project, env).overlay];
}

/** HEAD, and whether the project's files have uncommitted changes; `{ commit: null, dirty: false }` outside git. */
export async function gitProvenance(tools: ToolRunner, root: string, paths: string[]): Promise<{ commit: string | null; dirty: boolean }> {
  const head = await tools.run('git', ['rev-parse', '--verify', '-q', 'HEAD'], { cwd: root, uninterruptible: true }).catch(() => null);
  if (!head || head.code !== 0) return { commit: null, dirty: false };
  const status = await tools.run('git', ['status', '--porcelain', '--untracked-files=all', '--', ...paths], { cwd: root, uninterruptible: true }).catch(() => null);
  return { commit: head.stdout.trim() || null, dirty: status === null || status.code !== 0 || status.stdout.trim() !== '' };
}
