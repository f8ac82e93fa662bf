import { describe, expect, it } from 'vitest';
import { contentOf, inputErrorOf, specOf, stackSpec, WIKI_SPEC_FILE } from '../../../../tests/support/spec';
import { parseDoc, parseDocs, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../spec/io';
import { normalizeApp } from '../app/normalize';
import type { AppSpec, FullAppSpec, ShorthandAppSpec } from '../spec/types';
import { renderApp } from './app';
import type { RenderedFile } from './engine';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const render = (spec: AppSpec) => renderApp(normalizeApp(spec, workspace, new Map()));
const BASE = 'applications/kubernetes/base/wiki';
const COMPOSE = 'applications/compose/base/wiki/compose.yaml';

/** The shorthand written out as the full form: its one service named like the app. */
function asFullForm(spec: ShorthandAppSpec): FullAppSpec {
  const { image, ports, env, volumes, resources, health, replicas, securityContext, ...app } = spec;
  return {
    ...app,
    services: {
      [spec.name]: {
        image,
        ports,
        env,
        resources,
        health,
        replicas,
        secrets: spec.secrets?.map((s) => s.key),
        security: securityContext?.runAsUser ? { user: { uid: securityContext.runAsUser, gid: securityContext.runAsGroup } } : undefined,
        mounts: volumes?.map((v) => ({ volume: v.name, path: v.mountPath })),
      },
    },
    volumes: volumes ? Object.fromEntries(volumes.map((v) => [v.name, { size: v.size, backup: v.backup, storageClass: v.storageClass }])) : undefined,
  };
}

describe('renderApp: the full form', () => {
  it.each([
    ['a minimal app', specOf('web')],
    [
      'an app with every field one service has',
      specOf('vault', {
        description: 'secrets and volumes',
        ports: [
          { name: 'http', port: 8200, http: true },
          { name: 'metrics', port: 9100 },
        ],
        env: { MODE: 'production', PRICE: '$5' },
        secrets: [
          { key: 'API_TOKEN', remoteKey: 'vault' },
          { key: 'DB_PASSWORD', remoteKey: 'db', property: 'password' },
        ],
        volumes: [
          { name: 'data', size: '1Gi', mountPath: '/data' },
          { name: 'cache', size: '512Mi', mountPath: '/cache', backup: false, storageClass: 'local-path' },
        ],
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        health: { http: { path: '/healthz' }, probe: 'outside', startGraceSeconds: 45 },
        ingress: { host: 'vault.example.org' },
        monitoring: { metrics: { port: 'metrics' } },
        securityContext: { runAsUser: 1000, runAsGroup: 2000 },
        environments: { dev: { host: 'vault.dev.example.org' }, prod: {} },
      }),
    ],
    ['an app probed by a command', specOf('db', { ports: [{ name: 'pg', port: 5432 }], health: { command: ['pg_isready'] } })],
  ])('renders %s with one service named like the app to the same bytes as the shorthand', (_label, shorthand) => {
    const full = asFullForm(shorthand);

    expect(Object.keys(full.services)).toEqual([shorthand.name]);
    expect(render(full)).toEqual(render(shorthand));
  });

  describe('a stack of six services (tests/support/fixtures/full-form/wiki.yaml)', () => {
    const files = render(stackSpec(WIKI_SPEC_FILE));
    const workloads = (file: string) => parseDocs(contentOf(files, `${BASE}/${file}`));

    it('puts each kind of workload in its own file, one document per service, named like the service', () => {
      expect(workloads('deployment.yaml').map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Deployment/cache', 'Deployment/radio']);
      expect(workloads('statefulset.yaml').map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['StatefulSet/web', 'StatefulSet/indexer', 'StatefulSet/db']);
      expect(workloads('job.yaml').map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Job/migrate']);
      expect(parseDocs(contentOf(files, `${BASE}/service.yaml`)).map((d) => d.metadata.name)).toEqual(['web', 'db', 'cache']);
      expect(parseDoc(contentOf(files, `${BASE}/kustomization.yaml`)).resources).toEqual([
        'serviceaccount.yaml',
        'deployment.yaml',
        'statefulset.yaml',
        'job.yaml',
        'service.yaml',
        'configmap.yaml',
        'persistentvolumeclaim.yaml',
        'externalsecret.yaml',
        'ingress.yaml',
      ]);
    });

    it('labels and selects each service by the app and its component, on the workload and its Service', () => {
      const db = workloads('statefulset.yaml')[2];
      const selector = { 'app.kubernetes.io/name': 'wiki', 'app.kubernetes.io/component': 'db' };

      expect(db.spec.selector.matchLabels).toEqual(selector);
      expect(db.spec.template.metadata.labels).toEqual(selector);
      expect(parseDocs(contentOf(files, `${BASE}/service.yaml`))[1].spec.selector).toEqual(selector);
      // The ServiceMonitor selects the metrics service's Service by its labels: the component is one of them.
      expect(db.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'db' });
      expect(parseDocs(contentOf(files, `${BASE}/service.yaml`))[1].metadata.labels).toEqual({ 'app.kubernetes.io/component': 'db' });
    });

    it('annotates each service with its sync wave, and makes a job a Sync hook recreated on every sync', () => {
      const waves = Object.fromEntries(
        ['deployment.yaml', 'statefulset.yaml', 'job.yaml'].flatMap((f) => workloads(f)).map((d) => [d.metadata.name, d.metadata.annotations ?? null]),
      );

      expect(waves).toEqual({
        cache: null,
        radio: null,
        db: null,
        migrate: { 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation', 'argocd.argoproj.io/sync-wave': '1' },
        web: { 'argocd.argoproj.io/sync-wave': '2' },
        indexer: { 'argocd.argoproj.io/sync-wave': '3' },
      });
      expect(workloads('job.yaml')[0].spec.template.spec.restartPolicy).toBe('Never');
    });

    it('renders entrypoint as the container command and command as its args, and gives each service only its secret keys', () => {
      const web = workloads('statefulset.yaml')[0].spec.template.spec.containers[0];

      expect([web.command, web.args, web.workingDir]).toEqual([['/app/wiki'], ['serve', '--port=3000'], '/app']);
      expect(web.envFrom).toBeUndefined();
      expect(web.env.filter((e: { valueFrom?: unknown }) => e.valueFrom)).toEqual([
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'wiki-secrets', key: 'DB_PASSWORD' } } },
        { name: 'SESSION_KEY', valueFrom: { secretKeyRef: { name: 'wiki-secrets', key: 'SESSION_KEY' } } },
      ]);
      const external = parseDoc(contentOf(files, `${BASE}/externalsecret.yaml`));
      expect(external.spec.data.map((d: { secretKey: string }) => d.secretKey)).toEqual(['DB_PASSWORD', 'SESSION_KEY', 'POSTGRES_PASSWORD']);
    });

    it('mounts each kind of volume as its platform holds it', () => {
      const [web, indexer] = workloads('statefulset.yaml').map((d) => d.spec.template.spec);
      const volumes = Object.fromEntries([...web.volumes, ...indexer.volumes].map((v: { name: string }) => [v.name, v]));

      expect(volumes.uploads).toEqual({ name: 'uploads', persistentVolumeClaim: { claimName: 'wiki-uploads' } });
      expect(volumes.settings).toEqual({ name: 'settings', configMap: { name: 'wiki-settings' } });
      expect(volumes.scratch).toEqual({ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } });
      expect(volumes.localtime).toEqual({ name: 'localtime', hostPath: { path: '/etc/localtime', type: 'File' } });
      expect(volumes.docs).toEqual({ name: 'docs', nfs: { server: 'nas.home.arpa', path: '/export/docs', readOnly: true } });
      expect(volumes.legacy).toEqual({ name: 'legacy', persistentVolumeClaim: { claimName: 'wiki-legacy-data' } });
      expect(web.containers[0].volumeMounts).toContainEqual({ name: 'settings', mountPath: '/app/config.yaml', readOnly: true, subPath: 'settings' });
      expect(parseDoc(contentOf(files, `${BASE}/configmap.yaml`)).data).toEqual({ settings: 'title: Wiki\nlanguage: en\n' });

      const compose = parseDoc(contentOf(files, COMPOSE));
      expect(compose.services.web.volumes).toEqual([
        { type: 'volume', source: 'uploads', target: '/app/uploads' },
        { type: 'tmpfs', target: '/scratch', tmpfs: { size: 256 * 1024 ** 2 } },
        { type: 'bind', source: '/etc/localtime', target: '/etc/localtime', read_only: true },
      ]);
      expect(compose.services.web.configs).toEqual([{ source: 'settings', target: '/app/config.yaml' }]);
      expect(compose.services.db.volumes).toEqual([{ type: 'volume', source: 'db', target: '/var/lib/postgresql/data', volume: { subpath: 'pgdata' } }]);
      expect(compose.volumes).toEqual({
        uploads: { labels: { 'homelab.backup': 'true' } },
        db: { labels: { 'homelab.backup': 'true' } },
        docs: { driver: 'local', driver_opts: { type: 'nfs', o: 'addr=nas.home.arpa,nfsvers=4', device: ':/export/docs' } },
        legacy: { name: 'wiki-legacy-data', external: true },
        // The backup movers' restic cache, and the host's volume where they write their last success (docs/backup.md).
        'backup-cache': null,
        'backup-metrics': { name: 'homelab-backup-metrics', external: true },
      });
      expect(compose.configs.settings).toEqual({ content: 'title: Wiki\nlanguage: en\n' });
      expect(Object.keys(compose.configs)).toEqual(['settings', 'backup-mover']);
    });

    it('pins a service that shares a ReadWriteOnce volume to the node of the first service mounting it', () => {
      const [web, indexer] = workloads('statefulset.yaml').map((d) => d.spec.template.spec);

      expect(web.affinity).toBeUndefined();
      expect(indexer.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'wiki', 'app.kubernetes.io/component': 'web' } } },
      ]);
    });

    it('renders the start order on Compose: conditions, a job that runs once and is labelled for deploy', () => {
      const compose = parseDoc(contentOf(files, COMPOSE));

      // Then the scheduler and a backup mover per backed-up volume (docs/backup.md).
      expect(Object.keys(compose.services)).toEqual(['web', 'indexer', 'migrate', 'db', 'cache', 'radio', 'scheduler', 'backup-uploads', 'backup-db']);
      expect(compose.services.web.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' }, cache: { condition: 'service_started' } });
      expect(compose.services.indexer.depends_on).toEqual({ web: { condition: 'service_started' } });
      expect(compose.services.migrate.depends_on).toEqual({ db: { condition: 'service_healthy' } });
      expect(compose.services.migrate.restart).toBe('no');
      expect(compose.services.migrate.labels['homelab.kind']).toBe('job');
      expect(compose.services.web.labels['homelab.kind']).toBeUndefined();
      expect(compose.services.web.labels['logging.job']).toBe('wiki-web');
      expect(contentOf(files, COMPOSE)).toContain('# healthy in the spec: Compose sees no health check of cache (it is checked from outside), so it waits for the start and deploy keeps the order.');
    });

    it('keeps UDP ports UDP on both platforms, and lets the services of the app reach each other', () => {
      expect(parseDoc(contentOf(files, COMPOSE)).services.cache.expose).toEqual([6379, '7946/udp']);
      expect(parseDocs(contentOf(files, `${BASE}/service.yaml`))[2].spec.ports[1]).toMatchObject({ port: 7946, protocol: 'UDP' });
      const policy = parseDocs(contentOf(files, `${BASE}/components/network-policy/networkpolicy.yaml`))[1];
      expect(policy.spec.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'wiki' } } }] });
      expect(policy.spec.egress[0]).toEqual({ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'wiki' } } }] });
    });

    it('routes the host to the ingress service and scrapes metrics from the metrics service, per service labels on Compose', () => {
      const ingress = parseDoc(contentOf(files, `${BASE}/ingress.yaml`));
      expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'web', port: { name: 'http' } });
      const monitor = parseDoc(contentOf(files, `${BASE}/components/monitoring/servicemonitor.yaml`));
      expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'wiki', 'app.kubernetes.io/component': 'web' });
      const dev = parseDoc(contentOf(files, 'applications/compose/environments/dev/wiki/compose.generated.yaml'));
      expect(Object.keys(dev.services.web.labels)).toContain('traefik.http.routers.wiki-dev.rule');
      expect(dev.services.db).toEqual({});
    });
  });

  it('renders a cron service as a CronJob, and on Compose as a profiled service the app\'s scheduler starts from its crontab', () => {
    const files = render(stackSpec('files'));
    const cron = parseDoc(contentOf(files, 'applications/kubernetes/base/files/cronjob.yaml'));
    const compose = parseDoc(contentOf(files, 'applications/compose/base/files/compose.yaml')).services;
    const dev = parseDoc(contentOf(files, 'applications/compose/environments/dev/files/compose.generated.yaml'));

    expect(cron).toMatchObject({ kind: 'CronJob', spec: { schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' } });
    // Not a Sync hook and no wave: it runs on its schedule, not at deploy.
    expect(cron.metadata.annotations).toBeUndefined();
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({ name: 'cron', command: ['php'], args: ['-f', '/var/www/html/cron.php'] });
    expect(cron.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('Never');
    expect(compose.cron).toMatchObject({ profiles: ['cron'], restart: 'no', labels: { 'homelab.kind': 'cron', 'homelab.schedule': '*/5 * * * *' } });
    expect(compose.scheduler).toMatchObject({ image: 'docker:27.5.1-cli', command: ['crond', '-f', '-l', '6'], user: '0:0', read_only: false, cap_add: ['SETGID'], network_mode: 'none' });
    expect(compose.scheduler.volumes).toEqual([{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }]);
    expect(dev.services.scheduler.configs).toEqual([{ source: 'crontab', target: '/etc/crontabs/root' }, { source: 'backup', target: '/homelab/backup' }]);
    // The cron service's line, then the backup's (the app backs up its volumes).
    expect(dev.configs.crontab.content).toBe('*/5 * * * * docker start -a files-dev-cron-1\n0 3 * * * sh /homelab/backup\n');
    expect(parseDoc(contentOf(files, 'applications/compose/environments/prod/files/compose.generated.yaml')).configs.crontab.content).toBe('*/5 * * * * docker start -a files-cron-1\n0 3 * * * sh /homelab/backup\n');
  });

  it('writes env values, commands and entrypoints so that both platforms give them back as written ($$ and $( included)', () => {
    const value = 'pa$$word $(HOME) $5';
    const spec: FullAppSpec = {
      name: 'dollars',
      services: { web: { image: { repository: 'example/web', tag: '1.0.0' }, entrypoint: ['sh', '-c'], command: ['echo $(date) $$'], env: { RAW: value, OVERRIDDEN: 'x' } } },
      environments: { prod: { services: { web: { env: { OVERRIDDEN: value } } } } },
    };
    const files = render(spec);
    const container = parseDocs(contentOf(files, 'applications/kubernetes/base/dollars/deployment.yaml'))[0].spec.template.spec.containers[0];
    const patch = parseDocs(contentOf(files, 'applications/kubernetes/overlays/prod/dollars/generated/workload-patch.yaml'))[0].spec.template.spec.containers[0];
    const compose = parseDoc(contentOf(files, COMPOSE.replace('wiki', 'dollars'))).services.web;

    // The kubelet reads $$ as $ and expands $(VAR): both are escaped with one more $.
    expect(container.env).toContainEqual({ name: 'RAW', value: 'pa$$$word $$(HOME) $5' });
    expect(container.args).toEqual(['echo $$(date) $$$']);
    expect(patch.env).toContainEqual({ name: 'OVERRIDDEN', value: 'pa$$$word $$(HOME) $5' });
    // Compose interpolates every $: each is doubled.
    expect(compose.environment.RAW).toBe('pa$$$$word $$(HOME) $$5');
  });

  it('publishes a port on the Docker host, and makes its Service a LoadBalancer on Kubernetes', () => {
    const files = render(stackSpec('dns-filter'));
    const service = parseDoc(contentOf(files, 'applications/kubernetes/base/dns-filter/service.yaml'));
    const compose = parseDoc(contentOf(files, 'applications/compose/base/dns-filter/compose.yaml')).services.dns;

    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`)).toEqual(['53/UDP', '53/TCP', '80/TCP']);
    expect(compose.ports).toEqual([
      { target: 53, published: '53', host_ip: '0.0.0.0', protocol: 'udp' },
      { target: 53, published: '53', host_ip: '0.0.0.0', protocol: 'tcp' },
    ]);
    expect(inputErrorOf(() => render({ name: 'dns', services: { dns: { image: { repository: 'a', tag: '1' }, ports: [{ name: 'dns', port: 53, publish: {} }], security: { hostNetwork: 'discovery' } } } } as AppSpec))).toBe(
      'applications/specs/dns.yaml: services.dns.ports "dns" is published, but service "dns" runs on the host network, where its ports are the host\'s already; remove publish',
    );
  });

  describe('a TCP-only service (a broker of an image without wget or a shell)', () => {
    const image = { repository: 'eclipse-mosquitto', tag: '2.0.20' };
    const spec = (health: FullAppSpec['services'][string]['health']): AppSpec => ({
      name: 'mqtt',
      services: {
        broker: { image, ports: [{ name: 'mqtt', port: 1883 }], health },
        bridge: { image, dependsOn: { broker: 'healthy' } },
      },
    });
    const rendered = (health: FullAppSpec['services'][string]['health']) => {
      const files = render(spec(health));
      return {
        compose: parseDoc(contentOf(files, 'applications/compose/base/mqtt/compose.yaml')).services,
        text: contentOf(files, 'applications/compose/base/mqtt/compose.yaml'),
        broker: parseDocs(contentOf(files, 'applications/kubernetes/base/mqtt/deployment.yaml')).find((d) => d.metadata.name === 'broker').spec.template.spec.containers[0],
      };
    };

    it('with probe: outside, has deploy connect to its port (labels with kind tcp and no path) and keeps the kubelet\'s tcpSocket probes', () => {
      const { compose, text, broker } = rendered({ tcp: { port: 'mqtt' }, probe: 'outside', startGraceSeconds: 20 });

      expect(compose.broker.healthcheck).toBeUndefined();
      expect(compose.broker.labels).toEqual({
        'homelab.app': 'mqtt',
        'homelab.health.probe': 'outside',
        'homelab.health.kind': 'tcp',
        'homelab.health.port': '1883',
        'homelab.health.start-period': '20s',
        logging: 'promtail',
        'logging.job': 'mqtt-broker',
      });
      expect(text).toContain('# No healthcheck here: deploy probes this service from outside the container');
      // Compose cannot see the check: the waiting service starts after it, and deploy keeps the order.
      expect(compose.bridge.depends_on).toEqual({ broker: { condition: 'service_started' } });
      expect(broker.startupProbe).toEqual({ tcpSocket: { port: 'mqtt' }, periodSeconds: 5, failureThreshold: 4 });
      expect(broker.readinessProbe.tcpSocket).toEqual({ port: 'mqtt' });
    });

    it('without probe, renders as it always did: the kubelet checks TCP, Compose has no check and no labels', () => {
      const { compose, text, broker } = rendered({ tcp: { port: 'mqtt' } });

      expect(compose.broker.healthcheck).toBeUndefined();
      expect(Object.keys(compose.broker.labels).filter((l) => l.startsWith('homelab.health'))).toEqual([]);
      expect(text).toContain('# No healthcheck here: Kubernetes checks the TCP port from the kubelet; images hold no common TCP client.');
      expect(broker.livenessProbe.tcpSocket).toEqual({ port: 'mqtt' });
    });

    it('refuses a TCP check inside the container, naming the probe that works', () => {
      expect(inputErrorOf(() => render(spec({ tcp: { port: 'mqtt' }, probe: 'exec' })))).toBe(
        'applications/specs/mqtt.yaml: services.broker.health.tcp cannot run inside the container on Compose (images hold no common TCP client); set services.broker.health.probe: outside (deploy connects from the Docker host) or use services.broker.health.command',
      );
    });
  });

  describe('what a container needs of its host, and the opt-ins', () => {
    it('renders privilege, the host network, a serial device, capabilities, init, grace period, host names and GPUs on both platforms', () => {
      const files = render(stackSpec(WIKI_SPEC_FILE));
      const deployments = parseDocs(contentOf(files, `${BASE}/deployment.yaml`));
      const radio = deployments.find((d) => d.metadata.name === 'radio').spec.template.spec;
      const web = parseDocs(contentOf(files, `${BASE}/statefulset.yaml`))[0].spec.template.spec;
      const indexer = parseDocs(contentOf(files, `${BASE}/statefulset.yaml`))[1].spec.template.spec;
      const compose = parseDoc(contentOf(files, COMPOSE)).services;

      expect(radio).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', securityContext: { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 } });
      expect(radio.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: true, readOnlyRootFilesystem: false, privileged: true, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } });
      expect(radio.volumes).toContainEqual({ name: 'device-0', hostPath: { path: '/dev/ttyUSB0' } });
      expect(radio.containers[0].volumeMounts).toContainEqual({ name: 'device-0', mountPath: '/dev/ttyUSB0' });
      expect(compose.radio).toMatchObject({ user: '0:0', read_only: false, privileged: true, cap_add: ['NET_RAW'], network_mode: 'host', devices: ['/dev/ttyUSB0:/dev/ttyUSB0'] });
      // Privileged mode lets the service gain privileges on both platforms: Kubernetes requires
      // allowPrivilegeEscalation with it, and Compose gets no no-new-privileges (as the source of an import ran).
      expect(compose.radio).not.toHaveProperty('security_opt');
      expect(compose.web.security_opt).toEqual(['no-new-privileges:true']);
      expect(web).toMatchObject({ shareProcessNamespace: true, terminationGracePeriodSeconds: 45, hostAliases: [{ ip: '192.0.2.10', hostnames: ['ldap.home.arpa', 'sso.home.arpa'] }] });
      expect(compose.web).toMatchObject({ init: true, stop_grace_period: '45s', extra_hosts: { 'ldap.home.arpa': '192.0.2.10', 'sso.home.arpa': '192.0.2.10' } });
      expect(indexer.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
      expect(compose.indexer.deploy.resources.reservations).toEqual({ memory: '64m', devices: [{ capabilities: ['gpu'], count: 1, driver: 'nvidia' }] });
    });

    const photos = render(stackSpec('photos'));
    const media = render(stackSpec('media'));
    const podOf = (files: RenderedFile[], file: string, name: string) => parseDocs(contentOf(files, file)).find((d) => d.metadata.name === name).spec.template.spec;

    it("writes each opt-in's reason beside what it allows, and allows only that", () => {
      const db = podOf(photos, 'applications/kubernetes/base/photos/statefulset.yaml', 'database');
      const compose = contentOf(photos, 'applications/compose/base/photos/compose.yaml');

      expect(db.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999 });
      expect(db.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, privileged: false, capabilities: { drop: ['ALL'] } });
      expect(contentOf(photos, 'applications/kubernetes/base/photos/statefulset.yaml')).toContain('# writableRootFilesystem (security in the spec): initdb writes to /var/run/postgresql');
      expect(compose).toContain('    # writableRootFilesystem (security in the spec): initdb writes to /var/run/postgresql\n');
      expect(parseDoc(compose).services.database).toMatchObject({ read_only: false, user: '999:999', shm_size: '128m' });
      expect(parseDoc(compose).services.server.read_only).toBe(true);
    });

    it("runs a service as its image's own user with the runtime's default capabilities, when the spec says so with reasons", () => {
      const redis = podOf(photos, 'applications/kubernetes/base/photos/deployment.yaml', 'redis');
      const compose = parseDoc(contentOf(photos, 'applications/compose/base/photos/compose.yaml')).services;

      expect(redis.securityContext).toEqual({ runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } });
      expect(redis.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, privileged: false });
      expect(compose.redis).not.toHaveProperty('user');
      expect(compose.redis).not.toHaveProperty('cap_drop');
      expect(compose.redis.security_opt).toEqual(['no-new-privileges:true']);
      // Every other service keeps the defaults.
      expect(compose.server).toMatchObject({ user: '65532:65532', cap_drop: ['ALL'] });
      expect(contentOf(photos, 'applications/compose/base/photos/compose.yaml')).toContain('    # imageUser (security in the spec): the image starts as root, owns its data folder and drops to its own user with gosu\n');
    });

    it("gives /dev/shm its size, and a device its plugin's resource on Kubernetes and the device on Compose", () => {
      const db = podOf(photos, 'applications/kubernetes/base/photos/statefulset.yaml', 'database');
      expect(db.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '128Mi' } });
      expect(db.containers[0].volumeMounts).toContainEqual({ name: 'shm', mountPath: '/dev/shm' });

      const server = podOf(media, 'applications/kubernetes/base/media/statefulset.yaml', 'server');
      expect(server.containers[0].resources.limits).toEqual({ memory: '256Mi', 'gpu.intel.com/i915': '1' });
      expect(server.securityContext.supplementalGroups).toEqual([44, 105]);
      expect(parseDoc(contentOf(media, 'applications/compose/base/media/compose.yaml')).services.server).toMatchObject({ devices: ['/dev/dri:/dev/dri'], group_add: [44, 105] });
    });
  });

  it.each([
    ['a cron service without a schedule', { kind: 'cron' }, {}, 'services.web.kind is "cron" but the service has no schedule; add services.web.schedule (five cron fields, e.g. "*/5 * * * *")'],
    ['a schedule on a long-running service', { schedule: '*/5 * * * *' }, {}, 'services.web.schedule is set on a service of kind "service", which does not run on a schedule; remove it or set services.web.kind: cron'],
    ['a service named like the scheduler beside cron services', { kind: 'cron', schedule: '* * * * *' }, { name: 'stack', services: { web: { image: { repository: 'a', tag: '1' }, kind: 'cron', schedule: '* * * * *' }, scheduler: { image: { repository: 'a', tag: '1' } } } }, "services.scheduler: the name is the Compose scheduler's in an app with cron services; rename the service"],
  ])('refuses %s in one line rather than rendering without it', (_label, service, app, message) => {
    const spec = { name: 'stack', services: { web: { image: { repository: 'a', tag: '1' }, ...service } }, ...app } as AppSpec;

    expect(inputErrorOf(() => render(spec))).toContain(`applications/specs/stack.yaml: ${message}`);
  });

  it('refuses an ingress without the service behind it when several could serve it', () => {
    const spec = { name: 'stack', services: { a: { image: { repository: 'a', tag: '1' } }, b: { image: { repository: 'b', tag: '1' } } }, ingress: { host: 'x.example.org' } } as AppSpec;

    expect(inputErrorOf(() => render(spec))).toBe('applications/specs/stack.yaml: ingress.service needs the service it names; set ingress.service to one of "a", "b"');
  });
});
