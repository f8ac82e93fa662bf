/** The homelab Nx plugin: project inference for apps and infrastructure components. */
export { createNodesV2, SPEC_GLOB, PROJECT_GLOB, PLATFORM_PROJECT, ownedInputs, type HomelabPluginOptions } from './plugin';
