import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { nxAnswers } from '../../tools/homelab/src/ask/terminal';
import { treeHost } from '../../tools/homelab/src/host';
import { ENVIRONMENT_ASKED, type EnvironmentOptions, generateEnvironment, NX_ENVIRONMENT_DOOR } from '../../tools/homelab/src/workspace/environment';
import { report } from '../../tools/homelab/src/report';
import type { EnvironmentGeneratorSchema } from './schema';

/**
 * `nx g homelab:environment <name>`: the environment in homelab.yaml and across every app
 * and component. Idempotent: a second run changes nothing. In a terminal it asks for a
 * missing name, checking it as typed.
 */
export default async function environmentGenerator(tree: Tree, options: EnvironmentGeneratorSchema): Promise<void> {
  const answers = await nxAnswers<EnvironmentOptions>(path.join(__dirname, 'schema.json'), ENVIRONMENT_ASKED, options, NX_ENVIRONMENT_DOOR);
  report(generateEnvironment(treeHost(tree), answers), answers.name);
}
