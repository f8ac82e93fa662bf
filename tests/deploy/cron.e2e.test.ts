import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, httpGet, sleep, uniqueName } from './support';

/**
 * An app with a cron service deployed with Compose to the real Docker Engine, from the rendered
 * file deploy reads (tests/support/fixtures/cron-service/compose.yaml: a server serving a shared
 * volume, a cron service that writes a marker into it, and the app's scheduler, busybox crond
 * starting the cron container through the Docker socket). The scheduler is the local stand-in
 * homelab-test/docker-cli:1 (scripts/setup-engines.sh builds it from busybox-static and this
 * machine's docker CLI; no registry here).
 *
 * Waiting for the schedule: crond's finest grain is a minute, so the test cannot make it fire
 * sooner. It writes a crontab for one given minute (the first whole minute at least 20 s after the
 * deploy starts, in UTC like the container's clock) and waits until then plus a margin: 20 to
 * 80 s. A schedule of one minute, rather than every minute, also shows that the cron container
 * runs when its schedule says and not when deploy runs.
 */

const compose = requireTool('docker compose');
const scheduler = requireTool('homelab-test/docker-cli:1', ['docker', 'image', 'inspect', 'homelab-test/docker-cli:1']);
const APP = uniqueName('files');
const PROJECT = `${APP}-dev`;
const FIXTURE = path.join(__dirname, '../support/fixtures/cron-service/compose.yaml');

interface Inspected {
  service: string;
  id: string;
  status: string;
  exitCode: number;
  startedAt: string;
  health?: string;
}

describe.skipIf(compose.skip || scheduler.skip)('compose deploy of an app with a cron service and its scheduler', { timeout: 240_000 }, () => {
  let ws: DeployWorkspace;
  let port: number;
  /** When the scheduled run is due (the start of its minute), and its `HH:MM` as the job writes it. */
  let due: Date;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const deploy = (extra: Record<string, unknown> = {}) => ws.deploy(APP, { env: 'dev', ...extra }, {});
  const cron = (d: Date) => `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  /** Writes the rendered file deploy reads, with this run's name, port and schedule. */
  const render = (schedule: string) => {
    const text = fs.readFileSync(FIXTURE, 'utf8').replace(/\bfiles\b/g, APP).replaceAll('18091', String(port)).replaceAll('* * * * *', schedule);
    const file = path.join(ws.root, `dist/dev/compose/${APP}/compose.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  const inspect = (): Inspected[] =>
    (JSON.parse(run('docker', ['inspect', ...containers(PROJECT).map((c) => c.id)]).stdout) as any[])
      .map((c) => ({
        service: c.Config.Labels['com.docker.compose.service'] as string,
        id: c.Id as string,
        status: c.State.Status as string,
        exitCode: c.State.ExitCode as number,
        startedAt: c.State.StartedAt as string,
        health: c.State.Health?.Status as string | undefined,
      }))
      .sort((a, b) => a.service.localeCompare(b.service));
  const of = (service: string) => inspect().find((c) => c.service === service)!;
  const crontab = () => run('docker', ['exec', `${PROJECT}-scheduler-1`, 'cat', '/etc/crontabs/root']).stdout;

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('deploy-cron');
    // The app's folders (deploy resolves the project and its environments from them); what deploy applies is the rendered file.
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port });
    ws.track(PROJECT);
    const soon = new Date(Date.now() + 20_000 + 60_000);
    due = new Date(Date.UTC(soon.getUTCFullYear(), soon.getUTCMonth(), soon.getUTCDate(), soon.getUTCHours(), soon.getUTCMinutes()));
    render(cron(due));
  });

  afterAll(() => ws?.cleanup());

  it('creates the cron container after the other services are up, and does not start it', async () => {
    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(Date.now()).toBeLessThan(due.getTime());
    expect(result.stdout).toContain(`[plan]     cleanup: create: created, not started, runs on ${cron(due)} (cron: the scheduler starts it)`);
    expect(result.stdout).toMatch(/\[apply\] +docker compose --profile cron create cleanup \(cron: created, or recreated when changed, never started; the scheduler starts them\)/);
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-cleanup-1: cron, runs on ${cron(due)}, never ran yet`);
    expect(result.stdout).toMatch(/: 2 container\(s\) started, 0 unchanged, 1 cron container\(s\) created \(the scheduler starts them\)\n/);
    expect(inspect().map((c) => [c.service, c.status, c.health])).toEqual([
      ['cleanup', 'created', undefined],
      ['scheduler', 'running', undefined],
      ['server', 'running', 'healthy'],
    ]);
    expect(of('cleanup').startedAt).toMatch(/^0001-01-01/);
    expect(crontab()).toBe(`${cron(due)} docker start -a ${PROJECT}-cleanup-1\n`);
    expect(await httpGet(port, '/marker')).toBeNull();
  });

  it('the scheduler runs it at its minute: the marker it writes into the shared volume is served by the server', async () => {
    const until = due.getTime() + 20_000;
    while (Date.now() < until && of('cleanup').status !== 'exited') await sleep(1000);

    const cleanup = of('cleanup');
    expect(cleanup).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(new Date(cleanup.startedAt).getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(await httpGet(port, '/marker')).toBe(`${hhmm(due)}\n`);
    // `docker start -a` relays the run's output to the scheduler's log.
    expect(run('docker', ['logs', `${PROJECT}-scheduler-1`]).stdout).toContain('cleanup: ran');
  });

  it('redeploys with no change without a Compose call: the cron container that ran is left as it is', async () => {
    const before = inspect();

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`\\[plan\\] +cleanup: unchanged, runs on ${cron(due).replaceAll('*', '\\*')} \\(cron: last run exited with code 0 at \\d{4}-\\d\\d-\\d\\dT${hhmm(due)}:\\d\\dZ\\)`));
    expect(result.stdout).toContain('nothing to change: every container is up to date, running and healthy');
    expect(result.stdout).toMatch(/: 0 container\(s\) started, 3 unchanged\n/);
    expect(inspect()).toEqual(before);
  });

  it('a last run that failed is no failed deploy: it shows in the plan, and the container is left for the next schedule', async () => {
    // What the scheduler runs, by hand, on a share that makes the job fail.
    run('docker', ['run', '--rm', '--network', 'none', '-v', `${PROJECT}_state:/state`, 'homelab-test/busybox:1', 'touch', '/state/fail']);
    expect(run('docker', ['start', '-a', `${PROJECT}-cleanup-1`]).status).toBe(3);
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

  it('a new schedule recreates the scheduler with the new crontab, and the cron container, not started', async () => {
    const before = inspect();
    const later = '0 0 1 1 *';
    render(later);

    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`[plan]     cleanup: recreate (configuration changed): created, not started, runs on ${later} (cron: the scheduler starts it)`);
    expect(result.stdout).toMatch(/\[plan\] +scheduler: recreate \(configuration changed\)/);
    expect(crontab()).toBe(`${later} docker start -a ${PROJECT}-cleanup-1\n`);
    const after = inspect();
    expect(after.find((c) => c.service === 'server')!.id).toBe(before.find((c) => c.service === 'server')!.id);
    expect(after.find((c) => c.service === 'scheduler')!.id).not.toBe(before.find((c) => c.service === 'scheduler')!.id);
    expect(after.find((c) => c.service === 'cleanup')).toMatchObject({ status: 'created' });
  });

  it('down removes every container, the cron container too, and keeps the volume', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, {}, 'down');

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`remove 3 container(s) of compose project ${PROJECT} (1 of cron services)`);
    expect(containers(PROJECT)).toEqual([]);
    expect(run('docker', ['volume', 'ls', '-q', '--filter', `name=${PROJECT}_state`]).stdout.trim()).toBe(`${PROJECT}_state`);
  });
});
