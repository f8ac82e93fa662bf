import type { EnvironmentOptions } from '../../tools/homelab/src/workspace/environment';

/** Raw options of `nx g homelab:environment`, as schema.json declares them (the core checks every one); the generator asks for a missing name. */
export type EnvironmentGeneratorSchema = Omit<EnvironmentOptions, 'name'> & { name?: string };
