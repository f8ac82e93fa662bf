/** The homelab Nx plugin: project inference for apps and infrastructure components, and its generators. */
export { createNodesV2, SPEC_GLOB, PROJECT_GLOB, PLATFORM_PROJECT, ownedInputs, type HomelabPluginOptions } from './plugin';

/**
 * Each generator's module (generators/<name>/generator.ts), required when Nx first runs it
 * (generators/entry.js, named by generators.json). They are part of the plugin's bundle: Nx has
 * that loaded before it runs a generator (in its own process, the default here), so `nx g` does
 * not read, compile and check a second bundle that holds the same render core and YAML libraries
 * (about 60 ms of a cold `nx g homelab:app` on 2 cores). Required lazily, so loading the plugin
 * runs none of their code; V8 only pre-parses it (about 10 ms more for the plugin's load).
 */
export const generators = {
  app: () => require('../../../generators/app/generator') as unknown,
  import: () => require('../../../generators/import/generator') as unknown,
  remove: () => require('../../../generators/remove/generator') as unknown,
  sync: () => require('../../../generators/sync/generator') as unknown,
  init: () => require('../../../generators/init/generator') as unknown,
  infra: () => require('../../../generators/infra/generator') as unknown,
  'secret-store': () => require('../../../generators/secret-store/generator') as unknown,
  environment: () => require('../../../generators/environment/generator') as unknown,
};
