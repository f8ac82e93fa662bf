import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { type ComposeDatabase, DATABASE_ENV_FIELDS, urlPassword } from '../app/steps/database';
import { show } from '../errors';
import type { Docker } from './docker';
import { DeployError } from './errors';
import type { ToolResult } from './process';

export type { ComposeDatabase };

/** The top-level extension of compose.generated.yaml that holds an app's database in the environment (app/steps/database.ts). */
export const DATABASE_KEY = 'x-homelab-database';

/** Runs SQL (a psql script, with `\gexec` and `\connect`) as the server's superuser, the script on stdin. */
export type Psql = (script: string) => Promise<ToolResult>;

/**
 * Reads `x-homelab-database` back from a rendered Compose file; null without one. A block that is
 * not what this version renders is refused in one line (run the build again).
 */
export function readComposeDatabase(value: unknown, where: string): ComposeDatabase | null {
  if (value === undefined || value === null) return null;
  const v = value as Partial<ComposeDatabase>;
  const ok =
    typeof v.name === 'string' &&
    typeof v.owner === 'string' &&
    typeof v.url === 'string' &&
    Array.isArray(v.extensions) &&
    typeof v.server?.project === 'string' &&
    typeof v.server?.service === 'string' &&
    typeof v.password?.key === 'string' &&
    typeof v.env === 'object' &&
    v.env !== null;
  if (!ok) throw new DeployError(`${where}: ${DATABASE_KEY} is not what this version of homelab renders; run the build target again`);
  return v as ComposeDatabase;
}

/** The values deploy writes into the run's env file for the database: the password and the URL, under the names the spec gives. */
export function databaseEnvValues(db: ComposeDatabase, password: string): Map<string, string> {
  const values = new Map<string, string>();
  if (db.env.password) values.set(db.env.password, password);
  if (db.env.url) values.set(db.env.url, db.url.replace('{password}', urlPassword(password)));
  return values;
}

/** An identifier in double quotes, as PostgreSQL reads it (a `"` doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal, as PostgreSQL reads it with standard_conforming_strings (a `'` doubled). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The SCRAM-SHA-256 secret PostgreSQL stores for a password (RFC 5802/7677, as its
 * `scram_build_secret` writes it): `ALTER ROLE … PASSWORD '<this>'` stores it as it is, so the
 * password itself never reaches the server, its logs or its statistics. Only for passwords of
 * printable ASCII, which SASLprep leaves as they are; others return null.
 */
export function scramSecret(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string | null {
  if (!/^[\x20-\x7e]*$/.test(password)) return null;
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The psql script that creates or brings up to date an app's role, the database it owns and its
 * extensions, as the server's superuser. Idempotent, and for PostgreSQL 13 and later: no
 * `CREATE ROLE IF NOT EXISTS` (there is none), the catalogs are asked first and `\gexec` runs
 * the CREATE only when needed (CREATE DATABASE cannot run inside a DO block or a transaction).
 * Every other role loses CONNECT on the database (PUBLIC has it by default), so one app cannot
 * reach another's. The statement that sets the password is kept out of the server's logs.
 */
export function provisioningScript(db: Pick<ComposeDatabase, 'name' | 'owner' | 'extensions'>, password: string): string {
  const role = quoteIdent(db.owner);
  const database = quoteIdent(db.name);
  // A password PostgreSQL would have to SASLprep goes as it is, hashed by the server with SCRAM.
  const secret = scramSecret(password) ?? password;
  return [
    '\\set ON_ERROR_STOP on',
    // The password's statement must not reach the server's log, even when it fails.
    "SET log_statement = 'none';",
    "SET log_min_error_statement = 'panic';",
    "SET password_encryption = 'scram-sha-256';",
    `SELECT format('CREATE ROLE %I LOGIN', ${quoteLiteral(db.owner)}) WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(db.owner)})\\gexec`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(secret)};`,
    `SELECT format('CREATE DATABASE %I OWNER %I', ${quoteLiteral(db.name)}, ${quoteLiteral(db.owner)}) WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(db.name)})\\gexec`,
    `ALTER DATABASE ${database} OWNER TO ${role};`,
    `REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`,
    `\\connect ${database}`,
    // PostgreSQL 13 and 14 give the public schema to the bootstrap superuser; 15 and later to the database's owner.
    `ALTER SCHEMA public OWNER TO ${role};`,
    ...db.extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e)};`),
    '',
  ].join('\n');
}

/**
 * Creates or updates the app's role, database and extensions through `psql`. A failure is one
 * line: psql's first error (which never holds the password: the script sets it through a SCRAM
 * secret, and the caller masks its output as well).
 */
export async function provisionDatabase(db: ComposeDatabase, password: string, psql: Psql, who: string): Promise<void> {
  const result = await psql(provisioningScript(db, password));
  if (result.code !== 0) {
    const error = `${result.stderr}\n${result.stdout}`.split('\n').find((l) => /ERROR|FATAL|error:/.test(l))?.trim() ?? `psql exited with ${result.code}`;
    throw new DeployError(`${who}: the database ${show(db.name)} could not be created or updated on the postgres component: ${error}; nothing of the app was changed`);
  }
}

/**
 * psql in the postgres component's running container on the environment's Docker host
 * (`docker exec -i`), as the superuser over its local socket: the script on stdin, nothing
 * secret on the command line. Refused in one line when the component does not run there.
 */
export async function containerPsql(docker: Docker, db: ComposeDatabase, who: string): Promise<{ psql: Psql; container: string }> {
  const containers = (await docker.containers(db.server.project)).filter((c) => c.service === db.server.service && c.running);
  if (containers.length === 0) {
    throw new DeployError(
      `${who}: the postgres component does not run on this Docker host (no running ${db.server.service} container of compose project ${db.server.project}); deploy it first (npx nx run postgres:deploy --env <the environment that installs it>); nothing was changed`,
      2,
    );
  }
  const [container] = containers;
  const psql: Psql = (script) =>
    docker.run(['exec', '-i', '-u', 'postgres', container.id, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres', '-d', 'postgres', '-f', '-'], { input: script, timeoutMs: 120_000 });
  return { psql, container: container.name };
}

/** What the plan says of the database (no value): its name, owner, extensions and the variables the app receives. */
export function describeDatabase(db: ComposeDatabase): string {
  const ext = db.extensions.length > 0 ? `, extensions ${db.extensions.join(', ')}` : '';
  const secret = DATABASE_ENV_FIELDS.filter((f) => f === 'password' || f === 'url')
    .map((f) => db.env[f as 'password' | 'url'])
    .filter((n): n is string => typeof n === 'string');
  return `${db.name} owned by ${db.owner}${ext} on compose project ${db.server.project}; password from ${db.password.key}${secret.length > 0 ? ` -> ${secret.join(', ')}` : ''}`;
}
