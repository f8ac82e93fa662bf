import { describe, expect, it } from 'vitest';
import { bindMount, checkImportedSpec, composeSource, fromVariable, literalEnv, volumeMount } from '../../../../../tests/support/compose-source';
import type { ComposeSource } from '../model';
import { mapComposeSource } from './index';

/**
 * The census stacks of issue 11, as `docker compose config` resolves the Compose files their
 * projects publish (written here in TypeScript, not copied): each maps to a spec that passes
 * the schema and normalize, with the `not carried over` lines listed exactly (none, or which and why).
 */
const dir = (name: string) => `/srv/stacks/${name}`;
const postgresCheck = { test: ['CMD-SHELL', 'pg_isready -d photos -U photos'], start_period: '30s' };
const redisCheck = { test: ['CMD', 'redis-cli', 'ping'] };

const CENSUS: Record<string, { source: ComposeSource; notCarried: string[] }> = {
  photos: {
    source: composeSource(
      {
        server: {
          image: 'ghcr.io/example-photos/server:v1.131.3',
          environment: { ...literalEnv({ DB_HOSTNAME: 'database', REDIS_HOSTNAME: 'redis', DB_USERNAME: 'photos', DB_DATABASE_NAME: 'photos' }), DB_PASSWORD: fromVariable('DB_PASSWORD', 'ph0tos-db-pass') },
          ports: [{ target: 2283, published: '2283', protocol: 'tcp' }],
          volumes: [bindMount('./library', '/usr/src/app/upload', {}, dir('photos')), bindMount('/etc/localtime', '/etc/localtime', { read_only: true })],
          devices: [{ source: '/dev/dri', target: '/dev/dri' }],
          depends_on: { database: { condition: 'service_healthy', required: true }, redis: { condition: 'service_healthy', required: true } },
          healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://localhost:2283/api/server/ping'] },
          restart: 'always',
        },
        'machine-learning': {
          image: 'ghcr.io/example-photos/machine-learning:v1.131.3',
          expose: ['3003'],
          volumes: [volumeMount('model-cache', '/cache')],
          healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://localhost:3003/ping'] },
          restart: 'always',
        },
        redis: { image: 'valkey/valkey:8.1.1-bookworm', healthcheck: redisCheck, restart: 'always' },
        database: {
          image: 'ghcr.io/example-photos/postgres:14-vectorchord0.4.3',
          environment: { ...literalEnv({ POSTGRES_USER: 'photos', POSTGRES_DB: 'photos', POSTGRES_INITDB_ARGS: '--data-checksums' }), POSTGRES_PASSWORD: fromVariable('DB_PASSWORD', 'ph0tos-db-pass') },
          volumes: [bindMount('./postgres', '/var/lib/postgresql/data', {}, dir('photos'))],
          shm_size: '134217728',
          healthcheck: postgresCheck,
          restart: 'always',
        },
      },
      { name: 'photos', directory: dir('photos'), volumes: { 'model-cache': {} }, variables: { DB_PASSWORD: { value: 'ph0tos-db-pass', source: 'env-file' } } },
    ),
    notCarried: [],
  },
  'home-automation': {
    source: composeSource(
      {
        core: {
          image: 'ghcr.io/example-ha/core:2025.6.1',
          network_mode: 'host',
          networks: {},
          privileged: true,
          devices: [{ source: '/dev/ttyUSB0', target: '/dev/ttyUSB0', permissions: 'rwm' }],
          volumes: [bindMount('./config', '/config', {}, dir('home-automation')), bindMount('/etc/localtime', '/etc/localtime', { read_only: true }), bindMount('/run/dbus', '/run/dbus', { read_only: true })],
          environment: literalEnv({ TZ: 'Europe/Berlin' }),
          init: true,
          stop_grace_period: '2m',
          restart: 'unless-stopped',
        },
      },
      { name: 'home-automation', directory: dir('home-automation'), networks: {} },
    ),
    notCarried: [],
  },
  'dns-filter': {
    source: composeSource(
      {
        dns: {
          image: 'example/dns-filter:2025.05.0',
          ports: [
            { target: 53, published: '53', protocol: 'tcp' },
            { target: 53, published: '53', protocol: 'udp' },
            { target: 80, published: '8080', protocol: 'tcp' },
          ],
          environment: { ...literalEnv({ TZ: 'Europe/Berlin', DNSMASQ_LISTENING: 'all' }), WEBPASSWORD: fromVariable('WEB_PASSWORD', 'dns-admin-pw') },
          volumes: [bindMount('./etc-dns-filter', '/etc/dns-filter', {}, dir('dns-filter')), bindMount('./etc-dnsmasq.d', '/etc/dnsmasq.d', {}, dir('dns-filter'))],
          cap_add: ['NET_ADMIN'],
          extra_hosts: { 'router.lan': '192.0.2.1' },
          restart: 'unless-stopped',
        },
      },
      { name: 'dns-filter', directory: dir('dns-filter') },
    ),
    notCarried: [],
  },
  media: {
    source: composeSource(
      {
        server: {
          image: 'example/media-server:10.10.7',
          user: '1000:1000',
          group_add: ['44', '105'],
          ports: [{ target: 8096, published: '8096', protocol: 'tcp' }, { target: 7359, protocol: 'udp' }],
          devices: [{ source: '/dev/dri', target: '/dev/dri' }],
          volumes: [volumeMount('config', '/config'), bindMount('/mnt/media/movies', '/media/movies', { read_only: true }), { type: 'tmpfs', target: '/transcode', tmpfs: { size: '4g' } }],
          labels: { 'traefik.enable': 'true', 'traefik.http.routers.media.rule': 'Host(`media.home.example.org`)', 'traefik.http.services.media.loadbalancer.server.port': '8096' },
          healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost:8096/health'] },
          restart: 'unless-stopped',
        },
      },
      { name: 'media', directory: dir('media'), volumes: { config: {} } },
    ),
    notCarried: [],
  },
  files: {
    source: composeSource(
      {
        app: {
          image: 'example/files:31.0.5-apache',
          ports: [{ target: 80, published: '8080', protocol: 'tcp' }],
          environment: { ...literalEnv({ POSTGRES_HOST: 'db', REDIS_HOST: 'cache', POSTGRES_DB: 'files', POSTGRES_USER: 'files' }), POSTGRES_PASSWORD: fromVariable('POSTGRES_PASSWORD', 'f1les-db-pass') },
          volumes: [volumeMount('html', '/var/www/html')],
          depends_on: { db: { condition: 'service_healthy', required: true }, cache: { condition: 'service_started', required: true } },
          restart: 'always',
        },
        // The project's own cron container: the same image running its crond, a long-running service sharing the app's volume.
        cron: { image: 'example/files:31.0.5-apache', entrypoint: ['/cron.sh'], volumes: [volumeMount('html', '/var/www/html')], depends_on: { db: { condition: 'service_healthy', required: true } }, restart: 'always' },
        db: {
          image: 'postgres:16.9-bookworm',
          environment: { ...literalEnv({ POSTGRES_DB: 'files', POSTGRES_USER: 'files' }), POSTGRES_PASSWORD: fromVariable('POSTGRES_PASSWORD', 'f1les-db-pass') },
          volumes: [volumeMount('db', '/var/lib/postgresql/data')],
          healthcheck: { test: ['CMD-SHELL', 'pg_isready -U files'] },
          restart: 'always',
        },
        cache: { image: 'redis:7.4.4-bookworm', healthcheck: redisCheck, restart: 'always' },
      },
      { name: 'files', directory: dir('files'), volumes: { html: {}, db: {} } },
    ),
    notCarried: [],
  },
  workflows: {
    source: composeSource(
      {
        main: {
          image: 'example/workflows:1.97.1',
          ports: [{ target: 5678, published: '5678', protocol: 'tcp' }],
          environment: {
            ...literalEnv({ DB_TYPE: 'postgresdb', DB_POSTGRESDB_HOST: 'postgres', QUEUE_BULL_REDIS_HOST: 'redis', EXECUTIONS_MODE: 'queue' }),
            DB_POSTGRESDB_PASSWORD: fromVariable('POSTGRES_PASSWORD', 'w0rkflow-db-pass'),
            ENCRYPTION_KEY: fromVariable('ENCRYPTION_KEY', 'Zq8vN2xLp4Rt7Ws1Ky9Bm3Hd6Gf0Jc5Q'),
          },
          volumes: [volumeMount('data', '/home/node/.n8n')],
          depends_on: { postgres: { condition: 'service_healthy', required: true }, redis: { condition: 'service_healthy', required: true } },
          healthcheck: { test: ['CMD-SHELL', 'wget -q --spider http://localhost:5678/healthz || exit 1'] },
          restart: 'always',
        },
        worker: {
          image: 'example/workflows:1.97.1',
          command: ['worker'],
          environment: {
            ...literalEnv({ DB_TYPE: 'postgresdb', DB_POSTGRESDB_HOST: 'postgres', QUEUE_BULL_REDIS_HOST: 'redis', EXECUTIONS_MODE: 'queue' }),
            DB_POSTGRESDB_PASSWORD: fromVariable('POSTGRES_PASSWORD', 'w0rkflow-db-pass'),
            ENCRYPTION_KEY: fromVariable('ENCRYPTION_KEY', 'Zq8vN2xLp4Rt7Ws1Ky9Bm3Hd6Gf0Jc5Q'),
          },
          volumes: [volumeMount('data', '/home/node/.n8n')],
          depends_on: { main: { condition: 'service_healthy', required: true } },
          restart: 'always',
        },
        postgres: {
          image: 'postgres:16.9-bookworm',
          environment: { ...literalEnv({ POSTGRES_USER: 'workflows', POSTGRES_DB: 'workflows' }), POSTGRES_PASSWORD: fromVariable('POSTGRES_PASSWORD', 'w0rkflow-db-pass') },
          volumes: [volumeMount('db', '/var/lib/postgresql/data')],
          healthcheck: { test: ['CMD-SHELL', 'pg_isready -h localhost -U workflows -d workflows'], interval: '5s', timeout: '5s', retries: 10 },
          restart: 'always',
        },
        redis: { image: 'redis:7.4.4-bookworm', volumes: [volumeMount('redis', '/data')], healthcheck: { ...redisCheck, interval: '5s', timeout: '5s', retries: 10 }, restart: 'always' },
      },
      { name: 'workflows', directory: dir('workflows'), volumes: { data: {}, db: {}, redis: {} } },
    ),
    notCarried: [
      // The project checks its queue and database every 5 s with 10 retries; homelab checks every service every 10 s with 3.
      'not carried over: services.postgres.healthcheck.interval (homelab checks every service with interval 10s on both platforms)',
      'not carried over: services.postgres.healthcheck.retries (homelab checks every service with 3 retries on both platforms)',
      'not carried over: services.redis.healthcheck.interval (homelab checks every service with interval 10s on both platforms)',
      'not carried over: services.redis.healthcheck.retries (homelab checks every service with 3 retries on both platforms)',
    ],
  },
};

describe('mapComposeSource: the census stacks of issue 11', () => {
  it.each(Object.keys(CENSUS))('maps %s to a spec the schema and normalize accept, listing exactly what is not carried over', (name) => {
    const { source, notCarried } = CENSUS[name];
    const result = mapComposeSource(source, { app: name });

    expect(result.lines.filter((l) => l.startsWith('not carried over:'))).toEqual(notCarried);
    const normalized = checkImportedSpec(result.spec);
    expect(normalized.services.map((s) => s.name)).toEqual(Object.keys(source.services));
    for (const value of Object.values(result.secretValues)) expect(JSON.stringify(result.spec)).not.toContain(value);
  });

  it('photos: one database password for the server and the database, the library bind, the GPU and /dev/shm', () => {
    const { spec, secretValues } = mapComposeSource(CENSUS.photos.source, { app: 'photos' });

    expect(spec.secrets).toEqual([{ key: 'DB_PASSWORD', remoteKey: 'photos' }]);
    expect(spec.services.database.secrets).toEqual([{ key: 'POSTGRES_PASSWORD', remoteKey: 'photos', property: 'DB_PASSWORD' }]);
    expect(secretValues).toEqual({ DB_PASSWORD: 'ph0tos-db-pass', POSTGRES_PASSWORD: 'ph0tos-db-pass' });
    expect(spec.services.database.shmSize).toBe('128Mi');
    expect(spec.services.server.devices).toEqual([{ path: '/dev/dri', resource: 'gpu.intel.com/i915' }]);
    expect(spec.services.server.ports).toEqual([{ name: 'http', port: 2283, http: true, publish: {} }]);
    expect(spec.volumes?.library).toEqual({ hostPath: '/srv/stacks/photos/library', reason: 'imported: the source binds ./library' });
  });

  it('home automation: host network, privileged with its USB device, init and the stop grace period', () => {
    const { spec } = mapComposeSource(CENSUS['home-automation'].source, { app: 'home-automation' });

    expect(spec.services.core).toMatchObject({ devices: [{ path: '/dev/ttyUSB0' }], init: true, stopGracePeriod: '2m' });
    expect(spec.services.core.security).toMatchObject({ hostNetwork: 'imported: the source stack runs it on the host network', privileged: 'imported: the source stack runs it privileged' });
  });

  it('DNS filter: UDP and TCP 53 published, NET_ADMIN, no health check recorded as the exception', () => {
    const { spec } = mapComposeSource(CENSUS['dns-filter'].source, { app: 'dns-filter' });

    expect(spec.services.dns.ports?.map((p) => `${p.name} ${p.protocol ?? 'TCP'} ${p.publish?.port ?? p.port}`)).toEqual(['tcp-53 TCP 53', 'udp-53 UDP 53', 'tcp-80 TCP 8080']);
    expect(spec.services.dns.security?.capabilities).toEqual({ NET_ADMIN: 'imported: the source stack adds NET_ADMIN' });
    expect(spec.policy?.disable).toEqual([{ rule: 'policy/probes', reason: 'imported: the source stack has no health check for dns' }]);
  });

  it('media: /dev/dri with its groups, the read-only media bind, the transcode tmpfs and the ingress', () => {
    const { spec } = mapComposeSource(CENSUS.media.source, { app: 'media' });

    expect(spec.services.server).toMatchObject({ groupAdd: [44, 105], devices: [{ path: '/dev/dri', resource: 'gpu.intel.com/i915' }], security: { user: { uid: 1000, gid: 1000 } } });
    expect(spec.services.server.mounts).toContainEqual({ volume: 'movies', path: '/media/movies', readOnly: true });
    expect(spec.volumes?.['server-transcode']).toEqual({ tmpfs: { size: '4Gi' } });
    expect(spec.ingress).toEqual({ host: 'media.home.example.org', service: 'server', port: 'http' });
  });

  it('cloud files: the cron container shares the app volume as a long-running service (its crond is its own: nothing guessed)', () => {
    const { spec } = mapComposeSource(CENSUS.files.source, { app: 'files' });

    expect(spec.services.cron).toMatchObject({ entrypoint: ['/cron.sh'], mounts: [{ volume: 'html', path: '/var/www/html' }], health: { probe: 'none' } });
    expect(spec.services.cron.kind).toBeUndefined();
  });

  it('workflows: the worker runs the same image with its own command and reads the same two secret keys', () => {
    const { spec } = mapComposeSource(CENSUS.workflows.source, { app: 'workflows' });

    expect(spec.services.worker).toMatchObject({ image: spec.services.main.image, command: ['worker'], dependsOn: { main: 'healthy' } });
    expect(spec.services.worker.secrets).toEqual(spec.services.main.secrets);
    expect(spec.secrets).toEqual([{ key: 'ENCRYPTION_KEY', remoteKey: 'workflows' }, { key: 'POSTGRES_PASSWORD', remoteKey: 'workflows' }]);
  });
});
