import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_IMAGE,
  RESTIC_IMAGE,
  requireImage,
  resticBackupInContainer,
  startPostgresContainer,
  type PostgresContainer,
} from '../support/backup-images';
import { requireTool, run, runOk } from '../support/tools';

/**
 * A backup taken while the app writes gives a consistent database: a PostgreSQL volume is backed up as a
 * dump (`dump: postgres`), never by copying its files. A writer commits transactions that keep an invariant
 * across two tables (every ledger row is added to the total in the same transaction) as fast as it can
 * while backups are taken the way the Compose backup script takes them (docs/backup.md): `pg_dumpall
 * --clean --if-exists` through `docker exec` into the dump volume's dump.sql (a temp file, then renamed),
 * then the mover backs that volume up. The runbook's restore (`restic dump latest dump.sql` piped into
 * psql) into a fresh server must give a database where the invariant holds and which is the last backup.
 */
const docker = requireTool('docker compose');
const resticImage = requireImage(RESTIC_IMAGE);
const postgresImage = requireImage(POSTGRES_IMAGE);

const PROJECT = `wiki-dev-${crypto.randomBytes(3).toString('hex')}`;
const USER = 'wiki';
const PASSWORD = `pw-${crypto.randomBytes(8).toString('hex')}`;
const RESTIC_PASSWORD = `restic-${crypto.randomBytes(8).toString('hex')}`;

const SCHEMA = `
create table ledger (id bigserial primary key, amount int not null, at timestamptz not null default now());
create table totals (id int primary key, total bigint not null, rows bigint not null);
insert into totals values (1, 0, 0);
`;
/** Reads the invariant: the total and row count kept in totals, and what the ledger sums to. */
const INVARIANT = 'select t.total, t.rows, coalesce(sum(l.amount), 0), count(l.id) from totals t left join ledger l on true where t.id = 1 group by t.total, t.rows';

describe.skipIf(docker.skip || resticImage.skip || postgresImage.skip)('a backup while the app writes gives a consistent database', () => {
  let tmp: string;
  let repositories: string;
  let envFile: string;
  let database: PostgresContainer;
  const containers: PostgresContainer[] = [];
  const dumpVolume = `${PROJECT}_db-dump`;
  const writer = `${PROJECT}-writer-1`;

  const invariant = (pg: PostgresContainer) => {
    const [total, rows, sum, count] = pg.psql(INVARIANT).split('|').map(Number);
    return { total, rows, sum, count };
  };

  /** The backup script's dump step: pg_dumpall in the database container into dump.sql of the dump volume, atomically. */
  const dump = () =>
    runOk('bash', [
      '-c',
      'set -o pipefail; docker exec "$1" sh -c \'pg_dumpall --clean --if-exists -U "${POSTGRES_USER:-postgres}"\' | ' +
        'docker run --rm -i --network none -v "$2:/dumps/db" --entrypoint /bin/sh "$3" -c \'cat >/dumps/db/dump.sql.tmp && mv /dumps/db/dump.sql.tmp /dumps/db/dump.sql\'',
      '_', database.name, dumpVolume, RESTIC_IMAGE,
    ]);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-dbbackup-'));
    repositories = path.join(tmp, 'repositories');
    fs.mkdirSync(repositories);
    envFile = path.join(tmp, '.env');
    fs.writeFileSync(envFile, `RESTIC_PASSWORD=${RESTIC_PASSWORD}\n`, { mode: 0o600 });
    runOk('docker', ['volume', 'create', dumpVolume]);
    database = await startPostgresContainer({ name: `${PROJECT}-database-1`, user: USER, password: PASSWORD, volume: `${PROJECT}_db` });
    containers.push(database);
    database.psql(SCHEMA);
    // The writer: one psql session over TCP fed by a shell loop, each transaction adding a row to the ledger
    // and its amount to the total; a short sleep every 5 transactions leaves CPU for the rest of the machine.
    const loop =
      'i=0; while :; do i=$((i+1)); a=$((i % 97 + 1)); ' +
      'echo "begin; insert into ledger (amount) values ($a); update totals set total = total + $a, rows = rows + 1 where id = 1; commit;"; ' +
      '[ $((i % 5)) = 0 ] && echo "select pg_sleep(0.005);"; done | ' +
      `psql -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ${database.port} -U ${USER} -d ${USER}`;
    runOk('docker', ['run', '-d', '--name', writer, '--network', 'host', '-e', 'PGPASSWORD', '--entrypoint', '/bin/sh', POSTGRES_IMAGE, '-c', loop], {
      env: { ...process.env, PGPASSWORD: PASSWORD },
    });
  });

  afterAll(() => {
    run('docker', ['rm', '-f', writer]);
    for (const c of containers) c.remove();
    run('docker', ['volume', 'rm', '-f', dumpVolume, `${PROJECT}_db`]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('restores the last dump into a fresh server with the invariant intact', async () => {
    const waitForRows = async (atLeast: number) => {
      const deadline = Date.now() + 30_000;
      while (invariant(database).count < atLeast) {
        if (Date.now() > deadline) throw new Error(`the writer did not reach ${atLeast} rows:\n${run('docker', ['logs', writer]).stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitForRows(200);

    // Three backups while the writer runs; the rows committed just before and just after the last dump
    // bound what the restore may hold.
    let before = 0;
    let after = 0;
    for (let round = 1; round <= 3; round++) {
      before = invariant(database).count;
      dump();
      after = invariant(database).count;
      resticBackupInContainer({ volume: dumpVolume, repositories, repository: `${PROJECT}/db`, envFile });
      await waitForRows(after + 50);
    }
    expect(after).toBeGreaterThan(before); // the writer was writing during the last dump
    run('docker', ['rm', '-f', writer]);
    const live = invariant(database);
    expect(live.total).toBe(live.sum);

    const fresh = await startPostgresContainer({ user: USER, password: 'another-password' });
    containers.push(fresh);
    runOk('bash', [
      '-c',
      'set -o pipefail; docker run --rm --network none -v "$1:/repository" --env-file "$2" -e RESTIC_REPOSITORY="/repository/$3" "$4" dump latest dump.sql | ' +
        'docker exec -i "$5" psql -q -o /dev/null -U "$6" -d postgres',
      '_', repositories, envFile, `${PROJECT}/db`, RESTIC_IMAGE, fresh.name, USER,
    ]);

    const restored = invariant(fresh);
    expect(restored.count).toBeGreaterThanOrEqual(before);
    expect(restored.count).toBeLessThanOrEqual(after);
    expect(restored.sum).toBe(restored.total);
    expect(restored.count).toBe(restored.rows);
    // The dump carries the role's password: the app logs in to the restored server as before.
    const login = run('docker', ['exec', '-e', 'PGPASSWORD', fresh.name, 'psql', '-qAt', '-h', '127.0.0.1', '-p', String(fresh.port), '-U', USER, '-d', USER, '-c', 'select count(*) > 0 from ledger'], {
      env: { ...process.env, PGPASSWORD: PASSWORD },
    });
    expect(login).toMatchObject({ status: 0, stdout: 't\n' });
  });
});
