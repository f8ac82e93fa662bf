import { readWorkspace } from '../app/plan';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import { BOOTSTRAP_KUSTOMIZATION, isInitialised } from './argocd';
import type { GenerateResult } from '../report';
import { storeSpecFromOptions } from './secret-store';
import { storePath, storeSpecPath, stringifyStoreSpec } from './secret-store';
import { stagedHost, type StagedHost } from '../staged';
import { syncInfrastructure } from '../component/sync';
import { defaultWorkspaceFile, withRepoURL } from '../workspace/file';
import { existingRenovateConfigs, normalizeRenovate, renderRenovate, RENOVATE_FILE } from './renovate';

const GIT_URL = /^((https?|ssh|git):\/\/[^\s]+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\s]+)$/;

export interface InitOptions {
  repoUrl?: string;
  /** Renovate merges patch and digest updates itself once CI is green (docs/renovate.md). */
  automerge?: boolean;
}

/**
 * `nx g homelab:init`: homelab.yaml (created with --repo-url when missing), the ArgoCD
 * bootstrap (AppProjects, argocd-cm health check, root app-of-apps), the stores'
 * kustomization, the workspace's default store when it has none and the Renovate
 * configuration when it has none (docs/renovate.md). Idempotent: what
 * exists and is the user's is kept, what homelab renders is brought in step.
 */
export function generateInit(host: FileHost, options: InitOptions): GenerateResult {
  const repoUrl = options.repoUrl === undefined ? undefined : String(options.repoUrl);
  if (repoUrl !== undefined && !GIT_URL.test(repoUrl)) {
    throw new InputError(`--repo-url ${show(repoUrl)} is not a Git URL; use the URL ArgoCD clones, e.g. https://git.example.org/me/homelab.git`);
  }
  if (options.automerge !== undefined && typeof options.automerge !== 'boolean') {
    throw new InputError(`--automerge ${show(options.automerge)} is not a boolean; pass --automerge or --no-automerge`);
  }
  const stage = stagedHost(host);
  const notes: string[] = [];
  const current = host.read(WORKSPACE_FILE);
  if (current === null) {
    if (repoUrl === undefined) {
      throw new InputError(`${WORKSPACE_FILE} is missing; pass --repo-url <the Git URL ArgoCD clones> to create it`);
    }
    stage.write(WORKSPACE_FILE, defaultWorkspaceFile(repoUrl).text);
  } else if (repoUrl !== undefined && parseWorkspaceConfig(current).gitops.repoURL !== repoUrl) {
    stage.write(WORKSPACE_FILE, withRepoURL(current, repoUrl).text);
  }
  const workspace = readWorkspace(stage);
  if (isInitialised(host)) notes.push(`already initialised (${BOOTSTRAP_KUSTOMIZATION} exists): brought homelab's platform files in step, kept yours`);

  const store = workspace.secrets?.store ?? 'homelab';
  if (!stage.isFile(storePath(store)) && !stage.isFile(storeSpecPath(store))) {
    // The default store reads Kubernetes Secrets until a real provider replaces it (nx g homelab:secret-store).
    // A placeholder: no compose field, so Compose deploys keep reading environment variables.
    const { compose: _compose, ...spec } = { ...storeSpecFromOptions({ provider: 'kubernetes' }), name: store };
    stage.write(storeSpecPath(store), stringifyStoreSpec(spec));
  }
  syncInfrastructure(stage, false, workspace, { initialise: true });
  notes.push(...scaffoldRenovate(stage, Boolean(options.automerge)));
  return { changed: stage.commit(), notes };
}


/**
 * Writes renovate.json5 where the workspace has no Renovate configuration. One that exists is
 * the owner's and is kept; where it is not what init writes now, a note says so and how to take
 * homelab's, so nothing is overwritten, and nothing is kept, silently.
 */
function scaffoldRenovate(stage: StagedHost, automerge: boolean): string[] {
  const file = renderRenovate(normalizeRenovate({ automerge }));
  const existing = existingRenovateConfigs(stage);
  if (existing.length === 0) {
    stage.write(file.path, file.content);
    return [];
  }
  if (existing.length === 1 && existing[0] === RENOVATE_FILE && stage.read(RENOVATE_FILE) === file.content) return [];
  return [
    `kept your Renovate configuration ${existing.join(', ')}: it differs from what homelab writes (docs/renovate.md); to take homelab's, move yours away and run nx g homelab:init again`,
  ];
}
