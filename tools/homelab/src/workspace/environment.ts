import YAML from 'yaml';
import { syncAll } from './sync';
import { APP_SPECS_DIR, listAppNames } from '../app/plan';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import type { WorkspaceEnvironment } from '../spec/types';
import type { GenerateResult } from '../report';
import { stagedHost } from '../staged';
import { IN_CLUSTER } from './targets';
import { withEnvironment } from './file';
import type { Door } from '../ask/collect';
import type { Asked } from '../ask/questions';

const ENV_NAME = /^[a-z]([-a-z0-9]{0,14}[a-z0-9])?$/;
const SUFFIX = /^(-[a-z0-9]{1,15})?$/;
const SERVER = /^https:\/\/[^\s]+$/;
const CONTEXT = /^[A-Za-z0-9_.@:/-]{1,253}$/;

export interface EnvironmentOptions {
  name: string;
  namespaceSuffix?: string;
  protected?: boolean;
  kubernetesServer?: string;
  kubernetesContext?: string;
  composeContext?: string;
}

export const NX_ENVIRONMENT_DOOR: Door = { command: 'nx g homelab:environment', example: 'npx nx g homelab:environment staging' };

export function checkEnvironmentName(name: unknown): string {
  if (typeof name !== 'string' || !ENV_NAME.test(name)) {
    throw new InputError(`environment name ${show(name)} is invalid; use 1-16 lower-case letters, digits and '-', starting with a letter (e.g. "staging")`);
  }
  return name;
}

/** What `nx g homelab:environment` asks itself (types and the argv position come from generators/environment/schema.json). */
export const ENVIRONMENT_ASKED: Record<string, Asked> = {
  name: { prompt: 'What is the environment called (e.g. staging)?', required: true, check: (name) => void checkEnvironmentName(name) },
};

/** The environment entry of homelab.yaml that the answers describe (checked, nothing written). */
export function environmentFromOptions(options: EnvironmentOptions): WorkspaceEnvironment {
  const name = checkEnvironmentName(String(options.name ?? ''));
  const suffix = options.namespaceSuffix ?? `-${name}`;
  if (!SUFFIX.test(suffix)) {
    throw new InputError(`--namespace-suffix ${show(suffix)} is invalid; use '-' and 1-15 lower-case letters or digits (e.g. "-${name}"), or "" for none`);
  }
  const env: WorkspaceEnvironment = { name };
  if (options.protected) env.protected = true;
  if (suffix !== '') env.namespaceSuffix = suffix;
  if (options.kubernetesServer !== undefined || options.kubernetesContext !== undefined) {
    env.kubernetes = {};
    if (options.kubernetesServer !== undefined) {
      if (!SERVER.test(options.kubernetesServer)) {
        throw new InputError(`--kubernetes-server ${show(options.kubernetesServer)} is not an API server URL; use https://<host>:<port> as ArgoCD knows the cluster`);
      }
      env.kubernetes.server = options.kubernetesServer;
    }
    if (options.kubernetesContext !== undefined) env.kubernetes.context = checkContext(options.kubernetesContext, '--kubernetes-context');
  }
  if (options.composeContext !== undefined) env.compose = { context: checkContext(options.composeContext, '--compose-context') };
  return env;
}

function checkContext(value: string, flag: string): string {
  if (!CONTEXT.test(value)) throw new InputError(`${flag} ${show(value)} is not a context name; use the name \`kubectl config get-contexts\` or \`docker context ls\` shows`);
  return value;
}

/**
 * `nx g homelab:environment <name>`: adds the environment to homelab.yaml and to every
 * app that runs in every environment so far (an app limited to some keeps its list), then
 * re-renders every app, component and platform file. Running it again changes nothing.
 */
export function generateEnvironment(host: FileHost, options: EnvironmentOptions): GenerateResult {
  const env = environmentFromOptions(options);
  const text = host.read(WORKSPACE_FILE);
  const workspace = parseWorkspaceConfig(text);
  const stage = stagedHost(host);
  const notes: string[] = [];
  const existing = workspace.environments.find((e) => e.name === env.name);
  if (existing) {
    notes.push(`environment "${env.name}" is already in ${WORKSPACE_FILE}: re-rendered what it needs, nothing else`);
  } else {
    const server = env.kubernetes?.server;
    const clash = workspace.environments.find(
      (e) => (e.namespaceSuffix ?? '') === (env.namespaceSuffix ?? '') && (e.kubernetes?.server ?? IN_CLUSTER) === (server ?? IN_CLUSTER),
    );
    if (clash) {
      throw new InputError(
        `environment "${clash.name}" already uses the namespace suffix ${show(env.namespaceSuffix ?? '')} on the same cluster; pass another --namespace-suffix or --kubernetes-server`,
      );
    }
    stage.write(WORKSPACE_FILE, withEnvironment(text ?? '', env).text);
  }
  // A new environment joins the apps that run in every environment so far; an app its owner
  // limited to some (a dev-only app) stays where it is. Run again, it changes no spec.
  const before = workspace.environments.map((e) => e.name);
  for (const app of existing ? [] : listAppNames(host)) {
    const file = `${APP_SPECS_DIR}/${app}.yaml`;
    const doc = YAML.parseDocument(host.read(file) ?? '');
    const envs = doc.get('environments');
    if (YAML.isMap(envs) && !envs.has(env.name) && before.every((name) => envs.has(name))) {
      doc.setIn(['environments', env.name], doc.createNode({}));
      stage.write(file, doc.toString({ lineWidth: 0 }));
    }
  }
  syncAll(stage);
  return { changed: stage.commit(), notes };
}
