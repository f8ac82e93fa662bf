import type { InfraOptions } from '../../tools/homelab/src/component/generate';

/** Raw options of `nx g homelab:infra`, as schema.json declares them (the core checks every one). */
export type InfraGeneratorSchema = InfraOptions;
