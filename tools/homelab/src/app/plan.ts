import { HomelabError, InputError } from '../errors';
import type { FileHost } from '../host';
import { renderApp } from '../render/app';
import type { RenderedFile } from '../render/engine';
import { parseAppSpec, parseWorkspaceConfig, stringifyAppSpec, WORKSPACE_FILE } from '../spec/io';
import { INFRA_SPECS_DIR } from '../component/spec';
import { appPaths, specsDir } from '../project/paths';
import { checkAppSpec, normalizeAppOnHost } from './check';
import type { AppSpec, WorkspaceConfig } from '../spec/types';

export { checkAppSpec, normalizeAppOnHost };

export const APP_SPECS_DIR = specsDir('applications');
export { INFRA_SPECS_DIR };

export function readWorkspace(host: FileHost): WorkspaceConfig {
  return parseWorkspaceConfig(host.read(WORKSPACE_FILE));
}

/** The spec file and every file it renders, in memory. Throws before anything is written. */
export function renderAppWithSpec(host: FileHost, spec: AppSpec, workspace: WorkspaceConfig, specText?: string): RenderedFile[] {
  // A spec merged into the one on disk (--force) keeps its own text, comments included.
  const specFile: RenderedFile = { path: appPaths(spec.name).spec, content: specText ?? stringifyAppSpec(spec), owner: 'spec' };
  // The written spec must read back to the same spec: proves the serializer and the schema agree.
  // A spec that does not is refused with every problem at its line (app/check.ts).
  return [specFile, ...renderApp(checkAppSpec(host, specFile.content, specFile.path, workspace).app)];
}


/** Is the name free? Apps and infrastructure components share one project namespace in Nx. */
export function assertNameFree(host: FileHost, name: string, force: boolean): void {
  const spec = appPaths(name).spec;
  const infra = `${INFRA_SPECS_DIR}/${name}.yaml`;
  if (host.exists(infra)) {
    throw new InputError(`name "${name}" is taken by the infrastructure component ${infra}; pick another app name`);
  }
  if (host.exists(spec) && !force) {
    throw new InputError(`app "${name}" already exists (${spec}); pass --force to re-render it from these answers, or pick another name`);
  }
  const base = appPaths(name).k8sBase;
  if (!host.exists(spec) && host.exists(base)) {
    throw new InputError(`${base} exists but has no spec ${spec}; move that folder away or pick another name`);
  }
}

/** Names of all app specs in the workspace. */
export function listAppNames(host: FileHost): string[] {
  return host
    .list(APP_SPECS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Every app spec of the workspace that reads, for what spans the apps (the AppProject's
 * namespaces, the postgres component's databases, the Gateway's hosts): a spec that does not
 * read is left out here, and the app's own render reports it. `worthParsing` skips the specs
 * whose text cannot hold what the caller looks for.
 */
export function readableAppSpecs(host: FileHost, worthParsing: (text: string) => boolean = () => true): AppSpec[] {
  return listAppNames(host).flatMap((name) => {
    try {
      const text = host.read(appPaths(name).spec);
      return text !== null && !worthParsing(text) ? [] : [readAppSpec(host, name)];
    } catch (error) {
      if (error instanceof HomelabError) return [];
      throw error;
    }
  });
}

export function readAppSpec(host: FileHost, name: string): AppSpec {
  const file = appPaths(name).spec;
  const text = host.read(file);
  if (text === null) throw new InputError(`${file} is missing; restore it from git`);
  const spec = parseAppSpec(text, file);
  if (spec.name !== name) {
    throw new InputError(`${file} names the app "${spec.name}"; a spec's name must match its file name, so rename one of them`);
  }
  return spec;
}
