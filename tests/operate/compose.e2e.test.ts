import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiff } from '../../tools/homelab/src/deploy/changes';
import { ToolRunner } from '../../tools/homelab/src/deploy/process';
import { Reporter } from '../../tools/homelab/src/deploy/progress';
import { resolveRequest } from '../../tools/homelab/src/deploy/request';
import { addLocalSecrets } from '../../tools/homelab/src/deploy/secrets';
import { HomelabError } from '../../tools/homelab/src/errors';
import { requireTool, run } from '../support/tools';
import { busyboxOverride, composeProject, DeployWorkspace, freePorts, sleep, uniqueName, waitHealthy } from '../deploy/support';

/**
 * `nx run <app>:logs` and `nx run <app>:diff` on the real Docker Engine, for an app deployed in a
 * temporary workspace: its service prints a value of its secrets file (.homelab/secrets/<app>.env),
 * which logs masks; --service and --since are honoured; --follow streams until a signal ends it;
 * diff names exactly what a spec change changes (exit 1), nothing when in step (exit 0), and
 * everything for an app never deployed.
 */
const compose = requireTool('docker compose');

const APP = uniqueName('ld-talk');
const FRESH = uniqueName('ld-fresh');
const SECRET = 'ld-s3cret-Zq9 "quoted" $dollar';
const ENTRY = path.resolve(__dirname, '../../tools/homelab/src/executors/entry.js');

describe.skipIf(compose.skip)('logs and diff of a Compose app on the real engine', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  let port = 0;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  /** The app's service: prints its secret once, then serves. `$$` keeps Compose from interpolating it. */
  const talking = (p: number) => busyboxOverride(p, { command: ['sh', '-c', `echo "token is $$API_TOKEN"; echo "greeting is $$GREETING"; exec httpd -f -p 127.0.0.1:${p} -h /www`] });

  /** runDiff as the executor runs it, in this process: its exit code and every line it printed. */
  const diff = async (app: string) => {
    const lines: string[] = [];
    const report = new Reporter((l) => lines.push(l));
    try {
      const request = resolveRequest(ws.root, app, { layer: 'applications', env: 'dev' }, 'diff');
      const code = await runDiff(request, { tools: new ToolRunner(process.env), report, env: { ...process.env, TMPDIR: ws.tmp } });
      return { code, text: lines.join('\n') };
    } catch (error) {
      if (!(error instanceof HomelabError)) throw error;
      return { code: error.exitCode, text: `${lines.join('\n')}\nerror: ${error.message}` };
    }
  };

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('ld-operate');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port, secrets: ['API_TOKEN'] });
    ws.editSpec(APP, (spec) => {
      spec.env = { GREETING: 'hello' };
    });
    ws.override(APP, 'dev', talking(port));
    addLocalSecrets(ws.root, APP, new Map([['API_TOKEN', SECRET]]));
    ws.addApp({ name: FRESH, image: 'homelab-test/busybox:1', port });
    ws.track(`${FRESH}-dev`);
  }, 120_000);

  afterAll(() => ws?.cleanup());

  it('diff of an app never deployed says every service would be created, exit 1', async () => {
    const r = await diff(FRESH);
    expect(r.code, r.text).toBe(1);
    expect(r.text).toContain(`+ ${FRESH}: create (1 new container(s))`);
    expect(r.text).toContain(`a deploy would change ${FRESH} in dev (exit 1)`);
  });

  it('deploys the app that prints its secret', async () => {
    const r = await ws.deploy(APP, { env: 'dev', yes: true });
    expect(r.status, output(r)).toBe(0);
    expect(await waitHealthy(composeProject(ws, APP, 'dev'), 1)).toHaveLength(1);
  });

  it('diff when what runs is what a deploy would run: nothing to change, exit 0', async () => {
    const r = await diff(APP);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain(`  ${APP}: unchanged (1 container(s) up to date)`);
    expect(r.text).toContain(`${APP} in dev runs what a deploy would run: nothing to change`);
  });

  it('logs through nx: the secret value masked, the rest as the service printed it', () => {
    const r = ws.nx(['run', `${APP}:logs`, '--env', 'dev']);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toMatch(/token is \*\*\*\n/);
    expect(r.stdout).toContain('greeting is hello');
    expect(output(r)).not.toContain('s3cret');
  });

  it('--service: the named service; an unknown one is refused naming the services there are', () => {
    const bad = ws.nx(['run', `${APP}:logs`, '--env', 'dev', '--service=nope']);
    expect(bad.status, output(bad)).not.toBe(0);
    expect(output(bad)).toContain(`error: ${APP} (dev): --service "nope" is not a service of ${APP}; its services are ${APP}`);
    const ok = ws.nx(['run', `${APP}:logs`, '--env', 'dev', `--service=${APP}`]);
    expect(ok.status, output(ok)).toBe(0);
    expect(ok.stdout).toContain('greeting is hello');
  });

  it('--since: lines since then only; a value neither platform takes is refused before docker runs', () => {
    const recent = ws.nx(['run', `${APP}:logs`, '--env', 'dev', '--since=1h']);
    expect(recent.stdout).toContain('greeting is hello');
    const future = ws.nx(['run', `${APP}:logs`, '--env', 'dev', `--since=${new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z')}`]);
    expect(future.status, output(future)).toBe(0);
    expect(future.stdout).not.toContain('greeting is hello');
    const bad = ws.nx(['run', `${APP}:logs`, '--env', 'dev', '--since=yesterday']);
    expect(bad.status).not.toBe(0);
    expect(output(bad)).toContain(`error: ${APP} (dev): --since "yesterday" is neither a duration nor an RFC 3339 time`);
  });

  it('--follow streams masked lines until SIGINT, which ends it cleanly with exit 0 and leaves no docker process', async () => {
    // The executor as Nx loads it (entry.js), in a process of its own that the test can interrupt alone.
    const script = `require(${JSON.stringify(ENTRY)}).logs({ layer: 'applications', env: 'dev', follow: true }, { root: ${JSON.stringify(ws.root)}, projectName: ${JSON.stringify(APP)} }).then((r) => process.exit(r.success ? 0 : 1))`;
    const child = spawn(process.execPath, ['-e', script], { cwd: ws.root, env: { ...process.env, TMPDIR: ws.tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 200 && !out.includes('greeting is hello'); i++) await sleep(100);
    expect(out).toMatch(/token is \*\*\*\n/);
    // Still following: a line the container writes now shows up.
    const [id] = run('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${APP}-dev`]).stdout.trim().split('\n');
    run('docker', ['exec', id, 'sh', '-c', 'echo "late line $API_TOKEN" > /proc/1/fd/1']);
    for (let i = 0; i < 100 && !out.includes('late line'); i++) await sleep(100);
    expect(out).toContain('late line ***');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).not.toContain('s3cret');
    const left = run('pgrep', ['-f', `compose -p ${APP}-dev logs`]);
    expect(left.stdout.trim()).toBe('');
  });

  it('diff after a spec change (image tag, an env value) lists exactly those changes, exit 1', async () => {
    ws.editSpec(APP, (spec) => {
      spec.image.tag = '2';
      spec.env = { GREETING: 'bonjour' };
    });
    ws.override(APP, 'dev', talking(port));
    const r = await diff(APP);
    expect(r.code, r.text).toBe(1);
    const why = r.text.split('\n').filter((l) => /^ {11}\S/.test(l));
    expect(why).toEqual(['           image: homelab-test/busybox:1 -> homelab-test/busybox:2', '           env GREETING: "hello" -> "bonjour"']);
    expect(r.text).toMatch(new RegExp(`~ ${APP}: recreate \\(image homelab-test/busybox:2 changed\\)`));
    expect(r.text).not.toContain('s3cret');
  });

  it('diff of an environment whose engine cannot be reached: one line, exit 2', async () => {
    const r = await (async () => {
      const lines: string[] = [];
      try {
        const request = resolveRequest(ws.root, APP, { layer: 'applications', env: 'dev' }, 'diff');
        return { code: await runDiff(request, { tools: new ToolRunner({ ...process.env, DOCKER_HOST: 'unix:///nonexistent/ld.sock' }), report: new Reporter((l) => lines.push(l)), env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/ld.sock' } }), text: lines.join('\n') };
      } catch (error) {
        return { code: (error as HomelabError).exitCode, text: (error as Error).message };
      }
    })();
    expect(r.code).toBe(2);
    expect(r.text).toMatch(new RegExp(`^${APP} \\(dev\\): Docker daemon unreachable at DOCKER_HOST=unix:///nonexistent/ld.sock`));
  });
});
