import { logger, type Tree } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, parseDoc, parseDocs, readDoc, readDocs, readText, removeDir, treeFiles, WHOAMI, workspaceTree } from '../../tests/support/workspace';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { FRESH_HOMELAB } from '../../scripts/lib/temp-workspace';
import { HomelabError } from '../../tools/homelab/src/errors';
import { parseStoreSpec, renderStore, storeSpecFromOptions } from '../../tools/homelab/src/platform/secret-store';
import syncGenerator from '../sync/generator';
import appGenerator from '../app/generator';
import infraGenerator from '../infra/generator';
import initGenerator from '../init/generator';
import secretStoreGenerator from './generator';
import type { SecretStoreGeneratorSchema } from './schema';

const STORES = 'platform/secrets/stores';
const SPECS = 'platform/secrets/specs';

let tree: Tree;

beforeEach(async () => {
  ({ tree } = workspaceTree());
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  await initGenerator(tree, {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

const refusal = (options: SecretStoreGeneratorSchema) => secretStoreGenerator(tree, options).then(() => new Error('expected a refusal'), (e: Error) => e);
const storeOf = (name: string) => readDocs(tree, `${STORES}/${name}.yaml`).find((d) => d.kind === 'ClusterSecretStore');

describe('homelab:secret-store generator', () => {
  it.each([
    { options: { provider: 'onepassword' }, key: 'onepasswordSDK', cli: 'op', bootstrap: 'create secret generic onepassword-token --from-literal=token=<token>' },
    { options: { provider: 'onepassword', name: 'op-connect', mode: 'connect' }, key: 'onepassword', cli: 'op', bootstrap: 'create secret generic onepassword-connect-token' },
    { options: { provider: 'bitwarden', organization: 'org-1', project: 'proj-1' }, key: 'bitwardensecretsmanager', cli: 'bws', bootstrap: 'create secret generic bitwarden-access-token' },
    { options: { provider: 'vault', server: 'https://vault.home.arpa:8200' }, key: 'vault', cli: 'vault', bootstrap: 'enable Kubernetes auth at auth/kubernetes' },
    { options: { provider: 'doppler' }, key: 'doppler', cli: 'doppler', bootstrap: 'create secret generic doppler-token' },
    { options: { provider: 'infisical', project: 'homelab' }, key: 'infisical', cli: 'infisical', bootstrap: 'create secret generic infisical-universal-auth --from-literal=clientId=<clientId> --from-literal=clientSecret=<clientSecret>' },
    { options: { provider: 'kubernetes', name: 'local' }, key: 'kubernetes', cli: 'kubectl', bootstrap: 'kubectl -n homelab-secrets create secret generic <app>' },
  ])('renders a $options.provider ClusterSecretStore ($key), its bootstrap step and the CLI Compose reads it with', async ({ options, key, cli, bootstrap }) => {
    await secretStoreGenerator(tree, options);

    const name = options.name ?? options.provider;
    const store = storeOf(name);
    expect(store.apiVersion).toBe('external-secrets.io/v1');
    expect(store.metadata.name).toBe(name);
    expect(store.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('1');
    expect(Object.keys(store.spec.provider)).toEqual([key]);
    expect(readText(tree, `${STORES}/${name}.yaml`)).toContain(bootstrap);
    const spec = readDoc(tree, `${SPECS}/${name}.yaml`);
    expect(spec.provider).toBe(options.provider);
    expect(spec.compose.cli).toBe(cli);
    expect(spec.compose.read.join(' ')).toContain('{remoteKey}');
    expect(readDoc(tree, `${STORES}/kustomization.yaml`).resources).toContain(`${name}.yaml`);
  });

  it('records how deploy reads one property of one key with each provider\'s CLI', async () => {
    await secretStoreGenerator(tree, { provider: 'vault', server: 'https://vault.home.arpa:8200', path: 'kv' });

    expect(readDoc(tree, `${SPECS}/vault.yaml`).compose).toEqual({
      cli: 'vault',
      credentials: ['VAULT_ADDR', 'VAULT_TOKEN'],
      read: ['vault', 'kv', 'get', '-mount=kv', '-format=json', '{remoteKey}'],
      select: 'data.data.{property}',
    });
  });

  it('enables ESO\'s bitwarden-sdk-server when a Bitwarden store exists', async () => {
    await infraGenerator(tree, { component: 'external-secrets' });

    await secretStoreGenerator(tree, { provider: 'bitwarden', organization: 'org-1', project: 'proj-1' });

    expect(readDoc(tree, 'infrastructure/kubernetes/base/external-secrets/values.yaml')['bitwarden-sdk-server']).toEqual({ enabled: true });
  });

  it('with --default becomes homelab.yaml secrets.store (comments kept) and every app reads from it', async () => {
    await appGenerator(tree, { ...WHOAMI, secrets: 'API_TOKEN' });

    await secretStoreGenerator(tree, { provider: 'onepassword', default: true });

    const text = readText(tree, 'homelab.yaml');
    expect(parseDoc(text).secrets.store).toBe('onepassword');
    expect(text).toContain('# The URL ArgoCD clones this repository from.');
    expect(readDoc(tree, 'applications/kubernetes/base/whoami/externalsecret.yaml').spec.secretStoreRef.name).toBe('onepassword');
  });

  it('says where the bootstrap step is, in one complete sentence', async () => {
    await secretStoreGenerator(tree, { provider: 'doppler' });

    expect(vi.mocked(logger.info)).toHaveBeenCalledWith(
      'doppler: bootstrap: see the comment at the top of platform/secrets/stores/doppler.yaml (the credential lives in external-secrets); docs/infrastructure.md ("Secret stores") lists each provider\'s bootstrap credential and how deploy reads the same keys on Compose',
    );
  });

  it('refuses, at sync, a hand-edited 1Password vault that could break out of the store file\'s comment', async () => {
    await secretStoreGenerator(tree, { provider: 'onepassword' });
    const spec = `${SPECS}/onepassword.yaml`;
    const store = readText(tree, `${STORES}/onepassword.yaml`);
    tree.write(spec, readText(tree, spec).replace('vault: homelab', 'vault: "homelab\\nkind: Secret"'));

    const error = await syncGenerator(tree).then(() => new Error('expected a refusal'), (e: Error) => e);

    expect(error).toBeInstanceOf(HomelabError);
    expect(error.message).toContain(`${spec}`);
    expect(error.message).toContain('settings.vault');
    expect(error.message).not.toContain('\n');
    expect(readText(tree, `${STORES}/onepassword.yaml`)).toBe(store);
  });

  it('keeps every store value in the file\'s comments on one line, even one the schema never saw', () => {
    const vault = 'homelab\nkind: Secret\u2028# x';
    const spec = storeSpecFromOptions({ provider: 'onepassword' });
    const file = renderStore({ ...spec, settings: { ...spec.settings, vault } });
    const comment = file.content.split('\n').find((l) => l.startsWith('# 1Password:'));

    expect(comment).toBe('# 1Password: store key = item, property = field (op://homelab\\nkind: Secret\\u2028# x/<item>/<field>).');
    expect(parseDocs(file.content).map((d) => d.kind)).toEqual(['ClusterSecretStore']);
    expect(parseDoc(file.content, '1.1').spec.provider.onepasswordSDK.vault).toBe(vault);
  });

  it("a fresh clone's default store is exactly what its spec renders, and init, which renders it, changes no byte of it", async () => {
    // The homelab content of a fresh clone, in a temporary folder.
    const root = makeTempDir('fresh-store');
    fs.cpSync(FRESH_HOMELAB, root, { recursive: true });
    try {
      const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
      const spec = read(`${SPECS}/homelab.yaml`);
      const store = read(`${STORES}/homelab.yaml`);
      expect(store).toBe(renderStore(parseStoreSpec(spec, `${SPECS}/homelab.yaml`)).content);
      expect(parseDoc(spec).compose).toBeUndefined();
      generateInit(diskHost(root), {});
      expect(read(`${STORES}/homelab.yaml`)).toBe(store);
      expect(read(`${SPECS}/homelab.yaml`)).toBe(spec);
    } finally {
      removeDir(root);
    }
  });

  it('changes no file of the apps without --default', async () => {
    await appGenerator(tree, { ...WHOAMI, secrets: 'API_TOKEN' });
    const apps = treeFiles(tree, 'applications');

    await secretStoreGenerator(tree, { provider: 'doppler' });

    expect(treeFiles(tree, 'applications')).toEqual(apps);
    expect(readDoc(tree, 'homelab.yaml').secrets.store).toBe('homelab');
  });

  describe('refusals', () => {
    it.each([
      { case: 'an unknown provider', options: { provider: 'keepass' }, message: 'secret store provider "keepass" is not supported; use one of "onepassword", "bitwarden"' },
      { case: 'vault without --server', options: { provider: 'vault' }, message: '--server is required for this provider; give the Vault URL' },
      { case: 'vault with a server that is no URL', options: { provider: 'vault', server: 'vault:8200' }, message: '--server "vault:8200" is invalid; give the Vault URL' },
      { case: 'bitwarden without --organization', options: { provider: 'bitwarden', project: 'p' }, message: '--organization is required for this provider' },
      { case: 'an unknown 1Password mode', options: { provider: 'onepassword', mode: 'cli' }, message: '--mode "cli" is not a 1Password mode; use "sdk"' },
      { case: 'a name with capitals', options: { provider: 'doppler', name: 'Doppler' }, message: '--name "Doppler" is not a valid store name' },
      { case: 'the name of a store the user wrote', options: { provider: 'kubernetes', name: 'mine' }, message: 'platform/secrets/stores/mine.yaml exists and is yours (it has no spec); pass --force to replace it' },
    ])('refuses $case with one line naming the value and the fix, and writes nothing', async ({ options, message }) => {
      tree.write(`${STORES}/mine.yaml`, 'apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: mine\n');
      const before = treeFiles(tree);

      const error = await refusal(options);

      expect(error.message).toContain(message);
      expect(error.message).not.toContain('\n');
      expect(treeFiles(tree)).toEqual(before);
    });

    it('refuses a store that exists, and replaces it with --force', async () => {
      await secretStoreGenerator(tree, { provider: 'vault', server: 'https://vault.home.arpa:8200' });

      expect((await refusal({ provider: 'vault', server: 'https://other.home.arpa' })).message).toContain('secret store "vault" already exists (platform/secrets/specs/vault.yaml); pass --force');

      await secretStoreGenerator(tree, { provider: 'vault', server: 'https://other.home.arpa', force: true });
      expect(storeOf('vault').spec.provider.vault.server).toBe('https://other.home.arpa');
    });
  });
});
