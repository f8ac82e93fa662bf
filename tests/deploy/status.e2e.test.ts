import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainAsync } from '../../tools/homelab/src/cli/main';
import { BACKUP_METRIC, BACKUP_METRICS_VOLUME } from '../../tools/homelab/src/project/backup-metrics';
import type { StatusReport } from '../../tools/homelab/src/status/types';
import { RESTIC_IMAGE, requireImage } from '../support/backup-images';
import { requireTool, run, runOk } from '../support/tools';
import { makeTempDir } from '../support/workspace';
import { busyboxOverride, composeProject, containers, DeployWorkspace, freePorts, sleep, uniqueName, waitHealthy } from './support';

/**
 * `homelab status` on the real Docker Engine: apps deployed from a git checkout, then broken one
 * way each on the engine (stopped, made unhealthy, a container recreated by hand with another
 * environment value), a never-deployed app, and a stale backup; each with its exit code and its
 * one-line reason. Status reads what deploy left on the engine (deploy/compose-record.ts), so a copy of
 * the workspace without `.homelab/state/` (another machine) shows the same last deploy.
 */

const compose = requireTool('docker compose');
const OK = uniqueName('st-ok');
const STOP = uniqueName('st-stop');
const DRIFT = uniqueName('st-drift');
const NEVER = uniqueName('st-never');
const SECRET = `st-secret-${Math.random().toString(36).slice(2, 10)}-value`;

/** `homelab status …` in-process, as bin/homelab.js runs it. */
async function status(root: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['status', '--workspace', root, ...args], { cwd: root, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** The table line of a project (its first cell). */
const lineOf = (table: string, project: string) => table.split('\n').find((l) => l.startsWith(`${project} `)) ?? '';

async function waitForHealth(project: string, health: string, seconds = 30): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (containers(project).some((c) => c.health === health)) return;
    await sleep(250);
  }
  throw new Error(`no container of ${project} became ${health} within ${seconds} s`);
}

describe.skipIf(compose.skip)('homelab status of Compose apps on the real engine', () => {
  let ws: DeployWorkspace;
  let commit: string;
  let secretsDir: string;
  let ports: number[];
  const outputs: string[] = [];
  const seen = <T extends { out: string; err: string }>(r: T): T => {
    outputs.push(r.out, r.err);
    return r;
  };

  beforeAll(async () => {
    ports = await freePorts(4);
    ws = DeployWorkspace.create('st-status');
    // The secret values in a file outside the workspace, as a user keeps them (homelab.yaml secrets.source: file).
    secretsDir = makeTempDir('st-secrets');
    fs.writeFileSync(path.join(secretsDir, `${OK}.env`), `API_TOKEN=${SECRET}\n`);
    ws.settings((config) => {
      config.environments = config.environments.map((e: any) => (e.name === 'dev' ? { ...e, secrets: { source: 'file', path: path.join(secretsDir, '{app}.env') } } : e));
    });
    ws.addApp({ name: OK, image: 'homelab-test/busybox:1', port: ports[0], secrets: ['API_TOKEN'] });
    ws.addApp({ name: STOP, image: 'homelab-test/busybox:1', port: ports[1] });
    ws.addApp({ name: DRIFT, image: 'homelab-test/busybox:1', port: ports[2] });
    ws.addApp({ name: NEVER, image: 'homelab-test/busybox:1', port: ports[3] });
    // OK's health check fails once /dev/shm/st-sick exists: how the test makes it unhealthy later.
    const sick = busyboxOverride(ports[0]);
    ws.override(OK, 'dev', { ...sick, healthcheck: { ...(sick.healthcheck as object), test: ['CMD', 'sh', '-c', `test ! -e /dev/shm/st-sick && wget -q -O /dev/null http://127.0.0.1:${ports[0]}/healthz`] } });
    ws.override(STOP, 'dev', busyboxOverride(ports[1]));
    ws.override(DRIFT, 'dev', busyboxOverride(ports[2], { environment: { ST_MODE: 'calm' } }));
    ws.override(NEVER, 'dev', busyboxOverride(ports[3]));
    // A git checkout, so the deploys record the commit they rendered from.
    const git = (...args: string[]) => runOk('git', ['-C', ws.root, '-c', 'user.name=st', '-c', 'user.email=st@example.invalid', ...args]);
    git('init', '-q');
    fs.appendFileSync(path.join(ws.root, '.gitignore'), '\n.tmp/\n');
    git('add', '.');
    git('commit', '-q', '-m', 'homelab');
    commit = git('rev-parse', 'HEAD').trim();
    ws.track(composeProject(ws, NEVER, 'dev'));
    for (const app of [OK, STOP, DRIFT]) {
      const result = await ws.deploy(app, { env: 'dev' });
      expect(result.status, result.stdout + result.stderr).toBe(0);
      outputs.push(result.stdout, result.stderr);
    }
  });

  afterAll(() => {
    ws?.cleanup();
    if (secretsDir) fs.rmSync(secretsDir, { recursive: true, force: true });
  });

  it('shows the deployed apps healthy with their versions and last deploy, the never-deployed one as such, and exits 0', async () => {
    const result = seen(await status(ws.root, ['--env', 'dev']));

    expect(result.code, result.out + result.err).toBe(0);
    expect(result.err).toBe('');
    for (const app of [OK, STOP, DRIFT]) {
      expect(lineOf(result.out, app).split(/\s{2,}/)).toEqual([app, 'dev', 'compose', '1', '1', 'healthy', '-', expect.stringMatching(new RegExp(`^\\d+[smh] ago ${commit.slice(0, 7)}$`)), '-']);
    }
    expect(lineOf(result.out, NEVER).split(/\s{2,}/)).toEqual([NEVER, 'dev', 'compose', '1', '-', 'not deployed', '-', '-', '-']);
    expect(result.out.trimEnd().split('\n').pop()).toMatch(/^ok: /);
  });

  it('fails a never-deployed app with --require-deployed, saying so in one line', async () => {
    const result = seen(await status(ws.root, ['--env', 'dev', '--require-deployed']));

    expect(result.code).toBe(1);
    expect(result.err.split('\n').filter(Boolean)).toEqual([`homelab: ${NEVER} (dev): not deployed (--require-deployed)`]);
  });

  it('reads the last deploy from the engine: a copy of the workspace without .homelab/state (another machine) shows the same', async () => {
    const here = JSON.parse(seen(await status(ws.root, ['--env', 'dev', '--format', 'json'])).out) as StatusReport;
    const elsewhere = makeTempDir('st-elsewhere');
    try {
      fs.cpSync(ws.root, elsewhere, { recursive: true, filter: (src) => !src.includes(`${path.sep}.homelab`) && !src.endsWith(`${path.sep}.tmp`) });
      expect(fs.existsSync(path.join(elsewhere, '.homelab'))).toBe(false);
      const there = JSON.parse(seen(await status(elsewhere, ['--env', 'dev', '--format', 'json'])).out) as StatusReport;

      const deploys = (r: StatusReport) => r.rows.map((row) => [row.project, row.lastDeploy]);
      expect(deploys(there)).toEqual(deploys(here));
      const ok = here.rows.find((r) => r.project === OK)!;
      expect(ok.lastDeploy).toEqual({ at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), commit });
      expect(ok.services.map((s) => [s.name, s.wantedImage, s.runningImage, s.health])).toEqual([[OK, 'homelab-test/busybox:1', 'homelab-test/busybox:1', 'healthy']]);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('records a redeploy from a new commit without recreating an unchanged container', async () => {
    const project = composeProject(ws, OK, 'dev');
    const [before] = containers(project);
    fs.writeFileSync(path.join(ws.root, 'NOTES.md'), 'a commit that changes no project\n');
    runOk('git', ['-C', ws.root, 'add', 'NOTES.md']);
    runOk('git', ['-C', ws.root, '-c', 'user.name=st', '-c', 'user.email=st@example.invalid', 'commit', '-q', '-m', 'notes']);
    const next = runOk('git', ['-C', ws.root, 'rev-parse', 'HEAD']).trim();

    const result = await ws.deploy(OK, { env: 'dev' });
    outputs.push(result.stdout, result.stderr);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(containers(project).map((c) => c.id)).toEqual([before.id]);
    const report = JSON.parse(seen(await status(ws.root, ['--env', 'dev', '--format', 'json'])).out) as StatusReport;
    expect(report.rows.find((r) => r.project === OK)!.lastDeploy).toEqual({ at: expect.any(String), commit: next });
  });

  it('says a stopped app is stopped and exits 1', async () => {
    const [container] = containers(composeProject(ws, STOP, 'dev'));
    runOk('docker', ['stop', '-t', '2', container.id]);

    const result = seen(await status(ws.root, ['--env', 'dev']));

    expect(result.code).toBe(1);
    expect(lineOf(result.out, STOP)).toMatch(/ stopped /);
    expect(result.err.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^homelab: ${STOP} \\(dev\\): ${STOP}: stopped \\(exited \\(\\d+\\)\\)$`)));
  });

  it('says an app whose health check fails is unhealthy', async () => {
    const project = composeProject(ws, OK, 'dev');
    const [container] = containers(project);
    runOk('docker', ['exec', container.id, 'touch', '/dev/shm/st-sick']);
    await waitForHealth(project, 'unhealthy');

    const result = seen(await status(ws.root, ['--env', 'dev']));

    expect(result.code).toBe(1);
    expect(lineOf(result.out, OK)).toMatch(/ unhealthy /);
    expect(result.err.split('\n')).toContain(`homelab: ${OK} (dev): ${OK}: unhealthy (running, health check failing)`);
  });

  it('shows a container recreated by hand with another environment value as drift, and which value', async () => {
    const project = composeProject(ws, DRIFT, 'dev');
    const [original] = containers(project);
    const inspected = JSON.parse(runOk('docker', ['inspect', original.id]))[0];
    const labels = Object.entries(inspected.Config.Labels as Record<string, string>).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const env = (inspected.Config.Env as string[]).flatMap((e) => ['-e', e.startsWith('ST_MODE=') ? 'ST_MODE=wild' : e]);
    runOk('docker', ['rm', '-f', original.id]);
    runOk('docker', ['run', '-d', '--name', `${project}-by-hand`, '--network', 'host', ...labels, ...env, 'homelab-test/busybox:1', 'httpd', '-f', '-p', `127.0.0.1:${ports[2]}`, '-h', '/www']);
    await waitHealthy(project, 1, 10);

    const result = seen(await status(ws.root, ['--env', 'dev', '--format', 'json']));
    const report = JSON.parse(result.out) as StatusReport;
    const row = report.rows.find((r) => r.project === DRIFT)!;

    expect(result.code).toBe(1);
    expect(report.ok).toBe(false);
    expect(row.drift).toEqual([{ service: DRIFT, what: 'env ST_MODE', wanted: '"calm"', running: '"wild"' }]);
    expect(result.err.split('\n')).toContain(`homelab: ${DRIFT} (dev): drift: ${DRIFT} env ST_MODE: git renders "calm", runs "wild"`);
  });

  it('shows a project through its Nx target, and fails it when the project is not ok', () => {
    const result = ws.nx(['run', `${DRIFT}:status`, '--env', 'dev']);

    expect(result.status, result.stdout + result.stderr).not.toBe(0);
    expect(result.stdout).toContain(`${DRIFT} `);
    expect(result.stdout).not.toContain(`${OK} `);
    expect(`${result.stdout}${result.stderr}`).toContain(`${DRIFT} (dev): drift: ${DRIFT} env ST_MODE: git renders "calm", runs "wild"`);
    outputs.push(result.stdout, result.stderr);
  });

  it('refuses an unknown --env in one line naming the environments there are, with exit 2', async () => {
    const result = seen(await status(ws.root, ['--env', 'staging']));

    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toBe(`homelab: --env "staging" is not an environment of homelab.yaml; use one of "dev", "prod"\n`);
  });

  it('writes the report as a status page with --html, the table still on stdout', async () => {
    const dir = makeTempDir('st-page');
    try {
      const result = seen(await status(ws.root, ['--env', 'dev', '--html', path.join(dir, 'status.html')]));
      const page = fs.readFileSync(path.join(dir, 'status.html'), 'utf8');
      outputs.push(page);

      expect(result.code).toBe(1);
      expect(lineOf(result.out, OK)).toMatch(/ unhealthy /);
      for (const app of [OK, STOP, DRIFT, NEVER]) expect(page).toContain(app);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses --html into a folder that does not exist before reading anything, with exit 2', async () => {
    const result = await status(ws.root, ['--env', 'dev', '--html', path.join(ws.root, 'no-such-folder', 'status.html')]);

    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toMatch(/^homelab: --html ".*no-such-folder\/status.html": the folder ".*no-such-folder" does not exist; create it first or write the page elsewhere\n$/);
  });

  it('never shows the value of a secret, in the table, the JSON, the page or the reasons', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const text of outputs) expect(text).not.toContain(SECRET);
    // The app does run with it: the comparison above is against a value that is there.
    expect(containers(composeProject(ws, OK, 'dev'))[0].env).toContain(`API_TOKEN=${SECRET}`);
  });
});

// A backed-up app needs the movers' restic image and the scheduler's stand-in (npm run setup:engines builds both).
const restic = requireImage(RESTIC_IMAGE);
const scheduler = requireImage('homelab-test/docker-cli:1');

describe.skipIf(compose.skip || restic.skip || scheduler.skip)('homelab status of a backed-up Compose app', () => {
  let ws: DeployWorkspace;
  const APP = uniqueName('st-bak');
  let metricFile = '';

  beforeAll(async () => {
    const [port] = await freePorts(1);
    ws = DeployWorkspace.create('st-status-backup');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port, volumes: 'data:16Mi:/data' });
    ws.override(APP, 'dev', busyboxOverride(port));
    const result = await ws.deploy(APP, { env: 'dev' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  afterAll(() => {
    if (metricFile) run('docker', ['run', '--rm', '--network', 'none', '-v', `${BACKUP_METRICS_VOLUME}:/metrics`, 'homelab-test/busybox:1', 'rm', '-f', `/metrics/${metricFile}`]);
    ws?.cleanup();
  });

  it('says a backup older than twice its schedule is stale, and exits 1', async () => {
    // What cannot run here: a backup three days ago. The mover's own metric line (app/backup/metrics.sh) is written with that time.
    const project = composeProject(ws, APP, 'dev');
    metricFile = `${project}-data.prom`;
    const threeDaysAgo = Math.floor(Date.now() / 1000) - 3 * 86400;
    const line = `${BACKUP_METRIC}{app="${APP}",env="dev",volume="data"} ${threeDaysAgo}`;
    runOk('docker', ['run', '--rm', '--network', 'none', '-v', `${BACKUP_METRICS_VOLUME}:/metrics`, 'homelab-test/busybox:1', 'sh', '-c', `echo '${line}' > /metrics/${metricFile}`]);

    const result = await status(ws.root, ['--env', 'dev']);

    expect(result.code).toBe(1);
    expect(lineOf(result.out, APP)).toMatch(/ 3d ago \(stale\)$/);
    expect(result.err).toContain(`homelab: ${APP} (dev): backup: the last successful backup (${new Date(threeDaysAgo * 1000).toISOString()}) is older than twice the schedule "0 3 * * *" allows (2d)`);
  });
});
