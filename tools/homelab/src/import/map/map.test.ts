import { describe, expect, it } from 'vitest';
import { bindMount, checkImportedSpec, composeSource, fromVariable, literalEnv, volumeMount } from '../../../../../tests/support/compose-source';
import { inputErrorOf } from '../../../../../tests/support/spec';
import type { ComposeService, ComposeSource } from '../model';
import { type ImportResult, mapComposeSource } from './index';

const map = (services: Record<string, Partial<ComposeService>>, fields: Partial<ComposeSource> = {}, strict = false): ImportResult =>
  mapComposeSource(composeSource(services, fields), { app: 'stack', strict });
const notCarried = (result: ImportResult) => result.lines.filter((l) => l.startsWith('not carried over:'));
const refusal = (services: Record<string, Partial<ComposeService>>, fields: Partial<ComposeSource> = {}, strict = false) => inputErrorOf(() => map(services, fields, strict));
/** A one-shot service that starts as homelab's defaults do. */
const oneShot: Partial<ComposeService> = { user: '1000:1000', read_only: true, cap_drop: ['ALL'] };
/** A long-running service that starts as homelab's defaults do (with a health check), so that only what a test gives shows. */
const hardened: Partial<ComposeService> = { ...oneShot, healthcheck: { test: ['CMD', 'true'] } };

describe('mapComposeSource: services and images', () => {
  it('keeps each service under its name, with its image, command, entrypoint and working directory as written', () => {
    const result = map({
      web: { ...hardened, image: 'ghcr.io/example/web:2.5.1', entrypoint: ['/bin/tini', '--'], command: ['serve', '--port=3000'], working_dir: '/app' },
      db: { ...hardened, image: 'postgres@sha256:' + 'a'.repeat(64) },
    });

    expect(result.spec.services.web).toMatchObject({ image: { repository: 'ghcr.io/example/web', tag: '2.5.1' }, entrypoint: ['/bin/tini', '--'], command: ['serve', '--port=3000'], workingDir: '/app' });
    expect(result.spec.services.db.image).toEqual({ repository: 'postgres', digest: `sha256:${'a'.repeat(64)}` });
    expect(notCarried(result)).toEqual([]);
    checkImportedSpec(result.spec);
  });

  it.each([
    ['untagged', 'redis'],
    ['tagged latest', 'redis:latest'],
  ])('keeps an %s image as latest, with the policy exception and a warning to pin it', (_label, image) => {
    const result = map({ cache: { ...hardened, image } });

    expect(result.spec.services.cache.image).toEqual({ repository: 'redis', tag: 'latest' });
    expect(result.spec.policy?.disable).toContainEqual({ rule: 'policy/image-tag', reason: 'imported: the source stack runs cache on an unpinned image (latest); pin a tag or digest' });
    expect(result.lines).toContain('warning: image services.cache.image is not pinned (latest): pin a tag or digest');
    checkImportedSpec(result.spec);
  });

  it('refuses build: without image: in one line naming the service', () => {
    const error = refusal({ app: { image: undefined, build: { context: '.' } } });

    expect(error).toBe('services.app.build: a service built from source and without image: cannot be imported (homelab deploys images, it does not build them); build and push the image, set services.app.image to it, and import again');
  });

  it('uses the image of a service with build: and image:, and lists the build', () => {
    const result = map({ app: { ...hardened, image: 'example/app:3.1.0', build: { context: '.' } } });

    expect(result.spec.services.app.image).toEqual({ repository: 'example/app', tag: '3.1.0' });
    expect(notCarried(result)).toEqual(['not carried over: services.app.build (homelab deploys images: the service runs example/app:3.1.0, which must be built and pushed elsewhere)']);
  });

  it('refuses a service name Kubernetes cannot give a Service', () => {
    expect(refusal({ my_db: {} })).toMatch(/^services\.my_db: "my_db" is not a name Kubernetes can give a Service/);
  });
});

describe('mapComposeSource: restart policies and jobs', () => {
  it('makes a service another waits for with service_completed_successfully a job, whatever restart: no or none says', () => {
    const result = map({
      migrate: { ...oneShot, restart: 'no', command: ['migrate'] },
      seed: { ...oneShot, command: ['seed'] },
      web: { ...hardened, restart: 'unless-stopped', depends_on: { migrate: { condition: 'service_completed_successfully', required: true }, seed: { condition: 'service_completed_successfully', required: true } } },
    });

    expect(result.spec.services.migrate.kind).toBe('job');
    expect(result.spec.services.seed.kind).toBe('job');
    expect(result.spec.services.migrate.health).toBeUndefined();
    expect(result.spec.services.web.kind).toBeUndefined();
    expect(result.spec.services.web.dependsOn).toEqual({ migrate: 'completed', seed: 'completed' });
    expect(notCarried(result)).toEqual([]);
    checkImportedSpec(result.spec);
  });

  it.each(['unless-stopped', 'always', undefined])('keeps restart %s as a long-running service', (restart) => {
    const result = map({ web: { ...hardened, restart } });

    expect(result.spec.services.web.kind).toBeUndefined();
    expect(notCarried(result)).toEqual([]);
  });

  it('lists restart: no on a service nothing waits to complete', () => {
    expect(notCarried(map({ web: { ...hardened, restart: 'no' } }))).toEqual([
      'not carried over: services.web.restart (no on a service nothing waits to complete: homelab keeps long-running services up (unless-stopped); make it a job if it runs once)',
    ]);
  });
});

describe('mapComposeSource: environment and secrets', () => {
  it('keeps plain values in env as they arrive in the container ($ included) and credentials in secrets, their values only in secretValues', () => {
    const result = map({
      web: { ...hardened, environment: literalEnv({ TZ: 'Europe/Berlin', PRICE: '$5 and $$', PASSWORD_MIN_LENGTH: '12', TOKEN_TTL: '1h', DB_PASSWORD: 's3cr3t-pw', API_KEY: 'k-123456789' }) },
    });

    expect(result.spec.services.web.env).toEqual({ TZ: 'Europe/Berlin', PRICE: '$5 and $$', PASSWORD_MIN_LENGTH: '12', TOKEN_TTL: '1h' });
    expect(result.spec.services.web.secrets).toEqual(['API_KEY', 'DB_PASSWORD']);
    expect(result.spec.secrets).toEqual([{ key: 'API_KEY', remoteKey: 'stack' }, { key: 'DB_PASSWORD', remoteKey: 'stack' }]);
    expect(result.secretValues).toEqual({ API_KEY: 'k-123456789', DB_PASSWORD: 's3cr3t-pw' });
    checkImportedSpec(result.spec);
  });

  it('makes one ${VAR} used by two services under other names one key named after the variable, read by each under its own name', () => {
    const result = map({
      server: { ...hardened, environment: { DB_PASSWORD: fromVariable('DB_PASSWORD', 'pw-0123456') } },
      database: { ...hardened, environment: { POSTGRES_PASSWORD: fromVariable('DB_PASSWORD', 'pw-0123456') } },
      backup: { ...hardened, environment: { PGPASSWORD: fromVariable('DB_PASSWORD', 'pw-0123456', '${DB_PASSWORD:?set it}') } },
    });

    expect(result.spec.secrets).toEqual([{ key: 'DB_PASSWORD', remoteKey: 'stack' }]);
    expect(result.spec.services.server.secrets).toEqual(['DB_PASSWORD']);
    expect(result.spec.services.database.secrets).toEqual([{ key: 'POSTGRES_PASSWORD', remoteKey: 'stack', property: 'DB_PASSWORD' }]);
    expect(result.spec.services.backup.secrets).toEqual([{ key: 'PGPASSWORD', remoteKey: 'stack', property: 'DB_PASSWORD' }]);
    // deploy's local secrets file is read by key: every key of the app's Secret has its line.
    expect(result.secretValues).toEqual({ DB_PASSWORD: 'pw-0123456', POSTGRES_PASSWORD: 'pw-0123456', PGPASSWORD: 'pw-0123456' });
    const normalized = checkImportedSpec(result.spec);
    expect(normalized.secrets.keys.map((k) => `${k.key}=${k.remoteKey}/${k.property ?? k.key}`)).toEqual(['DB_PASSWORD=stack/DB_PASSWORD', 'POSTGRES_PASSWORD=stack/DB_PASSWORD', 'PGPASSWORD=stack/DB_PASSWORD']);
  });

  it('refuses two services giving one secret key two values, naming both and neither value', () => {
    const error = refusal({ a: { environment: literalEnv({ POSTGRES_PASSWORD: 'first-value' }) }, b: { environment: literalEnv({ POSTGRES_PASSWORD: 'second-value' }) } });

    expect(error).toMatch(/^services\.b\.environment\.POSTGRES_PASSWORD and services\.a\.environment\.POSTGRES_PASSWORD give the secret store entry stack\/POSTGRES_PASSWORD different values/);
    expect(error).not.toMatch(/first-value|second-value/);
  });

  it('keeps a credential declared without a value as a secret to fill in, and lists any other unset variable', () => {
    const result = map({ web: { ...hardened, environment: literalEnv({ ADMIN_TOKEN: null, EXTRA: null }) } });

    expect(result.spec.services.web.secrets).toEqual(['ADMIN_TOKEN']);
    expect(result.secretValues).toEqual({});
    expect(result.lines).toContain('warning: services.web.environment.ADMIN_TOKEN is a secret with no value where the stack was read: add ADMIN_TOKEN to the local secrets file before deploying');
    expect(notCarried(result)).toEqual(['not carried over: services.web.environment.EXTRA (declared without a value and unset where the stack was read: Compose passes nothing)']);
  });

  it('warns about a placeholder password without quoting it', () => {
    const result = map({ db: { ...hardened, environment: literalEnv({ POSTGRES_PASSWORD: 'changeme' }) } });

    expect(result.lines).toContain('warning: services.db.environment.POSTGRES_PASSWORD holds a well-known placeholder password: set a real value in the local secrets file');
    expect(result.secretValues).toEqual({ POSTGRES_PASSWORD: 'changeme' });
  });

  it('refuses a secret value that the spec would carry elsewhere (a password on the command line), naming the key, not the value', () => {
    const error = refusal({ cache: { command: ['redis-server', '--requirepass', 'r3dis-pass-42'], environment: literalEnv({ REDIS_PASSWORD: 'r3dis-pass-42' }) } });

    expect(error).toMatch(/^services\.cache\.command\[2\] holds the value of the secret REDIS_PASSWORD, and the spec is committed to git/);
    expect(error).not.toContain('r3dis-pass-42');
  });

  it('refuses a credential-named variable whose value the spec would carry, even when no env value holds it', () => {
    const error = refusal({ cache: { command: ['redis-server', '--requirepass', 'r3dis-pass-42'] } }, { variables: { REDIS_PASSWORD: { value: 'r3dis-pass-42', source: 'env-file' } } });

    expect(error).toMatch(/^services\.cache\.command\[2\] holds the value of the secret REDIS_PASSWORD/);
  });

  it('lets no secret value reach the spec, the report or an error message', () => {
    const values = ['pw-0123456', 'tok-abcdef99', 'Zq8vN2xLp4Rt7Ws1Ky9Bm3Hd6Gf0Jc5Q'];
    const source = composeSource({
      web: {
        ...hardened,
        image: 'example/web:latest',
        environment: { DB_PASSWORD: fromVariable('DB_PASSWORD', values[0]), API_TOKEN: literalEnv({ API_TOKEN: values[1] }).API_TOKEN, SESSION_SEED: literalEnv({ SESSION_SEED: values[2] }).SESSION_SEED, EMPTY_SECRET: literalEnv({ EMPTY_SECRET: null }).EMPTY_SECRET },
        user: 'www-data',
        labels: { 'traefik.http.routers.web.middlewares': 'auth' },
      },
    });
    const result = mapComposeSource(source, { app: 'stack' });
    const strict = inputErrorOf(() => mapComposeSource(source, { app: 'stack', strict: true }));
    const seen = [JSON.stringify(result.spec), ...result.lines, strict].join('\n');

    expect(Object.values(result.secretValues).sort()).toEqual([...values].sort());
    for (const value of values) expect(seen).not.toContain(value);
  });

  it('lists an environment name Kubernetes cannot take', () => {
    expect(notCarried(map({ web: { ...hardened, environment: literalEnv({ 'my.setting': 'x' }) } }))).toEqual([
      'not carried over: services.web.environment.my.setting (not a name Kubernetes takes for an environment variable: letters, digits and _, not starting with a digit)',
    ]);
  });
});

describe('mapComposeSource: placeholders', () => {
  it.each([
    ['an image', { image: 'example/app:@version@' }, 'services.web.image holds a placeholder (@…@)'],
    ['an env value', { environment: literalEnv({ DOMAIN: '<your-domain>' }) }, 'services.web.environment.DOMAIN holds a placeholder (<your-…>)'],
    ['a template in an env value', { environment: literalEnv({ BASE_URL: 'https://{{ domain }}/' }) }, 'services.web.environment.BASE_URL holds a placeholder ({{ … }})'],
    ['an upper-case placeholder', { environment: literalEnv({ ADMIN_EMAIL: '<ADMIN_EMAIL_ADDRESS>' }) }, 'services.web.environment.ADMIN_EMAIL holds a placeholder (<…>)'],
    ['a secret', { environment: literalEnv({ API_TOKEN: '<YOUR_API_TOKEN>' }) }, 'services.web.environment.API_TOKEN holds a placeholder (<your-…>)'],
    ['a bind source', { volumes: [bindMount('/path/to/media', '/media')] }, 'services.web.volumes./media (its source) holds a placeholder (/path/to/…)'],
  ])('refuses a placeholder in %s in one line naming the service and key', (_label, fields, message) => {
    const error = refusal({ web: fields });

    expect(error).toBe(`${message}, not a real value; replace it in the source (or its .env) with what the stack should use, and import again`);
  });

  it('takes Go templates that do work and weak but real values', () => {
    const result = map({ web: { ...hardened, environment: literalEnv({ NOTIFY_TEMPLATE: '{{range .}}{{.Name}}{{end}}', ADMIN_USER: 'admin' }) } });

    expect(result.spec.services.web.env).toEqual({ ADMIN_USER: 'admin', NOTIFY_TEMPLATE: '{{range .}}{{.Name}}{{end}}' });
  });
});

describe('mapComposeSource: ports', () => {
  it('maps exposed, published and UDP ports, naming them by protocol and port', () => {
    const result = map({
      dns: {
        ...hardened,
        expose: ['9153'],
        ports: [
          { target: 53, published: '53', protocol: 'udp' },
          { target: 53, published: '53', host_ip: '192.0.2.10', protocol: 'tcp' },
          { target: 8080, published: '80', protocol: 'tcp' },
          { target: 8000, published: '8000-8010', protocol: 'tcp' },
        ],
      },
    });

    expect(result.spec.services.dns.ports).toEqual([
      { name: 'tcp-9153', port: 9153 },
      { name: 'udp-53', port: 53, protocol: 'UDP', publish: {} },
      { name: 'tcp-53', port: 53, publish: { address: '192.0.2.10' } },
      { name: 'tcp-8080', port: 8080, publish: { port: 80 } },
    ]);
    expect(notCarried(result)).toEqual([
      'not carried over: services.dns.ports.8000-8010:8000/tcp (a published port range: the spec publishes each port on one host port; list the ports the service uses)',
    ]);
    checkImportedSpec(result.spec);
  });

  it('names the port http only where a Traefik label or an HTTP health check says so', () => {
    const result = map({
      web: { ...hardened, expose: ['3000', '9090'], healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://localhost:3000/health'] } },
      api: { ...hardened, expose: ['8080'] },
    });

    expect(result.spec.services.web.ports).toEqual([{ name: 'http', port: 3000, http: true }, { name: 'tcp-9090', port: 9090 }]);
    expect(result.spec.services.api.ports).toEqual([{ name: 'tcp-8080', port: 8080 }]);
  });

  it('keeps a published port of a service on the host network unpublished (its ports are the host\'s)', () => {
    const result = map({ ha: { ...hardened, network_mode: 'host', networks: {}, ports: [{ target: 8123, published: '8123', protocol: 'tcp' }] } });

    expect(result.spec.services.ha.ports).toEqual([{ name: 'tcp-8123', port: 8123 }]);
    expect(result.spec.services.ha.security?.hostNetwork).toBe('imported: the source stack runs it on the host network');
    checkImportedSpec(result.spec);
  });
});

describe('mapComposeSource: volumes', () => {
  it('makes named volumes app volumes of a default size (with a warning), one for all the services that share it', () => {
    const result = map(
      {
        app: { ...hardened, volumes: [volumeMount('html', '/var/www/html'), volumeMount('db_data', '/backup', { read_only: true, volume: { subpath: 'dumps' } })] },
        cron: { ...hardened, volumes: [volumeMount('html', '/var/www/html')] },
      },
      { volumes: { html: {}, db_data: {} } },
    );

    expect(result.spec.volumes).toEqual({ html: { size: '10Gi' }, 'db-data': { size: '10Gi' } });
    expect(result.spec.services.app.mounts).toEqual([{ volume: 'html', path: '/var/www/html' }, { volume: 'db-data', path: '/backup', readOnly: true, subPath: 'dumps' }]);
    expect(result.spec.services.cron.mounts).toEqual([{ volume: 'html', path: '/var/www/html' }]);
    expect(result.lines).toContain('warning: volumes.html has no size in Compose: it is 10Gi in the spec; set volumes.html.size to what it needs');
    expect(result.lines).toContain('note: volumes.db_data is the app volume db-data (volume names in the spec are lower-case letters, digits and -)');
    checkImportedSpec(result.spec);
  });

  it('makes an external volume a claim and an NFS volume an nfs share', () => {
    const result = map(
      { media: { ...hardened, volumes: [volumeMount('library', '/library'), volumeMount('movies', '/movies', { read_only: true })] } },
      { volumes: { library: { external: true, name: 'photo-library' }, movies: { driver: 'local', driver_opts: { type: 'nfs', o: 'addr=nas.home.arpa,nfsvers=4,ro', device: ':/export/movies' } } } },
    );

    expect(result.spec.volumes).toEqual({ library: { claim: 'photo-library' }, movies: { nfs: { server: 'nas.home.arpa', path: '/export/movies' } } });
    expect(notCarried(result)).toEqual(['not carried over: volumes.movies.driver_opts.o (the NFS options ro: the spec mounts NFS with its own (nfsvers=4))']);
    checkImportedSpec(result.spec);
  });

  it('makes binds host paths with their reason: relative ones at the path Compose resolves, single files File, the Docker socket Socket, :ro read-only', () => {
    const kinds: Record<string, 'file' | 'directory' | 'socket'> = { '/srv/stacks/stack/config.yml': 'file', '/srv/stacks/stack/data': 'directory' };
    const source = composeSource({
      web: {
        ...hardened,
        volumes: [
          bindMount('./data', '/data'),
          bindMount('./config.yml', '/etc/app/config.yml', { read_only: true }),
          bindMount('/etc/localtime', '/etc/localtime', { read_only: true }),
          bindMount('/var/run/docker.sock', '/var/run/docker.sock', { read_only: true }),
          bindMount('/mnt/media', '/media', { bind: { selinux: 'z' } }),
        ],
      },
      worker: { ...hardened, volumes: [bindMount('./data', '/data')] },
    });
    const result = mapComposeSource(source, { app: 'stack', statPath: (p) => kinds[p] });

    expect(result.spec.volumes).toEqual({
      data: { hostPath: '/srv/stacks/stack/data', reason: 'imported: the source binds ./data' },
      'config-yml': { hostPath: '/srv/stacks/stack/config.yml', type: 'File', reason: 'imported: the source binds ./config.yml' },
      localtime: { hostPath: '/etc/localtime', type: 'File', reason: 'imported: the source binds /etc/localtime' },
      'docker-sock': { hostPath: '/var/run/docker.sock', type: 'Socket', reason: 'imported: the source binds the Docker socket /var/run/docker.sock (root on the host)' },
      media: { hostPath: '/mnt/media', reason: 'imported: the source binds /mnt/media' },
    });
    expect(result.spec.services.web.mounts).toEqual([
      { volume: 'data', path: '/data' },
      { volume: 'config-yml', path: '/etc/app/config.yml', readOnly: true },
      { volume: 'localtime', path: '/etc/localtime', readOnly: true },
      { volume: 'docker-sock', path: '/var/run/docker.sock', readOnly: true },
      { volume: 'media', path: '/media' },
    ]);
    expect(result.spec.services.worker.mounts).toEqual([{ volume: 'data', path: '/data' }]);
    expect(notCarried(result)).toEqual(['not carried over: services.web.volumes./media.selinux (:z: SELinux relabeling is not modeled; on an SELinux host label the folder once (chcon -Rt container_file_t))']);
    checkImportedSpec(result.spec);
  });

  it('makes a local bind volume a host path, an anonymous volume a named one (a warning), and lists other drivers', () => {
    const result = map(
      { web: { ...hardened, volumes: [volumeMount('photos', '/photos'), volumeMount('s3', '/s3'), { type: 'volume', target: '/var/lib/app' }] } },
      { volumes: { photos: { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '/mnt/photos' } }, s3: { driver: 'rclone' } } },
    );

    expect(result.spec.volumes).toEqual({ photos: { hostPath: '/mnt/photos', reason: 'imported: the source binds /mnt/photos' }, 'web-app': { size: '10Gi' } });
    expect(result.spec.services.web.mounts).toEqual([{ volume: 'photos', path: '/photos' }, { volume: 'web-app', path: '/var/lib/app' }]);
    expect(result.lines).toContain('warning: services.web.volumes./var/lib/app is an anonymous volume in the source: it is the app volume web-app of 10Gi in the spec; set its size');
    expect(notCarried(result)).toEqual([
      'not carried over: volumes.s3 (the volume driver "rclone": the spec\'s volumes are local, NFS, host paths or claims)',
      'not carried over: services.web.volumes./s3 (its volume s3 is not carried over)',
    ]);
    checkImportedSpec(result.spec);
  });

  it('refuses a bind source a host path of the spec cannot hold', () => {
    expect(refusal({ web: { volumes: [bindMount('/mnt/My Media', '/media')] } })).toMatch(/^services\.web\.volumes\.\/media: the host path "\/mnt\/My Media" has characters a spec's host path cannot hold/);
  });

  it('makes tmpfs mounts tmpfs volumes (a default size with a warning), and leaves /tmp to homelab', () => {
    const result = map({ web: { ...hardened, tmpfs: ['/run:size=16m', '/tmp'], volumes: [{ type: 'tmpfs', target: '/cache', tmpfs: { size: 268435456 } }, { type: 'tmpfs', target: '/scratch' }] } });

    expect(result.spec.volumes).toEqual({ 'web-cache': { tmpfs: { size: '256Mi' } }, 'web-scratch': { tmpfs: { size: '64Mi' } }, 'web-run': { tmpfs: { size: '16Mi' } } });
    expect(result.lines).toContain('warning: services.web.volumes./scratch has no size: it is 64Mi in the spec; set its size');
    expect(result.lines).toContain('note: services.web.tmpfs./tmp: homelab mounts a tmpfs at /tmp in every service itself');
    expect(notCarried(result)).toEqual([]);
    checkImportedSpec(result.spec);
  });

  it('makes configs config volumes (inline content, or a file to copy beside the spec), and lists Compose secrets', () => {
    const result = map(
      { proxy: { ...hardened, configs: [{ source: 'nginx', target: '/etc/nginx/nginx.conf' }, { source: 'motd' }], secrets: [{ source: 'db_password' }] } },
      { configs: { nginx: { file: './nginx/nginx.conf' }, motd: { content: 'hello\n' } }, secrets: { db_password: { file: './db_password.txt' } } },
    );

    expect(result.spec.volumes).toEqual({ nginx: { config: { file: 'nginx.conf' } }, motd: { config: { content: 'hello\n' } } });
    expect(result.spec.services.proxy.mounts).toEqual([{ volume: 'nginx', path: '/etc/nginx/nginx.conf' }, { volume: 'motd', path: '/motd' }]);
    expect(result.files).toEqual([{ source: './nginx/nginx.conf', file: 'nginx.conf' }]);
    expect(notCarried(result)).toEqual([
      "not carried over: services.proxy.secrets.db_password (a Compose secret is a file under /run/secrets, the spec's secrets are environment variables; give the image the value as an environment variable if it reads one, or mount the file with patches (its content stays out of git))",
    ]);
    checkImportedSpec(result.spec, { 'nginx.conf': 'events {}\n' });
  });
});

describe('mapComposeSource: start order and health', () => {
  it('maps depends_on conditions and health checks (CMD, CMD-SHELL, NONE, start_period), listing intervals homelab does not use', () => {
    const result = map({
      web: { ...hardened, depends_on: { db: { condition: 'service_healthy', required: true }, cache: { condition: 'service_started', required: true }, worker: { condition: 'service_started', required: false } } },
      db: { ...hardened, healthcheck: { test: ['CMD-SHELL', 'pg_isready -U $${POSTGRES_USER}'], interval: '10s', timeout: '5s', retries: 5, start_period: '1m30s' } },
      cache: { ...hardened, healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '30s' } },
      worker: { ...hardened, healthcheck: { test: ['NONE'] } },
    });

    expect(result.spec.services.web.dependsOn).toEqual({ db: 'healthy', cache: 'started', worker: 'started' });
    expect(result.spec.services.db.health).toEqual({ command: ['sh', '-c', 'pg_isready -U $${POSTGRES_USER}'], startGraceSeconds: 90 });
    expect(result.spec.services.cache.health).toEqual({ command: ['redis-cli', 'ping'] });
    expect(result.spec.services.worker.health).toEqual({ probe: 'none' });
    expect(result.spec.policy?.disable).toContainEqual({ rule: 'policy/probes', reason: 'imported: the source stack has no health check for worker' });
    expect(notCarried(result)).toEqual([
      'not carried over: services.web.depends_on.worker.required (the spec starts every dependency; an optional one is required)',
      'not carried over: services.db.healthcheck.retries (homelab checks every service with 3 retries on both platforms)',
      'not carried over: services.cache.healthcheck.interval (homelab checks every service with interval 10s on both platforms)',
    ]);
    checkImportedSpec(result.spec);
  });
});

describe('mapComposeSource: security, kept as the source runs', () => {
  it('records each setting looser than the defaults as its opt-in, with the reason', () => {
    const result = map({
      plain: { healthcheck: hardened.healthcheck },
      root: { ...hardened, user: '0' },
      dns: { ...hardened, cap_add: ['NET_ADMIN', 'CAP_NET_BIND_SERVICE'], privileged: true },
    });

    expect(() => checkImportedSpec(result.spec)).not.toThrow();
    expect(result.spec.services.plain.security).toEqual({
      imageUser: "imported: the source stack runs it as the image's own user (no user: set)",
      writableRootFilesystem: 'imported: the source stack runs it with a writable root filesystem',
      defaultCapabilities: "imported: the source stack keeps the runtime's default capabilities",
    });
    expect(result.spec.services.root.security).toEqual({ runAsRoot: 'imported: the source stack runs it as root (user: 0)' });
    expect(result.spec.services.dns.security).toEqual({
      user: { uid: 1000, gid: 1000 },
      capabilities: { NET_ADMIN: 'imported: the source stack adds NET_ADMIN', NET_BIND_SERVICE: 'imported: the source stack adds NET_BIND_SERVICE' },
      privileged: 'imported: the source stack runs it privileged',
    });
    expect(notCarried(result)).toEqual([]);
    checkImportedSpec(result.spec);
  });

  it('lists a user name and network modes that share another container', () => {
    const result = map({ web: { ...hardened, user: 'www-data' }, vpn: { ...hardened, network_mode: 'service:web', networks: {} } });

    expect(notCarried(result)).toEqual([
      'not carried over: services.web.user (the user "www-data" is a name: Kubernetes runs a container as a numeric uid[:gid]; write the numbers the image gives that name)',
      'not carried over: services.vpn.network_mode ("service:web": the spec\'s services each have their own network namespace on the app\'s network (or the host\'s); reach the other service by its name)',
    ]);
  });
});

describe('mapComposeSource: devices, GPUs and runtime settings', () => {
  it('carries devices of a privileged service, /dev/dri with the Intel GPU resource, and lists other devices', () => {
    const result = map({
      ha: { ...hardened, privileged: true, devices: [{ source: '/dev/ttyUSB0', target: '/dev/ttyUSB0', permissions: 'rwm' }] },
      media: { ...hardened, devices: [{ source: '/dev/dri', target: '/dev/dri' }, { source: '/dev/ttyACM0', target: '/dev/ttyACM0' }] },
    });

    expect(result.spec.services.ha.devices).toEqual([{ path: '/dev/ttyUSB0' }]);
    expect(result.spec.services.media.devices).toEqual([{ path: '/dev/dri', resource: 'gpu.intel.com/i915' }]);
    expect(notCarried(result)).toEqual([
      "not carried over: services.media.devices./dev/ttyACM0 (Kubernetes gives a host device to an unprivileged container only through a device plugin: add devices: [{ path, resource }] with the resource of your cluster's plugin, or security.privileged with its reason)",
    ]);
    checkImportedSpec(result.spec);
  });

  it('converts GPUs, groups, shm_size, extra_hosts, init, stop_grace_period, replicas and resources to the spec\'s units', () => {
    const result = map({
      ml: {
        ...hardened,
        group_add: ['44', 'render'],
        shm_size: '1gb',
        extra_hosts: { 'nas.home.arpa': '192.0.2.5', 'host.docker.internal': 'host-gateway' },
        init: true,
        stop_grace_period: '90s',
        deploy: { replicas: 2, resources: { limits: { cpus: '1.5', memory: '512M' }, reservations: { memory: '256M', devices: [{ capabilities: ['gpu'], driver: 'nvidia', count: 1 }] } } },
      },
      legacy: { ...hardened, other: { mem_limit: '1.5g', cpus: 0.5 } },
    });

    expect(result.spec.services.ml).toMatchObject({
      gpus: { resource: 'nvidia.com/gpu', count: 1 },
      groupAdd: [44],
      shmSize: '1Gi',
      extraHosts: { 'nas.home.arpa': '192.0.2.5' },
      init: true,
      stopGracePeriod: '1m30s',
      replicas: 2,
      resources: { requests: { memory: '256Mi' }, limits: { cpu: '1.5', memory: '512Mi' } },
    });
    expect(result.spec.services.legacy.resources).toEqual({ limits: { memory: '1536Mi', cpu: '0.5' } });
    expect(notCarried(result)).toEqual([
      'not carried over: services.ml.group_add.render (a group name: Kubernetes adds groups by number; write the gid the host gives it (getent group render))',
      'not carried over: services.ml.extra_hosts.host.docker.internal ("host-gateway" is not an address (host-gateway is Docker\'s own))',
    ]);
    checkImportedSpec(result.spec);
  });

  it('gives the services the source sets no memory limit 4Gi, not the 256Mi default of new apps, and warns once', () => {
    const result = map({ a: hardened, b: { ...hardened, deploy: { resources: { limits: { memory: '512M' } } } }, c: hardened });

    expect(result.lines).toContain(
      "warning: services.a, services.c set no memory limit in the source: each gets 4Gi (not homelab's 256Mi default, which would stop what ran fine before); set resources.limits.memory to what each needs",
    );
    expect(result.spec.services.a.resources?.limits?.memory).toBe('4Gi');
    expect(result.spec.services.b.resources?.limits?.memory).not.toBe('4Gi');
    checkImportedSpec(result.spec);
  });
});

describe('mapComposeSource: labels', () => {
  it('makes a Traefik Host rule the ingress, to the port its service label names', () => {
    const result = map({
      web: {
        ...hardened,
        labels: {
          'traefik.enable': 'true',
          'traefik.http.routers.web.rule': 'Host(`wiki.home.example.org`)',
          'traefik.http.routers.web.entrypoints': 'websecure',
          'traefik.http.routers.web.tls.certresolver': 'le',
          'traefik.http.services.web.loadbalancer.server.port': '3000',
          'traefik.http.routers.web.middlewares': 'auth@file',
          'com.centurylinklabs.watchtower.enable': 'false',
        },
      },
    });

    expect(result.spec.ingress).toEqual({ host: 'wiki.home.example.org', tls: true, service: 'web', port: 'http' });
    expect(result.spec.services.web.ports).toEqual([{ name: 'http', port: 3000, http: true }]);
    expect(result.spec.patches).toEqual({ compose: { services: { web: { labels: { 'com.centurylinklabs.watchtower.enable': 'false' } } } } });
    expect(notCarried(result)).toEqual([
      "not carried over: services.web.labels.traefik.http.routers.web.middlewares (homelab renders the Traefik router from the spec's ingress (host, TLS, port); add what this sets with patches.compose, and its Kubernetes counterpart with patches.kubernetes)",
    ]);
    checkImportedSpec(result.spec);
  });

  it('lists a router whose service has no port to route to', () => {
    const result = map({ web: { ...hardened, labels: { 'traefik.http.routers.web.rule': 'Host(`wiki.home.example.org`) && PathPrefix(`/api`)' } }, app: { ...hardened, labels: { 'traefik.http.routers.app.rule': 'Host(`app.home.example.org`)' } } });

    expect(result.spec.ingress).toBeUndefined();
    expect(notCarried(result)).toEqual([
      'not carried over: services.web.labels.traefik.http.routers.web.rule (a rule that is not Host(`…`): the spec routes a host name to a service; write the path rules with patches)',
      'not carried over: services.app.labels.traefik.http.routers.app.rule (the router names no port of the service (traefik.http.services.<s>.loadbalancer.server.port) and it has no single one: add the port and ingress.port)',
    ]);
  });

  it('makes a service with homelab\'s cron labels a cron service, and lists ofelia\'s', () => {
    const result = map({
      app: { ...hardened },
      cron: { ...oneShot, restart: 'no', labels: { 'homelab.kind': 'cron', 'homelab.schedule': '*/5 * * * *' }, other: { profiles: ['cron'] } },
      ofelia: { ...hardened, labels: { 'ofelia.job-run.backup.schedule': '@every 1h' } },
    });

    expect(result.spec.services.cron).toMatchObject({ kind: 'cron', schedule: '*/5 * * * *' });
    expect(result.spec.services.cron.health).toBeUndefined();
    expect(notCarried(result)).toEqual([
      "not carried over: services.ofelia.labels.ofelia.job-run.backup.schedule (an ofelia schedule: its schedules have seconds and @every, and job-exec runs in a running container, which a Kubernetes CronJob cannot; write a cron service (kind: cron, schedule) by hand)",
    ]);
    checkImportedSpec(result.spec);
  });
});

describe('mapComposeSource: other keys', () => {
  it('carries runtime tunables to Compose in patches.compose and lists the keys the spec has no field for', () => {
    const result = map({ broker: { ...hardened, other: { ulimits: { nofile: { soft: 65536, hard: 65536 } }, stop_signal: 'SIGINT', container_name: 'broker', logging: { driver: 'json-file' }, security_opt: ['no-new-privileges:true'], x_unknown: 1 } } });

    expect(result.spec.patches).toEqual({ compose: { services: { broker: { ulimits: { nofile: { soft: 65536, hard: 65536 } }, stop_signal: 'SIGINT' } } } });
    expect(result.lines).toContain('note: services.broker: ulimits, stop_signal carried to Compose as written, in patches.compose (Kubernetes has no counterpart: validate warns parity/patch)');
    expect(notCarried(result).map((l) => l.replace(/ \(.*$/, ''))).toEqual([
      'not carried over: services.broker.container_name',
      'not carried over: services.broker.logging',
      'not carried over: services.broker.security_opt',
      'not carried over: services.broker.x_unknown',
    ]);
    checkImportedSpec(result.spec);
  });

  it('lists external networks and aliases, and notes custom networks becoming the app\'s one', () => {
    const result = map(
      { web: { ...hardened, networks: { proxy: null, backend: { aliases: ['app'] } } } },
      { networks: { default: {}, proxy: { external: true }, backend: {} } },
    );

    expect(notCarried(result)).toEqual([
      "not carried over: services.web.networks.proxy (an external network: the app's services share the app's network; another app is reached through ingress or a published port)",
      'not carried over: services.web.networks.backend.aliases (services are reached by their names; an alias is another name the spec does not give)',
    ]);
    expect(result.lines).toContain('note: networks backend: every service of the app shares one network in the spec');
  });

  it('notes what the reader set aside', () => {
    expect(map({ web: hardened }, { ignored: [{ path: 'version', reason: 'obsolete' }] }).lines).toContain('note: version set aside by the reader (obsolete)');
  });
});

describe('mapComposeSource: --strict', () => {
  it('refuses a stack with a key not carried over, naming the first and the count', () => {
    const error = refusal({ web: { ...hardened, user: 'www-data', other: { container_name: 'web' } } }, {}, true);

    expect(error).toBe(
      '--strict: not carried over: services.web.user (the user "www-data" is a name: Kubernetes runs a container as a numeric uid[:gid]; write the numbers the image gives that name) (and 1 more not carried over); carry it into the source in a form the spec holds, or import without --strict and add it by hand',
    );
  });

  it('takes a stack with everything carried', () => {
    expect(map({ web: hardened }, {}, true).spec.services.web.image).toEqual({ repository: 'example/app', tag: '1.0.0' });
  });
});
