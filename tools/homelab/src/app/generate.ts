import type { FileHost } from '../host';
import { applyApp } from '../component/sync';
import { type AppOptions, checkAppName, specFromOptions } from './options';
import type { ApplyResult } from '../project/owned';
import { assertNameFree, readWorkspace, renderAppWithSpec } from './plan';
import { mergeAnswers } from './merge';
import { appPaths } from '../project/paths';
import { currentlyLinkedApps } from './links';
import { refuseTakenHosts } from '../workspace/hosts';

/**
 * The main job, shared by `nx g homelab:app` and `plop app`: validate every answer,
 * render every file in memory, and only then write. Nothing is written when any
 * step fails. With `force` on an existing app, the answers are merged into its spec
 * (README, "Generators"): nothing else of the spec is lost, comments included.
 */
export function generateApp(host: FileHost, options: AppOptions): ApplyResult & { changes: string[] } {
  const name = checkAppName(options.name);
  const workspace = readWorkspace(host);
  assertNameFree(host, name, Boolean(options.force));
  const file = appPaths(name).spec;
  const existing = options.force ? host.read(file) : null;
  if (existing !== null) {
    // --force on an existing app: the answers are merged into its spec; every other field stays.
    const merged = mergeAnswers(existing, file, options, workspace);
    refuseTakenHosts(host, merged.spec, workspace);
    const files = renderAppWithSpec(host, merged.spec, workspace, merged.text);
    // The apps it depends on, and those linked to an app now (it may have been one), render again: their network openings name it.
    return { ...applyApp(host, files, name, workspace, [...(merged.spec.dependsOn ?? []), ...currentlyLinkedApps(host)]), changes: merged.changes };
  }
  const spec = specFromOptions(options, workspace);
  refuseTakenHosts(host, spec, workspace);
  const files = renderAppWithSpec(host, spec, workspace);
  return { ...applyApp(host, files, name, workspace, spec.dependsOn ?? []), changes: [] };
}

