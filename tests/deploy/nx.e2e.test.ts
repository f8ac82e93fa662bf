import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripAnsi } from '../support/terminal';
import { requireTool } from '../support/tools';
import { busyboxOverride, containers, DeployWorkspace, freePorts, httpGet, NX_ENV, uniqueName } from './support';

/**
 * `npx nx run <app>:deploy` as a user types it: the spelling of the flags that reach the
 * executor, the dependencies deployed first with the same --env, protected environments,
 * and the down target.
 */

const compose = requireTool('docker compose');
/** util-linux `script`: runs a command on a pseudo-terminal, as a user's terminal is. */
const script = requireTool('script', ['script', '--version']);
const SHOP = uniqueName('shop');
const CACHE = uniqueName('cache');
const PORTS = { app: 0, db: 0, prodApp: 0 };

/** A hand-written infrastructure component with a Compose base and a dev environment. */
function addComponent(ws: DeployWorkspace, name: string, port: number): void {
  const write = (file: string, content: unknown) => {
    fs.mkdirSync(path.dirname(path.join(ws.root, file)), { recursive: true });
    fs.writeFileSync(path.join(ws.root, file), typeof content === 'string' ? content : YAML.stringify(content));
  };
  write(`infrastructure/specs/${name}.yaml`, `name: ${name}\nplatforms: [compose]\n`);
  write(`infrastructure/compose/base/${name}/compose.yaml`, {
    name,
    services: { [name]: { image: 'homelab-test/busybox:1', user: '65532:65532', read_only: true, deploy: { resources: { limits: { memory: '64m' } } } } },
  });
  write(`infrastructure/compose/environments/dev/${name}/compose.generated.yaml`, { name: `${name}-dev`, services: { [name]: {} } });
  write(`infrastructure/compose/environments/dev/${name}/compose.override.yaml`, { services: { [name]: busyboxOverride(port) } });
}

describe.skipIf(compose.skip)('npx nx run <app>:deploy', () => {
  let ws: DeployWorkspace;

  beforeAll(async () => {
    [PORTS.app, PORTS.db, PORTS.prodApp] = await freePorts(3);
    ws = DeployWorkspace.create('deploy-nx');
    ws.addApp({ name: SHOP, image: 'homelab-test/busybox:1', port: PORTS.app });
    // The component first: sync refuses a dependsOn that names no component of the workspace.
    addComponent(ws, CACHE, PORTS.db);
    ws.editSpec(SHOP, (spec) => {
      spec.dependsOn = [CACHE];
    });
    ws.override(SHOP, 'dev', busyboxOverride(PORTS.app));
    ws.override(SHOP, 'prod', busyboxOverride(PORTS.prodApp));
    for (const project of [`${SHOP}-dev`, SHOP, `${CACHE}-dev`]) ws.track(project);
  });

  afterAll(() => ws?.cleanup());

  it('--dry-run reaches the executor (as dryRun), for the app and its dependency, and changes nothing', () => {
    const result = ws.nx(['run', `${SHOP}:deploy`, '--env', 'dev', '--dry-run']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`deploy ${CACHE} -> dev on compose (dry run: nothing will change)`);
    expect(result.stdout).toContain(`deploy ${SHOP} -> dev on compose (dry run: nothing will change)`);
    expect(result.stdout).toContain(`${SHOP}: create (1 new container(s))`);
    expect(containers(`${SHOP}-dev`)).toEqual([]);
    expect(containers(`${CACHE}-dev`)).toEqual([]);
  });

  it('deploys the dependency first, with the same --env', async () => {
    const result = ws.nx(['run', `${SHOP}:deploy`, '--env', 'dev']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    const cacheAt = result.stdout.indexOf(`deployed ${CACHE} to dev`);
    const shopAt = result.stdout.indexOf(`deploy ${SHOP} -> dev`);
    expect(cacheAt).toBeGreaterThan(-1);
    expect(shopAt).toBeGreaterThan(cacheAt);
    expect(await httpGet(PORTS.db)).toBe('ok v1\n');
    expect(await httpGet(PORTS.app)).toBe('ok v1\n');
  });

  it('refuses a protected environment without --yes when nobody can answer, in one line', () => {
    const result = ws.nx(['run', `${SHOP}:deploy`, '--env', 'prod', '--exclude-task-dependencies']);

    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toContain(
      `error: ${SHOP} (prod): prod is a protected environment and this run cannot ask (it runs as an Nx task, and Nx may pass it no keys); pass --yes to deploy ${SHOP} to prod`,
    );
    expect(containers(SHOP)).toEqual([]);
  });

  it.skipIf(script.skip)('refuses at once under Nx\'s terminal UI on a real terminal, instead of asking in a pane that takes no keys', () => {
    // `script` gives Nx a pseudo-terminal, so its terminal UI runs as it does for a user.
    const command = `stty cols 160 rows 50; exec npx nx run ${SHOP}:deploy --env prod --exclude-task-dependencies`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: ws.root,
      env: { ...NX_ENV, NX_TUI: 'true', TERM: 'xterm-256color', TMPDIR: ws.tmp },
      input: '',
      encoding: 'utf8',
      timeout: 240_000,
    });
    const screen = stripAnsi(result.stdout ?? '');

    expect(result.error, 'nx waited for an answer nobody can give').toBeUndefined();
    expect(result.status).not.toBe(0);
    // The TUI draws its screen by moving the cursor, so the spaces between words may be
    // cursor moves that stripAnsi removes: compare without white space.
    expect(screen.replace(/\s+/g, '')).toContain('pass--yestodeploy');
    expect(containers(SHOP)).toEqual([]);
  });

  it('deploys a protected environment with --yes', async () => {
    const result = ws.nx(['run', `${SHOP}:deploy`, '--env', 'prod', '--yes', '--exclude-task-dependencies']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(await httpGet(PORTS.prodApp)).toBe('ok v1\n');
  });

  it('down removes the app and leaves its dependency running', async () => {
    const result = ws.nx(['run', `${SHOP}:down`, '--env', 'dev']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(containers(`${SHOP}-dev`)).toEqual([]);
    expect(await httpGet(PORTS.db)).toBe('ok v1\n');
  });
});
