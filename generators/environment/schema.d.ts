import type { EnvironmentOptions } from '../../tools/homelab/src/infra/generate';

/** Raw options of `nx g homelab:environment`, as schema.json declares them (the core checks every one). */
export type EnvironmentGeneratorSchema = EnvironmentOptions;
