import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderDigest, POSTGRES_IMAGE, RESTIC_IMAGE, requireImage, requireRestic, requireVolsyncMover, startPostgresContainer, type PostgresContainer } from '../support/backup-images';
import { requireTool, run, runOk } from '../support/tools';
import { containers, DeployWorkspace, freePorts, sleep, uniqueName } from '../deploy/support';

/**
 * Backups on Compose, proven with what really runs: an app generated from its spec
 * (tests/support/fixtures/backup-app/files.yaml: a server on a file volume, PostgreSQL on a dump volume, a
 * writer committing transactions) started with `docker compose` from its rendered files, its movers
 * created (profile backup), and backups taken as the runbook says, `docker exec <project>-scheduler-1 sh
 * /homelab/backup`, while the writer writes. Then:
 *   - one repository format (docs/backup.md): VolSync v0.14.0's own mover script (mover-restic/entry.sh,
 *     bash and restic 0.18.0 on the host, as its mover container runs them) restores, byte for byte, what
 *     the Compose mover backed up, and backs up into the same repository a snapshot that the runbook's
 *     Compose restore command then puts back into the app's volume;
 *   - a consistent database: the last dump, restored as the runbook says (`restic dump latest dump.sql`
 *     piped into psql) into a fresh server, keeps the writer's invariant.
 *
 * VolSync runs entry.sh with DATA_DIR=/data; here DATA_DIR is a temp folder named `data`, because entry.sh
 * only restores snapshots whose path list contains `/data` (`restic snapshots | grep /data`): the Compose
 * movers mount the volume at /data for that reason, which the test checks.
 */
const compose = requireTool('docker compose');
const bash = requireTool('bash');
const images = [RESTIC_IMAGE, POSTGRES_IMAGE, 'homelab-test/docker-cli:1'].map(requireImage);
const restic = requireRestic();
const mover = requireVolsyncMover();
const skip = compose.skip || bash.skip || restic.skip || mover.skip || images.some((i) => i.skip);

const APP = uniqueName('files');
const PROJECT = `${APP}-dev`;
const DB_PASSWORD = `db-${crypto.randomBytes(8).toString('hex')}`;
const RESTIC_PASSWORD = `restic-${crypto.randomBytes(8).toString('hex')}`;
const SPEC = path.join(__dirname, '../support/fixtures/backup-app/files.yaml');
/** Reads the writer's invariant: the total and row count kept in totals, and what the ledger sums to. */
const INVARIANT = 'select t.total, t.rows, coalesce(sum(l.amount), 0), count(l.id) from totals t left join ledger l on true where t.id = 1 group by t.total, t.rows';

describe.skipIf(skip)('backups on Compose: the generated movers, VolSync, and a database written during the backup', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  let target: string;
  let envFile: string;
  let source: string;
  let pgPort: number;
  const fresh: PostgresContainer[] = [];

  const composeFiles = () =>
    [`applications/compose/base/${APP}/compose.yaml`, `applications/compose/environments/dev/${APP}/compose.generated.yaml`, `applications/compose/environments/dev/${APP}/compose.override.yaml`]
      .map((f) => path.join(ws.root, f))
      .filter((f) => fs.existsSync(f))
      .flatMap((f) => ['-f', f]);
  /** `docker compose` on the app's rendered files, with the secrets in the env file the services read. */
  const dockerCompose = (args: string[]) =>
    run('docker', ['compose', ...composeFiles(), ...args], { env: { ...process.env, HOMELAB_ENV_FILE: envFile }, timeout: 240_000 });
  const takeBackup = () => run('docker', ['exec', `${PROJECT}-scheduler-1`, 'sh', '/homelab/backup'], { timeout: 240_000 });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const startedAt = (service: string) => runOk('docker', ['inspect', '-f', '{{.State.StartedAt}}', `${PROJECT}-${service}-1`]).trim();
  const resticEnv = (repository: string) => ({ ...process.env, RESTIC_REPOSITORY: path.join(target, PROJECT, repository), RESTIC_PASSWORD, RESTIC_CACHE_DIR: path.join(ws.tmp, 'restic-cache') });
  const psql = (sql: string) => runOk('docker', ['exec', '-i', `${PROJECT}-database-1`, 'psql', '-qAt', '-v', 'ON_ERROR_STOP=1', '-U', 'wiki', '-d', 'wiki'], { input: sql }).trim();
  const invariantOf = (read: (sql: string) => string) => {
    const [total, rows, sum, count] = read(INVARIANT).split('|').map(Number);
    return { total, rows, sum, count };
  };
  const waitForRows = async (atLeast: number) => {
    const deadline = Date.now() + 60_000;
    while (invariantOf(psql).count < atLeast) {
      if (Date.now() > deadline) throw new Error(`the writer did not reach ${atLeast} rows:\n${run('docker', ['logs', `${PROJECT}-writer-1`]).stderr}`);
      await sleep(100);
    }
  };

  /** VolSync's mover script on the host, with the environment its ReplicationSource/Destination give it. */
  const volsyncMover = (operations: string[], dataDir: string, repository: string, extra: Record<string, string> = {}) =>
    run('bash', [mover.path, ...operations], {
      env: {
        PATH: `${path.dirname(restic.path)}:${process.env.PATH}`,
        HOME: ws.tmp,
        DATA_DIR: dataDir,
        RESTIC_REPOSITORY: path.join(target, PROJECT, repository),
        RESTIC_PASSWORD,
        RESTIC_CACHE_DIR: path.join(ws.tmp, 'volsync-cache'),
        PRIVILEGED_MOVER: '0',
        ...extra,
      },
      timeout: 240_000,
    });

  /** Every entry under a folder: type, mode and content digest (or link target), for byte-for-byte comparison. */
  const tree = (root: string): Record<string, string> => {
    const entries: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const rel = path.relative(root, full);
        const mode = (fs.lstatSync(full).mode & 0o7777).toString(8);
        if (entry.isSymbolicLink()) entries[rel] = `link -> ${fs.readlinkSync(full)}`;
        else if (entry.isDirectory()) {
          entries[rel] = `dir ${mode}`;
          walk(full);
        } else entries[rel] = `file ${mode} ${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
      }
    };
    walk(root);
    return entries;
  };

  /** The app's data volume, copied out to a new host folder. */
  const readVolume = () => {
    const out = fs.mkdtempSync(path.join(ws.tmp, 'volume-'));
    const id = runOk('docker', ['create', '--network', 'none', '-v', `${PROJECT}_data:/data`, RESTIC_IMAGE, 'version']).trim();
    try {
      runOk('docker', ['cp', `${id}:/data/.`, out]);
    } finally {
      run('docker', ['rm', '-f', id]);
    }
    return out;
  };

  beforeAll(async () => {
    const [serverPort, port] = await freePorts(2);
    pgPort = port;
    ws = DeployWorkspace.create('backup-app');
    target = path.join(ws.tmp, 'repositories');
    fs.mkdirSync(target);
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
      config.backup = { ...config.backup, target: { path: target } };
    });
    ws.addSpec(APP, fs.readFileSync(SPEC, 'utf8').replace(/^name: files$/m, `name: ${APP}`).replaceAll('18091', String(serverPort)).replaceAll('18092', String(pgPort)));
    ws.track(PROJECT);
    envFile = path.join(ws.tmp, 'secrets.env');
    fs.writeFileSync(envFile, `POSTGRES_PASSWORD=${DB_PASSWORD}\nRESTIC_PASSWORD=${RESTIC_PASSWORD}\n`, { mode: 0o600 });

    const up = dockerCompose(['up', '-d', '--wait']);
    if (up.status !== 0) throw new Error(`docker compose up failed:\n${output(up)}`);
    const movers = dockerCompose(['--profile', 'backup', 'create', 'backup-data', 'backup-db']);
    if (movers.status !== 0) throw new Error(`creating the movers failed:\n${output(movers)}`);

    // The data volume's files, put in through the running server's mount: nested folders, binary
    // content, an empty file, a name with spaces, a private file and a symbolic link.
    source = path.join(ws.tmp, 'source', 'data');
    fs.mkdirSync(path.join(source, 'photos', '2026'), { recursive: true });
    fs.writeFileSync(path.join(source, 'photos', '2026', 'a.bin'), crypto.randomBytes(3 * 1024 * 1024 + 17));
    fs.writeFileSync(path.join(source, 'photos', 'notes with spaces.txt'), 'hello\nworld\n');
    fs.writeFileSync(path.join(source, 'empty'), '');
    fs.writeFileSync(path.join(source, 'secret.key'), crypto.randomBytes(64), { mode: 0o600 });
    fs.symlinkSync('photos/notes with spaces.txt', path.join(source, 'latest'));
    runOk('docker', ['cp', `${source}/.`, `${PROJECT}-server-1:/srv/data`]);
  });

  afterAll(() => {
    for (const c of fresh) c.remove();
    ws?.cleanup();
  });

  it('takes backups now while the writer writes: the server is stopped for the copy and runs again, each mover prints its digest', async () => {
    await waitForRows(200);
    const serverId = containers(PROJECT).find((c) => c.name === `${PROJECT}-server-1`)!.id;
    const databaseStarted = startedAt('database');
    const serverStarted = startedAt('server');

    const result = takeBackup();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`homelab-backup done ${PROJECT}`);
    const expected = folderDigest(source);
    expect(output(result)).toContain(`homelab-backup digest data sha256=${expected.sha256} files=${expected.files} bytes=${expected.bytes}`);
    expect(output(result)).toMatch(/homelab-backup digest db sha256=[0-9a-f]{64} files=1 bytes=[1-9]\d*/);
    const server = containers(PROJECT).find((c) => c.name === `${PROJECT}-server-1`)!;
    expect([server.id, server.running]).toEqual([serverId, true]);
    expect(startedAt('server') > serverStarted).toBe(true); // stopped for the copy, started again
    // The database is dumped, not copied: it kept running through the backup.
    expect(startedAt('database')).toBe(databaseStarted);
    const snapshots = JSON.parse(runOk(restic.path, ['snapshots', '--json'], { env: resticEnv('data') })) as { hostname: string; paths: string[] }[];
    expect(snapshots.map((s) => [s.hostname, s.paths])).toEqual([['volsync', ['/data']]]);
  });

  it("restores with VolSync's entry.sh, byte for byte, what the Compose mover backed up", () => {
    const restored = path.join(ws.tmp, 'volsync-restore', 'data');
    fs.mkdirSync(restored, { recursive: true });

    const result = volsyncMover(['restore'], restored, 'data');

    expect(result.stdout).toContain('Selected restic snapshot with id');
    expect(result.status, output(result)).toBe(0);
    expect(tree(restored)).toEqual(tree(source));
  });

  it("puts back with the runbook's Compose restore what VolSync's entry.sh backed up into the same repository, deleting what the snapshot lacks", () => {
    // The VolSync side's version of the volume: one file changed, one removed, one added.
    const changed = path.join(ws.tmp, 'volsync-source', 'data');
    fs.cpSync(source, changed, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(changed, 'photos', 'notes with spaces.txt'), 'changed on kubernetes\n');
    fs.rmSync(path.join(changed, 'empty'));
    fs.writeFileSync(path.join(changed, 'added.txt'), 'added on kubernetes\n');
    const backup = volsyncMover(['backup'], changed, 'data', { FORGET_OPTIONS: '--keep-daily 7 --keep-weekly 4 --keep-monthly 3' });
    expect(backup.stdout).toContain('dir is initialized');
    expect(backup.status, output(backup)).toBe(0);

    // The runbook: stop the services that mount the volume, restore, start them.
    runOk('docker', ['compose', '-p', PROJECT, 'stop', 'server']);
    runOk('docker', [
      'run', '--rm', '--network', 'none', '-v', `${PROJECT}_data:/data`, '-v', `${target}:/repository`, '--env-file', envFile,
      '-e', `RESTIC_REPOSITORY=/repository/${PROJECT}/data`, RESTIC_IMAGE, 'restore', 'latest', '--host', 'volsync', '--target', '/data', '--delete',
    ]);
    runOk('docker', ['compose', '-p', PROJECT, 'start', 'server']);

    expect(tree(readVolume())).toEqual(tree(changed));
  });

  it('restores the last dump, taken while the writer wrote, into a fresh server with the invariant intact and the role password kept', async () => {
    let before = 0;
    let after = 0;
    for (let round = 1; round <= 2; round++) {
      await waitForRows(invariantOf(psql).count + 100);
      before = invariantOf(psql).count;
      const result = takeBackup();
      expect(result.status, output(result)).toBe(0);
      after = invariantOf(psql).count;
    }
    expect(after).toBeGreaterThan(before); // the writer wrote during the last backup
    const live = invariantOf(psql);
    expect(live.total).toBe(live.sum);

    const pg = await startPostgresContainer({ user: 'wiki', password: 'not-the-app-password' });
    fresh.push(pg);
    runOk('bash', [
      '-c',
      'set -o pipefail; docker run --rm --network none -v "$1:/repository" --env-file "$2" -e RESTIC_REPOSITORY="/repository/$3" "$4" dump latest dump.sql | ' +
        'docker exec -i "$5" psql -q -o /dev/null -U wiki -d postgres',
      '_', target, envFile, `${PROJECT}/db`, RESTIC_IMAGE, pg.name,
    ]);

    const restored = invariantOf((sql) => pg.psql(sql, 'wiki'));
    expect(restored.count).toBeGreaterThanOrEqual(before);
    expect(restored.count).toBeLessThanOrEqual(after);
    expect(restored.sum).toBe(restored.total);
    expect(restored.count).toBe(restored.rows);
    const login = run('docker', ['exec', '-e', 'PGPASSWORD', pg.name, 'psql', '-qAt', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'wiki', '-d', 'wiki', '-c', 'select count(*) > 0 from ledger'], {
      env: { ...process.env, PGPASSWORD: DB_PASSWORD },
    });
    expect(login).toMatchObject({ status: 0, stdout: 't\n' });
  });

  it("fails VolSync's restore with its wrong-password error on the Compose side's repository", () => {
    const restored = path.join(ws.tmp, 'wrong-password', 'data');
    fs.mkdirSync(restored, { recursive: true });

    const result = volsyncMover(['restore'], restored, 'data', { RESTIC_PASSWORD: 'not-the-password' });

    expect(result.status).toBe(3);
    expect(result.stdout).toContain('ERROR: failure connecting to repository, incorrect password');
    expect(fs.readdirSync(restored)).toEqual([]);
  });
});
