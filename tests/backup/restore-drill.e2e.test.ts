import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, httpGet, sleep, uniqueName } from '../deploy/support';

/**
 * `restore-drill` on the real Docker Engine, with the real restic (restic/restic:0.18.0, built
 * locally by setup:engines) and PostgreSQL 15 (homelab-test/postgres:15): a generated stateful app
 * (tests/support/fixtures/backup/files.yaml: a server with a file volume, its own database backed up
 * as a dump) is deployed, given data, and drilled: with `nx run <app>:restore-drill`, with --keep to
 * look at the scratch project, and with each fault the drill must name in one line while the live
 * app keeps running: a wrong password, a target that is gone, a scratch volume that is full.
 *
 * The backups go to a folder of the test workspace (homelab.yaml backup.target.path), the scheduler
 * is the local stand-in homelab-test/docker-cli:1 (no registry here).
 */

const compose = requireTool('docker compose');
const images = requireTool('restic/restic:0.18.0 and homelab-test/postgres:15', ['docker', 'image', 'inspect', 'restic/restic:0.18.0', 'homelab-test/postgres:15', 'homelab-test/docker-cli:1']);
const APP = uniqueName('files');
const PROJECT = `${APP}-dev`;
const SCRATCH = `${PROJECT}-drill`;
const SECRETS = { POSTGRES_PASSWORD: 'pg-drill-5e1f0a9c2b', RESTIC_PASSWORD: 'restic-drill-8b3d6e2f71' };
const SPEC = path.join(__dirname, '../support/fixtures/backup/files.yaml');

describe.skipIf(compose.skip || images.skip)('restore-drill of a generated stateful app on the real engine', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  let ports: { server: number; db: number };
  let target: string;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const drill = (options: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = SECRETS) => ws.deploy(APP, { env: 'dev', ...options }, env, 'restore-drill');
  const psql = (sql: string) => run('docker', ['exec', `${PROJECT}-db-1`, 'psql', '-X', '-tA', '-U', 'postgres', '-d', 'files', '-c', sql]);
  /** Nothing of the scratch project is left: no container, no volume. */
  const scratchLeft = () => [
    ...containers(SCRATCH).map((c) => c.name),
    ...run('docker', ['volume', 'ls', '-q', '--filter', `name=${SCRATCH}`]).stdout.split('\n').filter(Boolean),
  ];
  /** The live app's services (not the scheduler, nor the backup movers, which only run during a backup). */
  const liveServices = () => containers(PROJECT).filter((c) => c.name === `${PROJECT}-db-1` || c.name === `${PROJECT}-server-1`);
  /** The live app: both services running and healthy (again, after a backup stopped them), the server serving its file. */
  const expectLiveApp = async () => {
    for (let i = 0; i < 120 && !liveServices().every((c) => c.running && c.health === 'healthy'); i++) await sleep(500);
    expect(liveServices().map((c) => [c.name, c.running, c.health])).toEqual([
      [`${PROJECT}-db-1`, true, 'healthy'],
      [`${PROJECT}-server-1`, true, 'healthy'],
    ]);
    expect(await httpGet(ports.server, '/hello.txt')).toBe('hello from the live app\n');
  };

  beforeAll(async () => {
    const [server, db] = await freePorts(2);
    ports = { server, db };
    ws = DeployWorkspace.create('restore-drill');
    target = path.join(ws.root, '.backups');
    fs.mkdirSync(target);
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
      config.backup = { ...config.backup, target: { path: target } };
    });
    ws.addSpec(APP, fs.readFileSync(SPEC, 'utf8').replace(/^name: files$/m, `name: ${APP}`).replaceAll('18091', String(server)).replaceAll('18092', String(db)));
    ws.track(PROJECT);
    ws.track(SCRATCH);
    const deployed = await ws.deploy(APP, { env: 'dev' }, SECRETS);
    expect(deployed.status, output(deployed)).toBe(0);
    // Data: files of several sizes in the server's volume, rows in the database.
    const files = run('docker', ['exec', `${PROJECT}-server-1`, 'sh', '-c', 'cd /srv/data && echo "hello from the live app" > hello.txt && mkdir -p "deep/a b" && dd if=/dev/urandom of="deep/a b/blob.bin" bs=1024 count=512 2>/dev/null']);
    expect(files.status, files.stderr).toBe(0);
    const rows = psql('create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 1000) g; create table notes (body text); insert into notes values ($$a note, with a comma$$);');
    expect(rows.status, rows.stderr).toBe(0);
  });

  afterAll(() => ws?.cleanup());

  it('passes with nx run <app>:restore-drill: one line per volume with its size and duration, digests and row counts matching, nothing of the scratch project left', () => {
    const result = ws.nx(['run', `${APP}:restore-drill`, '--env', 'dev'], SECRETS);

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`restore-drill ${PROJECT} data: \\d+\\.\\d KiB, 3 files, restored in \\d+\\.\\d s, digest matches\\n`));
    expect(result.stdout).toMatch(new RegExp(`restore-drill ${PROJECT} db: \\d+(\\.\\d)? (B|KiB), 1 files, restored in \\d+\\.\\d s, digest matches, 2 table\\(s\\) with 1001 row\\(s\\) match\\n`));
    expect(result.stdout).toMatch(/\[health\] +server: healthy/);
    for (const value of Object.values(SECRETS)) expect(output(result)).not.toContain(value);
    expect(scratchLeft()).toEqual([]);
  });

  it('keeps the live app running and serving, and its data as it was', async () => {
    await expectLiveApp();
    expect(psql('select count(*) from items').stdout.trim()).toBe('1000');
  });

  it('starts the scratch project isolated (--keep leaves it to look at): one internal network, no host network, no published port', async () => {
    const result = await drill({ keep: true });
    expect(result.status, output(result)).toBe(0);

    const inspected = JSON.parse(run('docker', ['inspect', ...containers(SCRATCH).map((c) => c.id)]).stdout) as any[];
    expect(inspected.map((c) => c.Config.Labels['com.docker.compose.service']).sort()).toEqual(['db', 'server']);
    for (const c of inspected) {
      expect(c.HostConfig.NetworkMode).toBe(`${SCRATCH}_default`);
      expect(c.HostConfig.PortBindings ?? {}).toEqual({});
    }
    expect(run('docker', ['network', 'inspect', '--format', '{{.Internal}}', `${SCRATCH}_default`]).stdout.trim()).toBe('true');
    // The restored volume holds the live data, the scratch server serves it inside its own network namespace.
    const served = run('docker', ['exec', `${SCRATCH}-server-1`, 'wget', '-q', '-O', '-', `http://127.0.0.1:${ports.server}/hello.txt`]);
    expect(served.stdout).toBe('hello from the live app\n');
    const counted = run('docker', ['exec', `${SCRATCH}-db-1`, 'psql', '-X', '-tA', '-U', 'postgres', '-d', 'files', '-c', 'select count(*) from items']);
    expect(counted.stdout.trim()).toBe('1000');
    await expectLiveApp();

    // The next drill removes what this one left.
    const next = await drill();
    expect(next.status, output(next)).toBe(0);
    expect(next.stdout).toContain(`removing what an earlier drill left of ${SCRATCH}`);
    expect(scratchLeft()).toEqual([]);
  });

  it('names a wrong repository password in one line, before the backup, and leaves the live app untouched', async () => {
    const before = JSON.stringify(run('docker', ['inspect', '--format', '{{.Id}} {{.State.StartedAt}}', ...liveServices().map((c) => c.id)]).stdout);
    const result = await drill({}, { ...SECRETS, RESTIC_PASSWORD: 'not-the-password-1234' });

    expect(result.status).not.toBe(0);
    const errors = output(result).split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^error: ${APP} \\(dev\\): wrong password for the restic repository /repository/${PROJECT}/(data|db): RESTIC_PASSWORD does not open it; .*nothing was changed`))]);
    expect(result.stdout).not.toContain('[backup]');
    // Not even restarted: the drill stopped before the backup.
    expect(JSON.stringify(run('docker', ['inspect', '--format', '{{.Id}} {{.State.StartedAt}}', ...liveServices().map((c) => c.id)]).stdout)).toBe(before);
    expect(scratchLeft()).toEqual([]);
    await expectLiveApp();
  });

  it('names a backup target that is gone in one line, and leaves the live app untouched', async () => {
    const moved = `${target}.away`;
    fs.renameSync(target, moved);
    try {
      const result = await drill();
      expect(result.status).not.toBe(0);
      expect(output(result)).toContain(`error: ${APP} (dev): the backup target ${target} does not exist on the Docker host; mount it (an NFS share?) or fix backup.target in homelab.yaml; nothing was changed`);
      expect(scratchLeft()).toEqual([]);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(moved, target);
    }
    await expectLiveApp();
  });

  it('names a full scratch volume in one line (--scratch-size too small), tears the scratch project down and leaves the live app running', async () => {
    const result = await drill({ scratchSize: '64k' });

    expect(result.status).not.toBe(0);
    expect(output(result)).toMatch(new RegExp(`error: ${APP} \\(dev\\): volume data: the scratch volume ${SCRATCH}_data is full \\(no space left on device, --scratch-size 64k\\); give the drill room`));
    expect(scratchLeft()).toEqual([]);
    await expectLiveApp();
  });
});
