import type { Door } from '../ask/collect';
import type { Asked, Choice } from '../ask/questions';
import type { FileHost } from '../host';
import type { WorkspaceEnvironment } from '../spec/types';
import { parseImageRef } from '../spec/image';
import { checkAppName, checkHost, checkPort, chosenEnvironments, parseSecretKeys, parseVolumes } from './options';
import { assertNameFree, readWorkspace } from './plan';

export const NX_APP_DOOR: Door = { command: 'nx g homelab:app', example: 'npx nx g homelab:app whoami --image traefik/whoami:v1.10.4 --port 80' };
export const PLOP_APP_DOOR: Door = { command: 'plop app', example: 'npm run plop -- app -- --name whoami --image traefik/whoami:v1.10.4 --port 80' };

/** One line on an environment of homelab.yaml, for the list of choices. */
function describeEnvironment(env: WorkspaceEnvironment): string {
  const cluster = env.kubernetes?.server ? `cluster ${env.kubernetes.server}` : 'the cluster ArgoCD runs in';
  const docker = env.compose?.context ? `Docker context ${env.compose.context}` : 'the local Docker engine';
  return `${env.protected ? 'protected, ' : ''}${cluster}, ${docker}`;
}

/**
 * What `nx g homelab:app` and `plop app` ask, in this order, with the checks the render core
 * runs on the same answers (app/options.ts, spec/image.ts): a typed answer is refused with the
 * very message a command-line answer gets. Types, defaults and the name's argv position come
 * from generators/app/schema.json.
 */
export function appAsked(host: FileHost): Record<string, Asked> {
  const environments = (): Choice[] => readWorkspace(host).environments.map((env) => ({ value: env.name, description: describeEnvironment(env) }));
  return {
    name: {
      prompt: 'What is the app called (e.g. whoami)?',
      required: true,
      check: (name, answers) => assertNameFree(host, checkAppName(name), answers.force === true),
    },
    image: {
      prompt: 'Which image, with a pinned tag or digest (e.g. traefik/whoami:v1.10.4)?',
      required: true,
      check: (image) => void parseImageRef(image, '--image'),
    },
    port: { prompt: 'Which port does it serve HTTP on?', required: true, check: (port) => void checkPort(port) },
    secrets: {
      prompt: 'Which secret keys does it read, comma-separated (e.g. API_TOKEN; empty for none)?',
      check: (keys) => void parseSecretKeys(keys),
    },
    volumes: {
      prompt: 'Which volumes does it keep, as name:size:/mount (e.g. data:1Gi:/data; empty for none)?',
      check: (volumes) => void parseVolumes(volumes),
    },
    host: { prompt: 'Which public host name (e.g. whoami.home.example.org; empty for none)?', check: (name) => void checkHost(name) },
    environments: {
      prompt: 'Which environments, comma-separated (empty for every one)?',
      choices: environments,
      check: (chosen) => void chosenEnvironments(chosen, readWorkspace(host)),
    },
  };
}
