import type { Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateEnvironment } from '../../tools/homelab/src/workspace/environment';
import { report } from '../../tools/homelab/src/report';
import type { EnvironmentGeneratorSchema } from './schema';

/**
 * `nx g homelab:environment <name>`: the environment in homelab.yaml and across every app
 * and component. Idempotent: a second run changes nothing.
 */
export default async function environmentGenerator(tree: Tree, options: EnvironmentGeneratorSchema): Promise<void> {
  report(generateEnvironment(treeHost(tree), options), options.name);
}
