import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf, stackSpec } from '../../../../../tests/support/spec';
import type { AppSpec, ServiceSpec } from '../../spec/types';
import { normalizeServices } from './services';
import { normalizeStorage } from './storage';

const where = 'applications/specs/stack.yaml';
const servicesOf = (spec: AppSpec) => normalizeServices(spec, normalizeStorage(spec, where), where);
const image = { repository: 'example/app', tag: '1.0.0' };
const full = (services: Record<string, Partial<ServiceSpec>>, extra: Partial<AppSpec> = {}): AppSpec =>
  ({ name: 'stack', services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { image, ...v }])), ...extra }) as AppSpec;

describe('normalizeServices: the shorthand', () => {
  it('is one service named after the app, without a component label, reading the whole Secret', () => {
    const { services, secretKeys } = servicesOf(
      specOf('web', { secrets: [{ key: 'TOKEN', remoteKey: 'web' }], volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }], dependsOn: ['postgres'] }),
    );

    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({
      name: 'web',
      component: undefined,
      kind: 'service',
      selector: { 'app.kubernetes.io/name': 'web' },
      image: 'traefik/whoami:v1.10.4',
      entrypoint: null,
      command: null,
      workingDir: null,
      secrets: { enabled: true, envFrom: true, keys: ['TOKEN'] },
      mounts: [{ volume: 'data', path: '/data', readOnly: false, subPath: null }],
      dependsOn: {},
    });
    expect(secretKeys).toEqual([{ key: 'TOKEN', remoteKey: 'web', property: null }]);
  });

  it("keeps today's defaults: one replica, the default resources and user, an HTTP check on the HTTP port", () => {
    const [web] = servicesOf(specOf('web')).services;

    expect(web.replicas).toBe(1);
    expect(web.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    expect(web.security).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, readOnlyRootFilesystem: true, privileged: false, capabilities: [], hostNetwork: false, optIns: [] });
    expect(web.health).toMatchObject({ enabled: true, composeExec: true, isHttp: true, path: '/', port: 'http', portNumber: 8080, startupFailureThreshold: 6 });
    expect(web.health.composeTest).toEqual(['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8080/']);
  });

  it('still needs an HTTP port for its default check', () => {
    expect(inputErrorOf(() => servicesOf(specOf('web', { ports: [{ name: 'db', port: 5432 }] })))).toBe(
      `${where}: health.http.port needs a port; mark one port http: true or set health.http.port`,
    );
  });
});

describe('normalizeServices: the full form', () => {
  it('gives each service its name, its component label and a selector of both', () => {
    const { services } = servicesOf(stackSpec('photos'));

    expect(services.map((s) => s.name)).toEqual(['server', 'machine-learning', 'redis', 'database']);
    expect(services[3].selector).toEqual({ 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'database' });
    expect(services[3].component).toBe('database');
    expect(services[3].image).toBe('ghcr.io/example-photos/postgres:14-vectorchord0.4.3');
  });

  it('carries entrypoint, command and working directory as written, null where the image keeps its own', () => {
    const { services } = servicesOf(full({ cron: { entrypoint: ['php'], command: ['-f', '/var/www/cron.php'], workingDir: '/var/www' }, web: {} }));

    expect(services.map((s) => [s.entrypoint, s.command, s.workingDir])).toEqual([
      [['php'], ['-f', '/var/www/cron.php'], '/var/www'],
      [null, null, null],
    ]);
  });

  it("reads only its own secret keys; a key declared in place joins the app's Secret", () => {
    const { services, secretKeys } = servicesOf(stackSpec('photos'));

    expect(services.find((s) => s.name === 'server')?.secrets).toEqual({ enabled: true, envFrom: false, keys: ['DB_PASSWORD'] });
    expect(services.find((s) => s.name === 'database')?.secrets).toEqual({ enabled: true, envFrom: false, keys: ['POSTGRES_PASSWORD'] });
    expect(services.find((s) => s.name === 'redis')?.secrets).toEqual({ enabled: false, envFrom: false, keys: [] });
    expect(secretKeys).toEqual([
      { key: 'DB_PASSWORD', remoteKey: 'photos', property: null },
      { key: 'POSTGRES_PASSWORD', remoteKey: 'photos', property: 'DB_PASSWORD' },
    ]);
  });

  it('resolves mounts against the app volumes, a config volume as its one read-only file', () => {
    const spec = full(
      { web: { mounts: [{ volume: 'data', path: '/data', readOnly: true, subPath: 'web' }, { volume: 'conf', path: '/etc/app.conf' }] } },
      { volumes: { data: { size: '1Gi' }, conf: { config: { content: 'x' } } } } as Partial<AppSpec>,
    );

    expect(servicesOf(spec).services[0].mounts).toEqual([
      { volume: 'data', path: '/data', readOnly: true, subPath: 'web' },
      { volume: 'conf', path: '/etc/app.conf', readOnly: true, subPath: 'conf' },
    ]);
  });

  it.each([
    ['an HTTP port and no health', { ports: [{ name: 'http', port: 80, http: true }] }, { enabled: true, composeExec: true, isHttp: true, port: 'http' }],
    ['no HTTP port and no health (a database, a worker)', { ports: [{ name: 'pg', port: 5432 }] }, { enabled: false, composeExec: false }],
    ['a command', { health: { command: ['pg_isready'] } }, { enabled: true, composeExec: true, isCommand: true, isHttp: false }],
    ['a TCP port', { ports: [{ name: 'pg', port: 5432 }], health: { tcp: { port: 'pg' } } }, { enabled: true, composeExec: false, isTcp: true, port: 'pg', portNumber: 5432 }],
    ['an outside probe', { ports: [{ name: 'http', port: 80, http: true }], health: { http: { path: '/ping' }, probe: 'outside' as const } }, { enabled: true, composeExec: false, outside: true, path: '/ping' }],
  ])('checks health with %s', (_label, service, expected) => {
    expect(servicesOf(full({ web: service as Partial<ServiceSpec> })).services[0].health).toMatchObject(expected);
  });

  it('gives a job no health check, and keeps UDP ports with their protocol', () => {
    const { services } = servicesOf(full({ migrate: { kind: 'job', command: ['migrate'] }, dns: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } }));

    expect(services[0]).toMatchObject({ kind: 'job', isJob: true, health: { enabled: false } });
    expect(services[1].ports).toEqual([{ name: 'dns', port: 53, protocol: 'UDP' }]);
  });

  it.each([
    ['a secret key the app does not declare', full({ web: { secrets: ['NOPE'] } }), `${where}: services.web.secrets[0] "NOPE" is not a key of the app's secrets; declare it under secrets (with its remoteKey) or write { key: NOPE, remoteKey: ... } here`],
    [
      'a key declared in place twice with other store keys',
      full({ a: { secrets: [{ key: 'K', remoteKey: 'one' }] }, b: { secrets: [{ key: 'K', remoteKey: 'two' }] } }),
      `${where}: services.b.secrets[0] declares "K" again with another remoteKey or property; declare it once (under secrets) and list it here by name`,
    ],
    ['a mount of a volume the app does not have', full({ web: { mounts: [{ volume: 'data', path: '/data' }] } }), `${where}: services.web.mounts[0].volume "data" is not a volume of the app; add it under volumes`],
    ['two mounts on one path', full({ web: { mounts: [{ volume: 'a', path: '/d' }, { volume: 'b', path: '/d' }] } }, { volumes: { a: { size: '1Gi' }, b: { size: '1Gi' } } } as Partial<AppSpec>), `${where}: services.web.mounts[].path "/d" appears twice`],
    ['a health port the service does not have', full({ web: { ports: [{ name: 'http', port: 80 }], health: { http: { path: '/', port: 'admin' } } } }), `${where}: services.web.health.http.port "admin" is not a port of service "web"; use one of "http"`],
    ['an HTTP check without a port', full({ web: { health: { http: { path: '/' } } } }), `${where}: services.web.health.http.port needs a port; mark one port http: true or set services.web.health.http.port`],
    ['a TCP check run inside the container', full({ web: { ports: [{ name: 'pg', port: 5432 }], health: { tcp: { port: 'pg' }, probe: 'exec' } } }), 'services.web.health.tcp cannot run inside the container on Compose'],
    ['ports on a job', full({ migrate: { kind: 'job', ports: [{ name: 'http', port: 80 }] } }), `${where}: services.migrate.ports is set on a service of kind "job", which runs to completion and is not reached, probed or scaled; remove services.migrate.ports`],
    ['a plain env variable that is also a secret', full({ web: { env: { K: 'v' }, secrets: ['K'] } }, { secrets: [{ key: 'K', remoteKey: 'web' }] }), `${where}: "K" is both a plain env variable and a secret of service "web"; keep it in secrets only`],
    ['an image tagged latest', full({ web: { image: { repository: 'redis', tag: 'latest' } } }), `${where}: services.web.image "redis:latest" uses the tag "latest"`],
    ['a memory request above the limit', full({ web: { resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } } } }), `${where}: services.web.resources.requests.memory "1Gi" exceeds services.web.resources.limits.memory "512Mi"`],
  ])('refuses %s in one line naming the field and the fix', (_label, spec, message) => {
    const error = inputErrorOf(() => servicesOf(spec));

    expect(error).toContain(message);
    expect(error).not.toMatch(/\n/);
  });
});

describe('normalizeServices: an image tagged latest', () => {
  const latest = full({ web: { image: { repository: 'redis', tag: 'latest' } } });

  it('is the recorded exception of an app that turns policy/image-tag off (an imported stack that runs latest)', () => {
    const spec = { ...latest, policy: { disable: [{ rule: 'policy/image-tag', reason: 'imported: the source stack runs redis:latest; pin a version' }] } } as AppSpec;

    expect(servicesOf(spec).services[0].image).toBe('redis:latest');
  });

  it('is refused when the app records no such exception', () => {
    expect(inputErrorOf(() => servicesOf(latest))).toContain('services.web.image "redis:latest" uses the tag "latest"');
  });
});
