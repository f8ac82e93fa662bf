import type { InitOptions } from '../../tools/homelab/src/platform/init';

/** Raw options of `nx g homelab:init`, as schema.json declares them (the core checks every one). */
export type InitGeneratorSchema = InitOptions;
