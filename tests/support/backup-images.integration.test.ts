import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_IMAGE,
  RESTIC_IMAGE,
  RESTIC_VERSION,
  requireImage,
  requireRestic,
  startPostgresContainer,
  waitForPostgres,
  type PostgresContainer,
} from './backup-images';
import { run, runOk } from './tools';

// The images the backup tests run, checked for what those tests rely on (scripts/setup-engines.sh builds
// them without a registry). Missing, they skip here with the reason and fail under CI=true.
const resticImage = requireImage(RESTIC_IMAGE);
const postgresImage = requireImage(POSTGRES_IMAGE);
const hostRestic = requireRestic();

describe.skipIf(hostRestic.skip)('restic on the host', () => {
  it(`is restic ${RESTIC_VERSION}, the version VolSync v0.14's mover runs`, () => {
    expect(runOk(hostRestic.path, ['version'])).toMatch(new RegExp(`^restic ${RESTIC_VERSION.replace(/\./g, '\\.')} compiled with go`));
  });
});

describe.skipIf(resticImage.skip)(RESTIC_IMAGE, () => {
  it(`runs restic ${RESTIC_VERSION} as its entrypoint, like the official image`, () => {
    const entrypoint = runOk('docker', ['image', 'inspect', '--format', '{{json .Config.Entrypoint}}', RESTIC_IMAGE]).trim();
    expect(JSON.parse(entrypoint)).toEqual(['/usr/bin/restic']);
    expect(runOk('docker', ['run', '--rm', '--network', 'none', RESTIC_IMAGE, 'version'])).toMatch(/^restic 0\.18\.0 /);
  });

  it('has /bin/sh with every command a POSIX mover script uses', () => {
    const commands = 'sh sha256sum find sort xargs cat mv mkdir rm date wc ls sed awk tr cut printf sleep test';
    const script = `for c in ${commands}; do command -v "$c" >/dev/null || echo "missing $c"; done; echo checked`;

    const result = run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', RESTIC_IMAGE, '-c', script]);

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('checked\n');
  });

  it('computes a folder digest with busybox as coreutils would (sorted sha256sum lines)', () => {
    const script = 'mkdir -p /d/sub && printf a >/d/b && printf bb >/d/sub/a && cd /d && find . -type f | sort | xargs sha256sum';

    const out = runOk('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', RESTIC_IMAGE, '-c', script]);

    const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    expect(out).toBe(`${sha('a')}  ./b\n${sha('bb')}  ./sub/a\n`);
  });
});

describe.skipIf(postgresImage.skip)(POSTGRES_IMAGE, () => {
  const started: PostgresContainer[] = [];
  const volumes: string[] = [];
  const newVolume = () => {
    const name = `homelab-test-pgdata-${crypto.randomBytes(4).toString('hex')}`;
    volumes.push(name);
    return name;
  };
  const start = async (options: Parameters<typeof startPostgresContainer>[0] = {}) => {
    const container = await startPostgresContainer(options);
    started.push(container);
    return container;
  };
  /** psql over TCP on 127.0.0.1 inside the container; the password travels in the environment. */
  const tcpLogin = (pg: PostgresContainer, password: string) =>
    run(
      'docker',
      ['exec', '-e', 'PGPASSWORD', pg.name, 'psql', '-qAt', '-h', '127.0.0.1', '-p', String(pg.port), '-U', pg.user, '-d', pg.database, '-c', 'select current_user'],
      { env: { ...process.env, PGPASSWORD: password } },
    );

  afterAll(() => {
    for (const c of started) c.remove();
    for (const v of volumes) run('docker', ['volume', 'rm', '-f', v]);
  });

  it('initialises the cluster on the first run with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, and logs in with that password on 127.0.0.1', async () => {
    const pg = await start({ user: 'wiki', password: 'first-password', database: 'wikidb' });

    expect(tcpLogin(pg, 'first-password')).toMatchObject({ status: 0, stdout: 'wiki\n' });
    const wrong = tcpLogin(pg, 'not-the-password');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('password authentication failed for user "wiki"');
    expect(pg.psql("select datname || ' ' || pg_encoding_to_char(encoding) from pg_database where datname = 'wikidb'")).toBe('wikidb UTF8');
    expect(pg.psql("select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'wiki'")).toBe('t');
  });

  it('runs the server as uid 999, as the official image does', async () => {
    const pg = await start();

    const processes = runOk('docker', ['top', pg.name, '-o', 'pid,uid,args']).trim().split('\n').slice(1);

    const server = processes.filter((line) => / postgres -c listen_addresses=/.test(line));
    expect(server).toHaveLength(1);
    const uids = processes.map((line) => line.trim().split(/\s+/)[1]);
    expect(uids.length).toBeGreaterThan(1);
    expect(new Set(uids)).toEqual(new Set(['999']));
  });

  it('keeps its data across a restart and a new container on the same volume, without initialising it again', async () => {
    const volume = newVolume();
    const pg = await start({ volume, password: 'kept' });
    pg.psql('create table notes (id int primary key, body text); insert into notes values (1, $$survives$$);');

    runOk('docker', ['restart', pg.name]);
    await waitForPostgres(pg);
    expect(pg.psql('select body from notes')).toBe('survives');

    pg.remove();
    const again = await start({ volume, password: 'ignored-on-an-initialised-volume' });
    expect(again.psql('select body from notes')).toBe('survives');
    expect(tcpLogin(again, 'kept').status).toBe(0);
    expect(run('docker', ['logs', again.name]).stderr).not.toContain('init process complete');
  });

  it('stops fast (SIGINT) even while a client is connected, as the official STOPSIGNAL does', async () => {
    const pg = await start();
    const client = spawn('docker', ['exec', pg.name, 'psql', '-U', pg.user, '-c', 'select pg_sleep(60)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));

    const t0 = Date.now();
    runOk('docker', ['stop', '-t', '30', pg.name]);
    const took = Date.now() - t0;
    client.kill();

    expect(took).toBeLessThan(10_000);
    expect(runOk('docker', ['inspect', '--format', '{{.State.ExitCode}}', pg.name]).trim()).toBe('0');
  });

  it('runs /docker-entrypoint-initdb.d/*.sql once, on the first run, in POSTGRES_DB', () => {
    const initdb = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-initdb-'));
    fs.chmodSync(initdb, 0o755); // the scripts run as uid 999, which must read them
    try {
      fs.writeFileSync(path.join(initdb, '01-schema.sql'), 'create table seeded (v text); insert into seeded values (current_database());\n');
      const name = `homelab-test-pg-${crypto.randomBytes(4).toString('hex')}`;
      const result = run('docker', ['run', '--rm', '--name', name, '--network', 'none', '-e', 'POSTGRES_PASSWORD=x', '-e', 'POSTGRES_DB=shop',
        '-v', `${initdb}:/docker-entrypoint-initdb.d:ro`, '--entrypoint', '/bin/sh', POSTGRES_IMAGE, '-c',
        'docker-entrypoint.sh postgres & until pg_isready -q -h 127.0.0.1; do sleep 0.2; done; psql -qAt -U postgres -d shop -c "select v from seeded"'], { timeout: 60_000 });

      expect(result.stdout).toBe('shop\n');
      expect(result.stderr).toContain('running /docker-entrypoint-initdb.d/01-schema.sql');
    } finally {
      fs.rmSync(initdb, { recursive: true, force: true });
    }
  });

  it('refuses to initialise without POSTGRES_PASSWORD, naming it', () => {
    const result = run('docker', ['run', '--rm', '--network', 'none', POSTGRES_IMAGE]);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('POSTGRES_PASSWORD is not set');
  });
});
