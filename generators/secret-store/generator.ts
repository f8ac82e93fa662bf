import type { Tree } from '@nx/devkit';
import { treeHost } from '../../tools/homelab/src/host';
import { generateSecretStore } from '../../tools/homelab/src/platform/secret-store-generator';
import { report } from '../../tools/homelab/src/report';
import type { SecretStoreGeneratorSchema } from './schema';

/**
 * `nx g homelab:secret-store <provider>`: a ClusterSecretStore rendered from its spec,
 * optionally the workspace's default store (see docs/infrastructure.md for the bootstrap).
 */
export default async function secretStoreGenerator(tree: Tree, options: SecretStoreGeneratorSchema): Promise<void> {
  report(generateSecretStore(treeHost(tree), options), options.name ?? options.provider);
}
