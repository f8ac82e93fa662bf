import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir } from '../../scripts/crds/fetch';
import { normalizeApp } from '../../tools/homelab/src/app/normalize';
import type { NormalizedApp } from '../../tools/homelab/src/app/normalized';
import { RESTIC_IMAGE } from '../../tools/homelab/src/app/steps/backup';
import { parseAppSpec, parseWorkspaceConfig } from '../../tools/homelab/src/spec/io';
import { type PostgresServer, requirePostgres, startPostgres } from '../support/postgres';
import { requireTool, run, type RunResult } from '../support/tools';
import { makeTempDir, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * The dump CronJob of a volume with `backup: { dump: postgres }` on Kubernetes, run for real: its
 * two containers' scripts, as rendered, in the images the CronJob names (the database service's,
 * here homelab-test/postgres:15, and restic/restic:0.18.0), against a real PostgreSQL server and a
 * restic repository on disk, then read back with the restic program of the host.
 *
 * What stands in for Kubernetes (no kubelet runs here): `docker run` of each container in turn,
 * as the pod runs its init container then its container, as uid 65532 like the pod; a Docker
 * volume made world-writable as the pod's emptyDir is; `--add-host db:127.0.0.1` as the
 * Service `db` resolves; `--env-file` as the Secrets' envFrom (the password never in argv). The
 * repository is a folder (restic's local backend) where the cluster would use S3.
 */
const docker = requireTool('docker');
const images = requireTool(`the images ${RESTIC_IMAGE} and homelab-test/postgres:15 (npm run setup:engines)`, ['docker', 'image', 'inspect', RESTIC_IMAGE, 'homelab-test/postgres:15']);
const postgres = requirePostgres();
const restic = path.join(cacheDir(), 'restic', 'v0.18.0', 'restic');
const resticOnHost = requireTool('restic 0.18.0 (npm run setup:engines)', [restic, 'version']);

const PASSWORD = `repo-${randomBytes(6).toString('hex')}`;
const DB_PASSWORD = `db-${randomBytes(6).toString('hex')}`;
const ID = randomBytes(4).toString('hex');

let server: PostgresServer;
let dir = '';
let app: NormalizedApp;
const volumes: string[] = [];

const spec = (port: number) => `name: notes
services:
  db:
    image: { repository: homelab-test/postgres, tag: "15" }
    ports: [{ name: pg, port: ${port} }]
    env: { POSTGRES_USER: notes }
    secrets: [POSTGRES_PASSWORD]
    mounts: [{ volume: pgdata, path: /var/lib/postgresql/data }]
volumes:
  pgdata: { size: 1Gi, backup: { dump: postgres } }
secrets: [{ key: POSTGRES_PASSWORD, remoteKey: notes }]
backup: { retention: { daily: 1, weekly: 0, monthly: 0 } }
`;

function psql(sql: string): string {
  const result = run(path.join(server.bin, 'psql'), ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

/** A file of KEY=value lines, as envFrom gives a container a Secret's keys. */
function envFile(name: string, values: Record<string, string>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  return file;
}

/** One run of the CronJob's pod: the dump init container, then (when it succeeded) the restic container. */
function runCronJob(resticEnv: string): { dump: RunResult; restic: RunResult | null } {
  const [dump] = app.backup.dumps;
  const data = `kb-dump-data-${ID}-${volumes.length}`;
  volumes.push(data);
  // The pod's emptyDir: a fresh, world-writable folder.
  run('docker', ['volume', 'create', data]);
  run('docker', ['run', '--rm', '--network', 'none', '-v', `${data}:/data`, 'homelab-test/busybox:1', 'chmod', '777', '/data']);
  const env = dump.env.k8sEnv.flatMap((e) => (e.value !== null ? ['-e', `${e.name}=${e.value}`] : []));
  const dumped = run('docker', [
    'run', '--rm', '--network', 'host', '--add-host', 'db:127.0.0.1', '-u', '65532:65532', '--read-only', '--tmpfs', '/tmp',
    ...env, '--env-file', envFile('db.env', { POSTGRES_PASSWORD: DB_PASSWORD }),
    '-v', `${data}:/data`, '--entrypoint', '/bin/sh', 'homelab-test/postgres:15', '-c', dump.dumpScript,
  ]);
  if (dumped.status !== 0) return { dump: dumped, restic: null };
  const backedUp = run('docker', [
    'run', '--rm', '--network', 'none', '-u', '65532:65532', '--read-only', '--tmpfs', '/cache:mode=1777', '--tmpfs', '/tmp:mode=1777',
    '-e', 'RESTIC_CACHE_DIR=/cache', '--env-file', resticEnv,
    '-v', `${data}:/data:ro`, '-v', `${path.join(dir, 'repository')}:/repository`,
    '--entrypoint', '/bin/sh', RESTIC_IMAGE, '-c', app.backup.resticScript,
  ], { timeout: 300_000 });
  return { dump: dumped, restic: backedUp };
}

/** restic on the host, on the repository the CronJob wrote. */
function hostRestic(args: string[]): RunResult {
  return run(restic, args, { env: { ...process.env, RESTIC_REPOSITORY: path.join(dir, 'repository', 'notes-dev', 'pgdata'), RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(dir, 'cache') } });
}

describe.skipIf(docker.skip || images.skip || postgres.skip || resticOnHost.skip)('the dump CronJob of a PostgreSQL volume, its containers run for real', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    dir = makeTempDir('k8s-dump');
    fs.mkdirSync(path.join(dir, 'repository'), { mode: 0o777 });
    fs.chmodSync(path.join(dir, 'repository'), 0o777);
    server = await startPostgres();
    psql(`CREATE ROLE notes LOGIN SUPERUSER PASSWORD '${DB_PASSWORD}'`);
    psql('CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, $$item $$ || g FROM generate_series(1, 42) g');
    app = normalizeApp(parseAppSpec(spec(server.port), 'applications/specs/notes.yaml'), parseWorkspaceConfig(WORKSPACE_YAML), new Map());
  }, 120_000);
  afterAll(async () => {
    for (const volume of volumes) run('docker', ['volume', 'rm', '-f', volume]);
    await server?.stop();
    // Files the containers wrote as uid 65532.
    removeDir(dir);
  });

  // The repository the overlay's ExternalSecret names in dev: <base>/<namespace>/<volume>, here base /repository.
  const resticEnv = () => envFile('restic.env', { RESTIC_REPOSITORY: '/repository/notes-dev/pgdata', RESTIC_PASSWORD: PASSWORD });

  it('dumps the database, initialises the repository on the first run and backs the dump up with --host volsync', () => {
    const first = runCronJob(resticEnv());

    expect(first.dump.status, first.dump.stderr).toBe(0);
    expect(first.restic?.status, first.restic?.stderr).toBe(0);
    const snapshots = JSON.parse(hostRestic(['snapshots', '--json']).stdout) as { hostname: string; paths: string[] }[];
    expect(snapshots.map((s) => [s.hostname, s.paths])).toEqual([['volsync', ['/data']]]);
    const dumped = hostRestic(['dump', 'latest', 'dump.sql']).stdout;
    expect(dumped).toContain('CREATE TABLE public.items');
    expect(dumped).toContain('item 42');
    expect(`${first.dump.stdout}${first.dump.stderr}${first.restic?.stdout}${first.restic?.stderr}`).not.toContain(PASSWORD);
  });

  it('prunes to the retention of the spec (one daily) when it runs again the same day, and the dump restores into an empty database', () => {
    psql('INSERT INTO items VALUES (43, $$item 43$$)');
    const second = runCronJob(resticEnv());

    expect(second.restic?.status, second.restic?.stderr).toBe(0);
    expect(JSON.parse(hostRestic(['snapshots', '--json']).stdout)).toHaveLength(1);
    psql('DROP TABLE items');
    const restored = run(path.join(server.bin, 'psql'), ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-q', '-v', 'ON_ERROR_STOP=0'], { input: hostRestic(['dump', 'latest', 'dump.sql']).stdout });
    expect(restored.status, restored.stderr).toBe(0);
    expect(psql('SELECT count(*) FROM items')).toBe('43');
  });

  it('stops with restic\'s own one-line reason and exit 12 on a wrong password, without printing it', () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const failed = runCronJob(envFile('wrong.env', { RESTIC_REPOSITORY: '/repository/notes-dev/pgdata', RESTIC_PASSWORD: wrong }));

    expect(failed.restic?.status).toBe(12);
    expect(failed.restic?.stderr).toMatch(/wrong password/);
    expect(`${failed.restic?.stdout}${failed.restic?.stderr}`).not.toContain(wrong);
    expect(JSON.parse(hostRestic(['snapshots', '--json']).stdout)).toHaveLength(1);
  });
});
