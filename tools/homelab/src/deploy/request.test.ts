import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFiles } from '../../../../scripts/lib/temp-workspace';
import { absenceNotice, resolveRequest } from './request';

/** A workspace with web on Compose in dev and prod, and on Kubernetes in dev only. */
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-request-test-'));
  const files: Record<string, string> = {
    'homelab.yaml': [
      'environments:',
      '  - name: dev',
      '    namespaceSuffix: -dev',
      '    kubernetes: { argocd: false, context: kind-homelab }',
      "    secrets: { source: file, path: '~/.config/homelab/{env}/{app}.env' }",
      '  - name: prod',
      '    protected: true',
      'gitops: { repoURL: https://git.example/homelab.git }',
      '',
    ].join('\n'),
    'applications/compose/environments/dev/web/compose.generated.yaml': 'name: web-dev\n',
    'applications/compose/environments/prod/web/compose.generated.yaml': 'name: web\n',
    'applications/kubernetes/overlays/dev/web/kustomization.yaml': 'resources: []\n',
    'platform/argocd/applications/dev/web.yaml': 'metadata: { name: web-dev, namespace: argocd }\nspec: { destination: { namespace: web-dev } }\n',
  };
  writeFiles(root, files);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('deploy options against the workspace', () => {
  it('takes the environment settings of homelab.yaml and defaults to Compose', () => {
    const request = resolveRequest(root, 'web', { layer: 'applications', env: 'dev' });
    expect(request).toMatchObject({
      platform: 'compose',
      dryRun: false,
      settings: { name: 'dev', secrets: { source: 'file', path: '~/.config/homelab/{env}/{app}.env' } },
      kubernetes: { argocd: false, context: 'kind-homelab', argocdApp: 'web-dev', namespace: 'web-dev' },
    });
  });

  describe('restore-drill options', () => {
    it('carries --keep and --scratch-size (lower-cased) to the drill; a deploy has none', () => {
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'dev', keep: true, scratchSize: '64M' }, 'restore-drill').drill).toEqual({ keep: true, scratchSize: '64m' });
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'dev' }, 'restore-drill').drill).toEqual({ keep: false });
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'dev' }).drill).toBeUndefined();
    });

    it.each(['0', '1.5g', 'big', '-1m', '64 mb'])('refuses --scratch-size %s in one line that says how to write a size', (size) => {
      expect(() => resolveRequest(root, 'web', { layer: 'applications', env: 'dev', scratchSize: size }, 'restore-drill')).toThrow(
        `web (dev): --scratch-size ${JSON.stringify(size)} is not a size; give bytes with k, m or g, e.g. --scratch-size 512m`,
      );
    });
  });

  describe('where a Compose deploy reads secret values', () => {
    const OP = { cli: 'op', credentials: ['OP_SERVICE_ACCOUNT_TOKEN'], read: ['op', 'read', 'op://homelab/{remoteKey}/{property}'] };
    const withStore = () =>
      writeFiles(root, {
        'platform/secrets/specs/onepassword.yaml': `name: onepassword\nprovider: onepassword\nsettings: { mode: sdk, vault: homelab }\ncompose: { cli: op, credentials: [OP_SERVICE_ACCOUNT_TOKEN], read: [op, read, "op://homelab/{remoteKey}/{property}"] }\n`,
        'homelab.yaml': fs.readFileSync(path.join(root, 'homelab.yaml'), 'utf8').replace('gitops:', 'secrets: { store: onepassword }\ngitops:'),
        'infrastructure/specs/monitoring.yaml': 'name: monitoring\n',
        'infrastructure/compose/environments/prod/monitoring/compose.generated.yaml': 'name: monitoring\n',
      });

    it('an environment without its own source reads the workspace store with its CLI, for apps and components alike', () => {
      withStore();
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'prod' }).compose.secrets).toEqual({ source: 'store', store: 'onepassword', compose: OP });
      expect(resolveRequest(root, 'monitoring', { layer: 'infrastructure', env: 'prod' }).compose.secrets).toEqual({ source: 'store', store: 'onepassword', compose: OP });
    });

    it("an environment's own source wins over the store", () => {
      withStore();
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'dev' }).compose.secrets).toEqual({ source: 'file', path: '~/.config/homelab/{env}/{app}.env' });
    });

    it('a store without a spec (a ClusterSecretStore written by hand, as a fresh clone ships) leaves environment variables', () => {
      writeFiles(root, { 'platform/secrets/stores/homelab.yaml': 'kind: ClusterSecretStore\n' });
      expect(resolveRequest(root, 'web', { layer: 'applications', env: 'prod' }).compose.secrets).toBeUndefined();
    });
  });

  it('marks a protected environment', () => {
    expect(resolveRequest(root, 'web', { layer: 'applications', env: 'prod' }).settings.protected).toBe(true);
  });

  it.each([
    [{}, '--env is required; use one of "dev", "prod"'],
    [{ env: 'staging' }, '--env "staging" is not an environment of this project; use one of "dev", "prod"'],
    [{ env: 'prod', platform: 'kubernetes' as const }, 'web: has no kubernetes files for prod; use --platform compose'],
  ])('refuses %j in one line', (options, message) => {
    expect(() => resolveRequest(root, 'web', { layer: 'applications', ...options })).toThrow(message);
  });

  describe('deleting data has a confirmation of its own', () => {
    const down = (options: Record<string, unknown>) => resolveRequest(root, 'web', { layer: 'applications', env: 'prod', ...options }, 'down');

    it.each([
      ['--volumes --yes', { volumes: true, yes: true }],
      ['--volumes --yes on Kubernetes', { env: 'dev', platform: 'kubernetes', volumes: true, yes: true }],
    ])('refuses %s without --delete-data, naming the flag', (_how, options) => {
      const env = (options as { env?: string }).env ?? 'prod';
      expect(() => down(options)).toThrow(
        `web (${env}): --volumes deletes the data of web in ${env} (its volumes); confirm it with --delete-data=web (--yes and CI=true do not); nothing was changed`,
      );
    });

    it('goes ahead with --delete-data=<project>, and plans a dry run without it', () => {
      expect(down({ volumes: true, deleteData: 'web' }).volumes).toBe(true);
      expect(down({ volumes: true, dryRun: true }).volumes).toBe(true);
      expect(down({}).volumes).toBe(false);
    });

    it.each([
      [{ volumes: true, deleteData: 'shop' }, '--delete-data="shop" does not name this project; use --delete-data=web'],
      [{ volumes: true, deleteData: true }, '--delete-data="true" does not name this project; use --delete-data=web'],
      [{ deleteData: 'web' }, '--delete-data=web confirms deleting volumes, but --volumes is not set'],
    ])('refuses %j in one line', (options, message) => {
      expect(() => down(options)).toThrow(message);
    });

    it('belongs to down only', () => {
      expect(() => resolveRequest(root, 'web', { layer: 'applications', env: 'dev', deleteData: 'web' }, 'deploy')).toThrow('--delete-data belongs to down --volumes, not to deploy');
    });
  });
});

describe('an environment the project is not in', () => {
  /**
   * postgres (Kubernetes and Compose) and cert-manager (Kubernetes only) installed by prod,
   * for the cluster and Docker host dev shares; lab has its own of both, edge its own
   * Docker host on prod's cluster. The app shop runs in prod and lab only.
   */
  beforeEach(() => {
    const files: Record<string, string> = {
      'homelab.yaml': [
        'environments:',
        '  - name: dev',
        '    namespaceSuffix: -dev',
        '  - name: prod',
        '    protected: true',
        '  - name: lab',
        '    kubernetes: { server: "https://lab.home.arpa:6443" }',
        '    compose: { context: lab }',
        '  - name: edge',
        '    compose: { context: edge }',
        'gitops: { repoURL: https://git.example/homelab.git }',
        '',
      ].join('\n'),
      'infrastructure/specs/postgres.yaml': 'name: postgres\n',
      'infrastructure/compose/environments/prod/postgres/compose.generated.yaml': 'name: postgres\n',
      'infrastructure/kubernetes/overlays/prod/postgres/kustomization.yaml': 'resources: []\n',
      'infrastructure/specs/cert-manager.yaml': 'name: cert-manager\n',
      'infrastructure/kubernetes/overlays/prod/cert-manager/kustomization.yaml': 'resources: []\n',
      'applications/specs/web.yaml': 'name: web\n',
      'applications/specs/shop.yaml': 'name: shop\nenvironments:\n  prod: {}\n  lab: {}\n',
      'applications/compose/environments/prod/shop/compose.generated.yaml': 'name: shop\n',
    };
    writeFiles(root, files);
  });

  it.each([
    ['postgres', 'dev', "postgres (dev): nothing to deploy: dev uses postgres as installed for prod's cluster and prod's Docker host (one installation per cluster and Docker host); deploy it with --env prod"],
    ['cert-manager', 'edge', "cert-manager (edge): nothing to deploy: edge uses cert-manager as installed for prod's cluster (one installation per cluster and Docker host); deploy it with --env prod"],
    ['shop', 'dev', 'shop (dev): nothing to deploy: its spec runs it in "prod", "lab" only'],
  ] as const)('%s in %s is a no-op that says where it is', (project, env, notice) => {
    const layer = project === 'shop' ? 'applications' : 'infrastructure';
    expect(absenceNotice(root, project, { layer, env })).toBe(notice);
  });

  it('says "remove" for down', () => {
    expect(absenceNotice(root, 'postgres', { layer: 'infrastructure', env: 'dev' }, 'down')).toMatch(/^postgres \(dev\): nothing to remove: /);
  });

  it('says "drill" for restore-drill', () => {
    expect(absenceNotice(root, 'shop', { layer: 'applications', env: 'dev' }, 'restore-drill')).toBe('shop (dev): nothing to drill: its spec runs it in "prod", "lab" only');
  });

  it.each([
    ['the project has files there', 'postgres', 'infrastructure', 'prod'],
    ['the environment installs its own and has no files (run nx sync)', 'postgres', 'infrastructure', 'lab'],
    ['the environment has its own Docker host for a component on Compose, and no files (run nx sync)', 'postgres', 'infrastructure', 'edge'],
    ['the environment is not in homelab.yaml', 'postgres', 'infrastructure', 'staging'],
    ['the app runs in every environment and has no files there (run nx sync)', 'web', 'applications', 'dev'],
    ['the app lists the environment and has no files there (run nx sync)', 'shop', 'applications', 'lab'],
  ] as const)('leaves it to resolveRequest when %s', (_, project, layer, env) => {
    expect(absenceNotice(root, project, { layer, env })).toBeNull();
  });
});
