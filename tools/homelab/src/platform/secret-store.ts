import { InputError, show } from '../errors';
import { assertParsesBack, renderTemplate, type RenderedFile } from '../render/engine';
import { tidy } from '../render/app';
import type { FileHost } from '../host';
import { parseNamedSpec, stringifySpec } from '../spec/io';

export const STORE_PROVIDERS = ['onepassword', 'bitwarden', 'vault', 'doppler', 'infisical', 'kubernetes'] as const;
export type StoreProvider = (typeof STORE_PROVIDERS)[number];

/** A secret store spec as written in platform/secrets/specs/<name>.yaml. */
export interface SecretStoreSpec {
  name: string;
  provider: StoreProvider;
  settings: {
    mode?: 'sdk' | 'connect';
    vault?: string;
    connectHost?: string;
    server?: string;
    path?: string;
    role?: string;
    project?: string;
    config?: string;
    organization?: string;
    namespace?: string;
  };
  /**
   * How a Compose deploy reads one property of one store key: see docs/infrastructure.md. Absent
   * (the placeholder store `init` adds): Compose deploys read environment variables.
   */
  compose?: { cli: string; credentials: string[]; read: string[]; select?: string; decode?: 'base64' };
}

/** Where store specs live, and the ClusterSecretStores rendered from them. */
export const STORE_SPECS_DIR = 'platform/secrets/specs';
export const STORES_DIR = 'platform/secrets/stores';
export const STORE_SCHEMA_PATH = 'tools/homelab/schemas/secret-store.schema.json';

export const storeSpecPath = (name: string) => `${STORE_SPECS_DIR}/${name}.yaml`;
export const storePath = (name: string) => `${STORES_DIR}/${name}.yaml`;

export const parseStoreSpec = (text: string, file: string) => parseNamedSpec<SecretStoreSpec>('secret-store', 'store', text, file);

const STORE_KEYS = ['name', 'provider', 'settings', 'compose'];

/** Serializes a secret store spec with its schema modeline and a stable key order. */
export function stringifyStoreSpec(spec: SecretStoreSpec): string {
  const compose = spec.compose
    ? 'compose says how deploy reads the same keys on a Compose host.'
    : 'it has no compose field, so Compose deploys read environment variables (nx g homelab:secret-store writes a store that has one).';
  return stringifySpec(spec, STORE_KEYS, STORE_SCHEMA_PATH, `The ClusterSecretStore ${spec.name} (${STORES_DIR}/${spec.name}.yaml) is rendered from this file; ${compose}`);
}

/** Every secret store spec of the workspace, sorted by name. */
export function readStoreSpecs(host: FileHost): SecretStoreSpec[] {
  return host
    .list(STORE_SPECS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = `${STORE_SPECS_DIR}/${f}`;
      return parseStoreSpec(host.read(file) ?? '', file);
    });
}

/** Where every provider's bootstrap credential lives: External Secrets' own namespace. */
export const ESO_NAMESPACE = 'external-secrets';

/** What `nx g homelab:secret-store` takes (generators/secret-store/schema.json): a provider and its settings. */
export type StoreOptions = { provider: string; name?: string; mode?: string } & Omit<SecretStoreSpec['settings'], 'mode'>;

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SLUG = /^[A-Za-z0-9_.-]+$/;
const URL = /^https?:\/\/[^\s]+$/;

export function checkProvider(provider: unknown): StoreProvider {
  if (typeof provider !== 'string' || !(STORE_PROVIDERS as readonly string[]).includes(provider)) {
    throw new InputError(`secret store provider ${show(provider)} is not supported; use one of ${STORE_PROVIDERS.map((p) => show(p)).join(', ')}`);
  }
  return provider as StoreProvider;
}

function option(value: string | undefined, flag: string, pattern: RegExp, fix: string, fallback?: string): string {
  const v = value ?? fallback;
  if (v === undefined || v === '') throw new InputError(`--${flag} is required for this provider; ${fix}`);
  if (!pattern.test(v)) throw new InputError(`--${flag} ${show(v)} is invalid; ${fix}`);
  return v;
}

/**
 * Turns generator answers into a store spec: provider settings with their defaults
 * spelled out, and the CLI a Compose deploy runs to read the same keys.
 */
export function storeSpecFromOptions(options: StoreOptions): SecretStoreSpec {
  const provider = checkProvider(options.provider);
  const name = options.name ?? provider;
  if (!NAME.test(name)) {
    throw new InputError(`--name ${show(name)} is not a valid store name; use lower-case letters, digits and '-' (e.g. "onepassword")`);
  }
  switch (provider) {
    case 'onepassword': {
      const mode = options.mode ?? 'sdk';
      if (mode !== 'sdk' && mode !== 'connect') throw new InputError(`--mode ${show(mode)} is not a 1Password mode; use "sdk" (a service account) or "connect" (a Connect server)`);
      const vault = option(options.vault, 'vault', SLUG, 'give the 1Password vault name, e.g. --vault homelab', 'homelab');
      const settings: SecretStoreSpec['settings'] = { mode, vault };
      if (mode === 'connect') {
        settings.connectHost = option(options.connectHost, 'connect-host', URL, 'give the Connect URL, e.g. http://onepassword-connect.onepassword.svc:8080', 'http://onepassword-connect.onepassword.svc:8080');
      }
      return {
        name,
        provider,
        settings,
        compose: {
          cli: 'op',
          credentials: mode === 'sdk' ? ['OP_SERVICE_ACCOUNT_TOKEN'] : ['OP_CONNECT_HOST', 'OP_CONNECT_TOKEN'],
          read: ['op', 'read', `op://${vault}/{remoteKey}/{property}`],
        },
      };
    }
    case 'bitwarden': {
      const organization = option(options.organization, 'organization', SLUG, 'give the Bitwarden organization ID');
      const project = option(options.project, 'project', SLUG, 'give the Bitwarden Secrets Manager project ID');
      return {
        name,
        provider,
        settings: { organization, project },
        compose: { cli: 'bws', credentials: ['BWS_ACCESS_TOKEN'], read: ['bws', 'secret', 'get', '{remoteKey}', '--output', 'json'], select: 'value.{property}' },
      };
    }
    case 'vault': {
      const server = option(options.server, 'server', URL, 'give the Vault URL, e.g. --server https://vault.home.example.org:8200');
      const path = option(options.path, 'path', SLUG, 'give the KV v2 mount, e.g. --path secret', 'secret');
      const role = option(options.role, 'role', SLUG, 'give the Kubernetes auth role, e.g. --role external-secrets', 'external-secrets');
      return {
        name,
        provider,
        settings: { server, path, role },
        compose: { cli: 'vault', credentials: ['VAULT_ADDR', 'VAULT_TOKEN'], read: ['vault', 'kv', 'get', `-mount=${path}`, '-format=json', '{remoteKey}'], select: 'data.data.{property}' },
      };
    }
    case 'doppler': {
      const settings: SecretStoreSpec['settings'] = {};
      if (options.project) settings.project = option(options.project, 'project', SLUG, 'give the Doppler project');
      if (options.config) settings.config = option(options.config, 'config', SLUG, 'give the Doppler config, e.g. prd');
      return {
        name,
        provider,
        settings,
        compose: { cli: 'doppler', credentials: ['DOPPLER_TOKEN'], read: ['doppler', 'secrets', 'get', '{remoteKey}', '--plain'], select: '{property}' },
      };
    }
    case 'infisical': {
      const project = option(options.project, 'project', SLUG, 'give the Infisical project slug, e.g. --project homelab');
      const config = option(options.config, 'config', SLUG, 'give the Infisical environment slug, e.g. --config prod', 'prod');
      return {
        name,
        provider,
        settings: { project, config },
        compose: {
          cli: 'infisical',
          credentials: ['INFISICAL_TOKEN', 'INFISICAL_PROJECT_ID'],
          read: ['infisical', 'secrets', 'get', '{remoteKey}', `--env=${config}`, '--path=/', '--plain', '--silent'],
          select: '{property}',
        },
      };
    }
    case 'kubernetes': {
      const namespace = option(options.namespace, 'namespace', NAME, 'give a namespace name, e.g. --namespace homelab-secrets', 'homelab-secrets');
      return {
        name,
        provider,
        settings: { namespace },
        compose: {
          cli: 'kubectl',
          credentials: ['KUBECONFIG'],
          read: ['kubectl', '--namespace', namespace, 'get', 'secret', '{remoteKey}', '-o', 'jsonpath={.data.{property}}'],
          decode: 'base64',
        },
      };
    }
  }
}

/** The credential External Secrets needs before the store works: the chicken-and-egg step. */
export interface StoreBootstrap {
  secret: string;
  namespace: string;
  keys: string[];
  command: string;
  note: string;
}

export function storeBootstrap(spec: SecretStoreSpec): StoreBootstrap | null {
  const secret = (name: string, keys: string[], note: string): StoreBootstrap => ({
    secret: name,
    namespace: ESO_NAMESPACE,
    keys,
    command: `kubectl create namespace ${ESO_NAMESPACE} --dry-run=client -o yaml | kubectl apply -f - && kubectl -n ${ESO_NAMESPACE} create secret generic ${name} ${keys.map((k) => `--from-literal=${k}=<${k}>`).join(' ')}`,
    note,
  });
  switch (spec.provider) {
    case 'onepassword':
      return spec.settings.mode === 'connect'
        ? secret('onepassword-connect-token', ['token'], 'a 1Password Connect token with read access to the vault')
        : secret('onepassword-token', ['token'], 'a 1Password service account token with read access to the vault');
    case 'bitwarden':
      return secret('bitwarden-access-token', ['token'], 'a Bitwarden Secrets Manager machine account access token; ESO\'s bitwarden-sdk-server also needs the TLS secret bitwarden-tls-certs');
    case 'doppler':
      return secret('doppler-token', ['token'], 'a Doppler service token of the project and config');
    case 'infisical':
      return secret('infisical-universal-auth', ['clientId', 'clientSecret'], 'an Infisical machine identity (universal auth)');
    case 'vault':
    case 'kubernetes':
      return null;
  }
}

/** A store spec's ClusterSecretStore (and what its provider needs beside it), from templates/secret-store/<provider>/. */
export function renderStore(spec: SecretStoreSpec, templatesDir?: string): RenderedFile {
  const store = {
    ...spec,
    settings: { ...spec.settings, isConnect: spec.settings.mode === 'connect' },
    bootstrap: storeBootstrap(spec),
    esoNamespace: ESO_NAMESPACE,
    // External Secrets' bitwarden-sdk-server, enabled in the external-secrets component's values.
    bitwardenSdkURL: `https://bitwarden-sdk-server.${ESO_NAMESPACE}.svc.cluster.local:9998`,
    specPath: storeSpecPath(spec.name),
  };
  const output = storePath(spec.name);
  const content = tidy(renderTemplate(`secret-store/${spec.provider}/platform/secrets/stores/__name__.yaml`, { store }, templatesDir));
  assertParsesBack(output, content);
  return { path: output, content, owner: 'spec' };
}
