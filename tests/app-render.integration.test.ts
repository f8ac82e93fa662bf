import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import type { AppOptions } from '../tools/homelab/src/app/options';
import { diskHost } from '../tools/homelab/src/host';
import { generateInfra } from '../tools/homelab/src/component/generate';
import { generateInit } from '../tools/homelab/src/platform/init';
import type { AppSpec } from '../tools/homelab/src/spec/types';
import { composeForm, HOSTILE_COMMAND, HOSTILE_ENV, kubernetesForm } from './support/hostile';
import { specOf, VAULT_ANSWERS, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML, workspaceYamlWith } from './support/workspace';

/**
 * Every overlay of every generated app builds with the real `kubectl kustomize`, and every
 * environment merges with the real `docker compose config`. CI never skips this file:
 * without the tools it fails there (see tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

interface AppCase {
  name: string;
  /** Answers for generateApp, or a hand-written spec rendered by syncAll. */
  options?: AppOptions;
  spec?: AppSpec;
  envs: string[];
  workload: 'Deployment' | 'StatefulSet';
  image: string;
  replicas: Record<string, number>;
  /** Kinds the overlay must hold, in addition to the ones every app has. */
  kinds: string[];
  host?: Record<string, string>;
}
interface WorkspaceCase {
  id: string;
  homelabYaml: string;
  /** Infrastructure components installed before the apps (an app's dependsOn names one). */
  components?: string[];
  apps: AppCase[];
}

/** Every app renders these, whatever its options. */
const COMMON_KINDS = ['ServiceAccount', 'Service', 'NetworkPolicy', 'ConfigMap', 'PrometheusRule', 'ResourceQuota', 'LimitRange'];

const TUNED_SPEC = specOf('tuned', {
  ports: [
    { name: 'http', port: 8080, http: true },
    { name: 'metrics', port: 9100 },
  ],
  env: { ...HOSTILE_ENV },
  health: { command: [...HOSTILE_COMMAND], startGraceSeconds: 10 },
  ingress: { host: 'tuned.example.org' },
  monitoring: { metrics: { port: 'metrics' } },
  network: { allowInternet: true },
  dependsOn: ['postgres'],
  resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  environments: { dev: { replicas: 2, host: '*.dev.example.org', env: { YES: 'no', ONLY_DEV: '0X1F' } }, prod: { replicas: 0 } },
});

const WORKSPACES: WorkspaceCase[] = [
  {
    id: 'default',
    homelabYaml: WORKSPACE_YAML,
    components: ['postgres'],
    apps: [
      {
        name: 'whoami',
        options: { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 },
        envs: ['dev', 'prod'],
        workload: 'Deployment',
        image: 'traefik/whoami:v1.10.4',
        replicas: { dev: 1, prod: 1 },
        kinds: [],
      },
      {
        name: 'vault',
        options: { ...VAULT_ANSWERS },
        envs: ['dev', 'prod'],
        workload: 'StatefulSet',
        image: 'ghcr.io/example/vault:1.2.3',
        replicas: { dev: 1, prod: 1 },
        kinds: ['PersistentVolumeClaim', 'ExternalSecret', 'Ingress', 'ReplicationSource'],
        // dev is not protected: its host has its name after the first label (docs/spec.md, "Hosts").
        host: { dev: 'vault.dev.home.example.org', prod: 'vault.home.example.org' },
      },
      {
        name: 'solo',
        options: {
          name: 'solo',
          image: `registry.home.arpa:5000/solo@sha256:${'0'.repeat(64)}`,
          port: 3000,
          secrets: 'TOKEN',
          host: 'solo.example.org',
          environments: 'prod',
        },
        envs: ['prod'],
        workload: 'Deployment',
        image: `registry.home.arpa:5000/solo@sha256:${'0'.repeat(64)}`,
        replicas: { prod: 1 },
        kinds: ['ExternalSecret', 'Ingress'],
        host: { prod: 'solo.example.org' },
      },
      {
        name: 'tuned',
        spec: TUNED_SPEC,
        envs: ['dev', 'prod'],
        workload: 'Deployment',
        image: 'traefik/whoami:v1.10.4',
        replicas: { dev: 2, prod: 0 },
        kinds: ['Ingress', 'ServiceMonitor'],
        host: { dev: '*.dev.example.org', prod: 'tuned.example.org' },
      },
    ],
  },
  {
    id: 'velero-httproute',
    homelabYaml: workspaceYamlWith((c) => {
      c.backup.provider = 'velero';
      c.ingress = { kind: 'httproute', gateway: { name: 'main', namespace: 'gateways' } };
    }),
    apps: [
      {
        name: 'files',
        spec: specOf('files', {
          volumes: [{ name: 'data', size: '5Gi', mountPath: '/srv' }],
          ingress: { host: 'files.example.org' },
          environments: { dev: { host: 'files.dev.example.org' }, prod: {} },
        }),
        envs: ['dev', 'prod'],
        workload: 'StatefulSet',
        image: 'traefik/whoami:v1.10.4',
        replicas: { dev: 1, prod: 1 },
        kinds: ['PersistentVolumeClaim', 'HTTPRoute', 'Schedule'],
      },
    ],
  },
  {
    id: 'k8up',
    homelabYaml: workspaceYamlWith((c) => {
      c.backup = { provider: 'k8up', s3: { endpoint: 'https://s3.example.org', bucket: 'homelab' } };
    }),
    apps: [
      {
        name: 'notes',
        options: { name: 'notes', image: 'ghcr.io/example/notes:0.9', port: 8000, volumes: 'data:2Gi:/data' },
        envs: ['dev', 'prod'],
        workload: 'StatefulSet',
        image: 'ghcr.io/example/notes:0.9',
        replicas: { dev: 1, prod: 1 },
        kinds: ['PersistentVolumeClaim', 'Schedule', 'ExternalSecret'],
      },
    ],
  },
];

const roots = new Map<string, string>();

beforeAll(() => {
  for (const ws of WORKSPACES) {
    const root = makeDiskWorkspace(`render-${ws.id}`, ws.homelabYaml);
    roots.set(ws.id, root);
    const host = diskHost(root);
    // Components need the platform bootstrap (homelab:init) first, as on a real workspace.
    if (ws.components) generateInit(host, {});
    for (const component of ws.components ?? []) generateInfra(host, { component });
    for (const app of ws.apps) {
      if (app.options) generateApp(host, app.options);
      else writeSpec(host, app.spec!);
    }
    syncAll(host);
  }
});
afterAll(() => {
  for (const root of roots.values()) removeDir(root);
});

const ROWS = WORKSPACES.flatMap((ws) => ws.apps.flatMap((app) => app.envs.map((env) => ({ ws: ws.id, app, env, label: `${ws.id}/${app.name}/${env}` }))));

type Resource = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any };

function kustomize(ws: string, app: string, env: string): Resource[] {
  const root = roots.get(ws)!;
  const result = run('kubectl', ['kustomize', path.join(root, 'applications/kubernetes/overlays', env, app)]);
  expect(result.stderr, 'kubectl kustomize stderr').toBe('');
  expect(result.status, result.stderr).toBe(0);
  return parseDocs(result.stdout);
}

function composeConfig(ws: string, app: string, env: string, profiles: string[] = []): any {
  const root = roots.get(ws)!;
  const files = [
    `applications/compose/base/${app}/compose.yaml`,
    `applications/compose/environments/${env}/${app}/compose.generated.yaml`,
    `applications/compose/environments/${env}/${app}/compose.override.yaml`,
  ];
  const result = run('docker', ['compose', ...files.flatMap((f) => ['-f', path.join(root, f)]), ...profiles.flatMap((p) => ['--profile', p]), 'config', '--format', 'json'], {
    env: { ...process.env, HOMELAB_ENV_FILE: undefined },
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe.skipIf(kubectl.skip)('kubectl kustomize builds every overlay', () => {
  it.each(ROWS)('builds $label with every kind, the image and the replicas', ({ ws, app, env }) => {
    const resources = kustomize(ws, app.name, env);

    const kinds = [...new Set(resources.map((r) => r.kind))].sort();
    // A workload of more than one replica in the environment has its PodDisruptionBudget there.
    const budget = app.replicas[env] > 1 ? ['PodDisruptionBudget'] : [];
    expect(kinds).toEqual([...new Set([...COMMON_KINDS, app.workload, ...app.kinds, ...budget])].sort());
    const workload = resources.find((r) => r.kind === app.workload)!;
    expect(workload.metadata.name).toBe(app.name);
    expect(workload.spec.replicas).toBe(app.replicas[env]);
    expect(workload.spec.template.spec.containers[0].image).toBe(app.image);
    expect(workload.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it.each(ROWS.filter((r) => r.app.host))('routes $label to its host', ({ ws, app, env }) => {
    const ingress = kustomize(ws, app.name, env).find((r) => r.kind === 'Ingress')!;

    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual([app.host![env]]);
    expect(ingress.spec.tls[0].hosts).toEqual([app.host![env]]);
  });

  it('patches the HTTPRoute hostname per environment', () => {
    const hostnames = (env: string) => kustomize('velero-httproute', 'files', env).find((r) => r.kind === 'HTTPRoute')!.spec.hostnames;

    expect(hostnames('dev')).toEqual(['files.dev.example.org']);
    expect(hostnames('prod')).toEqual(['files.example.org']);
  });

  it('keeps every hostile env value exact through kustomize, with the environment overrides merged', () => {
    const container = (env: string) => kustomize('default', 'tuned', env).find((r) => r.kind === 'Deployment')!.spec.template.spec.containers[0];
    // kustomize reads the escaped U+2028/U+2029/U+0085 of our files, but its own output writes them
    // as raw line breaks (go-yaml), which no YAML 1.2 reader can give back: that value is checked on
    // the rendered files themselves (generators/app/generator.test.ts) and through Compose below.
    const { LINE_SEPARATOR: _unreadable, ...readable } = HOSTILE_ENV;
    const asList = (env: Record<string, string>) =>
      Object.keys(env)
        .sort()
        .map((name) => ({ name, value: kubernetesForm(env[name]) }));
    const withoutUnreadable = (env: { name: string }[]) => env.filter((e) => e.name !== 'LINE_SEPARATOR');

    // The kubelet reads $$ as $ and expands $(VAR): the objects hold the form that gives back each value as written.
    expect(withoutUnreadable(container('prod').env)).toEqual(asList(readable));
    expect(withoutUnreadable(container('dev').env)).toEqual(asList({ ...readable, YES: 'no', ONLY_DEV: '0X1F' }));
    expect(container('prod').livenessProbe.exec.command).toEqual(HOSTILE_COMMAND);
  });
});

describe.skipIf(compose.skip)('docker compose config merges every environment', () => {
  it.each(ROWS)('merges $label with the hardened service', ({ ws, app, env }) => {
    const config = composeConfig(ws, app.name, env);

    expect(config.name).toBe(env === 'prod' ? app.name : `${app.name}-${env}`);
    const service = config.services[app.name];
    expect(service.image).toBe(app.image);
    expect(service.deploy.replicas).toBe(app.replicas[env]);
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.security_opt).toEqual(['no-new-privileges:true']);
    if (app.options) {
      // Generated apps are probed from outside the container by deploy (health.probe: outside).
      expect(service.healthcheck).toBeUndefined();
      expect(service.labels['homelab.health.probe']).toBe('outside');
    } else {
      // Hand-written specs without health.probe keep the in-container check.
      expect(service.healthcheck.test[0]).toBe('CMD');
    }
    expect(Number(service.deploy.resources.limits.memory)).toBeGreaterThan(0);
  });

  it.each(ROWS.filter((r) => r.app.host))('routes $label to its host through Traefik labels', ({ ws, app, env }) => {
    const labels = composeConfig(ws, app.name, env).services[app.name].labels;
    const router = env === 'prod' ? app.name : `${app.name}-${env}`;

    expect(labels[`traefik.http.routers.${router}.rule`]).toBe(`Host(\`${app.host![env]}\`)`);
  });

  it('keeps every hostile env value and health command item exact through compose interpolation', () => {
    const service = (env: string) => composeConfig('default', 'tuned', env).services.tuned;
    // `compose config` prints a valid Compose file, so it escapes each `$` of the interpolated
    // value again: `pa$$word` prints as `pa$$$$word`. Without the doubling in the rendered
    // file it would print `pa$$word`, and `${UNSET:?boom}` would fail the command.
    const printed = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, composeForm(v)]));

    expect(service('prod').environment).toEqual(printed(HOSTILE_ENV));
    expect(service('dev').environment).toEqual(printed({ ...HOSTILE_ENV, YES: 'no', ONLY_DEV: '0X1F' }));
    expect(service('prod').healthcheck.test).toEqual(['CMD', ...HOSTILE_COMMAND.map(composeForm)]);
  });

  it("mounts each volume, and each backed-up volume read-only in its own restic mover of the profile backup", () => {
    const config = composeConfig('default', 'vault', 'dev');

    expect(config.services.vault.volumes.map((v: { source: string; target: string }) => [v.source, v.target])).toEqual([
      ['data', '/data'],
      ['cache', '/var/cache/vault'],
    ]);
    // No label of a host-wide backup container: the app's own movers back its volumes up (docs/backup.md).
    expect(Object.keys(config.services.vault.labels).filter((l) => l.startsWith('docker-volume-backup'))).toEqual([]);
    expect(Object.keys(config.services).filter((s) => s.startsWith('backup-'))).toEqual([]);
    const movers = composeConfig('default', 'vault', 'dev', ['backup']).services;
    const mover = movers['backup-data'];
    expect(mover.profiles).toEqual(['backup']);
    expect(mover.volumes).toContainEqual(expect.objectContaining({ type: 'volume', source: 'data', target: '/data', read_only: true }));
  });
});
