import { checkAppSpec, listAppNames, readWorkspace } from '../app/plan';
import { appPaths } from '../project/paths';
import { HomelabError } from '../errors';
import type { FileHost } from '../host';
import { syncInfrastructure } from '../component/sync';
import { describeOrphan, findOrphans } from '../project/orphans';
import { applyRendered } from '../project/owned';
import { renderApp } from '../render/app';

/**
 * Re-renders every app and infrastructure component from its spec, and the platform
 * files of an initialised workspace (specs themselves are never rewritten), and
 * returns the paths that changed. With `check`, the host is left untouched.
 * Every spec is tried, so one broken spec does not hide the others' drift. Files left by a
 * spec that is gone are never deleted here: each such project is refused in one line naming
 * `homelab:remove` (a spec deleted by mistake must not take its app off the cluster).
 */
export function syncAll(host: FileHost, check = false, options: { allowOrphans?: boolean } = {}): string[] {
  const workspace = readWorkspace(host);
  const changes: string[] = [];
  const failures: string[] = [];
  for (const name of listAppNames(host)) {
    try {
      const file = appPaths(name).spec;
      // Every problem of the spec at once, each at its line (app/check.ts).
      const files = renderApp(checkAppSpec(host, host.read(file) ?? '', file, workspace).app);
      const result = applyRendered(host, files, { layer: 'applications', name }, check);
      changes.push(...result.written, ...result.deleted.map((d) => `${d} (no longer rendered)`));
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error;
      failures.push(error.message);
    }
  }
  try {
    // Infrastructure components, the platform files and the secret stores (docs/infrastructure.md).
    changes.push(...syncInfrastructure(host, check, workspace));
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    failures.push(error.message);
  }
  // A spec that vanished takes nothing with it: its files stay (its Application keeps it deployed) until homelab:remove.
  const orphans = options.allowOrphans ? [] : findOrphans(host).map(describeOrphan);
  if (failures.length > 0 || orphans.length > 0) {
    const problems = [...failures, ...orphans];
    throw new HomelabError(problems.length === 1 ? problems[0] : `${failures.length > 0 ? `${failures.length} specs do not render` : `${orphans.length} projects have no spec`}:\n${problems.join('\n')}`);
  }
  return changes;
}
