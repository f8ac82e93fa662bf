import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireTool } from '../support/tools';
import { busyboxOverride, containers, DeployWorkspace, engineThatFailsOn, freePorts, httpGet, sleep, uniqueName, waitHealthy } from './support';

/**
 * The five faults of a Compose deploy, each against a running, healthy v1: the deploy
 * exits non-zero with a one-line reason, v1 is still (or again) running and healthy, no
 * private env file is left, and no secret value appears in the output.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('faults');
const PROJECT = `${APP}-dev`;
const CONTAINER = `${PROJECT}-${APP}-1`;
let PORT = 0;
const SECRET = 'fault-secret-5b7e9a1c';
const SECRETS = { API_TOKEN: SECRET };

describe.skipIf(compose.skip)('deploy faults on the real engine', () => {
  let ws: DeployWorkspace;

  beforeAll(async () => {
    [PORT] = await freePorts(1);
    ws = DeployWorkspace.create('deploy-faults');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: PORT, secrets: ['API_TOKEN'] });
    ws.override(APP, 'dev', busyboxOverride(PORT));
    const first = await ws.deploy(APP, { env: 'dev' }, SECRETS);
    expect(first.status, first.stdout + first.stderr).toBe(0);
  });

  beforeEach(() => {
    ws.override(APP, 'dev', busyboxOverride(PORT));
  });

  afterAll(() => ws?.cleanup());

  /** What every fault must leave behind, and the single error line it printed. */
  async function expectV1Survived(result: { status: number | null; stdout: string; stderr: string }): Promise<string> {
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).not.toBe(0);
    const errors = output.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors, output).toHaveLength(1);
    const running = await waitHealthy(PROJECT, 1);
    expect(running.map((c) => [c.image, c.running, c.health])).toEqual([['homelab-test/busybox:1', true, 'healthy']]);
    expect(await httpGet(PORT)).toBe('ok v1\n');
    expect(ws.leftovers()).toEqual([]);
    expect(output).not.toContain(SECRET);
    return errors[0];
  }

  it('an image that does not exist: refused before anything changes', async () => {
    const before = containers(PROJECT).map((c) => c.id);
    // A registry on a closed loopback port: the pull is tried and fails at once.
    ws.override(APP, 'dev', busyboxOverride(PORT, { image: '127.0.0.1:5999/homelab-test/missing:1' }));

    const error = await expectV1Survived(await ws.deploy(APP, { env: 'dev' }, SECRETS));

    expect(error).toMatch(new RegExp(`^error: ${APP} \\(dev\\): image 127\\.0\\.0\\.1:5999/homelab-test/missing:1 is not present locally and could not be pulled \\(.*connection refused.*\\); nothing was changed$`));
    expect(containers(PROJECT).map((c) => c.id)).toEqual(before);
  });

  it('a health check that never passes: rolled back', async () => {
    ws.override(APP, 'dev', busyboxOverride(PORT, { image: 'homelab-test/busybox:2', healthcheck: { test: ['CMD', 'false'], interval: '1s', timeout: '1s', retries: 2, start_period: '0s' } }));

    const error = await expectV1Survived(await ws.deploy(APP, { env: 'dev' }, SECRETS));

    expect(error).toMatch(new RegExp(`^error: ${APP} \\(dev\\): deploy failed: container ${CONTAINER} is unhealthy.*; rolled back to the previous version \\(homelab-test/busybox:1\\), which is running and healthy$`));
  });

  it('a container that exits at once: rolled back, with its state and last log lines', async () => {
    ws.override(APP, 'dev', busyboxOverride(PORT, { image: 'homelab-test/busybox:2', command: ['sh', '-c', 'echo "cannot start: config missing" >&2; exit 3'] }));

    const result = await ws.deploy(APP, { env: 'dev' }, SECRETS);
    const error = await expectV1Survived(result);

    expect(error).toMatch(new RegExp(`^error: ${APP} \\(dev\\): deploy failed: container ${CONTAINER} (keeps restarting|exited with code 3).*; rolled back to the previous version \\(homelab-test/busybox:1\\)`));
    expect(result.stdout).toContain('cannot start: config missing');
  });

  it('the Docker daemon unreachable: refused before anything changes', async () => {
    const before = containers(PROJECT).map((c) => c.id);
    const dead = path.join(ws.tmp, 'dead-docker.sock');

    const error = await expectV1Survived(await ws.deploy(APP, { env: 'dev' }, { ...SECRETS, DOCKER_HOST: `unix://${dead}` }));

    expect(error).toMatch(new RegExp(`^error: ${APP} \\(dev\\): Docker daemon unreachable at DOCKER_HOST=unix://${dead.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .+; start it`));
    expect(containers(PROJECT).map((c) => c.id)).toEqual(before);
  });

  it('the engine fails while the plan reads the containers: an error, not a plan to create what runs', async () => {
    const before = containers(PROJECT).map((c) => c.id);
    const engine = await engineThatFailsOn(ws.tmp, /^GET \/v[\d.]+\/containers\/[0-9a-f]{12,}\/json/);
    try {
      ws.override(APP, 'dev', busyboxOverride(PORT, { image: 'homelab-test/busybox:2' }));

      for (const dryRun of [true, false]) {
        const result = await ws.deploy(APP, { env: 'dev', dryRun }, { ...SECRETS, DOCKER_HOST: engine.host });

        const error = await expectV1Survived(result);
        expect(error).toMatch(new RegExp(`^error: ${APP} \\(dev\\): docker inspect of the containers of compose project ${PROJECT} failed: .+; what runs now is unknown, so there is no plan and nothing was changed$`));
        expect(result.stdout).not.toContain(`${APP}: create`);
      }
      expect(engine.cuts()).toBeGreaterThanOrEqual(2);
      expect(containers(PROJECT).map((c) => c.id)).toEqual(before);
    } finally {
      await engine.close();
    }
  });

  it('no deploy recorded on this machine (.homelab deleted): a broken release leaves the running v1 untouched', async () => {
    const stateDir = path.join(ws.root, `.homelab/state/dev/${APP}`);
    const saved = path.join(ws.tmp, 'saved-state');
    fs.cpSync(stateDir, saved, { recursive: true });
    const before = containers(PROJECT).map((c) => c.id);
    try {
      fs.rmSync(path.join(ws.root, '.homelab'), { recursive: true, force: true });
      ws.override(APP, 'dev', busyboxOverride(PORT, { image: 'homelab-test/busybox:2', healthcheck: { test: ['CMD', 'false'], interval: '1s', timeout: '1s', retries: 2, start_period: '0s' } }));

      const dryRun = await ws.deploy(APP, { env: 'dev', dryRun: true }, SECRETS);
      const error = await expectV1Survived(await ws.deploy(APP, { env: 'dev' }, SECRETS));

      expect(dryRun.status, dryRun.stdout + dryRun.stderr).toBe(0);
      expect(dryRun.stdout).toContain('warning:   a deploy would refuse: no earlier deploy is recorded on this machine');
      expect(error).toBe(
        `error: ${APP} (dev): no earlier deploy is recorded on this machine (.homelab/state/dev/${APP}), so a failed deploy could not restore the 1 running container(s) it replaces (${CONTAINER}); copy that folder from the machine that deployed them, or pass --replace-unrecorded to replace them anyway; nothing was changed`,
      );
      expect(containers(PROJECT).map((c) => c.id)).toEqual(before);

      // With the flag, the broken release replaces v1; no recorded version to go back to, its own containers are removed and v1 is not brought back.
      const replaced = await ws.deploy(APP, { env: 'dev', replaceUnrecorded: true }, SECRETS);
      const output = replaced.stdout + replaced.stderr;
      expect(replaced.status, output).not.toBe(0);
      expect(output).toMatch(/no earlier deploy is recorded, so the new containers were removed and 0 of the 1 container\(s\) that ran before were left untouched \(1 had been replaced, as --replace-unrecorded allowed\)/);
      expect(containers(PROJECT)).toEqual([]);
    } finally {
      // Back to the v1 of the other tests, with its recorded state.
      fs.mkdirSync(path.dirname(stateDir), { recursive: true });
      fs.cpSync(saved, stateDir, { recursive: true });
      fs.rmSync(saved, { recursive: true, force: true });
      ws.override(APP, 'dev', busyboxOverride(PORT));
      const restored = await ws.deploy(APP, { env: 'dev' }, SECRETS);
      expect(restored.status, restored.stdout + restored.stderr).toBe(0);
    }
  });

  it('SIGINT (Ctrl-C) on `nx run` during the deploy: rolled back even though Nx exits at once', async () => {
    // v2 takes 8 s to become healthy: long enough to interrupt the deploy in the middle.
    ws.override(APP, 'dev', busyboxOverride(PORT, { image: 'homelab-test/busybox:2', command: ['sh', '-c', `sleep 8; exec httpd -f -p 127.0.0.1:${PORT} -h /www`], healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${PORT}/healthz`], interval: '1s', timeout: '2s', retries: 3, start_period: '20s' } }));
    const nx = ws.nxSpawn(['run', `${APP}:deploy`, '--env', 'dev'], SECRETS);
    let seen = '';
    nx.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    nx.stderr.on('data', (d: Buffer) => (seen += d.toString()));
    const exited = new Promise<number | null>((resolve) => nx.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
    for (let i = 0; i < 240 && !seen.includes(`Container ${CONTAINER}  Started`); i++) await sleep(250);
    expect(seen).toContain('[apply]');

    process.kill(-nx.pid!, 'SIGINT');
    const status = await exited;

    expect(status).not.toBe(0);
    // Nx stops printing on Ctrl-C; the deploy worker finishes the rollback on its own and logs it.
    const log = path.join(ws.root, `.homelab/state/dev/${APP}/last-run.log`);
    for (let i = 0; i < 240 && !fs.readFileSync(log, 'utf8').includes('error:'); i++) await sleep(250);
    const text = fs.readFileSync(log, 'utf8');
    const error = await expectV1Survived({ status, stdout: text, stderr: seen });
    expect(error).toBe(`error: ${APP} (dev): deploy interrupted; rolled back to the previous version (homelab-test/busybox:1), which is running and healthy`);
    const lock = path.join(ws.root, `.homelab/state/dev/${APP}/deploy.lock`);
    for (let i = 0; i < 40 && fs.existsSync(lock); i++) await sleep(250);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
