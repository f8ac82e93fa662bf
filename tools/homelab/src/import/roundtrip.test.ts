import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import type { FullAppSpec } from '../spec/types';
import { compareRoundTrip, KNOWN_ADDITIONS, NOT_COMPARED } from './roundtrip';

/**
 * The round-trip comparison on hand-written inputs of the shapes it reads: the source as
 * `docker compose config --format json` prints it, the merged app as build's renderCompose
 * writes it (YAML, with `x-homelab`). The real tools produce them in
 * tests/import/roundtrip.integration.test.ts.
 */
type Service = Record<string, unknown>;

/** A service as both sides print it when they agree. */
const web = (): Service => ({
  image: 'example/web:1.2.3',
  command: ['serve', '--port', '8080'],
  entrypoint: null,
  environment: { TZ: 'Etc/UTC', PRICE: 'costs $$5', DB_PASSWORD: 'fake-password-1' },
  ports: [{ mode: 'ingress', target: 8080, published: '8080', protocol: 'tcp' }],
  volumes: [
    { type: 'volume', source: 'data', target: '/data' },
    { type: 'bind', source: '/srv/web/config', target: '/config', read_only: true },
  ],
  user: '1000:1000',
  cap_add: ['NET_ADMIN'],
  depends_on: { db: { condition: 'service_healthy', required: true } },
});
const db = (): Service => ({ image: 'example/db:16', environment: { POSTGRES_PASSWORD: 'fake-password-1' } });

/** The merged file's form of a source service: secrets out of the environment (the env file gives them), homelab's /tmp, its labels. */
function mergedOf(service: Service, secrets: string[]): Service {
  const env = Object.fromEntries(Object.entries((service.environment ?? {}) as Record<string, string>).filter(([k]) => !secrets.includes(k)));
  const ports = (service.ports ?? []) as Record<string, unknown>[];
  return {
    ...service,
    environment: env,
    ports: ports.map((p) => ({ ...p, host_ip: p.host_ip ?? '0.0.0.0' })),
    tmpfs: ['/tmp:size=64m'],
    read_only: false,
    labels: { 'homelab.app': 'stack' },
    security_opt: ['no-new-privileges:true'],
  };
}

const spec: FullAppSpec = {
  name: 'stack',
  services: {
    web: { image: { repository: 'example/web', tag: '1.2.3' }, secrets: ['DB_PASSWORD'] },
    db: { image: { repository: 'example/db', tag: '16' }, secrets: [{ key: 'POSTGRES_PASSWORD', remoteKey: 'stack', property: 'DB_PASSWORD' }] },
  },
  secrets: [{ key: 'DB_PASSWORD', remoteKey: 'stack' }],
};

const metadata = { project: 'stack-dev', environment: 'dev', secrets: { keys: [{ key: 'DB_PASSWORD' }, { key: 'POSTGRES_PASSWORD' }], services: ['db', 'web'] } };

function compare(source: Record<string, Service>, merged: Record<string, Service>, options: { meta?: unknown; theSpec?: FullAppSpec } = {}) {
  return compareRoundTrip({
    source: JSON.stringify({ name: 'stack', services: source }),
    merged: YAML.stringify({ name: 'stack-dev', services: merged, 'x-homelab': options.meta ?? metadata }),
    spec: options.theSpec ?? spec,
  });
}

const agreeing = (): { source: Record<string, Service>; merged: Record<string, Service> } => ({
  source: { web: web(), db: db() },
  merged: { web: mergedOf(web(), ['DB_PASSWORD']), db: mergedOf(db(), ['POSTGRES_PASSWORD']) },
});

describe('compareRoundTrip', () => {
  it('holds when the merged app starts each service as the source does, and lists what homelab added on purpose', () => {
    const { source, merged } = agreeing();
    const result = compare(source, merged);

    expect(result.differences).toEqual([]);
    expect(result.additions).toEqual([
      `services.web.environment: POSTGRES_PASSWORD: ${KNOWN_ADDITIONS.sharedSecrets}`,
      `services.web.mounts./tmp: ${KNOWN_ADDITIONS.tmp}`,
      `services.db.environment: DB_PASSWORD: ${KNOWN_ADDITIONS.sharedSecrets}`,
      `services.db.mounts./tmp: ${KNOWN_ADDITIONS.tmp}`,
    ]);
  });

  type Case = [string, (s: { source: Record<string, Service>; merged: Record<string, Service> }) => void, string];
  it.each<Case>([
    ['a service the merged file lacks', (s) => delete s.merged.db, 'services.db: the source has the service, the merged file has not'],
    ['a service the source lacks', (s) => (s.merged.extra = { image: 'x:1' }), 'services.extra: the merged file has a service the source has not'],
    ['another image', (s) => (s.merged.web.image = 'example/web:1.2.4'), 'services.web.image: the source has "example/web:1.2.3", the merged file has "example/web:1.2.4"'],
    ['another command', (s) => (s.merged.web.command = ['serve']), 'services.web.command: the source has ["serve","--port","8080"], the merged file has ["serve"]'],
    ['an entrypoint the source has not', (s) => (s.merged.web.entrypoint = ['/init']), 'services.web.entrypoint: the source has none, the merged file has ["/init"]'],
    ['an environment value', (s) => ((s.merged.web.environment as Service).TZ = 'Europe/Berlin'), 'services.web.environment.TZ: the source has "Etc/UTC", the merged file has "Europe/Berlin"'],
    ['an environment key the merged file lacks', (s) => delete (s.merged.web.environment as Service).TZ, 'services.web.environment.TZ: the source has "Etc/UTC", the merged file has none'],
    ['an environment key the source lacks', (s) => ((s.merged.web.environment as Service).EXTRA = '1'), 'services.web.environment.EXTRA: the source has none, the merged file has "1"'],
    ['a $ escaped differently', (s) => ((s.merged.web.environment as Service).PRICE = 'costs $$$$5'), 'services.web.environment.PRICE: the source has "costs $5", the merged file has "costs $$5"'],
    ['a secret in plain environment', (s) => ((s.merged.web.environment as Service).DB_PASSWORD = 'fake-password-1'), 'services.web.environment.DB_PASSWORD: a secret of the spec, but the merged file gives it a value in plain environment'],
    ['a container port', (s) => ((s.merged.web.ports as Service[])[0].target = 8081), 'services.web.ports: the source has ["0.0.0.0:8080->8080/tcp","8080/tcp"], the merged file has ["0.0.0.0:8080->8081/tcp","8081/tcp"]'],
    ['a protocol', (s) => ((s.merged.web.ports as Service[])[0].protocol = 'udp'), 'services.web.ports: the source has ["0.0.0.0:8080->8080/tcp","8080/tcp"], the merged file has ["0.0.0.0:8080->8080/udp","8080/udp"]'],
    ['a published address', (s) => ((s.merged.web.ports as Service[])[0].host_ip = '127.0.0.1'), 'services.web.ports: the source has ["0.0.0.0:8080->8080/tcp","8080/tcp"], the merged file has ["127.0.0.1:8080->8080/tcp","8080/tcp"]'],
    ['a mount the merged file lacks', (s) => (s.merged.web.volumes as Service[]).splice(0, 1), 'services.web.mounts./data: the source mounts it, the merged file does not'],
    ['a mount the source lacks', (s) => (s.merged.web.volumes as Service[]).push({ type: 'volume', source: 'cache', target: '/cache' }), 'services.web.mounts./cache: the source does not mount it, the merged file does'],
    ['a read-only mount made writable', (s) => delete (s.merged.web.volumes as Service[])[1].read_only, 'services.web.mounts./config: the source mounts it read-only, the merged file read-write'],
    ['another host folder', (s) => ((s.merged.web.volumes as Service[])[1].source = '/srv/other'), 'services.web.mounts./config: the source binds "/srv/web/config", the merged file "/srv/other"'],
    ['another user', (s) => (s.merged.web.user = '0:0'), 'services.web.user: the source has "1000:1000", the merged file has "0:0"'],
    ['a user the source has not', (s) => (s.merged.db.user = '999:999'), 'services.db.user: the source has none, the merged file has "999:999"'],
    ['a capability the merged file lacks', (s) => (s.merged.web.cap_add = []), 'services.web.cap_add: the source has ["NET_ADMIN"], the merged file has []'],
    ['capabilities dropped that the source keeps', (s) => (s.merged.web.cap_drop = ['ALL']), 'services.web.cap_drop: the source has [], the merged file has ["ALL"]'],
    ['privileged mode', (s) => (s.merged.web.privileged = true), 'services.web.privileged: the source has false, the merged file has true'],
    ['a read-only root filesystem', (s) => (s.merged.web.read_only = true), 'services.web.read_only: the source has false, the merged file has true'],
    ['another network mode', (s) => (s.merged.db.network_mode = 'host'), 'services.db.network_mode: the source has none, the merged file has "host"'],
    ['another start condition', (s) => (s.merged.web.depends_on = { db: { condition: 'service_started' } }), 'services.web.depends_on: the source has ["db: service_healthy"], the merged file has ["db: service_started"]'],
  ])('finds %s, in one line naming the service, the field and both values', (_what, change, line) => {
    const sides = agreeing();
    change(sides);
    expect(compare(sides.source, sides.merged).differences).toEqual([line]);
  });

  it('compares a secret by its key: present when the service reads the env file that holds it, else a difference, never with its value', () => {
    const { source, merged } = agreeing();
    const noEnvFile = compare(source, merged, { meta: { ...metadata, secrets: { ...metadata.secrets, services: ['db'] } } });
    expect(noEnvFile.differences).toEqual(["services.web.environment.DB_PASSWORD: the source sets it, the merged file has it neither in its environment nor in the app's secrets env file"]);

    const notAKey = compare(source, merged, { meta: { ...metadata, secrets: { keys: [{ key: 'POSTGRES_PASSWORD' }], services: ['db', 'web'] } } });
    expect(notAKey.differences).toEqual(["services.web.environment.DB_PASSWORD: the source sets it, the merged file has it neither in its environment nor in the app's secrets env file"]);

    const all = [...noEnvFile.differences, ...notAKey.differences, ...noEnvFile.additions].join('\n');
    expect(all).not.toContain('fake-password-1');
  });

  it('never shows a value that may be a credential, even of a key the spec keeps in plain environment', () => {
    const { source, merged } = agreeing();
    (source.web.environment as Service).API_TOKEN = 'fake-token-aaaa';
    (merged.web.environment as Service).API_TOKEN = 'fake-token-bbbb';
    (merged.web.environment as Service).LEAK = 'postgres://app:fake-pw-3@db/app';

    const { differences } = compare(source, merged);
    expect(differences).toEqual([
      'services.web.environment.API_TOKEN: the values differ (not shown: it may be a credential)',
      'services.web.environment.LEAK: the source has none, the merged file has a value (not shown: it may be a credential)',
    ]);
  });

  it('takes an untagged image for :latest, as Docker pulls it, and a user without a group for the same group, as a known addition', () => {
    const { source, merged } = agreeing();
    source.web.image = 'example/web';
    merged.web.image = 'example/web:latest';
    source.web.user = '1000';
    source.db.user = 'root';
    merged.db.user = '0:0';

    const result = compare(source, merged);
    expect(result.differences).toEqual([]);
    expect(result.additions).toContain(`services.web.user: "1000" runs as "1000:1000": ${KNOWN_ADDITIONS.userGroup}`);
    expect(result.additions).toContain(`services.db.user: "root" runs as "0:0": ${KNOWN_ADDITIONS.userGroup}`);
  });

  it('takes a key declared without a value and unset for absent, and a credential declared so as a known addition when the spec reads it from the secrets', () => {
    const { source, merged } = agreeing();
    (source.web.environment as Service).ADMIN_EMAIL = null;
    (source.db.environment as Service).POSTGRES_PASSWORD = null;

    const result = compare(source, merged);
    expect(result.differences).toEqual([]);
    expect(result.additions).toContain(`services.db.environment.POSTGRES_PASSWORD: ${KNOWN_ADDITIONS.unsetSecret}`);
  });

  it('names a secret the spec gives a service that the source did not set', () => {
    const { source, merged } = agreeing();
    delete (source.web.environment as Service).DB_PASSWORD;
    expect(compare(source, merged).differences).toEqual(["services.web.environment.DB_PASSWORD: the source has none, the spec reads it from the app's secrets"]);
  });

  it('takes the scheduler of cron services for a known addition, and a service of that name without cron services for a difference', () => {
    const { source, merged } = agreeing();
    const scheduler = { image: 'docker:27.5.1-cli', command: ['crond', '-f', '-l', '6'] };
    const withoutCron = compare(source, { ...merged, scheduler });
    expect(withoutCron.differences).toEqual(['services.scheduler: the merged file has a service the source has not']);

    source.backup = { image: 'example/backup:1', labels: { 'homelab.kind': 'cron', 'homelab.schedule': '0 3 * * *' } };
    const cron = { ...mergedOf(source.backup, []), labels: { 'homelab.kind': 'cron', 'homelab.schedule': '0 3 * * *' }, profiles: ['cron'] };
    const withCron = compare(source, { ...merged, backup: cron, scheduler }, { theSpec: { ...spec, services: { ...spec.services, backup: { kind: 'cron', schedule: '0 3 * * *', image: { repository: 'example/backup', tag: '1' } } } } });
    expect(withCron.differences).toEqual([]);
    expect(withCron.additions).toContain(`services.scheduler: ${KNOWN_ADDITIONS.scheduler}`);
  });

  it('does not publish ports on the host network: there only the container ports count', () => {
    const { source, merged } = agreeing();
    source.web.network_mode = 'host';
    merged.web.network_mode = 'host';
    merged.web.ports = [];
    merged.web.expose = ['8080'];
    expect(compare(source, merged).differences).toEqual([]);
  });

  it('says why each field it leaves out is left out', () => {
    for (const field of ['labels', 'healthcheck', 'logging', 'restart', 'security_opt', 'deploy']) expect(NOT_COMPARED[field]).toMatch(/homelab/);
  });
});
