import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { containers, DeployWorkspace, freePorts, httpGet, NX_ENV, sleep, uniqueName } from '../deploy/support';
import { requireTool, run, type RunResult } from '../support/tools';
import { diskFiles } from '../support/workspace';

/**
 * `nx g homelab:import` end to end, on the real Docker Engine: stacks kept as their owners keep
 * them (tests/support/fixtures/import-e2e/<stack>/: compose.yaml, a .env with made-up secret
 * values, the folders they bind), copied to a temp folder beside a fresh workspace, imported by
 * the real Nx generator as a user runs it, validated by `nx run-many -t validate`, and deployed
 * with Compose to dev.
 *
 * Every service of the fixtures runs on the host network bound to 127.0.0.1 (the test engine has
 * no bridge), on ports from freePorts() written into the copied .env, and the test's images are
 * the local homelab-test/busybox:1 and the scheduler stand-in homelab-test/docker-cli:1.
 *
 * The device: this engine cannot start a privileged container (its daemon lacks a capability:
 * "unable to apply caps: operation not permitted"), and /dev/dri, the one device the mapper gives
 * an unprivileged service, is not on this host. The stack's worker is privileged with /dev/zero,
 * which every Linux host has, as a privileged service with a USB stick or a serial port is
 * imported: carried with no `not carried over` line, in both trees. The dev environment's
 * compose.override.yaml (the user's file for what belongs to one machine) turns privileged mode
 * off for this engine only; the device itself still reaches the container.
 *
 * The UDP port: busybox here has no UDP listener (`nc` has no `-u`), so the test reads the port
 * where the engine keeps it (the container's exposed ports) and in both trees, not a datagram.
 */
const compose = requireTool('docker compose');
const kubectl = requireTool('kubectl');
const scheduler = requireTool('homelab-test/docker-cli:1', ['docker', 'image', 'inspect', 'homelab-test/docker-cli:1']);
const FIXTURES = path.join(__dirname, '../support/fixtures/import-e2e');
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Copies a fixture stack to `<dir>/<name>`, as its owner keeps it, with .env values replaced. */
function copyStack(stack: string, dir: string, env: Record<string, string> = {}): string {
  const to = path.join(dir, stack);
  fs.cpSync(path.join(FIXTURES, stack), to, { recursive: true });
  const file = path.join(to, '.env');
  if (fs.existsSync(file)) {
    let text = fs.readFileSync(file, 'utf8');
    for (const [key, value] of Object.entries(env)) text = text.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`);
    fs.writeFileSync(file, text);
  }
  return to;
}

/** A value of the stack's .env. */
function dotenv(stackDir: string, key: string): string {
  const line = fs.readFileSync(path.join(stackDir, '.env'), 'utf8').split('\n').find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`${key} is not in ${stackDir}/.env`);
  return line.slice(key.length + 1);
}

/** Every file below `root` (links not followed, node_modules left out) that holds `value`. */
function filesHolding(root: string, value: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(full);
      else if (entry.isFile() && fs.readFileSync(full).includes(value)) found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found.sort();
}

/** `npx nx g homelab:import <app> --file <file> --no-interactive` in the workspace, as a user runs it. */
function importStack(ws: DeployWorkspace, app: string, file: string): RunResult {
  return run('npx', ['nx', 'g', 'homelab:import', app, '--file', path.relative(ws.root, file), '--no-interactive'], { cwd: ws.root, env: { ...NX_ENV, TMPDIR: ws.tmp }, timeout: 300_000 });
}

function inspect(container: string): any {
  return JSON.parse(run('docker', ['inspect', container]).stdout)[0];
}

describe.skipIf(compose.skip || kubectl.skip || scheduler.skip)('nx g homelab:import end to end, on the real Docker Engine', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  /** Where the stacks live, beside the workspace (an owner's ~/stacks). */
  let stacks: string;
  /** Volumes of the source stacks, which no Compose project of the workspace owns. */
  const volumes: string[] = [];

  beforeAll(() => {
    ws = DeployWorkspace.create('import-e2e');
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
    });
    stacks = `${ws.root}-stacks`;
    fs.mkdirSync(stacks);
  });

  afterAll(() => {
    // The apps' containers first: they hold the adopted volumes.
    ws?.cleanup();
    for (const volume of volumes) run('docker', ['volume', 'rm', '-f', volume]);
    if (stacks) fs.rmSync(stacks, { recursive: true, force: true });
  });

  describe('a stack of several services, host paths, a device, UDP, host networking, a cron job and a shared secret', () => {
    const APP = uniqueName('homestack');
    const PROJECT = `${APP}-dev`;
    let stack: string;
    let secret: string;
    let ports: { web: number; dns: number };
    let media: string;
    let generated: RunResult;
    const order = () => run('docker', ['exec', `${PROJECT}-server-1`, 'cat', '/var/lib/db/order']).stdout.trim().split('\n');

    beforeAll(async () => {
      const [web, dns] = await freePorts(2);
      ports = { web, dns };
      media = path.join(stacks, 'media');
      fs.mkdirSync(media);
      fs.writeFileSync(path.join(media, 'index.html'), 'served from the absolute bind\n');
      stack = copyStack('homestack', stacks, { WEB_PORT: String(web), DNS_PORT: String(dns), MEDIA_DIR: media });
      secret = dotenv(stack, 'DB_PASSWORD');
      ws.track(PROJECT);
      generated = importStack(ws, APP, path.join(stack, 'compose.yaml'));
    }, 120_000);

    it('imports with exit 0 and a report without a `not carried over` line', () => {
      expect(generated.status, output(generated)).toBe(0);
      expect(output(generated)).not.toContain('not carried over');
      expect(generated.stdout).toContain(`CREATE applications/specs/${APP}.yaml`);
      expect(generated.stdout).toContain(`2 secret value(s) of the stack go to .homelab/secrets/${APP}.env (mode 0600, git-ignored)`);
    });

    it('keeps the secret value only in the local secrets file (mode 0600), never in the workspace\'s other files or the generator\'s output', () => {
      expect(output(generated)).not.toContain(secret);
      const secretsFile = path.join(ws.root, `.homelab/secrets/${APP}.env`);
      expect(fs.statSync(secretsFile).mode & 0o777).toBe(0o600);
      const lines = fs.readFileSync(secretsFile, 'utf8').split('\n').filter(Boolean).sort();
      expect(lines.map((l) => l.split('=')[0])).toEqual(['DB_PASSWORD', 'POSTGRES_PASSWORD']);
      for (const line of lines) expect(line).toContain(secret);
      expect(filesHolding(ws.root, secret)).toEqual([`.homelab/secrets/${APP}.env`]);
      // git leaves it out.
      expect(run('git', ['init', '-q'], { cwd: ws.root }).status).toBe(0);
      expect(run('git', ['check-ignore', '-q', `.homelab/secrets/${APP}.env`], { cwd: ws.root }).status).toBe(0);
      expect(run('git', ['check-ignore', '-q', `applications/specs/${APP}.yaml`], { cwd: ws.root }).status).toBe(1);
    });

    it('carries the device, the UDP port, host networking, both host paths and the cron job into the spec', () => {
      const spec = YAML.parse(fs.readFileSync(path.join(ws.root, `applications/specs/${APP}.yaml`), 'utf8'));
      expect(Object.keys(spec.services).sort()).toEqual(['backup', 'database', 'migrate', 'server', 'worker']);
      expect(spec.services.worker.devices).toEqual([{ path: '/dev/zero' }]);
      expect(spec.services.worker.security.privileged).toMatch(/^imported: /);
      expect(spec.services.worker.ports).toEqual([{ name: `udp-${ports.dns}`, port: ports.dns, protocol: 'UDP' }]);
      for (const service of Object.values<any>(spec.services)) expect(service.security.hostNetwork).toMatch(/^imported: /);
      expect(spec.services.backup).toMatchObject({ kind: 'cron', schedule: '0 3 * * *' });
      expect(spec.services.migrate.kind).toBe('job');
      expect(spec.services.server.dependsOn).toEqual({ database: 'healthy', migrate: 'completed' });
      expect(spec.volumes.data).toEqual({ hostPath: path.join(stack, 'data'), reason: 'imported: the source binds ./data' });
      expect(spec.volumes.media).toMatchObject({ hostPath: media });
      expect(spec.secrets).toEqual([{ key: 'DB_PASSWORD', remoteKey: APP }]);
      expect(spec.services.database.secrets).toEqual([{ key: 'POSTGRES_PASSWORD', remoteKey: APP, property: 'DB_PASSWORD' }]);
      // On Compose, the worker runs privileged as the source ran it: without no-new-privileges.
      const base = YAML.parse(fs.readFileSync(path.join(ws.root, `applications/compose/base/${APP}/compose.yaml`), 'utf8'));
      expect(base.services.worker).toMatchObject({ privileged: true, network_mode: 'host', devices: ['/dev/zero:/dev/zero'], expose: [`${ports.dns}/udp`] });
      expect(base.services.worker).not.toHaveProperty('security_opt');
    });

    it.each(['dev', 'prod'])('renders the %s overlay with kubectl kustomize: the UDP port in the Service, the device mounted in the worker', (env) => {
      const result = run('kubectl', ['kustomize', path.join(ws.root, `applications/kubernetes/overlays/${env}/${APP}`)]);

      expect(result.status, result.stderr).toBe(0);
      const docs = YAML.parseAllDocuments(result.stdout).map((d) => d.toJS());
      const servicePorts = docs.filter((d) => d.kind === 'Service').flatMap((d) => d.spec.ports ?? []);
      expect(servicePorts).toContainEqual(expect.objectContaining({ port: ports.dns, protocol: 'UDP' }));
      const worker = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('worker'));
      expect(worker.spec.template.spec.hostNetwork).toBe(true);
      expect(worker.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ hostPath: expect.objectContaining({ path: '/dev/zero' }) }));
      expect(worker.spec.template.spec.containers[0].securityContext.privileged).toBe(true);
      expect(docs.filter((d) => d.kind === 'CronJob').map((d) => d.spec.schedule)).toEqual(['0 3 * * *']);
    });

    it('validates clean with nx run-many -t validate', () => {
      const result = ws.nx(['run-many', '-t', 'validate', '--skip-nx-cache']);

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`${APP}: valid \\(\\d+ warning\\(s\\)\\)`));
      expect(output(result)).not.toMatch(/\[error\]/);
      // Every warning is an opt-in the spec records with its reason (the imported stack's, or the
      // cron scheduler's own), shown for review.
      const warnings = output(result).split('\n').filter((l) => l.includes('[warning]'));
      expect(warnings.filter((l) => l.includes('(imported: the source ')).length).toBeGreaterThan(0);
      expect(warnings.filter((l) => !/: allowed by (services\.|volumes\.|homelab for the scheduler)/.test(l))).toEqual([]);
    });

    it('deploys on Compose to dev: in the start order, healthy, the secret in both services, the cron container created, the device and the folders the stack used', async () => {
      // This engine cannot run a privileged container (see the top of the file): the owner of this
      // machine turns it off in the environment's own file, as they would any setting of one host.
      const override = path.join(ws.root, `applications/compose/environments/dev/${APP}/compose.override.yaml`);
      const overrideDoc = YAML.parseDocument(fs.readFileSync(override, 'utf8'));
      overrideDoc.setIn(['services', 'worker'], { privileged: false });
      fs.writeFileSync(override, overrideDoc.toString());
      ws.clearDist();

      const result = await ws.deploy(APP, { env: 'dev' });

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toContain('[plan]     start order: 1. database, scheduler, worker  2. migrate (job)  3. server\n');
      expect(order()).toEqual(['database', 'migrate', 'server']);
      const states = containers(PROJECT).map((c) => [c.name.replace(`${PROJECT}-`, ''), c.running, c.health]);
      expect(states).toEqual([
        ['backup-1', false, undefined],
        // The backup mover of the database's volume: created, never started by deploy (the scheduler starts it).
        ['backup-db-1', false, undefined],
        ['database-1', true, 'healthy'],
        ['migrate-1', false, undefined],
        ['scheduler-1', true, undefined],
        ['server-1', true, 'healthy'],
        ['worker-1', true, undefined],
      ]);
      expect(inspect(`${PROJECT}-migrate-1`).State).toMatchObject({ Status: 'exited', ExitCode: 0 });
      // The cron service: created, not started; the scheduler starts it at 03:00.
      expect(inspect(`${PROJECT}-backup-1`).State.Status).toBe('created');
      // The stack's own cron service `backup`, then the app's backups (its volumes' movers), on the default schedule.
      expect(run('docker', ['exec', `${PROJECT}-scheduler-1`, 'cat', '/etc/crontabs/root']).stdout).toBe(`0 3 * * * docker start -a ${PROJECT}-backup-1\n0 3 * * * sh /homelab/backup\n`);
      // The secret reached both services: the server started only because its password's hash is
      // the one the database keeps, and wrote that hash into the stack's own ./data folder.
      expect(fs.readFileSync(path.join(stack, 'data/password.sha256'), 'utf8')).toBe(`${sha256(secret)}\n`);
      expect(fs.readFileSync(path.join(stack, 'data/README'), 'utf8')).toBe('kept by the stack before the import\n');
      // The absolute bind is served, on the host network, at the port of the stack's .env.
      expect(await httpGet(ports.web, '/')).toBe('served from the absolute bind\n');
      // The device reached the worker, which read it; the UDP port is the container's.
      expect(fs.readFileSync(path.join(stack, 'data/worker-read'), 'utf8').trim()).toBe('16');
      const worker = inspect(`${PROJECT}-worker-1`);
      expect(worker.HostConfig.Devices).toEqual([{ PathOnHost: '/dev/zero', PathInContainer: '/dev/zero', CgroupPermissions: 'rwm' }]);
      expect(Object.keys(worker.Config.ExposedPorts)).toEqual([`${ports.dns}/udp`]);
      expect(worker.HostConfig.NetworkMode).toBe('host');
      // No secret value in what deploy printed, the containers' logs, or any file of the workspace.
      expect(output(result)).not.toContain(secret);
      for (const c of containers(PROJECT)) expect(output(run('docker', ['logs', c.id]))).not.toContain(secret);
      expect(filesHolding(ws.root, secret)).toEqual([`.homelab/secrets/${APP}.env`]);
      expect(ws.leftovers()).toEqual([]);
    });

    it('a second deploy changes nothing: no container is recreated, the job does not run again', async () => {
      const before = containers(PROJECT).map((c) => c.id);

      const result = await ws.deploy(APP, { env: 'dev' });

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toContain('nothing to change: every container is up to date, running and healthy');
      expect(containers(PROJECT).map((c) => c.id)).toEqual(before);
      expect(order()).toEqual(['database', 'migrate', 'server']);
    });
  });

  describe('adopting a running stack with its data', () => {
    const SOURCE = uniqueName('notes-src');
    const APP = uniqueName('notes');
    const PROJECT = `${APP}-dev`;
    let stack: string;
    /** The row the running stack wrote before the import. */
    let row: string;
    let generated: RunResult;

    beforeAll(async () => {
      stack = copyStack('notes', stacks);
      const file = path.join(stack, 'compose.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^name: notes$/m, `name: ${SOURCE}`));
      ws.track(SOURCE);
      volumes.push(`${SOURCE}_rows`);
      // The stack as it ran before homelab: started from its folder, as its owner starts it.
      const up = run('docker', ['compose', 'up', '-d'], { cwd: stack });
      expect(up.status, output(up)).toBe(0);
      const until = Date.now() + 30_000;
      let rows = '';
      while (Date.now() < until && rows === '') {
        rows = run('docker', ['exec', `${SOURCE}-app-1`, 'cat', '/var/lib/notes/rows']).stdout;
        if (rows === '') await sleep(250);
      }
      expect(rows).toMatch(/^row [0-9a-f-]{36}\n$/);
      row = rows;
      generated = importStack(ws, APP, file);
    }, 120_000);

    it('says it adopts the stack\'s volume in dev, and writes it into the dev override', () => {
      expect(generated.status, output(generated)).toBe(0);
      expect(output(generated)).not.toContain('not carried over');
      const overrideFile = `applications/compose/environments/dev/${APP}/compose.override.yaml`;
      expect(generated.stdout).toContain(
        `adopts the stack's volumes in dev: rows is ${SOURCE}_rows (in ${overrideFile}); stop the stack (docker compose -p ${SOURCE} stop) before the first deploy, which refuses while it runs\n`,
      );
      const override = YAML.parse(fs.readFileSync(path.join(ws.root, overrideFile), 'utf8'));
      expect(override['x-homelab-adopted']).toEqual({ project: SOURCE });
      expect(override.volumes).toEqual({ rows: { name: `${SOURCE}_rows` } });
      // prod is not adopted: it starts on its own volumes.
      expect(fs.readFileSync(path.join(ws.root, `applications/compose/environments/prod/${APP}/compose.override.yaml`), 'utf8')).not.toContain('x-homelab-adopted');
      expect(output(generated)).not.toContain(dotenv(stack, 'NOTES_TOKEN'));
    });

    it('deploy refuses in one line while the source stack runs, naming the command that stops it, and starts nothing', async () => {
      const result = await ws.deploy(APP, { env: 'dev' });

      expect(result.status, output(result)).toBe(2);
      expect(output(result).split('\n').filter((l) => l.startsWith('error:'))).toEqual([
        `error: ${APP} (dev): the Compose project ${SOURCE}, whose volumes this app took over, still runs (${SOURCE}-app-1); stop it first with \`docker compose -p ${SOURCE} stop\` (its volumes keep their data), then deploy again; nothing was changed`,
      ]);
      expect(containers(PROJECT)).toEqual([]);
      expect(containers(SOURCE).map((c) => c.running)).toEqual([true]);
    });

    it('once the source is stopped, deploys on its volume: the row written before the import is there, and no new volume was made', async () => {
      const stop = run('docker', ['compose', '-p', SOURCE, 'stop']);
      expect(stop.status, output(stop)).toBe(0);

      const result = await ws.deploy(APP, { env: 'dev' });

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toContain(`[adopt]    takes over the volumes of compose project ${SOURCE}, which is not running\n`);
      const rows = run('docker', ['exec', `${PROJECT}-app-1`, 'cat', '/var/lib/notes/rows']).stdout;
      expect(rows.startsWith(row)).toBe(true);
      expect(rows.split('\n').filter(Boolean)).toHaveLength(2);
      expect(run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).stdout.trim()).toBe(`${PROJECT}_backup-cache`); // only the backup mover's restic cache
      // The bind mount is the stack's own folder.
      expect(run('docker', ['exec', `${PROJECT}-app-1`, 'cat', '/uploads/first.txt']).stdout).toBe('upload\n');
      expect(output(result)).not.toContain(dotenv(stack, 'NOTES_TOKEN'));
    });
  });

  describe('refusals through the real generator', () => {
    it.each([
      { stack: 'built', message: 'services.app.build: a service built from source and without image: cannot be imported (homelab deploys images, it does not build them); build and push the image, set services.app.image to it, and import again' },
      { stack: 'alias-bomb', message: 'compose.yaml:7:10: aliases expand to more than 10000 values (an alias bomb?); write the values out or use fewer aliases' },
    ])('refuses $stack: exits non-zero, one line naming the key or the file, nothing written', ({ stack, message }) => {
      const dir = copyStack(stack, stacks);
      // The workspace as git sees it (the deploys' temp folder holds only the TypeScript loader's cache).
      const files = () => Object.keys(diskFiles(ws.root)).filter((f) => !f.startsWith('.tmp/'));
      const before = files();

      const result = importStack(ws, uniqueName(stack), path.join(dir, 'compose.yaml'));

      expect(result.status).not.toBe(0);
      expect(output(result).split('\n').filter((l) => l.includes(message)), output(result)).toHaveLength(1);
      expect(output(result)).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
      expect(files()).toEqual(before);
    });
  });
});
