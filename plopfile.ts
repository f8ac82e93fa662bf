import * as path from 'node:path';
import type { NodePlopAPI } from 'plop';
import { askOnTerminal } from './tools/homelab/src/plop/ask';
import { appGenerator, importGenerator, removeGenerator } from './tools/homelab/src/plop/generator';
import { readQuestions } from './tools/homelab/src/plop/questions';

/**
 * `npm run plop -- app -- --name whoami --image traefik/whoami:v1.10.4 --port 80`
 *
 * The questions come from the Nx generator's schema and the files from the shared
 * render core, so plop writes the same bytes as `nx g homelab:app` for the same answers.
 * Missing answers are asked on a terminal; without one they are refused.
 */
export default function plopfile(plop: NodePlopAPI): void {
  const source = { argv: process.argv, ask: process.stdin.isTTY ? askOnTerminal : undefined };
  plop.setGenerator('app', appGenerator(plop.getDestBasePath(), readQuestions(path.join(__dirname, 'generators/app/schema.json')), source));
  // `npm run plop -- import -- --name photos --file ~/stacks/photos/compose.yaml`
  plop.setGenerator('import', importGenerator(plop.getDestBasePath(), readQuestions(path.join(__dirname, 'generators/import/schema.json')), source));
  // `npm run plop -- remove -- --name whoami [--all]`
  plop.setGenerator('remove', removeGenerator(plop.getDestBasePath(), readQuestions(path.join(__dirname, 'generators/remove/schema.json')), source));
}
