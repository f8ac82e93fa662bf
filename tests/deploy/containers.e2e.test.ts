import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, uniqueName } from './support';

/**
 * Init containers and a sidecar of one service, from the spec to the real Docker Engine
 * (tests/support/fixtures/deploy-containers/pod.yaml, the local busybox image only): the spec is
 * rendered by `nx sync` and deployed with Compose, where the init containers are services
 * `web-write` and `web-append` that run in order before `web`, and the sidecar `web-fetch` joins
 * web's network namespace. web has no host network: the sidecar reaches web's 127.0.0.1:8080 only
 * because it shares web's namespace, as a pod's containers do.
 */
const compose = requireTool('docker compose');
const APP = uniqueName('pod');
const PROJECT = `${APP}-dev`;
const SPEC = path.join(__dirname, '../support/fixtures/deploy-containers/pod.yaml');

describe.skipIf(compose.skip)('init containers and a sidecar on the real engine', { timeout: 180_000 }, () => {
  let ws: DeployWorkspace;
  const exec = (service: string, args: string[]) => run('docker', ['exec', `${PROJECT}-${service}-1`, ...args]);
  const inspect = () =>
    (JSON.parse(run('docker', ['inspect', ...containers(PROJECT).map((c) => c.id)]).stdout) as any[])
      .map((c) => ({
        service: c.Config.Labels['com.docker.compose.service'] as string,
        status: c.State.Status as string,
        exitCode: c.State.ExitCode as number,
        finishedAt: c.State.FinishedAt as string,
        startedAt: c.State.StartedAt as string,
        network: c.HostConfig.NetworkMode as string,
      }))
      .sort((a, b) => a.service.localeCompare(b.service));

  beforeAll(() => {
    ws = DeployWorkspace.create('deploy-containers');
    ws.addSpec(APP, fs.readFileSync(SPEC, 'utf8').replace(/^name: pod$/m, `name: ${APP}`));
    ws.track(PROJECT);
  });
  afterAll(() => ws?.cleanup());

  it('runs the init containers in order to exit 0, then the service, which serves what they wrote, then the sidecar in its network', async () => {
    const result = await ws.deploy(APP, { env: 'dev' });
    const output = `${result.stdout}${result.stderr}`;

    expect(result.status, output).toBe(0);
    expect(result.stdout).toContain('[plan]     start order: 1. web-write (init)  2. web-append (init)  3. web  4. web-fetch\n');
    const state = inspect();
    expect(state.map((c) => [c.service, c.status, c.exitCode])).toEqual([
      ['web', 'running', 0],
      ['web-append', 'exited', 0],
      ['web-fetch', 'running', 0],
      ['web-write', 'exited', 0],
    ]);
    const at = Object.fromEntries(state.map((c) => [c.service, c]));
    // Order: write ended before append started, append ended before web started.
    expect(Date.parse(at['web-write'].finishedAt)).toBeLessThanOrEqual(Date.parse(at['web-append'].startedAt));
    expect(Date.parse(at['web-append'].finishedAt)).toBeLessThanOrEqual(Date.parse(at.web.startedAt));
    // The service serves what the init containers wrote, in their order, on 127.0.0.1 of its own network namespace.
    expect(exec('web', ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/order.txt']).stdout).toBe('1 write\n2 append\n');
    // The sidecar is in web's namespace (the only way its 127.0.0.1:8080 reaches web) and wrote what it got to
    // the volume web mounts read-only.
    expect(at['web-fetch'].network).toBe(`container:${containers(PROJECT).find((c) => c.name === `${PROJECT}-web-1`)!.id}`);
    let got = '';
    for (let i = 0; i < 30 && got === ''; i++) {
      got = exec('web', ['cat', '/out/got.txt']).stdout;
      if (got === '') await new Promise((r) => setTimeout(r, 500));
    }
    expect(got).toBe('1 write\n2 append\n');
    expect(output).toMatch(new RegExp(`\\[job\\] +${PROJECT}-web-write-1: completed \\(exited with code 0\\)`));
    expect(output).toMatch(new RegExp(`\\[verify\\] +${PROJECT}-web-append-1: job completed \\(exited with code 0\\)`));
  });

  it('changes nothing on a deploy of the same spec', async () => {
    const before = inspect();
    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout, result.stdout).toContain('nothing to change');
    expect(inspect()).toEqual(before);
  });
});
