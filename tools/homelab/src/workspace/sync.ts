import { listAppNames, normalizeAppOnHost, readAppSpec, readWorkspace } from '../app/plan';
import { HomelabError } from '../errors';
import type { FileHost } from '../host';
import { syncInfrastructure } from '../component/sync';
import { applyRendered } from '../project/owned';
import { renderApp } from '../render/app';

/**
 * Re-renders every app and infrastructure component from its spec, and the platform
 * files of an initialised workspace (specs themselves are never rewritten), and
 * returns the paths that changed. With `check`, the host is left untouched.
 * Every spec is tried, so one broken spec does not hide the others' drift.
 */
export function syncAll(host: FileHost, check = false): string[] {
  const workspace = readWorkspace(host);
  const changes: string[] = [];
  const failures: string[] = [];
  for (const name of listAppNames(host)) {
    try {
      const files = renderApp(normalizeAppOnHost(host, readAppSpec(host, name), workspace));
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
  if (failures.length > 0) {
    throw new HomelabError(failures.length === 1 ? failures[0] : `${failures.length} specs do not render: ${failures.join(' | ')}`);
  }
  return changes;
}
