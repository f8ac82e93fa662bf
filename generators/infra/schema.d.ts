import type { InfraOptions } from '../../tools/homelab/src/component/generate';

/** Raw options of `nx g homelab:infra`, as schema.json declares them (the core checks every one); the generator asks for a missing component. */
export type InfraGeneratorSchema = Omit<InfraOptions, 'component'> & { component?: string };
