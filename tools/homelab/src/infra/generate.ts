import YAML from 'yaml';
import { syncAll } from '../app/generate';
import { APP_SPECS_DIR, listAppNames, readWorkspace } from '../app/plan';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import { appPaths } from '../spec/normalize';
import type { WorkspaceEnvironment } from '../spec/types';
import { catalogSpec } from './catalog';
import { BOOTSTRAP_KUSTOMIZATION, isInitialised } from './platform';
import { ESO_NAMESPACE, storeSpecFromOptions, type StoreOptions } from './secret-store';
import { componentSpecPath, parseComponentSpec, parseStoreSpec, storePath, storeSpecPath, stringifyComponentSpec, stringifyStoreSpec } from './spec';
import { stagedHost } from './staged';
import { IN_CLUSTER } from './targets';
import { syncInfrastructure } from './sync';
import { COMPONENT_NAMES, type ComponentName } from './types';
import { defaultWorkspaceFile, withDefaultStore, withEnvironment, withRepoURL } from './workspace-file';

/** What a generator changed, for its log. */
export interface GenerateResult {
  changed: string[];
  notes: string[];
}

const GIT_URL = /^((https?|ssh|git):\/\/[^\s]+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\s]+)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ENV_NAME = /^[a-z]([-a-z0-9]{0,14}[a-z0-9])?$/;
const SUFFIX = /^(-[a-z0-9]{1,15})?$/;
const SERVER = /^https:\/\/[^\s]+$/;
const CONTEXT = /^[A-Za-z0-9_.@:/-]{1,253}$/;

function requireInitialised(host: FileHost): void {
  if (!isInitialised(host)) {
    throw new InputError(`the workspace is not initialised (${BOOTSTRAP_KUSTOMIZATION} is missing); run \`npx nx g homelab:init\` first`);
  }
}

export interface InitOptions {
  repoUrl?: string;
}

/**
 * `nx g homelab:init`: homelab.yaml (created with --repo-url when missing), the ArgoCD
 * bootstrap (AppProjects, argocd-cm health check, root app-of-apps), the stores'
 * kustomization and the workspace's default store when it has none. Idempotent: what
 * exists and is the user's is kept, what homelab renders is brought in step.
 */
export function generateInit(host: FileHost, options: InitOptions): GenerateResult {
  const repoUrl = options.repoUrl === undefined ? undefined : String(options.repoUrl);
  if (repoUrl !== undefined && !GIT_URL.test(repoUrl)) {
    throw new InputError(`--repo-url ${show(repoUrl)} is not a Git URL; use the URL ArgoCD clones, e.g. https://git.example.org/me/homelab.git`);
  }
  const stage = stagedHost(host);
  const notes: string[] = [];
  const current = host.read(WORKSPACE_FILE);
  if (current === null) {
    if (repoUrl === undefined) {
      throw new InputError(`${WORKSPACE_FILE} is missing; pass --repo-url <the Git URL ArgoCD clones> to create it`);
    }
    stage.write(WORKSPACE_FILE, defaultWorkspaceFile(repoUrl).text);
  } else if (repoUrl !== undefined && parseWorkspaceConfig(current).gitops.repoURL !== repoUrl) {
    stage.write(WORKSPACE_FILE, withRepoURL(current, repoUrl).text);
  }
  const workspace = readWorkspace(stage);
  if (isInitialised(host)) notes.push(`already initialised (${BOOTSTRAP_KUSTOMIZATION} exists): brought homelab's platform files in step, kept yours`);

  const store = workspace.secrets?.store ?? 'homelab';
  if (!stage.isFile(storePath(store)) && !stage.isFile(storeSpecPath(store))) {
    // The default store reads Kubernetes Secrets until a real provider replaces it (nx g homelab:secret-store).
    const spec = { ...storeSpecFromOptions({ provider: 'kubernetes' }), name: store };
    stage.write(storeSpecPath(store), stringifyStoreSpec(spec));
  }
  syncInfrastructure(stage, false, workspace, { initialise: true });
  return { changed: stage.commit(), notes };
}

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

export interface EnvironmentOptions {
  name: string;
  namespaceSuffix?: string;
  protected?: boolean;
  kubernetesServer?: string;
  kubernetesContext?: string;
  composeContext?: string;
}

/** The environment entry of homelab.yaml that the answers describe (checked, nothing written). */
export function environmentFromOptions(options: EnvironmentOptions): WorkspaceEnvironment {
  const name = String(options.name ?? '');
  if (!ENV_NAME.test(name)) {
    throw new InputError(`environment name ${show(name)} is invalid; use 1-16 lower-case letters, digits and '-', starting with a letter (e.g. "staging")`);
  }
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
 * app that lists its environments, then re-renders every app, component and platform
 * file. Running it again changes nothing.
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
  for (const app of listAppNames(host)) {
    const file = `${APP_SPECS_DIR}/${app}.yaml`;
    const doc = YAML.parseDocument(host.read(file) ?? '');
    const envs = doc.get('environments');
    if (YAML.isMap(envs) && !envs.has(env.name)) {
      doc.setIn(['environments', env.name], doc.createNode({}));
      stage.write(file, doc.toString({ lineWidth: 0 }));
    }
  }
  syncAll(stage);
  return { changed: stage.commit(), notes };
}
