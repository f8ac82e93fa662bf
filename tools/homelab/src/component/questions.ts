import type { Door } from '../ask/collect';
import type { Asked, Choice } from '../ask/questions';
import { CATALOG } from './catalog';
import { checkComponent } from './generate';
import { COMPONENT_NAMES } from './types';

export const NX_INFRA_DOOR: Door = { command: 'nx g homelab:infra', example: 'npx nx g homelab:infra monitoring' };

/** The catalog, one line each: what `nx g homelab:infra` lists when it asks for a component or refuses a missing one. */
export function catalogChoices(): Choice[] {
  return COMPONENT_NAMES.map((name) => ({ value: name, description: CATALOG[name].description }));
}

/** What `nx g homelab:infra` asks itself (types and the argv position come from generators/infra/schema.json). */
export const INFRA_ASKED: Record<string, Asked> = {
  component: { prompt: 'Which component of the catalog?', required: true, choices: catalogChoices, check: (name) => void checkComponent(name) },
};
