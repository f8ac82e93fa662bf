import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { busyboxOverride, composeProject, containers, DeployWorkspace, freePorts, httpGet, uniqueName, waitHealthy } from './support';

/**
 * A generated app deployed with Compose to the real Docker Engine, in two environments:
 * first deploy, a redeploy that changes nothing, a new image, a broken release rolled
 * back while the old one keeps serving, a dry run, a stateful app and down.
 */

const compose = requireTool('docker compose');

const WEB = uniqueName('web');
const STORE = uniqueName('store');
const PORTS = { dev: 0, prod: 0, volume: 0 };
/** Secret values with characters that dotenv, YAML and shells treat specially. */
const SECRETS = {
  API_TOKEN: `tok-e2e-7Qz $HOME "dq" 's' #x \\n=`,
  DB_PASSWORD: 'pw-e2e-3c9d1f2b',
};

describe.skipIf(compose.skip)('compose deploy of a generated app on the real engine', () => {
  let ws: DeployWorkspace;
  const deploy = (env: string, extra: Record<string, unknown> = {}) => ws.deploy(WEB, { env, yes: true, ...extra }, SECRETS);
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;

  beforeAll(async () => {
    [PORTS.dev, PORTS.prod, PORTS.volume] = await freePorts(3);
    ws = DeployWorkspace.create('deploy-compose');
    ws.addApp({ name: WEB, image: 'homelab-test/busybox:1', port: PORTS.dev, secrets: Object.keys(SECRETS) });
    ws.override(WEB, 'dev', busyboxOverride(PORTS.dev));
    ws.override(WEB, 'prod', busyboxOverride(PORTS.prod));
  });

  afterAll(() => ws?.cleanup());

  it('deploys to dev and prod as two Compose projects, healthy and serving v1', async () => {
    for (const env of ['dev', 'prod'] as const) {
      const result = await deploy(env);

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toMatch(/\[render\].*\n.*\[engine\].*\n.*\[secrets\].*\n.*\[images\].*\n.*\[plan\]/);
      expect(result.stdout).toContain(`deployed ${WEB} to ${env}`);
      const running = await waitHealthy(composeProject(ws, WEB, env), 1);
      expect(running.map((c) => [c.running, c.health])).toEqual([[true, 'healthy']]);
      expect(await httpGet(PORTS[env])).toBe('ok v1\n');
    }
    expect(composeProject(ws, WEB, 'dev')).toBe(`${WEB}-dev`);
    expect(composeProject(ws, WEB, 'prod')).toBe(WEB);
  });

  it('hands the secret values to the container byte for byte and prints none of them', async () => {
    const [container] = containers(`${WEB}-dev`);
    for (const [key, value] of Object.entries(SECRETS)) expect(container.env).toContain(`${key}=${value}`);
    const result = await deploy('dev');
    for (const value of Object.values(SECRETS)) expect(output(result)).not.toContain(value);
  });

  it('leaves no private env file behind and writes no secret value into the workspace', () => {
    expect(ws.leftovers()).toEqual([]);
    for (const file of [`dist/dev/compose/${WEB}/compose.yaml`, `.homelab/state/dev/${WEB}/compose.yaml`, `.homelab/state/dev/${WEB}/last-run.log`]) {
      const text = fs.readFileSync(path.join(ws.root, file), 'utf8');
      for (const value of Object.values(SECRETS)) expect(text, file).not.toContain(value);
    }
  });

  it('redeploys with no change without recreating any container', async () => {
    const before = containers(`${WEB}-dev`).map((c) => c.id);

    const result = await deploy('dev');

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`${WEB}: unchanged`);
    expect(result.stdout).toContain('0 container(s) started, 1 unchanged');
    expect(containers(`${WEB}-dev`).map((c) => c.id)).toEqual(before);
  });

  it('plans from the secret keys alone: no value is read, and a service whose configuration did not change is unchanged', async () => {
    const before = containers(`${WEB}-dev`).map((c) => c.id);

    // No secret value in the environment: a deploy would refuse, a plan needs none.
    const result = await ws.deploy(WEB, { env: 'dev', dryRun: true }, {});

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toMatch(/\[secrets\] +2 key\(s\) \((API_TOKEN, DB_PASSWORD|DB_PASSWORD, API_TOKEN)\); a dry run reads no value\n/);
    expect(result.stdout).toContain(`${WEB}: unchanged`);
    expect(result.stdout).toContain('dry run: nothing was changed (a deploy would change nothing)');
    expect(output(result)).not.toContain('missing');
    expect(containers(`${WEB}-dev`).map((c) => c.id)).toEqual(before);
  });

  it('rolls out a new image (:2) and records it as the version to roll back to', async () => {
    ws.editSpec(WEB, (spec) => {
      spec.image.tag = '2';
    });

    const result = await deploy('dev');

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`${WEB}: recreate (image homelab-test/busybox:2 changed)`);
    expect(await httpGet(PORTS.dev)).toBe('ok v2\n');
    expect(fs.readFileSync(path.join(ws.root, `.homelab/state/dev/${WEB}/compose.yaml`), 'utf8')).toContain('image: homelab-test/busybox:2');
  });

  it('rolls back a broken release: prod keeps serving v1 and the error says why in one line', async () => {
    const before = containers(WEB);
    // :2 with a health check that can never pass (the path does not exist).
    ws.override(WEB, 'prod', busyboxOverride(PORTS.prod, { healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${PORTS.prod}/missing`], interval: '1s', timeout: '2s', retries: 2, start_period: '1s' } }));

    const result = await deploy('prod');

    ws.override(WEB, 'prod', busyboxOverride(PORTS.prod));
    expect(result.status).not.toBe(0);
    const errors = output(result).split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^error: ${WEB} \\(prod\\): deploy failed: container ${WEB}-${WEB}-1 is unhealthy .*; rolled back to the previous version \\(homelab-test/busybox:1\\), which is running and healthy$`));
    expect(result.stdout).toContain('[why]');
    expect(result.stdout).toContain('last health check:');
    const after = await waitHealthy(WEB, 1);
    expect(after.map((c) => [c.image, c.health])).toEqual([['homelab-test/busybox:1', 'healthy']]);
    expect(after[0].id).not.toBe(before[0].id);
    expect(await httpGet(PORTS.prod)).toBe('ok v1\n');
    expect(ws.leftovers()).toEqual([]);
    for (const value of Object.values(SECRETS)) expect(output(result)).not.toContain(value);
  });

  it('prints the plan and the diff against the last deploy on --dry-run, and changes nothing', async () => {
    ws.editSpec(WEB, (spec) => {
      spec.image.tag = '1';
    });
    const before = containers(`${WEB}-dev`).map((c) => c.id);

    const result = await deploy('dev', { dryRun: true });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`${WEB}: recreate (image homelab-test/busybox:1 changed)`);
    expect(result.stdout).toMatch(/-\s*image: homelab-test\/busybox:2\n\s*\+\s*image: homelab-test\/busybox:1/);
    expect(result.stdout).toContain('dry run: nothing was changed');
    expect(containers(`${WEB}-dev`).map((c) => c.id)).toEqual(before);
    expect(await httpGet(PORTS.dev)).toBe('ok v2\n');
  });

  it('plans without the engine: one line says it cannot be reached, and the diff shows what a deploy would apply', async () => {
    const dead = path.join(ws.tmp, 'no-docker.sock');

    const result = await ws.deploy(WEB, { env: 'dev', dryRun: true }, { DOCKER_HOST: `unix://${dead}` });

    expect(result.status, output(result)).toBe(0);
    const engine = result.stdout.split('\n').filter((l) => l.startsWith('[engine]'));
    expect(engine).toHaveLength(1);
    expect(engine[0]).toContain(`not reachable from here, so the plan is not compared with what runs: Docker daemon unreachable at DOCKER_HOST=unix://${dead}`);
    expect(result.stdout).toMatch(/-\s*image: homelab-test\/busybox:2\n\s*\+\s*image: homelab-test\/busybox:1/);
    expect(result.stdout).toContain(`dry run: nothing was changed (a deploy would apply dist/dev/compose/${WEB}/compose.yaml; the engine was not reached`);
  });

  it('names the missing secret keys and changes nothing', async () => {
    const before = containers(`${WEB}-dev`).map((c) => c.id);

    const result = await ws.deploy(WEB, { env: 'dev' }, { API_TOKEN: SECRETS.API_TOKEN, DB_PASSWORD: '' });

    expect(result.status).toBe(2);
    expect(output(result)).toContain(`error: ${WEB} (dev): secret value(s) missing for DB_PASSWORD in environment variables`);
    expect(output(result)).toContain('nothing was changed');
    expect(containers(`${WEB}-dev`).map((c) => c.id)).toEqual(before);
  });

  describe('an app with a volume', () => {
    beforeAll(() => {
      ws.addApp({ name: STORE, image: 'homelab-test/busybox:1', port: PORTS.volume, volumes: 'data:16Mi:/data' });
      ws.override(STORE, 'dev', busyboxOverride(PORTS.volume));
    });

    it('stops before it starts again on a change, with a warning', async () => {
      expect((await ws.deploy(STORE, { env: 'dev' })).status).toBe(0);
      ws.editSpec(STORE, (spec) => {
        spec.image.tag = '2';
      });

      const result = await ws.deploy(STORE, { env: 'dev' });

      expect(result.status, output(result)).toBe(0);
      expect(result.stdout).toContain(`${STORE}: recreate (image homelab-test/busybox:2 changed): it has volumes, so it stops before it starts again`);
      expect(result.stdout).toContain('warning:');
      expect(await httpGet(PORTS.volume)).toBe('ok v2\n');
    });

    it('down removes the containers and keeps the volume; down --volumes removes it too', async () => {
      // The app's volume, and its backup mover's restic cache.
      const volumes = () => run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${STORE}-dev`]).stdout.trim();
      expect(volumes()).toBe(`${STORE}-dev_backup-cache\n${STORE}-dev_data`);

      const down = await ws.deploy(STORE, { env: 'dev' }, {}, 'down');

      expect(down.status, output(down)).toBe(0);
      expect(containers(`${STORE}-dev`)).toEqual([]);
      expect(volumes()).toBe(`${STORE}-dev_backup-cache\n${STORE}-dev_data`);
      expect(fs.existsSync(path.join(ws.root, `.homelab/state/dev/${STORE}/compose.yaml`))).toBe(false);

      const downVolumes = await ws.deploy(STORE, { env: 'dev', volumes: true, deleteData: STORE }, {}, 'down');

      expect(downVolumes.status, output(downVolumes)).toBe(0);
      expect(volumes()).toBe('');
    });

    it('down --volumes --yes under CI=true refuses in one line naming --delete-data, and keeps the volume', async () => {
      expect((await ws.deploy(STORE, { env: 'dev' })).status).toBe(0);
      const volumes = () => run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${STORE}-dev`]).stdout.trim();
      expect(volumes()).toBe(`${STORE}-dev_backup-cache\n${STORE}-dev_data`);

      const refused = ws.nx(['run', `${STORE}:down`, '--env', 'dev', '--volumes', '--yes'], { CI: 'true' });

      expect(refused.status).not.toBe(0);
      const errors = output(refused).split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toEqual([
        `error: ${STORE} (dev): --volumes deletes the data of ${STORE} in dev (its volumes); confirm it with --delete-data=${STORE} (--yes and CI=true do not); nothing was changed`,
      ]);
      expect(volumes()).toBe(`${STORE}-dev_backup-cache\n${STORE}-dev_data`);
      // The app runs, with its scheduler; its backup mover is created, never started by deploy.
      expect(containers(`${STORE}-dev`).map((c) => [c.name.replace(`${STORE}-dev-`, ''), c.running])).toEqual([
        ['backup-data-1', false],
        [`${STORE}-1`, true],
        ['scheduler-1', true],
      ]);

      const confirmed = ws.nx(['run', `${STORE}:down`, '--env', 'dev', '--volumes', `--delete-data=${STORE}`], { CI: 'true' });

      expect(confirmed.status, output(confirmed)).toBe(0);
      expect(volumes()).toBe('');
    });
  });
});
