/** The homelab Nx plugin: project inference for apps and infrastructure components. */
export { createNodesV2, SPEC_GLOB, ownedInputs, type HomelabPluginOptions } from './plugin';
