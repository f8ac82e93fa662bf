import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComposeDatabase } from '../../tools/homelab/src/app/steps/database';
import { databaseEnvValues, type Psql, provisionDatabase } from '../../tools/homelab/src/deploy/database';
import { DeployError } from '../../tools/homelab/src/deploy/errors';
import { ToolRunner } from '../../tools/homelab/src/deploy/process';
import { type PostgresServer, requirePostgres, startPostgres } from '../support/postgres';

/*
 * The Compose provisioning of an app's database (docs/deploy.md, "Databases"), run against a
 * real PostgreSQL server: this machine's own (Debian's postgresql package), started for the
 * test on 127.0.0.1. Deploy runs the same script through `docker exec -i` in the postgres
 * component's container; here psql reaches the test server over its Unix socket instead (the
 * postgres image cannot be pulled on the test machines), with the script on stdin as there.
 * Only the server version this machine has is exercised (PostgreSQL 15 on Debian 12, 17 on 13);
 * the script keeps to what PostgreSQL 13 has (no CREATE ROLE IF NOT EXISTS: catalogs and \gexec).
 */
const postgres = requirePostgres();

describe.skipIf(postgres.skip)('provisioning an app database on a real PostgreSQL server', () => {
  let server: PostgresServer;
  let tools: ToolRunner;
  /** The argv of every psql call the provisioning made: the password must be in none. */
  const argvSeen: string[][] = [];
  let superPsql: Psql;

  beforeAll(async () => {
    server = await startPostgres();
    tools = new ToolRunner(process.env);
    superPsql = (script) => {
      const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-f', '-'];
      argvSeen.push(args);
      return tools.run(path.join(server.bin, 'psql'), args, { input: script, timeoutMs: 60_000 });
    };
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const wiki = (over: Partial<ComposeDatabase> = {}): ComposeDatabase => ({
    server: { project: 'postgres', service: 'postgres' },
    name: 'wiki_dev',
    owner: 'wiki_dev',
    extensions: ['pg_trgm', 'citext'],
    password: { key: 'DATABASE_PASSWORD', remoteKey: 'wiki', property: 'DATABASE_PASSWORD' },
    env: { password: 'DB_PASSWORD', url: 'DATABASE_URL' },
    url: `postgresql://wiki_dev:{password}@127.0.0.1:PORT/wiki_dev`,
    ...over,
  });
  /** The URL the app received, pointed at the test server instead of postgres-rw.postgres.svc:5432. */
  const urlOf = (db: ComposeDatabase, password: string) => databaseEnvValues({ ...db, url: db.url.replace('PORT', String(server.port)) }, password).get('DATABASE_URL')!;

  /** psql as the app: with the separate variables (PGPASSWORD in the environment, never argv). */
  const asApp = (db: ComposeDatabase, password: string, sql: string, database = db.name) =>
    tools.run(path.join(server.bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(server.port), '-U', db.owner, '-d', database, '-c', sql], {
      env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
      timeoutMs: 30_000,
    });
  /** psql as the app with the URL it received (a throwaway test password on argv: psql reads a URL only there). */
  const withUrl = (url: string, sql: string) => tools.run(path.join(server.bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { env: { PGCONNECT_TIMEOUT: '5' }, timeoutMs: 30_000 });
  const asSuper = async (sql: string, database = 'postgres') => {
    const r = await tools.run(path.join(server.bin, 'psql'), ['-X', '-q', '-A', '-t', '-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', database, '-c', sql], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it('creates the role, the database it owns and the extensions, and running it again changes nothing', async () => {
    const db = wiki();
    const password = 'first-password-0123';
    await provisionDatabase(db, password, superPsql, 'wiki (dev)');
    const before = await asSuper("SELECT oid, rolpassword FROM pg_authid WHERE rolname = 'wiki_dev'");
    await provisionDatabase(db, password, superPsql, 'wiki (dev)');

    expect(await asSuper("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'wiki_dev'")).toBe('wiki_dev');
    expect(await asSuper("SELECT rolcanlogin, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = 'wiki_dev'")).toBe('t|f|f');
    expect((await asSuper('SELECT extname FROM pg_extension ORDER BY extname', 'wiki_dev')).split('\n')).toEqual(['citext', 'pg_trgm', 'plpgsql']);
    // Still one role and one database, the same role: the second run created nothing.
    expect(await asSuper("SELECT count(*) FROM pg_roles WHERE rolname = 'wiki_dev'")).toBe('1');
    expect(await asSuper("SELECT count(*) FROM pg_database WHERE datname = 'wiki_dev'")).toBe('1');
    expect((await asSuper("SELECT oid, rolpassword FROM pg_authid WHERE rolname = 'wiki_dev'")).split('|')[0]).toBe(before.split('|')[0]);
    expect(await asSuper("SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'wiki_dev'")).toBe('t');

    // The app, with the credentials it received, owns its database: it creates a table there and uses the extensions.
    const own = await asApp(db, password, "CREATE TABLE pages (title citext); INSERT INTO pages VALUES ('Hello'); SELECT count(*) FROM pages WHERE title = 'HELLO' AND similarity(title, 'hello') > 0.5");
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.trim()).toBe('1');
    const viaUrl = await withUrl(urlOf(db, password), 'SELECT current_user, current_database()');
    expect(viaUrl.code, viaUrl.stderr).toBe(0);
    expect(viaUrl.stdout.trim()).toBe('wiki_dev|wiki_dev');
  });

  it("changes the role's password: the old one no longer logs in, the new one does", async () => {
    const db = wiki();
    await provisionDatabase(db, 'first-password-0123', superPsql, 'wiki (dev)');
    await provisionDatabase(db, 'second-password-4567', superPsql, 'wiki (dev)');
    const old = await asApp(db, 'first-password-0123', 'SELECT 1');
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed for user "wiki_dev"/);
    const now = await asApp(db, 'second-password-4567', 'SELECT 1');
    expect(now.code, now.stderr).toBe(0);
  });

  it.each([
    ['quotes, spaces and URL delimiters', `p@ss w'ord:/?#[]%+"\\$x!*()`],
    ['letters PostgreSQL normalizes (SASLprep) before hashing', 'pässwörd-ﬁ-ünïcode'],
  ])('takes a password with %s, on both ways the app receives it', async (_what, password) => {
    const db = wiki({ name: 'notes', owner: 'notes_app', extensions: [], url: 'postgresql://notes_app:{password}@127.0.0.1:PORT/notes' });
    await provisionDatabase(db, password, superPsql, 'notes (dev)');
    const direct = await asApp(db, password, 'SELECT current_user');
    expect(direct.code, direct.stderr).toBe(0);
    const viaUrl = await withUrl(urlOf(db, password), 'SELECT current_user, current_database()');
    expect(viaUrl.code, viaUrl.stderr).toBe(0);
    expect(viaUrl.stdout.trim()).toBe('notes_app|notes');
  });

  it("keeps each app in its own database: another app's role cannot connect to it", async () => {
    const wikiDb = wiki();
    const shop = wiki({ name: 'shop-db', owner: 'shop-owner', extensions: [], url: 'postgresql://shop-owner:{password}@127.0.0.1:PORT/shop-db' });
    await provisionDatabase(wikiDb, 'wiki-password-0001', superPsql, 'wiki (dev)');
    await provisionDatabase(shop, 'shop-password-0002', superPsql, 'shop (dev)');
    // Names that need quoting ('-') are quoted: the role and the database are named exactly so.
    expect(await asSuper("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop-db'")).toBe('shop-owner');

    const intoShop = await asApp(wikiDb, 'wiki-password-0001', 'SELECT 1', 'shop-db');
    expect(intoShop.code).not.toBe(0);
    expect(intoShop.stderr).toMatch(/permission denied for database "shop-db"/);
    const ownTable = await asApp(shop, 'shop-password-0002', 'CREATE TABLE orders (id int); SELECT 1');
    expect(ownTable.code, ownTable.stderr).toBe(0);
  });

  it('never puts a password on a command line or into the server log, even with every statement logged', async () => {
    const secrets = ['first-password-0123', 'second-password-4567', 'wiki-password-0001', 'shop-password-0002', 'pässwörd-ﬁ-ünïcode', `p@ss w'ord`];
    for (const argv of argvSeen) for (const s of secrets) expect(argv.join(' ')).not.toContain(s);
    expect(argvSeen.length).toBeGreaterThan(0);
    const log = server.log();
    expect(log).toContain('CREATE EXTENSION IF NOT EXISTS'); // the log does record statements
    for (const s of secrets) expect(log).not.toContain(s);
  });

  it('fails in one line naming the database when the server refuses, without the password', async () => {
    // An extension the server does not ship.
    const db = wiki({ extensions: ['no_such_extension'] });
    const error = await provisionDatabase(db, 'first-password-0123', superPsql, 'wiki (dev)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(/^wiki \(dev\): the database "wiki_dev" could not be created or updated on the postgres component: .*no_such_extension/);
    expect((error as Error).message).not.toContain('first-password-0123');
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });
});
