import { syncAll } from '../workspace/sync';
import { readWorkspace } from '../app/plan';
import { InputError } from '../errors';
import type { FileHost } from '../host';
import { WORKSPACE_FILE } from '../spec/io';
import { requireInitialised } from './argocd';
import type { GenerateResult } from '../report';
import { ESO_NAMESPACE, storeSpecFromOptions, type StoreOptions } from './secret-store';
import { parseStoreSpec, storePath, storeSpecPath, stringifyStoreSpec } from './secret-store';
import { stagedHost } from '../staged';
import { withDefaultStore } from '../workspace/file';

export interface SecretStoreOptions extends StoreOptions {
  default?: boolean;
  force?: boolean;
}

/**
 * `nx g homelab:secret-store <provider>`: the store spec and its ClusterSecretStore;
 * with --default it becomes homelab.yaml secrets.store and every app is re-rendered.
 */
export function generateSecretStore(host: FileHost, options: SecretStoreOptions): GenerateResult {
  const spec = storeSpecFromOptions(options);
  const text = stringifyStoreSpec(spec);
  parseStoreSpec(text, storeSpecPath(spec.name));
  const workspaceText = host.read(WORKSPACE_FILE);
  readWorkspace(host);
  requireInitialised(host);
  if (!options.force) {
    if (host.exists(storeSpecPath(spec.name))) {
      throw new InputError(`secret store "${spec.name}" already exists (${storeSpecPath(spec.name)}); pass --force to replace it, or --name to add another`);
    }
    if (host.exists(storePath(spec.name))) {
      throw new InputError(`${storePath(spec.name)} exists and is yours (it has no spec); pass --force to replace it, or --name to add another store`);
    }
  }
  const stage = stagedHost(host);
  stage.write(storeSpecPath(spec.name), text);
  if (options.default) stage.write(WORKSPACE_FILE, withDefaultStore(workspaceText ?? '', spec.name).text);
  syncAll(stage);
  const notes = [`bootstrap: see the comment at the top of ${storePath(spec.name)} (the credential lives in ${ESO_NAMESPACE}); docs/infrastructure.md ("Secret stores") lists each provider's bootstrap credential and how deploy reads the same keys on Compose`];
  return { changed: stage.commit(), notes };
}

