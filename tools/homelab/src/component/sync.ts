import { applyRendered, readWorkspace } from '../app/plan';
import { HomelabError } from '../errors';
import { type FileHost, listFilesRecursive } from '../host';
import type { RenderedFile } from '../render/engine';
import type { WorkspaceConfig } from '../spec/types';
import { componentPaths, type InfraContext, normalizeComponent, type NormalizedComponent } from './normalize';
import { isInitialised, normalizePlatform, renderPlatform, storeFiles } from '../platform/argocd';
import { renderComponent } from '../render/component';
import { renderStore } from '../platform/secret-store';
import { listComponentNames, readComponentSpec } from './spec';
import { readStoreSpecs } from '../platform/secret-store';

export interface SyncOptions {
  /** Render the platform files even before the workspace is initialised (what `nx g homelab:init` does). */
  initialise?: boolean;
}

/** The infrastructure's rendered files: one entry per component, then the platform's. */
export interface InfraRender {
  components: { name: string; component: NormalizedComponent; files: RenderedFile[] }[];
  /** Platform files and ClusterSecretStores; empty until `nx g homelab:init` ran. */
  platform: RenderedFile[];
}

/**
 * Renders every component spec and, in an initialised workspace, the platform files
 * and the stores of platform/secrets/specs. Pure over the host's specs; throws one
 * HomelabError naming every spec that does not render.
 */
export function renderInfrastructure(host: FileHost, workspace: WorkspaceConfig = readWorkspace(host), options: SyncOptions = {}): InfraRender {
  const stores = readStoreSpecs(host);
  const names = listComponentNames(host);
  const context: InfraContext = { components: new Set(names), stores };
  const components: InfraRender['components'] = [];
  const failures: string[] = [];
  for (const name of names) {
    try {
      const component = normalizeComponent(readComponentSpec(host, name), workspace, context);
      components.push({ name, component, files: renderComponent(component) });
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error;
      failures.push(error.message);
    }
  }
  if (failures.length > 0) {
    throw new HomelabError(failures.length === 1 ? failures[0] : `${failures.length} component specs do not render: ${failures.join(' | ')}`);
  }
  if (!isInitialised(host) && !options.initialise) return { components, platform: [] };
  const storeManifests = stores.map((s) => renderStore(s));
  const platform = normalizePlatform(
    workspace,
    components.map((c) => c.component),
    stores,
    storeFiles(host, storeManifests.map((f) => f.path)),
  );
  return { components, platform: [...renderPlatform(platform), ...storeManifests] };
}

/**
 * Spec-owned files of a component on the host: its bases (not a local .env), each
 * environment's compose.generated.yaml and its ArgoCD Applications. Overlays and
 * compose.override.yaml are the user's.
 */
export function componentOwnedFiles(host: FileHost, name: string): string[] {
  const paths = componentPaths(name);
  const owned = [...listFilesRecursive(host, paths.k8sBase), ...listFilesRecursive(host, paths.composeBase).filter((f) => !f.endsWith('/.env'))];
  for (const env of host.list('infrastructure/compose/environments')) {
    const file = `infrastructure/compose/environments/${env}/${name}/compose.generated.yaml`;
    if (host.isFile(file)) owned.push(file);
  }
  for (const env of host.list('platform/argocd/applications')) {
    const file = `platform/argocd/applications/${env}/${name}.yaml`;
    if (host.isFile(file)) owned.push(file);
  }
  return owned.sort();
}

/**
 * Brings the infrastructure and platform files in line with their specs (for `nx sync`
 * and every generator that changes the infrastructure); returns what changed. With
 * `check`, the host is left untouched. Platform files are never deleted: a store file
 * without a spec is the user's.
 */
export function syncInfrastructure(host: FileHost, check = false, workspace: WorkspaceConfig = readWorkspace(host), options: SyncOptions = {}): string[] {
  const rendered = renderInfrastructure(host, workspace, options);
  const changes: string[] = [];
  for (const { name, files } of rendered.components) {
    const result = applyRendered(host, name, files, check, componentOwnedFiles);
    changes.push(...result.written, ...result.deleted.map((d) => `${d} (no longer rendered)`));
  }
  changes.push(...applyRendered(host, 'platform', rendered.platform, check, () => []).written);
  return changes;
}
