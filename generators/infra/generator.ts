import type { Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { report } from '../../tools/homelab/src/report';
import type { InfraGeneratorSchema } from './schema';

/**
 * `nx g homelab:infra <component>`: the component's spec from the catalog, rendered to
 * both trees with every other component re-wired (see docs/infrastructure.md).
 */
export default async function infraGenerator(tree: Tree, options: InfraGeneratorSchema): Promise<void> {
  report(generateInfra(treeHost(tree), options), options.component);
}
