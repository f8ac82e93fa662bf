import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { InputError } from '../errors';
import { parseWorkspaceConfig } from '../spec/io';
import { APP_DEFAULTS, type Dependencies, SYNC_WAVES } from './normalized';
import { normalizeApp } from './normalize';
import type { AppSpec, WorkspaceConfig } from '../spec/types';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
/** The app depends on nothing, or on components the test names with their namespaces. */
const NONE: Dependencies = new Map();
const withWorkspace = (patch: Partial<WorkspaceConfig>): WorkspaceConfig => ({ ...workspace, ...patch });

describe('normalizeApp', () => {
  describe('defaults', () => {
    it('fills every default once, in code', () => {
      const app = normalizeApp(specOf('web'), workspace, NONE);

      expect(app.workload).toEqual({ kind: 'Deployment', isStatefulSet: false, file: 'deployment.yaml', replicas: APP_DEFAULTS.replicas });
      expect(app.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } });
      expect(app.security).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, readOnlyRootFilesystem: true });
      expect(app.health).toMatchObject({ isHttp: true, path: '/', port: 'http', portNumber: 8080, startGraceSeconds: 30, startupFailureThreshold: 6 });
      expect(app.monitoring).toMatchObject({ serviceMonitor: false, alerts: true, dashboard: true, enabled: true, release: 'kube-prometheus-stack' });
      expect(app.backup).toMatchObject({ enabled: false, provider: 'volsync', schedule: '0 3 * * *', retention: { daily: 7, weekly: 4, monthly: 3 } });
      expect(app.network).toMatchObject({ allowInternet: false, fromIngressPorts: [], dependencyNamespaces: [] });
      expect(app.secrets).toEqual({ enabled: false, secretName: 'web-secrets', store: 'homelab', keys: [] });
      expect(app.ingress.enabled).toBe(false);
      expect(app.gitops).toEqual({
        repoURL: 'https://git.home.arpa/homelab/homelab.git',
        revision: 'main',
        argocdNamespace: 'argocd',
        project: 'applications',
        syncWave: SYNC_WAVES.applications,
        afterApps: [],
      });
    });

    it('runs the app in every environment of the workspace when the spec names none', () => {
      const app = normalizeApp(specOf('web'), workspace, NONE);

      expect(app.environments.map((e) => [e.name, e.namespace, e.composeProject, e.argocdAppName, e.protected])).toEqual([
        ['dev', 'web-dev', 'web-dev', 'web-dev', false],
        ['prod', 'web', 'web', 'web-prod', true],
      ]);
    });

    it('syncs applications after platform and infrastructure', () => {
      expect(Number(SYNC_WAVES.applications)).toBeGreaterThan(Number(SYNC_WAVES.infrastructure));
      expect(Number(SYNC_WAVES.infrastructure)).toBeGreaterThan(Number(SYNC_WAVES.platform));
    });
  });

  describe('derived values', () => {
    it.each([
      { grace: 0, threshold: 1 },
      { grace: 5, threshold: 1 },
      { grace: 7, threshold: 2 },
      { grace: 30, threshold: 6 },
      { grace: 3600, threshold: 720 },
    ])('gives a start grace of $grace s a startup failure threshold of $threshold probes of 5 s', ({ grace, threshold }) => {
      const app = normalizeApp(specOf('web', { health: { startGraceSeconds: grace } }), workspace, NONE);

      expect(app.health.startupFailureThreshold).toBe(threshold);
      expect(app.compose.startPeriod).toBe(`${grace}s`);
    });

    it.each([
      { probe: undefined, enabled: true, composeExec: true, outside: false },
      { probe: 'exec' as const, enabled: true, composeExec: true, outside: false },
      { probe: 'outside' as const, enabled: true, composeExec: false, outside: true },
      { probe: 'none' as const, enabled: false, composeExec: false, outside: false },
    ])('health.probe $probe: checks $enabled, in the container on Compose $composeExec, from outside $outside', ({ probe, enabled, composeExec, outside }) => {
      const app = normalizeApp(specOf('web', probe === 'none' ? { health: { probe } } : { health: { http: { path: '/ready' }, probe } }), workspace, NONE);

      expect(app.health).toMatchObject({ enabled, composeExec, outside });
      const labels = Object.keys(app.compose.labels).filter((l) => l.startsWith('homelab.health.'));
      expect(labels).toEqual(outside ? ['homelab.health.probe', 'homelab.health.port', 'homelab.health.path', 'homelab.health.start-period'] : []);
      if (outside) expect(app.compose.labels['homelab.health.path']).toBe('/ready');
    });

    it('turns an HTTP health check into a Compose wget test on the health port', () => {
      const app = normalizeApp(
        specOf('web', {
          ports: [
            { name: 'http', port: 8080, http: true },
            { name: 'admin', port: 9000 },
          ],
          health: { http: { path: '/healthz', port: 'admin' } },
        }),
        workspace,
        NONE,
      );

      expect(app.health).toMatchObject({ isHttp: true, path: '/healthz', port: 'admin', portNumber: 9000 });
      expect(app.health.composeTest).toEqual(['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:9000/healthz']);
    });

    it('turns a command health check into a Compose CMD test with the same command', () => {
      const app = normalizeApp(specOf('web', { health: { command: ['/app', 'health'] } }), workspace, NONE);

      expect(app.health.isHttp).toBe(false);
      expect(app.health.command).toEqual(['/app', 'health']);
      expect(app.health.composeTest).toEqual(['CMD', '/app', 'health']);
    });

    it.each([
      { limits: { memory: '1Gi', cpu: '500m' }, memory: '1g', cpus: '0.5' },
      { limits: { memory: '512Mi', cpu: '2' }, memory: '512m', cpus: '2' },
      { limits: { memory: '256Mi' }, memory: '256m', cpus: null },
    ])('converts limits $limits to Compose memory $memory and cpus $cpus', ({ limits, memory, cpus }) => {
      const app = normalizeApp(specOf('web', { resources: { limits } }), workspace, NONE);

      expect(app.compose.memoryLimit).toBe(memory);
      expect(app.compose.cpus).toBe(cpus);
      expect(app.compose.memoryReservation).toBe('64m');
    });

    it('runs a StatefulSet with a claim per volume when the app has volumes', () => {
      const app = normalizeApp(
        specOf('db', {
          volumes: [
            { name: 'data', size: '10Gi', mountPath: '/var/lib/db', storageClass: 'fast' },
            { name: 'scratch', size: '1Gi', mountPath: '/scratch', backup: false },
          ],
        }),
        workspace,
        NONE,
      );

      expect(app.workload).toMatchObject({ kind: 'StatefulSet', isStatefulSet: true, file: 'statefulset.yaml' });
      expect(app.volumes.map((v) => [v.claimName, v.backup, v.storageClass])).toEqual([
        ['db-data', true, 'fast'],
        ['db-scratch', false, null],
      ]);
      expect(app.backup.enabled).toBe(true);
      expect(app.backup.volumes.map((v) => v.claimName)).toEqual(['db-data']);
      expect(app.backup.componentResources).toEqual(['replicationsource.yaml']);
      // Compose: a mover per backed-up volume, the scheduler stops the service that mounts it while it is copied.
      expect(app.compose.labels).not.toHaveProperty('docker-volume-backup.stop-during-backup');
      expect(app.composeBackup.movers.map((m) => [m.service, m.source])).toEqual([['backup-data', 'data']]);
      expect(app.composeBackup.users).toEqual({ data: [{ service: 'db', grace: 10 }] });
      expect(app.environments[0].composeBackup.movers).toEqual([{ service: 'backup-data', repository: '/repository/db-dev/data' }]);
      expect(app.environments[0].resticSecrets).toEqual([
        { name: 'db-data-restic', repository: '{{ .repository }}/db-dev/data', password: '{{ .password }}' },
      ]);
    });

    it('labels the Compose service for backups only when a volume is backed up', () => {
      const app = normalizeApp(specOf('db', { volumes: [{ name: 'scratch', size: '1Gi', mountPath: '/scratch', backup: false }] }), workspace, NONE);

      expect(app.backup.enabled).toBe(false);
      expect(app.compose.labels).not.toHaveProperty('docker-volume-backup.stop-during-backup');
    });

    it('sorts env variables by name so that renders are stable', () => {
      const app = normalizeApp(specOf('web', { env: { ZED: '1', ALPHA: '2', MID: '3' } }), workspace, NONE);

      expect(app.env.map((e) => e.name)).toEqual(['ALPHA', 'MID', 'ZED']);
      expect(app.hasEnv).toBe(true);
    });

    it('opens the network to the monitoring namespace and labels Compose for scraping when the app has metrics', () => {
      const app = normalizeApp(specOf('web', { monitoring: { metrics: {} } }), workspace, NONE);

      expect(app.monitoring).toMatchObject({ serviceMonitor: true, metricsPort: 'http', metricsPortNumber: 8080, metricsPath: '/metrics' });
      expect(app.network.metricsPortNumber).toBe(8080);
      expect(app.compose.labels).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    });

    it('sorts infrastructure dependencies and allows egress to their namespaces, not their names', () => {
      const dependencies: Dependencies = new Map([
        ['postgres', { kubernetes: true, namespace: 'databases' }],
        ['minio', { kubernetes: true, namespace: 'storage' }],
        ['backup', { kubernetes: true, namespace: 'velero' }],
      ]);
      const app = normalizeApp(specOf('web', { dependsOn: ['postgres', 'minio', 'backup'] }), workspace, dependencies);

      expect(app.dependsOn).toEqual(['backup', 'minio', 'postgres']);
      expect(app.network.dependencyNamespaces).toEqual(['databases', 'storage', 'velero']);
    });

    it('refuses a hand-written Kubernetes dependency that names no namespace, naming its spec and the fix', () => {
      const run = () => normalizeApp(specOf('web', { dependsOn: ['minio'] }), workspace, new Map([['minio', { kubernetes: true, namespace: null }]]));

      expect(run).toThrow(InputError);
      expect(run).toThrow("infrastructure/specs/minio.yaml names no namespace, so web's NetworkPolicy cannot allow egress to it; add `namespace: <its namespace>` to that spec");
    });

    it('allows no egress for a dependency that does not run on Kubernetes', () => {
      const app = normalizeApp(specOf('web', { dependsOn: ['cache'] }), workspace, new Map([['cache', { kubernetes: false, namespace: null }]]));

      expect(app.dependsOn).toEqual(['cache']);
      expect(app.network.dependencyNamespaces).toEqual([]);
    });

    it('renders no monitoring component when the app has neither metrics nor a dashboard', () => {
      const app = normalizeApp(specOf('web', { monitoring: { dashboard: false } }), workspace, NONE);

      expect(app.monitoring.enabled).toBe(false);
      expect(app.monitoring.dashboardJson).toBe('');
    });

    it('drops the alerts of every environment when alerts are off', () => {
      const app = normalizeApp(specOf('web', { monitoring: { alerts: false } }), workspace, NONE);

      for (const env of app.environments) {
        expect(env.alerts).toEqual([]);
        expect(env.resources).not.toContain('prometheusrule.yaml');
      }
    });
  });

  describe('environment overrides', () => {
    const spec = specOf('web', {
      ingress: { host: 'web.example.org' },
      env: { LOG: 'info', KEEP: 'same' },
      environments: { dev: { replicas: 2, host: 'web.dev.example.org', env: { LOG: 'debug' } }, prod: {} },
    });
    const [dev, prod] = normalizeApp(spec, workspace, NONE).environments;

    it('patches only what an environment changes', () => {
      expect(dev).toMatchObject({ replicas: 2, replicasChanged: true, host: 'web.dev.example.org', hostChanged: true, envChanged: true });
      expect(dev.patches).toEqual(['workload-patch.yaml', 'ingress-patch.yaml']);
      expect(prod).toMatchObject({ replicas: 1, replicasChanged: false, host: 'web.example.org', hostChanged: false, envChanged: false });
      expect(prod.patches).toEqual([]);
    });

    it('merges an environment env over the app env', () => {
      expect(dev.env).toEqual([
        { name: 'KEEP', value: 'same' },
        { name: 'LOG', value: 'debug' },
      ]);
    });

    it("routes each environment host through Traefik labels named after the Compose project, on the environment's network", () => {
      expect(dev.composeLabels).toEqual({
        'traefik.enable': 'true',
        'traefik.docker.network': 'homelab-dev',
        'traefik.http.routers.web-dev.rule': 'Host(`web.dev.example.org`)',
        'traefik.http.services.web-dev.loadbalancer.server.port': '8080',
        'traefik.http.routers.web-dev.tls.certresolver': 'letsencrypt',
      });
    });

    it('gives an environment without a host of its own the pattern host, on both platforms', () => {
      const [bareDev, bareProd] = normalizeApp(specOf('web', { ingress: { host: 'web.example.org' } }), workspace, NONE).environments;

      expect(bareDev).toMatchObject({ host: 'web.dev.example.org', hostChanged: true, patches: ['ingress-patch.yaml'] });
      expect(bareDev.composeLabels['traefik.http.routers.web-dev.rule']).toBe('Host(`web.dev.example.org`)');
      expect(bareProd).toMatchObject({ host: 'web.example.org', hostChanged: false, patches: [] });
    });

    it('renders only the environments the spec lists, in its order', () => {
      const app = normalizeApp(specOf('web', { environments: { prod: {} } }), workspace, NONE);

      expect(app.environments.map((e) => e.name)).toEqual(['prod']);
    });
  });

  describe('workspace settings', () => {
    const volumes: AppSpec['volumes'] = [{ name: 'data', size: '1Gi', mountPath: '/data' }];

    it('schedules Velero backups per environment instead of a base component', () => {
      const app = normalizeApp(specOf('db', { volumes }), withWorkspace({ backup: { provider: 'velero' } }), NONE);

      expect(app.backup).toMatchObject({ provider: 'velero', isVelero: true, hasComponent: false, componentResources: [] });
      expect(app.backup.veleroTtl).toBe(`${24 * 93}h`);
      expect(app.environments.map((e) => e.resources)).toEqual([
        ['prometheusrule.yaml', 'schedule.yaml', 'resourcequota.yaml', 'limitrange.yaml'],
        ['prometheusrule.yaml', 'schedule.yaml', 'resourcequota.yaml', 'limitrange.yaml'],
      ]);
    });

    it('puts the k8up Schedule and its credentials in the base backup component', () => {
      const app = normalizeApp(
        specOf('db', { volumes }),
        withWorkspace({ backup: { provider: 'k8up', s3: { endpoint: 'https://s3.example.org', bucket: 'backups' } } }),
        NONE,
      );

      expect(app.backup.componentResources).toEqual(['schedule.yaml', 'externalsecret.yaml']);
      expect(app.backup.k8up).toMatchObject({ secretName: 'db-k8up', endpoint: 'https://s3.example.org', bucket: 'backups' });
    });

    it('routes through a Gateway API HTTPRoute when the workspace ingress kind is httproute', () => {
      const app = normalizeApp(
        specOf('web', { ingress: { host: 'web.example.org' } }),
        withWorkspace({ ingress: { kind: 'httproute', gateway: { name: 'main', namespace: 'gateways' } } }),
        NONE,
      );

      expect(app.ingress).toMatchObject({ enabled: true, isIngress: false, isHttpRoute: true, gateway: { name: 'main', namespace: 'gateways' } });
    });
  });

  describe('refuses specs that are schema-valid but inconsistent', () => {
    // `normalizeApp` is the last line of defence for hand-written specs: each row breaks one rule.
    it.each<{ case: string; spec: AppSpec; workspace?: WorkspaceConfig; message: RegExp }>([
      {
        case: 'a dependency the workspace has not installed',
        spec: specOf('web', { dependsOn: ['postgres'] }),
        message: /dependsOn "postgres" is not an infrastructure component of this workspace \(no infrastructure\/specs\/postgres\.yaml\); add it with `npx nx g homelab:infra postgres`, or remove it from dependsOn$/,
      },
      {
        case: 'a dependency that is neither an app nor a component',
        spec: specOf('web', { dependsOn: ['minio'] }),
        message:
          /dependsOn "minio" is neither an app \(no applications\/specs\/minio\.yaml\) nor an infrastructure component \(no infrastructure\/specs\/minio\.yaml\) of this workspace; add the app with `npx nx g homelab:app minio`, use a component of the catalog \(ingress, cert-manager, .*\) or write infrastructure\/specs\/minio\.yaml, or remove it from dependsOn$/,
      },
      {
        case: 'an outside probe with a health command',
        spec: specOf('web', { health: { probe: 'outside', command: ['/bin/check'] } }),
        message: /health\.probe "outside" probes HTTP or TCP from outside the container, but health\.command runs inside it; remove health\.command or set health\.probe: exec$/,
      },
      {
        case: 'no probe with an HTTP check',
        spec: specOf('web', { health: { probe: 'none', http: { path: '/' } } }),
        message: /health\.probe "none" turns the health check off, but health\.http describes one/,
      },
      {
        case: 'two HTTP ports',
        spec: specOf('web', { ports: [{ name: 'a', port: 1, http: true }, { name: 'b', port: 2, http: true }] }),
        message: /ports "a,b" are all marked http; mark one port http: true/,
      },
      {
        case: 'no HTTP port and an HTTP health check',
        spec: specOf('web', { ports: [{ name: 'a', port: 1 }] }),
        message: /health\.http\.port needs a port; mark one port http: true or set health\.http\.port/,
      },
      {
        case: 'a health port that does not exist',
        spec: specOf('web', { health: { http: { path: '/', port: 'admin' } } }),
        message: /health\.http\.port "admin" is not a port of the app; use one of "http"/,
      },
      {
        case: 'an ingress port that does not exist',
        spec: specOf('web', { ingress: { host: 'web.example.org', port: 'web' } }),
        message: /ingress\.port "web" is not a port of the app; use one of "http"/,
      },
      {
        case: 'a metrics port that does not exist',
        spec: specOf('web', { monitoring: { metrics: { port: 'prom' } } }),
        message: /monitoring\.metrics\.port "prom" is not a port of the app/,
      },
      {
        case: 'two ports with one name',
        spec: specOf('web', { ports: [{ name: 'http', port: 1, http: true }, { name: 'http', port: 2 }] }),
        message: /ports\[\]\.name "http" appears twice; give each port its own name/,
      },
      {
        case: 'two ports with one number',
        spec: specOf('web', { ports: [{ name: 'a', port: 80, http: true }, { name: 'b', port: 80 }] }),
        message: /ports\[\]\.port "80\/TCP" appears twice; give each port its own number/,
      },
      {
        case: 'a key that is both env and secret',
        spec: specOf('web', { env: { TOKEN: 'x' }, secrets: [{ key: 'TOKEN', remoteKey: 'web' }] }),
        message: /"TOKEN" is both a plain env variable and a secret; keep it in secrets only/,
      },
      {
        case: 'a secret key listed twice',
        spec: specOf('web', { secrets: [{ key: 'T', remoteKey: 'a' }, { key: 'T', remoteKey: 'b' }] }),
        message: /secrets\[\]\.key "T" appears twice; list each secret key once/,
      },
      {
        case: 'two volumes on one path',
        spec: specOf('web', { volumes: [{ name: 'a', size: '1Gi', mountPath: '/d' }, { name: 'b', size: '1Gi', mountPath: '/d' }] }),
        message: /volumes\[\]\.mountPath "\/d" appears twice; mount each volume at its own path/,
      },
      {
        case: 'a volume on /tmp',
        spec: specOf('web', { volumes: [{ name: 'a', size: '1Gi', mountPath: '/tmp' }] }),
        message: /"\/tmp" appears twice; .*homelab mounts \/tmp itself/,
      },
      {
        case: 'a mount path with ..',
        spec: specOf('web', { volumes: [{ name: 'a', size: '1Gi', mountPath: '/data/../etc' }] }),
        message: /volumes\.a\.mountPath "\/data\/\.\.\/etc" contains "\.\."; use an absolute path without "\.\."/,
      },
      {
        case: 'a memory request above the limit',
        spec: specOf('web', { resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } } }),
        message: /resources\.requests\.memory "1Gi" exceeds resources\.limits\.memory "512Mi"; raise the limit or lower the request/,
      },
      {
        case: 'an environment host without an ingress',
        spec: specOf('web', { environments: { dev: { host: 'web.example.org' } } }),
        message: /environments\.dev\.host is set but the app has no ingress; add ingress\.host to the spec/,
      },
      {
        case: 'an environment the workspace does not define',
        spec: specOf('web', { environments: { staging: {} } }),
        message: /environment "staging" is not defined in homelab\.yaml; use one of "dev", "prod"/,
      },
      {
        case: 'an empty environment map',
        spec: specOf('web', { environments: {} }),
        message: /environments is empty; list at least one of "dev", "prod"/,
      },
      {
        case: 'replicas above 1 with volumes',
        spec: specOf('web', { replicas: 2, volumes: [{ name: 'a', size: '1Gi', mountPath: '/a' }] }),
        message: /replicas above 1 with volumes; .*set replicas: 1/,
      },
      {
        case: 'replicas above 1 in one environment with volumes',
        spec: specOf('web', { volumes: [{ name: 'a', size: '1Gi', mountPath: '/a' }], environments: { prod: { replicas: 3 } } }),
        message: /replicas above 1 with volumes/,
      },
      {
        case: 'an image tagged latest',
        spec: specOf('web', { image: { repository: 'traefik/whoami', tag: 'latest' } }),
        message: /image "traefik\/whoami:latest" uses the tag "latest", which moves under you; pin a version tag or a digest/,
      },
      {
        case: 'an image with an invalid repository',
        spec: specOf('web', { image: { repository: 'Traefik/Whoami', tag: 'v1' } }),
        message: /image\.repository "Traefik\/Whoami" is not an image repository; use lower-case path components/,
      },
      {
        case: 'k8up backups without S3 settings',
        spec: specOf('web', { volumes: [{ name: 'a', size: '1Gi', mountPath: '/a' }] }),
        workspace: withWorkspace({ backup: { provider: 'k8up' } }),
        message: /backup\.provider "k8up" needs backup\.s3 \(endpoint and bucket\); add them or choose volsync/,
      },
    ])('refuses $case with a one-line InputError naming the spec and the fix', ({ spec, workspace: ws, message }) => {
      let error: unknown;
      try {
        normalizeApp(spec, ws ?? workspace, NONE);
      } catch (e) {
        error = e;
      }

      expect(error).toBeInstanceOf(InputError);
      const text = (error as Error).message;
      expect(text).toMatch(message);
      expect(text).not.toMatch(/\n/);
      expect(text).toMatch(/^(applications\/specs\/web\.yaml|homelab\.yaml): /);
    });
  });
});
