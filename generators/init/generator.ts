import type { Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { report } from '../../tools/homelab/src/report';
import type { InitGeneratorSchema } from './schema';

/**
 * `nx g homelab:init`: the ArgoCD bootstrap and platform files (see docs/infrastructure.md).
 * Everything is rendered in memory first and written into the Tree only when it all
 * succeeded, so --dry-run lists the change and a refusal writes nothing.
 */
export default async function initGenerator(tree: Tree, options: InitGeneratorSchema): Promise<void> {
  report(generateInit(treeHost(tree), options), 'init');
}
