import { readWorkspace } from '../app/plan';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { appPaths } from '../project/paths';
import { catalogSpec } from './catalog';
import { requireInitialised } from '../platform/argocd';
import type { GenerateResult } from '../report';
import { componentSpecPath, parseComponentSpec, stringifyComponentSpec } from './spec';
import { stagedHost } from '../staged';
import { syncInfrastructure } from './sync';
import { COMPONENT_NAMES, type ComponentName } from './types';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export interface InfraOptions {
  component: string;
  email?: string;
  staging?: boolean;
  force?: boolean;
}

export function checkComponent(component: unknown): ComponentName {
  if (typeof component !== 'string' || !(COMPONENT_NAMES as readonly string[]).includes(component)) {
    throw new InputError(`component ${show(component)} is not in the catalog; use one of ${COMPONENT_NAMES.map((c) => show(c)).join(', ')}`);
  }
  return component as ComponentName;
}

/**
 * `nx g homelab:infra <component>`: writes the component's spec from the catalog and
 * re-renders the whole infrastructure (other components wire themselves to a new one,
 * the infrastructure AppProject allows its chart repository).
 */
export function generateInfra(host: FileHost, options: InfraOptions): GenerateResult {
  const name = checkComponent(options.component);
  const email = options.email === undefined ? undefined : String(options.email);
  if (email !== undefined && !EMAIL.test(email)) {
    throw new InputError(`--email ${show(email)} is not an e-mail address; give the ACME account contact, e.g. admin@example.org`);
  }
  if (name === 'cert-manager' && email === undefined) {
    throw new InputError(`cert-manager needs --email for its Let's Encrypt account (the ACME ClusterIssuer), e.g. --email admin@example.org`);
  }
  const workspace = readWorkspace(host);
  requireInitialised(host);
  if (host.exists(appPaths(name).spec)) {
    throw new InputError(`name "${name}" is taken by the app ${appPaths(name).spec}; rename the app (apps and components share one Nx project namespace)`);
  }
  const file = componentSpecPath(name);
  if (host.exists(file) && !options.force) {
    throw new InputError(`component "${name}" already exists (${file}); edit its spec and run \`npx nx sync\`, or pass --force to reset it to the catalog's pinned versions`);
  }
  const stage = stagedHost(host);
  const text = stringifyComponentSpec(catalogSpec(name, { email, staging: options.staging }, workspace));
  parseComponentSpec(text, file);
  stage.write(file, text);
  syncInfrastructure(stage, false, workspace);
  return { changed: stage.commit(), notes: [] };
}

