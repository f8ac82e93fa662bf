import type { EnvironmentOptions } from '../../tools/homelab/src/workspace/environment';

/** Raw options of `nx g homelab:environment`, as schema.json declares them (the core checks every one). */
export type EnvironmentGeneratorSchema = EnvironmentOptions;
