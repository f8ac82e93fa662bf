import type { Tree } from '@nx/devkit';
import type { SyncGeneratorResult } from 'nx/src/utils/sync-generators';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { treeHost } from '../../tools/homelab/src/host';

/**
 * Global sync generator (nx.json `sync.globalGenerators`): re-renders every
 * spec-owned file. `nx sync` applies the changes; `nx sync:check` reports them
 * (a hand edit of a generated file, or a spec edited without a sync) and fails.
 */
export default async function syncGenerator(tree: Tree): Promise<SyncGeneratorResult> {
  const changes = syncAll(treeHost(tree));
  if (changes.length === 0) return;
  return {
    outOfSyncMessage: `${changes.length} spec-owned file(s) differ from what their specs render; run \`npx nx sync\` (hand edits belong in the spec, overlays or compose.override.yaml)`,
    outOfSyncDetails: changes,
  };
}
