import type { Tree } from '@nx/devkit';
import { treeHost } from '../host';
import { WORKSPACE_FILE } from '../spec/io';
import { withHostsKept } from '../workspace/file';

/**
 * Nx migration (tools/homelab/migrations.json, version 0.2.0): since 0.2.0 an environment that
 * is not protected serves each app on `<first label>.<env>.<rest>` of its spec's host. A
 * workspace made before keeps its hosts until its owner opts in: this writes
 * `hostPattern: "{host}"` on every environment of homelab.yaml (comments kept), so every spec
 * renders byte for byte as before. Idempotent: a homelab.yaml that has a hostPattern is left
 * as it is. docs/upgrading.md says how to opt in.
 */
export default function hostsPerEnvironment(tree: Tree): string[] {
  const host = treeHost(tree);
  const text = host.read(WORKSPACE_FILE);
  if (text === null) return [];
  const kept = withHostsKept(text);
  if (kept === null) return [];
  host.write(WORKSPACE_FILE, kept.text);
  return [
    `${WORKSPACE_FILE}: every environment keeps the hosts it had (hostPattern: "{host}"). To give an environment hosts of its own, change its hostPattern (e.g. "{label}.{env}.{domain}"), then run \`npx nx sync\` (docs/upgrading.md).`,
  ];
}
