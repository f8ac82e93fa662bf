import type { SecretStoreOptions } from '../../tools/homelab/src/platform/secret-store-generator';

/** Raw options of `nx g homelab:secret-store`, as schema.json declares them (the core checks every one). */
export type SecretStoreGeneratorSchema = SecretStoreOptions;
