import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, httpGet, uniqueName } from './support';

/**
 * An app of several services deployed with Compose to the real Docker Engine, from the rendered
 * file deploy reads (tests/support/fixtures/multi-service/compose.yaml: a database with an exec
 * health check, a search service probed from outside, a migration job, a server that waits for
 * both, a worker that waits for search). Every service refuses to start, or records it, when what
 * it waits for is not there yet, so the order the test reads back is the order that really held:
 * the first deploy, a redeploy with no change, the plan, a failing migration rolled back, down.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('stack');
const PROJECT = `${APP}-dev`;
const SECRET = 'stack-secret-9d2f7e1a4c';
const FIXTURE = path.join(__dirname, '../support/fixtures/multi-service/compose.yaml');

describe.skipIf(compose.skip)('compose deploy of an app of several services, in its start order', () => {
  let ws: DeployWorkspace;
  let ports: { server: number; search: number };
  const deploy = (extra: Record<string, unknown> = {}) => ws.deploy(APP, { env: 'dev', ...extra }, { DB_PASSWORD: SECRET });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  /** Writes the rendered file deploy reads, with this run's name and ports, and `edit` applied to its text. */
  const render = (edit: (text: string) => string = (t) => t) => {
    const text = fs.readFileSync(FIXTURE, 'utf8').replaceAll('photos', APP).replaceAll('18081', String(ports.server)).replaceAll('18082', String(ports.search));
    const file = path.join(ws.root, `dist/dev/compose/${APP}/compose.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, edit(text));
  };
  /** The lines the services appended to /state/order when they started, read from the shared volume. */
  const order = () => run('docker', ['run', '--rm', '--network', 'none', '-v', `${PROJECT}_state:/state:ro`, 'homelab-test/busybox:1', 'cat', '/state/order']).stdout.trim().split('\n');
  const inspect = () =>
    (JSON.parse(run('docker', ['inspect', ...containers(PROJECT).map((c) => c.id)]).stdout) as any[]).map((c) => ({
      service: c.Config.Labels['com.docker.compose.service'] as string,
      id: c.Id as string,
      image: c.Config.Image as string,
      status: c.State.Status as string,
      exitCode: c.State.ExitCode as number,
      health: c.State.Health?.Status as string | undefined,
      restarts: c.RestartCount as number,
    })).sort((a, b) => a.service.localeCompare(b.service));

  beforeAll(async () => {
    const [server, search] = await freePorts(2);
    ports = { server, search };
    ws = DeployWorkspace.create('deploy-services');
    // The app's folders (deploy resolves the project and its environments from them); what deploy applies is the rendered file.
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: server, secrets: ['DB_PASSWORD'] });
    ws.track(PROJECT);
    render();
  });

  afterAll(() => ws?.cleanup());

  it('starts level by level: each service only once what it waits for is up, the job run to its end', async () => {
    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('[plan]     start order: 1. database, search  2. migrate (job), worker  3. server\n');
    const lines = order();
    expect([...lines].sort()).toEqual(['database', 'database ready', 'migrate', 'migrate done', 'search', 'search listening', 'server', 'worker']);
    expect(lines.indexOf('migrate')).toBeGreaterThan(lines.indexOf('database ready'));
    expect(lines.indexOf('worker')).toBeGreaterThan(lines.indexOf('search listening'));
    expect(lines.indexOf('server')).toBeGreaterThan(lines.indexOf('migrate done'));
    expect(inspect().map((c) => [c.service, c.status, c.exitCode, c.health, c.restarts])).toEqual([
      ['database', 'running', 0, 'healthy', 0],
      ['migrate', 'exited', 0, undefined, 0],
      ['search', 'running', 0, undefined, 0],
      ['server', 'running', 0, 'healthy', 0],
      ['worker', 'running', 0, undefined, 0],
    ]);
    expect(result.stdout).toMatch(new RegExp(`\\[health\\] +${PROJECT}-search-1: GET http://127\\.0\\.0\\.1:${ports.search}/healthz -> 200`));
    expect(result.stdout).toMatch(new RegExp(`\\[job\\] +${PROJECT}-migrate-1: completed \\(exited with code 0\\)`));
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-migrate-1: job completed (exited with code 0)`);
    expect(await httpGet(ports.server)).toBe('ok v1\n');
  });

  it('redeploys with no change without a Compose call: the completed job is done, not down, and does not run again', async () => {
    const before = inspect().map((c) => c.id);
    const lines = order();

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('migrate: unchanged');
    expect(result.stdout).toContain('nothing to change: every container is up to date, running and healthy');
    expect(result.stdout).toContain('0 container(s) started, 5 unchanged');
    expect(inspect().map((c) => c.id)).toEqual(before);
    expect(order()).toEqual(lines);
  });

  it('plans the start order on --dry-run, and a stack that runs as rendered changes nothing', async () => {
    const result = await ws.deploy(APP, { env: 'dev', dryRun: true }, {});

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('start order: 1. database, search  2. migrate (job), worker  3. server');
    expect(result.stdout).toContain('migrate: unchanged');
    expect(result.stdout).toContain('dry run: nothing was changed (a deploy would change nothing)');
  });

  it('a migration that fails stops the deploy before the server: its last log lines, masked, and a rollback', async () => {
    const before = inspect();
    const server = before.find((c) => c.service === 'server')!;
    render((text) =>
      text
        // The new version: a server :2 behind a migration that fails, and says so with the secret in its message.
        .replace(/(  server:[\s\S]*?image: )homelab-test\/busybox:1/, '$1homelab-test/busybox:2')
        .replace(/- 'echo migrate >> \/state\/order;.*'/, `- 'echo migrate v2 >> /state/order; echo "migrate: connecting with $$DB_PASSWORD"; echo "migrate: migration 0002 failed: column exists" >&2; exit 3'`),
    );

    const result = await deploy();

    expect(result.status).toBe(1);
    const errors = output(result).split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([
      `error: ${APP} (dev): deploy failed: job migrate (container ${PROJECT}-migrate-1) exited with code 3 (last log line: "migrate: migration 0002 failed: column exists"); rolled back to the previous version (homelab-test/busybox:1), which is running and healthy`,
    ]);
    expect(result.stdout).toContain(`[why]      ${PROJECT}-migrate-1 (homelab-test/busybox:1) job migrate exited with code 3`);
    expect(result.stdout).toContain('migrate: connecting with ***');
    expect(output(result)).not.toContain(SECRET);
    // The server never stopped: level 3 was not reached, and the rollback found it as it was.
    const after = inspect();
    expect(after.find((c) => c.service === 'server')).toMatchObject({ id: server.id, image: 'homelab-test/busybox:1', status: 'running', health: 'healthy' });
    expect(after.find((c) => c.service === 'migrate')).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(order().slice(-2)).toEqual(['migrate', 'migrate done']);
    expect(order()).toContain('migrate v2');
    expect(order().filter((l) => l === 'server')).toHaveLength(1);
    expect(await httpGet(ports.server)).toBe('ok v1\n');
    expect(ws.leftovers()).toEqual([]);
  });

  it('down removes every container, the completed job\'s too, and keeps the volume', async () => {
    render();

    const result = await ws.deploy(APP, { env: 'dev' }, {}, 'down');

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`remove 5 container(s) of compose project ${PROJECT} (1 of them of jobs that completed)`);
    expect(containers(PROJECT)).toEqual([]);
    expect(run('docker', ['volume', 'ls', '-q', '--filter', `name=${PROJECT}_state`]).stdout.trim()).toBe(`${PROJECT}_state`);
  });
});
