import { logger, type Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateRemove, localRunning } from '../../tools/homelab/src/workspace/remove';
import type { RemoveGeneratorSchema } from './schema';

/**
 * `nx g homelab:remove <name> [--all]`: a thin front door over the remove core. Every deletion
 * is planned and checked first (a component an app depends on is refused), then made in the
 * Tree, so --dry-run lists it all and writes nothing. What still runs is reported with the
 * command that takes it down; no data is deleted.
 */
export default async function removeGenerator(tree: Tree, options: RemoveGeneratorSchema): Promise<void> {
  const result = generateRemove(treeHost(tree), options, localRunning());
  for (const line of result.lines) logger.info(line);
}
