import { InputError } from '../errors';
import { type FileHost, listFilesRecursive } from '../host';
import { renderApp } from '../render/app';
import type { RenderedFile } from '../render/engine';
import { parseAppSpec, parseWorkspaceConfig, stringifyAppSpec, WORKSPACE_FILE } from '../spec/io';
import { INFRA_SPECS_DIR, readDependencies } from '../component/spec';
import { appPaths, normalizeApp, type NormalizedApp } from './normalize';
import type { AppSpec, WorkspaceConfig } from '../spec/types';

export const APP_SPECS_DIR = 'applications/specs';
export { INFRA_SPECS_DIR };

export function readWorkspace(host: FileHost): WorkspaceConfig {
  return parseWorkspaceConfig(host.read(WORKSPACE_FILE));
}

/** The spec file and every file it renders, in memory. Throws before anything is written. */
export function renderAppWithSpec(host: FileHost, spec: AppSpec, workspace: WorkspaceConfig): RenderedFile[] {
  const specFile: RenderedFile = { path: appPaths(spec.name).spec, content: stringifyAppSpec(spec), owner: 'spec' };
  // The written spec must read back to the same spec: proves the serializer and the schema agree.
  const reread = parseAppSpec(specFile.content, specFile.path);
  return [specFile, ...renderApp(normalizeAppOnHost(host, reread, workspace))];
}

/** normalizeApp with what the app depends on read from the workspace's component specs. */
export function normalizeAppOnHost(host: FileHost, spec: AppSpec, workspace: WorkspaceConfig): NormalizedApp {
  return normalizeApp(spec, workspace, readDependencies(host, workspace, spec.dependsOn ?? []));
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

/** Spec-owned files of an app that exist on the host: what a render may rewrite or delete. */
export function ownedFilesOnHost(host: FileHost, name: string): string[] {
  const paths = appPaths(name);
  const owned = [
    ...listFilesRecursive(host, paths.k8sBase),
    // .env holds real secret values for a local run and is never ours to touch.
    ...listFilesRecursive(host, paths.composeBase).filter((f) => !f.endsWith('/.env')),
  ];
  for (const env of host.list('applications/kubernetes/overlays')) {
    owned.push(...listFilesRecursive(host, `applications/kubernetes/overlays/${env}/${name}/generated`));
  }
  for (const env of host.list('applications/compose/environments')) {
    const file = `applications/compose/environments/${env}/${name}/compose.generated.yaml`;
    if (host.isFile(file)) owned.push(file);
  }
  for (const env of host.list('platform/argocd/applications')) {
    const file = `platform/argocd/applications/${env}/${name}.yaml`;
    if (host.isFile(file)) owned.push(file);
  }
  if (host.isFile(paths.runbook)) owned.push(paths.runbook);
  // The spec itself is the user's: it is written by `nx g` and never deleted or rewritten by sync.
  return owned.sort();
}

export interface ApplyResult {
  written: string[];
  deleted: string[];
  kept: string[];
}

/**
 * Brings the host in line with rendered files: spec-owned files are written when they
 * differ and deleted when no longer rendered; user-owned files are only created.
 * `dryCheck` computes the same result without touching the host.
 */
export function applyRendered(
  host: FileHost,
  name: string,
  files: RenderedFile[],
  dryCheck = false,
  /** The spec-owned files on the host (an infrastructure component lists its own). */
  owned: (host: FileHost, name: string) => string[] = ownedFilesOnHost,
): ApplyResult {
  const result: ApplyResult = { written: [], deleted: [], kept: [] };
  const rendered = new Set(files.map((f) => f.path));
  for (const file of files) {
    const current = host.read(file.path);
    if (file.owner === 'user' && current !== null) {
      result.kept.push(file.path);
      continue;
    }
    if (current === file.content) continue;
    if (!dryCheck) host.write(file.path, file.content);
    result.written.push(file.path);
  }
  for (const stale of owned(host, name)) {
    if (rendered.has(stale)) continue;
    if (!dryCheck) host.delete(stale);
    result.deleted.push(stale);
  }
  return result;
}

/** Names of all app specs in the workspace. */
export function listAppNames(host: FileHost): string[] {
  return host
    .list(APP_SPECS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
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
