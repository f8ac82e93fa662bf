import type { SecretStoreOptions } from '../../tools/homelab/src/infra/generate';

/** Raw options of `nx g homelab:secret-store`, as schema.json declares them (the core checks every one). */
export type SecretStoreGeneratorSchema = SecretStoreOptions;
