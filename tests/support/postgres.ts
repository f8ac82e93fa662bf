import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './control-plane';
import { requireTool, type ToolRequirement } from './tools';

/**
 * A throwaway PostgreSQL server of this machine's own binaries (Debian's `postgresql` package,
 * installed by `npm run setup:engines`): `initdb` into a temp folder, `postgres` on 127.0.0.1 at a
 * free port and on a Unix socket in that folder, every statement logged to a file the tests read.
 * Run as the test user, or as `nobody` when the tests run as root (PostgreSQL refuses root).
 */
export interface PostgresServer {
  /** The server's binaries (psql among them). */
  bin: string;
  version: number;
  port: number;
  /** The folder of its Unix socket: the superuser `postgres` connects there without a password. */
  socketDir: string;
  /** Everything the server logged (log_statement = all). */
  log(): string;
  stop(): Promise<void>;
}

const UNPRIVILEGED = { uid: 65534, gid: 65534 };

/** The newest PostgreSQL server binaries of this machine: Debian keeps them in /usr/lib/postgresql/<major>/bin. */
export function postgresBinaries(root = '/usr/lib/postgresql'): { bin: string; version: number } | null {
  let majors: number[];
  try {
    majors = fs
      .readdirSync(root)
      .map(Number)
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a);
  } catch {
    return null;
  }
  for (const major of majors) {
    const bin = path.join(root, String(major), 'bin');
    if (['initdb', 'postgres', 'psql', 'pg_isready'].every((b) => fs.existsSync(path.join(bin, b)))) return { bin, version: major };
  }
  return null;
}

/** requireTool of the server binaries: skipped with a notice outside CI when missing, a failure under CI=true. */
export function requirePostgres(): ToolRequirement {
  const found = postgresBinaries();
  // Debian keeps initdb off PATH: without the package, the probe names it and fails.
  return requireTool("PostgreSQL's server (Debian's postgresql package)", [found ? path.join(found.bin, 'initdb') : 'initdb', '--version']);
}

/** Starts a server; `stop()` ends it and removes its folder. */
export async function startPostgres(): Promise<PostgresServer> {
  const found = postgresBinaries();
  if (!found) throw new Error('no PostgreSQL server binaries (npm run setup:engines)');
  const { bin, version } = found;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-pg-'));
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? UNPRIVILEGED : {};
  if (asRoot) fs.chownSync(dir, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  const data = path.join(dir, 'data');
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--auth-local=trust', '--auth-host=scram-sha-256'], {
    encoding: 'utf8',
    cwd: dir,
    ...user,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const logFile = path.join(dir, 'server.log');
  const out = fs.openSync(logFile, 'a');
  if (asRoot) fs.fchownSync(out, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  const child: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    ['-D', data, '-k', dir, '-h', '127.0.0.1', '-p', String(port), '-c', 'fsync=off', '-c', 'log_statement=all', '-c', 'log_min_error_statement=error', '-c', 'logging_collector=off'],
    { cwd: dir, stdio: ['ignore', out, out], ...user, env: { ...process.env, LC_ALL: 'C' } },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = spawnSync(path.join(bin, 'pg_isready'), ['-h', dir, '-p', String(port), '-U', 'postgres'], { encoding: 'utf8' });
    if (ready.status === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not start: ${fs.readFileSync(logFile, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    bin,
    version,
    port,
    socketDir: dir,
    log: () => fs.readFileSync(logFile, 'utf8'),
    stop: async () => {
      // SIGINT: PostgreSQL's fast shutdown.
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
