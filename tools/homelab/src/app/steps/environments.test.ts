import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import { chooseEnvironments, normalizeEnvironment } from './environments';
import { NO_HEALTH } from './health';
import { NO_REPLICA_SPEC } from './replicas';
import { normalizeSecurity } from './security';
import type { BackupAlertVolume } from './signals';

const WHERE = 'applications/specs/web.yaml';
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const single = { hasVolumes: false, replicas: 1 };
const base = {
  replicas: 1,
  host: 'web.example.org',
  envHost: 'web.example.org',
  env: [{ name: 'A', value: '1' }],
  tls: true,
  ingressPort: 8080,
  hasIngress: true,
  ingressService: 'web',
  ingressHealth: NO_HEALTH,
  composeServices: ['web'],
  networks: { shared: ['web'], internal: true, notInternal: null },
  alertTargets: [{ kind: 'Deployment' as const, name: 'web' }],
  cron: [],
  labels: { 'app.kubernetes.io/name': 'web' },
  overrides: {
    where: WHERE,
    shorthand: true,
    services: [
      {
        name: 'web',
        kind: 'Deployment' as const,
        replicas: 1,
        env: [{ name: 'A', value: '1' }],
        imageSpec: { repository: 'traefik/whoami', tag: 'v1.10.4' },
        resources: { requests: { memory: '64Mi' }, limits: { memory: '256Mi' } },
        security: normalizeSecurity({}),
        health: NO_HEALTH,
        schedule: null,
        selector: { 'app.kubernetes.io/name': 'web' },
        replicaSpec: NO_REPLICA_SPEC,
        spread: null,
      },
    ],
  },
  alerts: false,
  backup: { provider: 'volsync' as const, schedule: '0 3 * * *', intervalSeconds: 86400, volumes: [] as { name: string; resticSecret: string }[], watched: { kubernetes: [] as BackupAlertVolume[], compose: [] as BackupAlertVolume[] } },
  database: { enabled: false, name: '', owner: '', secretData: [], composeEnv: [], compose: null },
  databaseServices: [],
};

describe('chooseEnvironments', () => {
  it("takes the spec's environments, else the workspace's", () => {
    expect(chooseEnvironments(specOf('web', { environments: { prod: {} } }), workspace, WHERE, single).map((e) => e.name)).toEqual(['prod']);
    expect(chooseEnvironments(specOf('web'), workspace, WHERE, single).map((e) => e.name)).toEqual(workspace.environments.map((e) => e.name));
  });

  it.each([
    ['no environment', { environments: {} }, single, 'environments is empty'],
    ['an environment homelab.yaml lacks', { environments: { staging: {} } }, single, 'environment "staging" is not defined in homelab.yaml'],
    ['replicas with volumes', { environments: { prod: { replicas: 2 } } }, { hasVolumes: true, replicas: 1 }, 'replicas above 1 with volumes'],
  ])('refuses %s', (_what, overrides, counts, message) => {
    expect(() => chooseEnvironments(specOf('web', overrides), workspace, WHERE, counts)).toThrow(message);
  });
});

describe('chooseEnvironments and Kubernetes\' own namespaces', () => {
  const unsuffixed = workspace.environments.find((e) => (e.namespaceSuffix ?? '') === '')!;

  it.each(['default', 'kube-system', 'kube-public', 'kube-node-lease'])('refuses an app that would live in %s, naming the environment and the fix', (name) => {
    expect(() => chooseEnvironments(specOf(name), workspace, WHERE, single)).toThrow(
      `${WHERE}: the app would live in Kubernetes' own namespace "${name}" in "${unsuffixed.name}"; rename the app, or give "${unsuffixed.name}" a namespaceSuffix in homelab.yaml`,
    );
  });

  it('accepts the same name where a suffix keeps it apart', () => {
    const suffixed = workspace.environments.filter((e) => (e.namespaceSuffix ?? '') !== '').map((e) => e.name);
    expect(suffixed.length).toBeGreaterThan(0);

    const spec = specOf('default', { environments: Object.fromEntries(suffixed.map((e) => [e, {}])) });
    expect(chooseEnvironments(spec, workspace, WHERE, single).map((e) => e.name)).toEqual(suffixed);
  });
});

describe('normalizeEnvironment', () => {
  const dev = workspace.environments.find((e) => e.name === 'dev')!;

  it('patches only what the environment overrides', () => {
    const env = normalizeEnvironment('web', dev, { env: { B: '2' } }, base);

    expect(env).toMatchObject({ namespace: `web${dev.namespaceSuffix ?? ''}`, replicasChanged: false, hostChanged: false, envChanged: true, patches: ['workload-patch.yaml'] });
    expect(env.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it("gives a cron service the environment's schedule: the CronJob patch, the crontab and the schedule label", () => {
    const cron = { ...base.overrides.services[0], name: 'sweep', kind: 'CronJob' as const, schedule: '0 3 * * *' };
    const withCron = { ...base, composeServices: ['web', 'sweep'], cron: [{ service: 'sweep', schedule: '0 3 * * *' }], overrides: { ...base.overrides, shorthand: false, services: [base.overrides.services[0], cron] } };

    const env = normalizeEnvironment('files', dev, { services: { sweep: { schedule: '*/15 * * * *' } } }, withCron);

    expect(env.patches).toEqual(['workload-patch.yaml']);
    expect(env.workloadPatches).toMatchObject([{ name: 'sweep', isCron: true, scheduleChanged: true, schedule: '*/15 * * * *', hasTemplate: false, composeChanged: true }]);
    expect(env.crontab).toBe(`*/15 * * * * docker start -a files${dev.namespaceSuffix ?? ''}-sweep-1\n`);
    expect(env.composeServices.find((s) => s.name === 'sweep')).toMatchObject({ composeLabels: { 'homelab.schedule': '*/15 * * * *' }, hasComposeLabels: true, hasOverrides: true });
  });

  it("routes the host through Traefik on Compose, on the environment's network, with TLS from letsencrypt", () => {
    // The environment's host comes from steps/hosts.ts (appHost), which hosts.test.ts covers.
    const env = normalizeEnvironment('web', dev, {}, { ...base, envHost: 'web.dev.example.org' });
    const router = `web${dev.namespaceSuffix ?? ''}`;

    expect(env.patches).toEqual(['ingress-patch.yaml']);
    expect(env.composeLabels).toEqual({
      'traefik.enable': 'true',
      'traefik.docker.network': 'homelab-dev',
      [`traefik.http.routers.${router}.rule`]: 'Host(`web.dev.example.org`)',
      [`traefik.http.services.${router}.loadbalancer.server.port`]: '8080',
      [`traefik.http.routers.${router}.tls.certresolver`]: 'letsencrypt',
    });
  });

  it("puts the services that need a shared component on the environment's network, each beside its project's default", () => {
    const prod = workspace.environments.find((e) => e.name === 'prod')!;
    const stack = { ...base, composeServices: ['web', 'worker'], networks: { shared: ['web'], internal: true, notInternal: null } };

    const inDev = normalizeEnvironment('web', dev, {}, stack);
    const inProd = normalizeEnvironment('web', prod, {}, stack);

    expect(inDev.sharedNetwork).toBe('homelab-dev');
    expect(inProd.sharedNetwork).toBe('homelab-prod');
    expect(inDev.composeServices.map((s) => [s.name, s.networks, s.hasOverrides])).toEqual([
      ['web', ['default', 'homelab-dev'], true],
      ['worker', null, false],
    ]);
    expect(inProd.composeServices[0].networks).toEqual(['default', 'homelab-prod']);
  });

  it('declares no shared network where no service needs one', () => {
    const env = normalizeEnvironment('web', dev, {}, { ...base, hasIngress: false, networks: { shared: [], internal: true, notInternal: null } });

    expect(env.sharedNetwork).toBeNull();
    expect(env.composeServices).toMatchObject([{ name: 'web', networks: null, hasOverrides: false }]);
  });

  describe('the stale-backup alert (<App>BackupStale) beside the app alerts', () => {
    const data = { name: 'data', resticSecret: 'web-data-restic' };
    const watched = { kubernetes: [{ name: 'data', replicationSource: 'web-data', dumpCronJob: null }], compose: [{ name: 'data', replicationSource: null, dumpCronJob: null }] };
    const withData = { ...base, alerts: true, backup: { ...base.backup, volumes: [data], watched } };
    const names = (rules: { alert: string }[]) => rules.map((r) => r.alert);

    it("watches each backed-up volume on both platforms: VolSync's ReplicationSource of its claim, the mover's metric of its Compose project", () => {
      const env = normalizeEnvironment('web', dev, {}, withData);
      const project = `web${dev.namespaceSuffix ?? ''}`;

      expect(names(env.alerts)).toEqual(['HomelabAppDown', 'HomelabAppRestarting', 'WebBackupStale']);
      expect(env.alerts[2].expr).toContain(`obj_namespace="${project}", obj_name="web-data"`);
      expect(names(env.composeAlerts)).toEqual(['HomelabAppDown', 'HomelabAppRestarting', 'WebBackupStale', 'WebBackupStale']);
      expect(env.composeAlerts[2].expr).toBe('time() - homelab_backup_last_success_timestamp_seconds{app="web", env="dev", volume="data"} > 172800');
      expect(env.composeAlerts[3].expr).toContain(`container_label_com_docker_compose_project="${project}", container_label_com_docker_compose_service="scheduler"`);
    });

    it('has none without a watched volume, nor when the spec turns alerts off; each platform by what it watches', () => {
      expect(names(normalizeEnvironment('web', dev, {}, { ...base, alerts: true }).alerts)).toEqual(['HomelabAppDown', 'HomelabAppRestarting']);
      const off = normalizeEnvironment('web', dev, {}, { ...withData, alerts: false });
      expect([...off.alerts, ...off.composeAlerts]).toEqual([]);
      const composeOnly = normalizeEnvironment('web', dev, {}, { ...withData, backup: { ...withData.backup, watched: { ...watched, kubernetes: [] } } });
      expect(names(composeOnly.alerts)).toEqual(['HomelabAppDown', 'HomelabAppRestarting']);
      expect(names(composeOnly.composeAlerts)).toContain('WebBackupStale');
    });
  });

  describe("Traefik's own health check of the replicas behind the host (Compose)", () => {
    const outside = { ...NO_HEALTH, enabled: true, outside: true, isHttp: true, path: '/ping', portNumber: 8080 };
    const checks = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([key]) => key.includes('.healthcheck.')));

    it('checks each replica of a replicated service whose HTTP health Docker cannot run (probed from outside)', () => {
      expect(checks(normalizeEnvironment('web', dev, { replicas: 3 }, { ...base, ingressHealth: outside }).composeLabels)).toEqual({
        'traefik.http.services.web-dev.loadbalancer.healthcheck.path': '/ping',
        'traefik.http.services.web-dev.loadbalancer.healthcheck.interval': '5s',
        'traefik.http.services.web-dev.loadbalancer.healthcheck.timeout': '3s',
      });
      expect(checks(normalizeEnvironment('web', dev, { replicas: 2 }, { ...base, ingressHealth: { ...outside, portNumber: 9000 } }).composeLabels)).toMatchObject({
        'traefik.http.services.web-dev.loadbalancer.healthcheck.port': '9000',
      });
    });

    it.each([
      ['one replica', {}, outside],
      ['a health check Docker runs in the container (Traefik skips unhealthy containers itself)', { replicas: 3 }, { ...outside, outside: false, composeExec: true }],
      ['a TCP health probed from outside', { replicas: 3 }, { ...outside, isHttp: false, isTcp: true }],
    ])('adds none for %s', (_what, override, ingressHealth) => {
      expect(checks(normalizeEnvironment('web', dev, override, { ...base, ingressHealth }).composeLabels)).toEqual({});
    });
  });
});
