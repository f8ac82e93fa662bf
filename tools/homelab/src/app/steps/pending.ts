import { InputError } from '../../errors';
import type { AppSpec } from '../../spec/types';
import { isFullForm } from './services';

/** The Compose service that starts an app's cron services (docs/spec.md, "Cron"). */
export const SCHEDULER = 'scheduler';

/**
 * Fields the schema accepts but neither platform renders yet, each with what is missing.
 * A spec that sets one is refused in one line rather than rendered without it, so no
 * tree silently lacks what the spec says (docs/spec.md marks them "not rendered yet").
 */

/** Refuses the first field of the spec that is not rendered yet, naming it and what it asks for. */
export function refuseNotRenderedYet(spec: AppSpec, where: string): void {
  const refuse = (field: string, what: string) => {
    throw new InputError(`${where}: ${field} asks for ${what}, which homelab does not render yet (docs/spec.md lists what it renders); remove ${field} for now`);
  };
  for (const [env, override] of Object.entries(spec.environments ?? {})) {
    if (isFullForm(spec)) {
      for (const key of ['replicas', 'availability', 'spread', 'env', 'placement'] as const) {
        if (override[key] !== undefined) refuse(`environments.${env}.${key}`, `an override of the whole app (in the full form, overrides name a service: environments.${env}.services.<name>)`);
      }
    }
  }
  if (!isFullForm(spec)) return;
  for (const [name, service] of Object.entries(spec.services)) {
    if (name === SCHEDULER && Object.values(spec.services).some((s) => s.kind === 'cron')) {
      throw new InputError(`${where}: services.${SCHEDULER}: the name is the Compose scheduler's in an app with cron services; rename the service`);
    }
  }
}
