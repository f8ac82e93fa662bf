import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { nxAnswers } from '../../tools/homelab/src/ask/terminal';
import { generateApp } from '../../tools/homelab/src/app/generate';
import type { AppOptions } from '../../tools/homelab/src/app/options';
import { appAsked, NX_APP_DOOR } from '../../tools/homelab/src/app/questions';
import { treeHost } from '../../tools/homelab/src/host';
import { logInfo } from '../../tools/homelab/src/report';
import type { AppGeneratorSchema } from './schema';

/**
 * `nx g homelab:app <name> --image <ref> --port <n>`: a thin orchestrator over the
 * shared render core. In a terminal it asks for what is missing, checking each answer
 * as it is typed (the same questions as `plop app`). Everything is validated and
 * rendered in memory first; only then are files written into the Tree (so --dry-run
 * shows the full change list).
 */
export default async function appGenerator(tree: Tree, options: AppGeneratorSchema): Promise<void> {
  const host = treeHost(tree);
  const answers = await nxAnswers<AppOptions>(path.join(__dirname, 'schema.json'), appAsked(host), options, NX_APP_DOOR);
  const result = generateApp(host, answers);
  for (const change of result.changes) logInfo(`${answers.name}: ${change}`);
  for (const kept of result.kept) logInfo(`kept ${kept} (yours: homelab scaffolds it once)`);
  if (result.written.length === 0 && result.deleted.length === 0) {
    logInfo(`${answers.name}: nothing to change, every file already matches the answers`);
  }
}
