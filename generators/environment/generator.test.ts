import { logger, type Tree } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDoc, readDoc, readDocs, readText, treeFiles, WHOAMI, workspaceTree } from '../../tests/support/workspace';
import appGenerator from '../app/generator';
import infraGenerator from '../infra/generator';
import initGenerator from '../init/generator';
import environmentGenerator from './generator';
import type { EnvironmentGeneratorSchema } from './schema';

const STAGING: EnvironmentGeneratorSchema = { name: 'staging' };
const LAB: EnvironmentGeneratorSchema = {
  name: 'lab',
  kubernetesServer: 'https://lab.home.arpa:6443',
  composeContext: 'lab',
};

let tree: Tree;

beforeEach(async () => {
  ({ tree } = workspaceTree());
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  await initGenerator(tree, {});
  await appGenerator(tree, WHOAMI);
  await infraGenerator(tree, { component: 'postgres' });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const refusal = (options: EnvironmentGeneratorSchema) => environmentGenerator(tree, options).then(() => new Error('expected a refusal'), (e: Error) => e);

describe('homelab:environment generator', () => {
  it('adds the environment to homelab.yaml with a namespace suffix, keeping the comments', async () => {
    await environmentGenerator(tree, STAGING);

    const text = readText(tree, 'homelab.yaml');
    expect(parseDoc(text).environments).toEqual([
      { name: 'dev', namespaceSuffix: '-dev', hostPattern: '{label}.{env}.{domain}' },
      { name: 'prod', protected: true, hostPattern: '{host}' },
      { name: 'staging', namespaceSuffix: '-staging' },
    ]);
    expect(text).toContain('# The URL ArgoCD clones this repository from.');
  });

  it('adds it to every app that lists its environments, and renders the app\'s overlay, Compose environment and ArgoCD Application', async () => {
    await environmentGenerator(tree, STAGING);

    expect(readDoc(tree, 'applications/specs/whoami.yaml').environments).toEqual({ dev: {}, prod: {}, staging: {} });
    expect(readDoc(tree, 'applications/kubernetes/overlays/staging/whoami/kustomization.yaml').resources).toEqual(['../../../base/whoami']);
    expect(readDoc(tree, 'applications/compose/environments/staging/whoami/compose.generated.yaml').name).toBe('whoami-staging');
    const app = readDoc(tree, 'platform/argocd/applications/staging/whoami.yaml');
    expect(app.spec.destination.namespace).toBe('whoami-staging');
    expect(app.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('20');
  });

  it('leaves an app its owner limited to some environments where it is, the first time and every time after', async () => {
    await appGenerator(tree, { name: 'devonly', image: 'traefik/whoami:v1.10.4', port: 80, environments: 'dev' });

    await environmentGenerator(tree, STAGING);
    await environmentGenerator(tree, STAGING);

    expect(readDoc(tree, 'applications/specs/devonly.yaml').environments).toEqual({ dev: {} });
    expect(tree.exists('platform/argocd/applications/staging/devonly.yaml')).toBe(false);
    expect(readDoc(tree, 'applications/specs/whoami.yaml').environments).toEqual({ dev: {}, prod: {}, staging: {} });
  });

  it('adds no app to an environment that exists when run again, even one whose spec does not list it', async () => {
    await environmentGenerator(tree, STAGING);
    await appGenerator(tree, { name: 'devonly', image: 'traefik/whoami:v1.10.4', port: 80, environments: 'dev,prod' });
    const before = treeFiles(tree);

    await environmentGenerator(tree, STAGING);

    expect(treeFiles(tree)).toEqual(before);
    expect(readDoc(tree, 'applications/specs/devonly.yaml').environments).toEqual({ dev: {}, prod: {} });
  });

  it('lets the applications AppProject deploy to the new environment\'s namespaces', async () => {
    await environmentGenerator(tree, STAGING);

    const project = readDocs(tree, 'platform/argocd/bootstrap/appprojects.yaml').find((p) => p.metadata.name === 'applications');
    expect(project.spec.destinations).toContainEqual({ server: 'https://kubernetes.default.svc', namespace: 'whoami-staging' });
  });

  it('shares the cluster\'s and Docker host\'s infrastructure when it has none of its own: no component files', async () => {
    await environmentGenerator(tree, STAGING);

    expect(tree.exists('platform/argocd/applications/staging/postgres.yaml')).toBe(false);
    expect(tree.exists('infrastructure/kubernetes/overlays/staging')).toBe(false);
    expect(readText(tree, 'platform/argocd/applications/prod/postgres.yaml')).toContain('used by prod, dev, staging');
  });

  it('renders every component for an environment with its own cluster and Docker host', async () => {
    await environmentGenerator(tree, LAB);

    expect(readDoc(tree, 'homelab.yaml').environments[2]).toEqual({
      name: 'lab',
      namespaceSuffix: '-lab',
      kubernetes: { server: 'https://lab.home.arpa:6443' },
      compose: { context: 'lab' },
    });
    const app = readDoc(tree, 'platform/argocd/applications/lab/postgres.yaml');
    expect(app.spec.destination).toEqual({ server: 'https://lab.home.arpa:6443', namespace: 'postgres' });
    expect(tree.exists('infrastructure/kubernetes/overlays/lab/postgres/kustomization.yaml')).toBe(true);
    expect(readDoc(tree, 'infrastructure/compose/environments/lab/postgres/compose.generated.yaml').name).toBe('postgres-lab');
    const infra = readDocs(tree, 'platform/argocd/bootstrap/appprojects.yaml').find((p) => p.metadata.name === 'infrastructure');
    expect(infra.spec.destinations).toContainEqual({ server: 'https://lab.home.arpa:6443', namespace: 'postgres' });
  });

  it('keeps shared infrastructure under the first protected environment when another protected one joins its cluster', async () => {
    await environmentGenerator(tree, { name: 'live', protected: true, namespaceSuffix: '-live' });

    expect(tree.exists('platform/argocd/applications/prod/postgres.yaml')).toBe(true);
    expect(tree.exists('platform/argocd/applications/live/postgres.yaml')).toBe(false);
  });

  it.each([STAGING, LAB])('changes nothing when run again ($name)', async (options) => {
    await environmentGenerator(tree, options);
    const before = treeFiles(tree);

    await environmentGenerator(tree, options);

    expect(treeFiles(tree)).toEqual(before);
  });

  describe('refusals', () => {
    it.each([
      { name: 'Staging', message: 'environment name "Staging" is invalid; use 1-16 lower-case letters, digits and \'-\', starting with a letter (e.g. "staging")' },
      { name: '1st', message: 'environment name "1st" is invalid' },
      { name: 'stage_2', message: 'environment name "stage_2" is invalid' },
      { name: 'a-very-long-environment', message: 'environment name "a-very-long-environment" is invalid' },
      { name: '', message: 'environment name "" is invalid' },
    ])('refuses the name $name with one line and writes nothing', async ({ name, message }) => {
      const before = treeFiles(tree);

      const error = await refusal({ name });

      expect(error.message).toContain(message);
      expect(error.message).not.toContain('\n');
      expect(treeFiles(tree)).toEqual(before);
    });

    it.each([
      { case: 'a suffix another environment uses on the same cluster', options: { name: 'qa', namespaceSuffix: '-dev' }, message: 'environment "dev" already uses the namespace suffix "-dev" on the same cluster; pass another --namespace-suffix or --kubernetes-server' },
      { case: 'a malformed suffix', options: { name: 'qa', namespaceSuffix: 'qa' }, message: '--namespace-suffix "qa" is invalid' },
      { case: 'a server that is not an https URL', options: { name: 'qa', kubernetesServer: 'lab:6443' }, message: '--kubernetes-server "lab:6443" is not an API server URL' },
      { case: 'a context with spaces', options: { name: 'qa', composeContext: 'my host' }, message: '--compose-context "my host" is not a context name' },
    ])('refuses $case and writes nothing', async ({ options, message }) => {
      const before = treeFiles(tree);

      const error = await refusal(options);

      expect(error.message).toContain(message);
      expect(treeFiles(tree)).toEqual(before);
    });
  });
});
