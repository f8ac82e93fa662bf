import { checkAppSpec, readableAppSpecs, readWorkspace } from '../app/plan';
import { appPaths } from '../project/paths';
import { renderApp } from '../render/app';
import { HomelabError } from '../errors';
import type { FileHost } from '../host';
import { type ApplyResult, applyRendered } from '../project/owned';
import { stagedHost } from '../staged';
import type { RenderedFile } from '../render/engine';
import type { WorkspaceConfig } from '../spec/types';
import { type InfraContext, normalizeComponent, type NormalizedComponent } from './normalize';
import { type AppPlacement, isInitialised, normalizePlatform, renderPlatform, storeFiles } from '../platform/argocd';
import { renderComponent } from '../render/component';
import { readStoreSpecs, renderStore } from '../platform/secret-store';
import { listComponentNames, readComponentSpec } from './spec';
import { CATALOG } from './catalog';
import { databaseClaims, mayClaimDatabase } from '../app/steps/database';
import { mayClaimHosts, workspaceClaims } from '../workspace/hosts';

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
  const context = infraContext(host, workspace);
  const { stores } = context;
  const names = [...context.components];
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
    appPlacements(host, workspace),
  );
  return { components, platform: [...renderPlatform(platform), ...storeManifests] };
}

/**
 * What the components see of the rest of the workspace: the other components, the secret
 * stores, every app's database in every environment (the postgres component creates them), and
 * the hosts the apps claim (the Gateway's listeners). Read once per render.
 * An app spec that does not read is left out here; the app's own render reports it.
 */
export function infraContext(host: FileHost, workspace: WorkspaceConfig): InfraContext {
  const names = listComponentNames(host);
  const postgres = names.includes('postgres') ? readComponentSpec(host, 'postgres') : null;
  const kubernetes = postgres === null || (postgres.platforms ?? CATALOG.postgres.platforms).includes('kubernetes');
  // Every app spec that may claim a database or a host read once, for both (the others are not
  // parsed: generating an app in a workspace of many read each of them).
  const specs = readableAppSpecs(host, (text) => mayClaimDatabase(text) || mayClaimHosts(text));
  const databases = specs.flatMap((spec) => {
    try {
      return databaseClaims(spec, workspace, appPaths(spec.name).spec, kubernetes);
    } catch (error) {
      if (error instanceof HomelabError) return [];
      throw error;
    }
  });
  return { components: new Set(names), stores: readStoreSpecs(host), databases, claims: workspaceClaims(host, workspace, specs) };
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
    const result = applyRendered(host, files, { layer: 'infrastructure', name }, check);
    changes.push(...result.written, ...result.deleted.map((d) => `${d} (no longer rendered)`));
  }
  changes.push(...applyRendered(host, rendered.platform, null, check).written);
  return changes;
}

/**
 * Every app and the environments its spec puts it in (else all of homelab.yaml): the namespaces
 * the applications AppProject admits. A spec that does not read is left out here; the app's own
 * render reports it.
 */
export function appPlacements(host: FileHost, workspace: WorkspaceConfig): AppPlacement[] {
  const all = workspace.environments.map((e) => e.name);
  return readableAppSpecs(host).map((spec) => ({ name: spec.name, environments: spec.environments ? Object.keys(spec.environments).filter((e) => all.includes(e)) : all }));
}

/**
 * Writes an app's rendered files together with the infrastructure's and the platform's files
 * that name it (the applications AppProject, the Gateway's listener for its hosts, the postgres
 * component's roles and databases): all are checked in memory first, so a refusal writes none.
 * `linked` names the apps the app depends on now or did before (dependsOn): their files
 * depend on who depends on them (docs/spec.md, "Apps that depend on apps"), so they are
 * rendered again with the app's new spec. One of them that does not render is left as it
 * is: its own problem, which its validate reports.
 */
export function applyApp(host: FileHost, files: RenderedFile[], name: string, workspace: WorkspaceConfig = readWorkspace(host), linked: readonly string[] = []): ApplyResult {
  const staged = stagedHost(host);
  const result = applyRendered(staged, files, { layer: 'applications', name });
  for (const other of [...new Set(linked)].filter((n) => n !== name && staged.isFile(appPaths(n).spec)).sort()) {
    try {
      const file = appPaths(other).spec;
      const again = applyRendered(staged, renderApp(checkAppSpec(staged, staged.read(file) ?? '', file, workspace).app), { layer: 'applications', name: other });
      result.written.push(...again.written);
      result.deleted.push(...again.deleted);
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error;
    }
  }
  const platform = syncInfrastructure(staged, false, workspace);
  staged.commit();
  return { ...result, written: [...result.written, ...platform] };
}
