import { logger, type Tree } from '@nx/devkit';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { treeHost } from '../../tools/homelab/src/host';
import type { AppGeneratorSchema } from './schema';

/**
 * `nx g homelab:app <name> --image <ref> --port <n>`: a thin orchestrator over the
 * shared render core. Everything is validated and rendered in memory first; only
 * then are files written into the Tree (so --dry-run shows the full change list).
 */
export default async function appGenerator(tree: Tree, options: AppGeneratorSchema): Promise<void> {
  const result = generateApp(treeHost(tree), options);
  for (const change of result.changes) logger.info(`${options.name}: ${change}`);
  for (const kept of result.kept) logger.info(`kept ${kept} (yours: homelab scaffolds it once)`);
  if (result.written.length === 0 && result.deleted.length === 0) {
    logger.info(`${options.name}: nothing to change, every file already matches the answers`);
  }
}
