import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from './control-plane';
import { requireTool, run, runOk, type ToolRequirement } from './tools';

/**
 * What the backup tests run for real: restic at the version VolSync v0.14's mover builds, on the host and
 * in the movers' image, VolSync's own mover script, and a PostgreSQL server image. `npm run setup:engines`
 * builds them without a registry (scripts/setup-engines.sh, scripts/restic/build.sh). Missing, each
 * requirement skips its tests with the reason, and fails them under CI (requireTool).
 */

/** restic of VolSync v0.14's mover (its go.mod), so both platforms write one repository format. */
export const RESTIC_VERSION = '0.18.0';
/** The Compose movers' image (homelab.yaml `compose.backup.image` default); locally a FROM-scratch stand-in. */
export const RESTIC_IMAGE = `restic/restic:${RESTIC_VERSION}`;
/** The stand-in of the official postgres:15 image (scripts/test-images/postgres/docker-entrypoint.sh). */
export const POSTGRES_IMAGE = 'homelab-test/postgres:15';
/** The VolSync release whose restic mover script (mover-restic/entry.sh) the format tests run. */
export const VOLSYNC_MODULE = 'github.com/backube/volsync@v0.14.0';

const RESTIC_BUILD = path.join(__dirname, '../../scripts/restic/build.sh');

/** requireTool of a local image: `docker image inspect` must find it. */
export function requireImage(image: string): ToolRequirement {
  return requireTool(image, ['docker', 'image', 'inspect', '--format', '{{.Id}}', image]);
}

/** requireTool of the host's restic (built once per machine into the cache), with its path. */
export function requireRestic(): ToolRequirement & { path: string } {
  const found = requireTool(`restic ${RESTIC_VERSION}`, ['bash', RESTIC_BUILD, '--check']);
  return { ...found, path: found.available ? resticBinary() : '' };
}

/**
 * The host's restic: `${HOMELAB_CACHE_DIR:-~/.cache/homelab}/restic/v0.18.0/restic`, for tests that run
 * VolSync's mover script directly. Throws naming the setup script when it is not built.
 */
export function resticBinary(): string {
  const result = spawnSync('bash', [RESTIC_BUILD, '--check'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`restic ${RESTIC_VERSION} is not built (${result.stderr.trim()}); run \`npm run setup:engines\``);
  return result.stdout.trim();
}

/**
 * VolSync's own restic mover script, `mover-restic/entry.sh` of github.com/backube/volsync@v0.14.0, fetched
 * with `go mod download` into Go's module cache (outside the repository, once per machine). Needs Go and,
 * the first time, the Go module proxy.
 */
export function requireVolsyncMover(): ToolRequirement & { path: string } {
  const go = [process.env.HOMELAB_GO, '/usr/local/go/bin/go'].find((g) => g && fs.existsSync(g)) ?? 'go';
  const found = requireTool(`VolSync's mover script (${VOLSYNC_MODULE})`, [go, 'mod', 'download', '-json', VOLSYNC_MODULE]);
  if (!found.available) return { ...found, path: '' };
  const { Dir } = JSON.parse(runOk(go, ['mod', 'download', '-json', VOLSYNC_MODULE])) as { Dir: string };
  return { ...found, path: path.join(Dir, 'mover-restic', 'entry.sh') };
}

/**
 * The digest the Compose mover prints and the restore drill recomputes (docs/backup.md, `volume_digest`):
 * sha256 over the `sha256sum` lines (`<hex>  <path>`, paths relative to the folder) of every regular file
 * under it, in the bytewise order of their paths, with the file count and their total size. Computed here
 * in Node, independently of the busybox pipeline it checks.
 */
export function folderDigest(root: string): { sha256: string; files: number; bytes: number } {
  const files: { rel: string; hash: string }[] = [];
  let bytes = 0;
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (relative !== 'lost+found') walk(full, relative);
      } else if (entry.isFile()) {
        const content = fs.readFileSync(full);
        bytes += content.length;
        files.push({ rel: relative, hash: crypto.createHash('sha256').update(content).digest('hex') });
      }
    }
  };
  walk(root, '');
  files.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
  const sha256 = crypto.createHash('sha256').update(files.map((f) => `${f.hash}  ${f.rel}\n`).join('')).digest('hex');
  return { sha256, files: files.length, bytes };
}

export interface PostgresContainer {
  name: string;
  port: number;
  user: string;
  database: string;
  /** Runs SQL with psql inside the container over its Unix socket; returns the unaligned, tuples-only output. */
  psql(sql: string, database?: string): string;
  /** `docker rm -f` the container (its volume stays, for restart tests). */
  remove(): void;
}

export interface PostgresContainerOptions {
  /** A Docker volume (or host folder) mounted at PGDATA; without it the data dies with the container. */
  volume?: string;
  user?: string;
  password?: string;
  database?: string;
  /** Container name; default homelab-test-pg-<random>. */
  name?: string;
  port?: number;
}

/**
 * Starts homelab-test/postgres:15 as the official image is run in a homelab: POSTGRES_* variables, host
 * networking bound to 127.0.0.1 at a free port (PGPORT), and waits until it accepts TCP connections. The
 * password reaches docker through the environment, never its argv.
 */
export async function startPostgresContainer(options: PostgresContainerOptions = {}): Promise<PostgresContainer> {
  const name = options.name ?? `homelab-test-pg-${crypto.randomBytes(4).toString('hex')}`;
  const port = options.port ?? (await freePort());
  const user = options.user ?? 'postgres';
  const database = options.database ?? user;
  const password = options.password ?? crypto.randomBytes(12).toString('hex');
  const args = ['run', '-d', '--name', name, '--network', 'host', '-e', `PGPORT=${port}`, '-e', 'POSTGRES_LISTEN=127.0.0.1'];
  args.push('-e', `POSTGRES_USER=${user}`, '-e', `POSTGRES_DB=${database}`, '-e', 'POSTGRES_PASSWORD');
  if (options.volume) args.push('-v', `${options.volume}:/var/lib/postgresql/data`);
  runOk('docker', [...args, POSTGRES_IMAGE], { env: { ...process.env, POSTGRES_PASSWORD: password } });
  const container: PostgresContainer = {
    name,
    port,
    user,
    database,
    psql: (sql, db = database) =>
      runOk('docker', ['exec', '-i', name, 'psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '-qAt', '-U', user, '-d', db], { input: sql }).trim(),
    remove: () => {
      run('docker', ['rm', '-f', '-v', name]);
    },
  };
  await waitForPostgres(container);
  return container;
}

/** Waits until the server of a container answers on 127.0.0.1:<port> (the real server, not initdb's temporary one). */
export async function waitForPostgres(container: Pick<PostgresContainer, 'name' | 'port' | 'user'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = run('docker', ['exec', container.name, 'pg_isready', '-q', '-h', '127.0.0.1', '-p', String(container.port), '-U', container.user]);
    if (ready.status === 0) return;
    const state = run('docker', ['inspect', '--format', '{{.State.Status}}', container.name]).stdout.trim();
    if (state !== 'running' && state !== 'created') {
      throw new Error(`${container.name} is ${state || 'gone'} before PostgreSQL was ready:\n${run('docker', ['logs', container.name]).stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`${container.name}: PostgreSQL not ready on 127.0.0.1:${container.port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
