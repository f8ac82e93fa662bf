import { logger, type Tree } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APPLICATION_HEALTH_LUA } from '../../tools/homelab/src/platform/argocd';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { treeHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { parseDoc, readDoc, readDocs, readText, treeFiles, WHOAMI, workspaceTree } from '../../tests/support/workspace';
import { parseRenovateConfig, RENOVATE_FILE } from '../../tools/homelab/src/platform/renovate';
import initGenerator from './generator';

const BOOTSTRAP = 'platform/argocd/bootstrap';
const REPO = 'https://git.home.arpa/homelab/homelab.git';

let tree: Tree;
let changes: () => string[];

beforeEach(() => {
  ({ tree, changes } = workspaceTree());
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('homelab:init generator', () => {
  it('writes the ArgoCD bootstrap, the platform Application, the stores\' kustomization, the default store and the Renovate configuration', async () => {
    await initGenerator(tree, {});

    expect(changes()).toEqual([
      'platform/argocd/applications/platform.yaml CREATE',
      `${BOOTSTRAP}/appprojects.yaml CREATE`,
      `${BOOTSTRAP}/argocd-cm.yaml CREATE`,
      `${BOOTSTRAP}/kustomization.yaml CREATE`,
      `${BOOTSTRAP}/root.yaml CREATE`,
      'platform/secrets/specs/homelab.yaml CREATE',
      'platform/secrets/stores/homelab.yaml CREATE',
      'platform/secrets/stores/kustomization.yaml CREATE',
      'renovate.json5 CREATE',
    ]);
    expect(readDoc(tree, `${BOOTSTRAP}/kustomization.yaml`).resources).toEqual(['argocd-cm.yaml', 'appprojects.yaml', 'root.yaml']);
    expect(readDoc(tree, 'platform/secrets/stores/kustomization.yaml').resources).toEqual(['homelab.yaml']);
  });

  it('makes the root an app-of-apps over every environment\'s Applications, in the platform project', async () => {
    await initGenerator(tree, {});

    const root = readDoc(tree, `${BOOTSTRAP}/root.yaml`);
    expect(root.kind).toBe('Application');
    expect(root.metadata).toMatchObject({ name: 'homelab', namespace: 'argocd', labels: { 'homelab.dev/layer': 'platform' } });
    expect(root.spec.project).toBe('platform');
    expect(root.spec.source).toEqual({ repoURL: REPO, targetRevision: 'main', path: 'platform/argocd/applications', directory: { recurse: true } });
    expect(root.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
    expect(root.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(root.spec.syncPolicy.retry.limit).toBeGreaterThan(0);
  });

  it('keeps the bootstrap itself in step through a platform Application in sync wave 0', async () => {
    await initGenerator(tree, {});

    const app = readDoc(tree, 'platform/argocd/applications/platform.yaml');
    expect(app.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('0');
    expect(app.metadata.labels['homelab.dev/layer']).toBe('platform');
    expect(app.spec.source.path).toBe(BOOTSTRAP);
    expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
  });

  it('adds the Application health check that sync-wave gating of an app-of-apps needs', async () => {
    await initGenerator(tree, {});

    const cm = readDoc(tree, `${BOOTSTRAP}/argocd-cm.yaml`);
    expect(cm.metadata).toMatchObject({ name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } });
    expect(cm.data['resource.customizations.health.argoproj.io_Application']).toBe(APPLICATION_HEALTH_LUA);
    expect(APPLICATION_HEALTH_LUA).toContain('hs.status = obj.status.health.status');
  });

  it('restricts each AppProject to this repository and the destinations its layer uses', async () => {
    await initGenerator(tree, {});

    const projects = Object.fromEntries(readDocs(tree, `${BOOTSTRAP}/appprojects.yaml`).map((p) => [p.metadata.name, p.spec]));
    expect(Object.keys(projects)).toEqual(['platform', 'infrastructure', 'applications']);
    expect(projects.platform.sourceRepos).toEqual([REPO]);
    expect(projects.platform.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(projects.platform.clusterResourceWhitelist).toEqual([]);
    expect(projects.infrastructure.sourceRepos).toEqual([REPO]);
    expect(projects.infrastructure.destinations).toEqual([]);
    expect(projects.applications.sourceRepos).toEqual([REPO]);
    // No app yet: the applications project admits no namespace at all (never a pattern).
    expect(projects.applications.destinations).toEqual([]);
    expect(projects.applications.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
  });

  it('names exactly the namespaces of the apps in the applications AppProject, as each app is added, in the environments its spec lists', async () => {
    await initGenerator(tree, {});
    generateApp(treeHost(tree), WHOAMI);
    generateApp(treeHost(tree), { name: 'notes', image: 'traefik/whoami:v1.10.4', port: 80, environments: 'dev' });

    const project = readDocs(tree, `${BOOTSTRAP}/appprojects.yaml`).find((p) => p.metadata.name === 'applications');
    expect(project.spec.destinations).toEqual([
      { server: 'https://kubernetes.default.svc', namespace: 'notes-dev' },
      { server: 'https://kubernetes.default.svc', namespace: 'whoami' },
      { server: 'https://kubernetes.default.svc', namespace: 'whoami-dev' },
    ]);
    expect(JSON.stringify(readDocs(tree, `${BOOTSTRAP}/appprojects.yaml`).map((p) => p.spec.destinations))).not.toContain('*');
    expect(syncAll(treeHost(tree), true)).toEqual([]);
  });

  it('refuses an app whose namespace in one environment is another app\'s in another, and writes nothing of it', async () => {
    await initGenerator(tree, {});
    generateApp(treeHost(tree), WHOAMI);
    const before = treeFiles(tree);

    expect(() => generateApp(treeHost(tree), { name: 'whoami-dev', image: 'traefik/whoami:v1.10.4', port: 80, environments: 'prod' })).toThrow(
      'app whoami-dev in prod and app whoami in dev would share namespace whoami-dev on https://kubernetes.default.svc; rename one of the apps',
    );
    expect(treeFiles(tree)).toEqual(before);
  });

  it('makes the default store read Kubernetes Secrets as its reader ServiceAccount, a placeholder spec that leaves Compose on environment variables', async () => {
    await initGenerator(tree, {});

    const docs = readDocs(tree, 'platform/secrets/stores/homelab.yaml');
    const store = docs.find((d) => d.kind === 'ClusterSecretStore');
    expect(store.apiVersion).toBe('external-secrets.io/v1');
    expect(store.metadata.name).toBe('homelab');
    expect(store.spec.provider.kubernetes.remoteNamespace).toBe('homelab-secrets');
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'Role', 'RoleBinding', 'ClusterSecretStore']);
    expect(store.spec.provider.kubernetes.auth.serviceAccount).toEqual({ name: 'external-secrets-reader', namespace: 'homelab-secrets' });
    expect(readDoc(tree, 'platform/secrets/specs/homelab.yaml').compose).toBeUndefined();
  });

  it('changes no byte when run again', async () => {
    await initGenerator(tree, {});
    const before = treeFiles(tree);
    const after = changes();

    await initGenerator(tree, {});

    expect(treeFiles(tree)).toEqual(before);
    expect(changes()).toEqual(after);
  });

  it('keeps the user\'s files (the bootstrap kustomization, a store without spec) and restores a hand-edited generated file', async () => {
    tree.write('platform/secrets/stores/homelab.yaml', 'apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: homelab\n');
    await initGenerator(tree, {});
    const mine = `${readText(tree, `${BOOTSTRAP}/kustomization.yaml`)}# my patch\n`;
    tree.write(`${BOOTSTRAP}/kustomization.yaml`, mine);
    const root = readText(tree, `${BOOTSTRAP}/root.yaml`);
    tree.write(`${BOOTSTRAP}/root.yaml`, root.replace('prune: true', 'prune: false'));

    await initGenerator(tree, {});

    expect(readText(tree, `${BOOTSTRAP}/kustomization.yaml`)).toBe(mine);
    expect(readText(tree, `${BOOTSTRAP}/root.yaml`)).toBe(root);
    expect(readText(tree, 'platform/secrets/stores/homelab.yaml')).toContain('name: homelab\n');
    expect(tree.exists('platform/secrets/specs/homelab.yaml')).toBe(false);
  });

  it('sets gitops.repoURL from --repo-url, keeping homelab.yaml\'s comments, and renders with it', async () => {
    await initGenerator(tree, { repoUrl: 'https://git.example.org/me/homelab.git' });

    const text = readText(tree, 'homelab.yaml');
    expect(text).toContain('# The URL ArgoCD clones this repository from.');
    expect(parseDoc(text).gitops.repoURL).toBe('https://git.example.org/me/homelab.git');
    expect(readDoc(tree, `${BOOTSTRAP}/root.yaml`).spec.source.repoURL).toBe('https://git.example.org/me/homelab.git');
  });

  it('creates homelab.yaml with two environments when it is missing and --repo-url is given', async () => {
    tree.delete('homelab.yaml');

    await initGenerator(tree, { repoUrl: 'git@git.example.org:me/homelab.git' });

    const config = readDoc(tree, 'homelab.yaml');
    // The hosts written out, so the hosts-per-environment migration leaves the file as it is.
    expect(config.environments).toEqual([
      { name: 'dev', namespaceSuffix: '-dev', hostPattern: '{label}.{env}.{domain}' },
      { name: 'prod', protected: true, hostPattern: '{host}' },
    ]);
    expect(config.gitops.repoURL).toBe('git@git.example.org:me/homelab.git');
  });

  const notes = () => vi.mocked(logger.info).mock.calls.map(([message]) => String(message));
  const renovate = () => parseRenovateConfig(readText(tree, RENOVATE_FILE)) as { packageRules: { automerge?: boolean; matchUpdateTypes?: string[] }[]; ignorePaths: string[] };

  it('writes a Renovate configuration that keeps Renovate off every generated tree and merges nothing by itself', async () => {
    await initGenerator(tree, {});

    expect(renovate().ignorePaths).toEqual(expect.arrayContaining(['applications/kubernetes/**', 'applications/compose/**', 'infrastructure/kubernetes/**', 'infrastructure/compose/**', 'platform/argocd/applications/**']));
    expect(renovate().packageRules.filter((rule) => rule.automerge === true)).toEqual([]);
  });

  it('with --automerge lets Renovate merge patch and digest updates, never majors', async () => {
    await initGenerator(tree, { automerge: true });

    const rules = renovate().packageRules;
    expect(rules.filter((rule) => rule.automerge === true).map((rule) => rule.matchUpdateTypes)).toEqual([['patch', 'digest']]);
    // Later rules win in Renovate: the majors' rule comes after the automerge rule.
    const majors = rules.findIndex((rule) => rule.matchUpdateTypes?.includes('major'));
    expect(rules[majors].automerge).toBe(false);
    expect(majors).toBeGreaterThan(rules.findIndex((rule) => rule.automerge === true));
  });

  it('keeps the owner\'s edited renovate.json5, says so in one line, and changes nothing else', async () => {
    await initGenerator(tree, {});
    const mine = readText(tree, RENOVATE_FILE).replace('before 6am on monday', 'every weekend');
    tree.write(RENOVATE_FILE, mine);
    const before = treeFiles(tree);

    await initGenerator(tree, { automerge: true });

    expect(readText(tree, RENOVATE_FILE)).toBe(mine);
    expect(treeFiles(tree)).toEqual(before);
    expect(notes()).toContainEqual(expect.stringContaining(`kept your Renovate configuration ${RENOVATE_FILE}: it differs from what homelab writes`));
  });

  it('writes no renovate.json5 beside a Renovate configuration the workspace already has, and says which one it kept', async () => {
    tree.write('.github/renovate.json', '{ "extends": ["config:recommended"] }\n');

    await initGenerator(tree, {});

    expect(tree.exists(RENOVATE_FILE)).toBe(false);
    expect(notes()).toContainEqual(expect.stringContaining('kept your Renovate configuration .github/renovate.json'));
  });

  it.each([
    { case: 'a missing homelab.yaml without --repo-url', setup: (t: Tree) => t.delete('homelab.yaml'), options: {}, message: 'homelab.yaml is missing; pass --repo-url <the Git URL ArgoCD clones> to create it' },
    { case: 'a --repo-url that is no Git URL', setup: () => undefined, options: { repoUrl: 'not a url' }, message: '--repo-url "not a url" is not a Git URL; use the URL ArgoCD clones' },
    { case: 'an --automerge that is no boolean', setup: () => undefined, options: { automerge: 'yes' as unknown as boolean }, message: '--automerge "yes" is not a boolean; pass --automerge or --no-automerge' },
  ])('refuses $case with one line naming the value and the fix, and writes nothing', async ({ setup, options, message }) => {
    setup(tree);
    const before = treeFiles(tree);

    const error = await initGenerator(tree, options).then(() => new Error('expected a refusal'), (e: Error) => e);

    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
    expect(treeFiles(tree)).toEqual(before);
  });
});
