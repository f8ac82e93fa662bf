import { type GeneratorCallback, logger, type Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateImport, localEngine } from '../../tools/homelab/src/import/generate';
import type { ImportGeneratorSchema } from './schema';

/**
 * `nx g homelab:import <name> --file <compose file>`: a thin front door over the import core.
 * Everything is read, mapped, validated and rendered in memory first; only then are files
 * written into the Tree (so --dry-run shows the change list). The stack's secret values are
 * written after the Tree, by the callback Nx runs once the files are on disk (never in a dry
 * run): they go to the git-ignored local secrets file, not into the Tree.
 */
export default async function importGenerator(tree: Tree, options: ImportGeneratorSchema): Promise<GeneratorCallback> {
  const { lines, writeSecrets } = generateImport(treeHost(tree), options, { cwd: process.cwd(), environment: process.env, engine: localEngine() });
  for (const line of lines) logger.info(line);
  return () => writeSecrets(tree.root);
}
