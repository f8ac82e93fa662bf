import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, httpGet, sleep, uniqueName } from './support';

/**
 * An app of several services, from its spec to the real Docker Engine: the spec of the full form
 * (tests/support/fixtures/deploy-stack/stack.yaml: a database with an exec health check, a search
 * service probed from outside, a migration job, a server that waits for both, a worker that waits
 * for search, a cron service on the shared volume) is rendered by `nx sync`, merged by
 * `nx run <app>:build` (and, after each change of the spec, by the build deploy runs itself when
 * dist/ is gone), and deployed with Compose. Every service refuses to start, or records it, when
 * what it waits for is not there yet, so the order the test reads back is the order that really
 * held: the first deploy, the plan, the cron run, a redeploy with no change, a cron run that
 * failed, a failing migration rolled back, a new schedule, down.
 *
 * The scheduler is the local stand-in homelab-test/docker-cli:1 (scripts/setup-engines.sh builds
 * it from busybox-static and this machine's docker CLI; no registry here), set as a user sets
 * theirs: homelab.yaml `compose.scheduler.image`.
 *
 * Waiting for the schedule: crond's finest grain is a minute, so the test cannot make it fire
 * sooner. The spec's schedule names one given minute, the first whole minute at least 70 s after
 * the test starts (in UTC like the container's clock), which leaves the build and the first
 * deploy (about 30 s: the rendered health checks run every 10 s) time to finish before it; the
 * test then waits until that minute plus a margin. A schedule of one minute, rather than every
 * minute, also shows that the cron container runs when its schedule says and not when deploy runs.
 */

const compose = requireTool('docker compose');
const scheduler = requireTool('homelab-test/docker-cli:1', ['docker', 'image', 'inspect', 'homelab-test/docker-cli:1']);
const APP = uniqueName('stack');
const PROJECT = `${APP}-dev`;
const SECRET = 'stack-secret-9d2f7e1a4c';
const SPEC = path.join(__dirname, '../support/fixtures/deploy-stack/stack.yaml');

interface Inspected {
  service: string;
  id: string;
  image: string;
  status: string;
  exitCode: number;
  startedAt: string;
  health?: string;
  restarts: number;
}

describe.skipIf(compose.skip || scheduler.skip)('an app of several services from its spec to the real engine, in its start order', { timeout: 240_000 }, () => {
  let ws: DeployWorkspace;
  let ports: { server: number; search: number };
  /** When the scheduled run is due (the start of its minute). */
  let due: Date;
  const deploy = (extra: Record<string, unknown> = {}) => ws.deploy(APP, { env: 'dev', ...extra }, { DB_PASSWORD: SECRET });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const cron = (d: Date) => `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  /** The spec as the fixture holds it, with this run's name, ports and schedule. */
  const specText = (schedule: string) =>
    fs
      .readFileSync(SPEC, 'utf8')
      .replace(/^name: stack$/m, `name: ${APP}`)
      .replaceAll('18081', String(ports.server))
      .replaceAll('18082', String(ports.search))
      .replaceAll('* * * * *', schedule);
  /** A file of the shared volume, read through the running server's mount of it. */
  const shared = (file: string) => run('docker', ['exec', `${PROJECT}-server-1`, 'cat', `/state/${file}`]);
  /** The lines the services appended to /state/order when they started. */
  const order = () => shared('order').stdout.trim().split('\n');
  const inspect = (): Inspected[] =>
    (JSON.parse(run('docker', ['inspect', ...containers(PROJECT).map((c) => c.id)]).stdout) as any[])
      .map((c) => ({
        service: c.Config.Labels['com.docker.compose.service'] as string,
        id: c.Id as string,
        image: c.Config.Image as string,
        status: c.State.Status as string,
        exitCode: c.State.ExitCode as number,
        startedAt: c.State.StartedAt as string,
        health: c.State.Health?.Status as string | undefined,
        restarts: c.RestartCount as number,
      }))
      .sort((a, b) => a.service.localeCompare(b.service));
  const of = (service: string) => inspect().find((c) => c.service === service)!;
  const crontab = () => run('docker', ['exec', `${PROJECT}-scheduler-1`, 'cat', '/etc/crontabs/root']).stdout;

  beforeAll(async () => {
    const [server, search] = await freePorts(2);
    ports = { server, search };
    const soon = new Date(Date.now() + 70_000 + 60_000);
    due = new Date(Date.UTC(soon.getUTCFullYear(), soon.getUTCMonth(), soon.getUTCDate(), soon.getUTCHours(), soon.getUTCMinutes()));
    ws = DeployWorkspace.create('deploy-stack');
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
    });
    ws.addSpec(APP, specText(cron(due)));
    ws.track(PROJECT);
  });

  afterAll(() => ws?.cleanup());

  it('builds the spec with nx and starts it level by level: each service once what it waits for is up, the job run to its end, the cron container created, not started', async () => {
    const build = ws.nx(['run', `${APP}:build`]);
    expect(build.status, output(build)).toBe(0);
    expect(fs.existsSync(path.join(ws.root, `dist/dev/compose/${APP}/compose.yaml`))).toBe(true);

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(Date.now()).toBeLessThan(due.getTime());
    expect(result.stdout).toContain(`[render]   dist/dev/compose/${APP}/compose.yaml: 7 service(s) (cleanup, database, migrate, scheduler, search, server, worker), compose project ${PROJECT}\n`);
    expect(result.stdout).toContain('[plan]     start order: 1. database, scheduler, search  2. migrate (job), worker  3. server\n');
    const lines = order();
    expect([...lines].sort()).toEqual(['database', 'database ready', 'migrate', 'migrate done', 'search', 'search listening', 'server', 'worker']);
    expect(lines.indexOf('migrate')).toBeGreaterThan(lines.indexOf('database ready'));
    expect(lines.indexOf('worker')).toBeGreaterThan(lines.indexOf('search listening'));
    expect(lines.indexOf('server')).toBeGreaterThan(lines.indexOf('migrate done'));
    expect(inspect().map((c) => [c.service, c.status, c.exitCode, c.health, c.restarts])).toEqual([
      ['cleanup', 'created', 0, undefined, 0],
      ['database', 'running', 0, 'healthy', 0],
      ['migrate', 'exited', 0, undefined, 0],
      ['scheduler', 'running', 0, undefined, 0],
      ['search', 'running', 0, undefined, 0],
      ['server', 'running', 0, 'healthy', 0],
      ['worker', 'running', 0, undefined, 0],
    ]);
    expect(result.stdout).toMatch(new RegExp(`\\[health\\] +${PROJECT}-search-1: GET http://127\\.0\\.0\\.1:${ports.search}/healthz -> 200`));
    expect(result.stdout).toMatch(new RegExp(`\\[job\\] +${PROJECT}-migrate-1: completed \\(exited with code 0\\)`));
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-migrate-1: job completed (exited with code 0)`);
    expect(await httpGet(ports.server)).toBe('ok v1\n');
    // The cron service: created after the other levels are up, never started by deploy.
    expect(result.stdout).toContain(`[plan]     cleanup: create: created, not started, runs on ${cron(due)} (cron: the scheduler starts it)`);
    expect(result.stdout).toMatch(/\[apply\] +docker compose --profile cron create cleanup \(cron: created, or recreated when changed, never started; the scheduler starts them\)/);
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-cleanup-1: cron, runs on ${cron(due)}, never ran yet`);
    expect(result.stdout).toMatch(/: 6 container\(s\) started, 0 unchanged, 1 cron container\(s\) created \(the scheduler starts them\)\n/);
    expect(of('cleanup').startedAt).toMatch(/^0001-01-01/);
    expect(crontab()).toBe(`${cron(due)} docker start -a ${PROJECT}-cleanup-1\n`);
    expect(shared('marker').status).not.toBe(0);
    // The scheduler needs no network (the socket is its way to the engine): the project has none.
    expect(run('docker', ['inspect', '-f', '{{.HostConfig.NetworkMode}}', `${PROJECT}-scheduler-1`]).stdout.trim()).toBe('none');
    expect(run('docker', ['network', 'ls', '-q', '--filter', `name=${PROJECT}`]).stdout.trim()).toBe('');
  });

  it('plans the start order on --dry-run, and a stack that runs as rendered changes nothing', async () => {
    const result = await ws.deploy(APP, { env: 'dev', dryRun: true }, {});

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('start order: 1. database, scheduler, search  2. migrate (job), worker  3. server');
    expect(result.stdout).toContain('migrate: unchanged');
    expect(result.stdout).toContain('dry run: nothing was changed (a deploy would change nothing)');
  });

  it('the scheduler runs the cron container at its minute: what it writes into the shared volume is in the server\'s mount', async () => {
    const until = due.getTime() + 20_000;
    while (Date.now() < until && of('cleanup').status !== 'exited') await sleep(1000);

    const cleanup = of('cleanup');
    expect(cleanup).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(new Date(cleanup.startedAt).getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(shared('marker').stdout).toBe(`${hhmm(due)}\n`);
    // `docker start -a` relays the run's output to the scheduler's log.
    expect(run('docker', ['logs', `${PROJECT}-scheduler-1`]).stdout).toContain('cleanup: ran');
  });

  it('redeploys with no change without a Compose call: the completed job is done, not down, and does not run again; the cron container that ran is left as it is', async () => {
    const before = inspect();
    const lines = order();

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('migrate: unchanged');
    expect(result.stdout).toMatch(new RegExp(`\\[plan\\] +cleanup: unchanged, runs on ${cron(due).replaceAll('*', '\\*')} \\(cron: last run exited with code 0 at \\d{4}-\\d\\d-\\d\\dT${hhmm(due)}:\\d\\dZ\\)`));
    expect(result.stdout).toContain('nothing to change: every container is up to date, running and healthy');
    // Healthy, said of a service probed from outside, only once it answered this deploy's probe.
    expect(result.stdout).toMatch(new RegExp(`\\[health\\] +${PROJECT}-search-1: GET http://127\\.0\\.0\\.1:${ports.search}/healthz -> 200`));
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-search-1: running, healthy (GET http://127.0.0.1:${ports.search}/healthz -> 200, probed from outside the container)\n`);
    expect(result.stdout).toMatch(/: 0 container\(s\) started, 7 unchanged\n/);
    expect(inspect()).toEqual(before);
    expect(order()).toEqual(lines);
  });

  it('a cron run that failed is no failed deploy: it shows in the plan, and the container is left for the next schedule', async () => {
    // What the scheduler runs, by hand, on a share that makes the job fail.
    run('docker', ['exec', `${PROJECT}-server-1`, 'touch', '/state/fail']);
    expect(run('docker', ['start', '-a', `${PROJECT}-cleanup-1`]).status).toBe(3);
    run('docker', ['exec', `${PROJECT}-server-1`, 'rm', '/state/fail']);
    const before = inspect();

    const plan = await deploy({ dryRun: true });
    const result = await deploy();

    expect(plan.status, output(plan)).toBe(0);
    expect(plan.stdout).toMatch(/\[plan\] +cleanup: unchanged, runs on .* \(cron: last run exited with code 3 at .*\)/);
    expect(plan.stdout).toContain('dry run: nothing was changed (a deploy would change nothing)');
    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('nothing to change');
    expect(inspect()).toEqual(before);
    expect(of('cleanup')).toMatchObject({ status: 'exited', exitCode: 3 });
  });

  it('a migration that fails stops the deploy before the server: its last log lines, masked, and a rollback', async () => {
    const before = inspect();
    const server = before.find((c) => c.service === 'server')!;
    // The new version: a server :2 behind a migration that fails, and says so with the secret in its message.
    ws.editSpec(APP, (spec) => {
      spec.services.server.image.tag = '2';
      spec.services.migrate.command = ['sh', '-c', 'echo migrate v2 >> /state/order; echo "migrate: connecting with $DB_PASSWORD"; echo "migrate: migration 0002 failed: column exists" >&2; exit 3'];
    });

    const result = await deploy();

    expect(result.status).toBe(1);
    const errors = output(result).split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([
      `error: ${APP} (dev): deploy failed: job migrate (container ${PROJECT}-migrate-1) exited with code 3 (last log line: "migrate: migration 0002 failed: column exists"); rolled back to the previous version (homelab-test/busybox:1, homelab-test/docker-cli:1), which is running and healthy`,
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

  it('a new schedule recreates the scheduler with the new crontab, and the cron container, not started', async () => {
    // The spec as it was before the failed release: nothing to change.
    ws.addSpec(APP, specText(cron(due)));
    expect((await deploy()).stdout).toContain('nothing to change');
    const before = inspect();
    const later = '0 0 1 1 *';
    ws.addSpec(APP, specText(later));

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`[plan]     cleanup: recreate (configuration changed): created, not started, runs on ${later} (cron: the scheduler starts it)`);
    expect(result.stdout).toMatch(/\[plan\] +scheduler: recreate \(configuration changed\)/);
    expect(crontab()).toBe(`${later} docker start -a ${PROJECT}-cleanup-1\n`);
    const after = inspect();
    for (const service of ['database', 'search', 'server', 'worker']) {
      expect(after.find((c) => c.service === service)!.id, service).toBe(before.find((c) => c.service === service)!.id);
    }
    expect(after.find((c) => c.service === 'scheduler')!.id).not.toBe(before.find((c) => c.service === 'scheduler')!.id);
    expect(after.find((c) => c.service === 'cleanup')).toMatchObject({ status: 'created' });
  });

  it('down removes every container, the completed job\'s and the cron container too, and keeps the volume', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, {}, 'down');

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`remove 7 container(s) of compose project ${PROJECT} (1 of them of jobs that completed, 1 of cron services)`);
    expect(containers(PROJECT)).toEqual([]);
    expect(run('docker', ['volume', 'ls', '-q', '--filter', `name=${PROJECT}_state`]).stdout.trim()).toBe(`${PROJECT}_state`);
  });
});
