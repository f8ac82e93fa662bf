import type { FileHost } from '../host';
import { type AppOptions, checkAppName, specFromOptions } from './options';
import { type ApplyResult, applyRendered } from '../project/owned';
import { assertNameFree, readWorkspace, renderAppWithSpec } from './plan';

/**
 * The main job, shared by `nx g homelab:app` and `plop app`: validate every answer,
 * render every file in memory, and only then write. Nothing is written when any
 * step fails.
 */
export function generateApp(host: FileHost, options: AppOptions): ApplyResult {
  const name = checkAppName(options.name);
  const workspace = readWorkspace(host);
  assertNameFree(host, name, Boolean(options.force));
  const spec = specFromOptions(options, workspace);
  const files = renderAppWithSpec(host, spec, workspace);
  return applyRendered(host, files, { layer: 'applications', name });
}
