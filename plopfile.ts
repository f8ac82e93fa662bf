import * as path from 'node:path';
import type { NodePlopAPI } from 'plop';
import { appAsked } from './tools/homelab/src/app/questions';
import { readQuestions } from './tools/homelab/src/ask/questions';
import { terminal } from './tools/homelab/src/ask/terminal';
import { diskHost } from './tools/homelab/src/host';
import { appGenerator, importGenerator, removeGenerator } from './tools/homelab/src/plop/generator';
import { whyNoPrompt } from './tools/homelab/src/tty';

/**
 * `npm run plop -- app -- --name whoami --image traefik/whoami:v1.10.4 --port 80`
 *
 * The questions are the Nx generators' (types from their schema, what `nx g` asks itself
 * with its checks), and the files come from the shared render core, so plop asks what
 * `nx g homelab:app` asks and writes the same bytes for the same answers. Missing answers
 * are asked on a terminal, each checked as typed; without one (or under CI) they are refused.
 */
export default function plopfile(plop: NodePlopAPI): void {
  const root = plop.getDestBasePath();
  const source = { argv: process.argv, ...terminal(whyNoPrompt(process.env, process.stdin, process.stdout)) };
  const schema = (generator: string) => path.join(__dirname, 'generators', generator, 'schema.json');
  plop.setGenerator('app', appGenerator(root, readQuestions(schema('app'), appAsked(diskHost(root))), source));
  // `npm run plop -- import -- --name photos --file ~/stacks/photos/compose.yaml`
  plop.setGenerator('import', importGenerator(root, readQuestions(schema('import')), source));
  // `npm run plop -- remove -- --name whoami [--all]`
  plop.setGenerator('remove', removeGenerator(root, readQuestions(schema('remove')), source));
}
