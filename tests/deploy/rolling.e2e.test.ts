import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/tools';
import { containers, DeployWorkspace, freePorts, uniqueName, waitHealthy } from './support';
import { loadClient, LoopbackBalancer, replicatedOverride } from './loopback';

/**
 * A stateless app with three replicas is updated without downtime: new containers start
 * beside the old ones, and the old ones stop only once the new ones are healthy. A client
 * sends requests through a loopback balancer the whole time and counts the failures.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('roll');
const PROJECT = `${APP}-dev`;
let PORTS: number[] = [];

describe.skipIf(compose.skip)('rolling update of a replicated stateless app on the real engine', () => {
  let ws: DeployWorkspace;
  let balancer: LoopbackBalancer;
  let lbPort: number;
  const ids = () => containers(PROJECT).map((c) => c.id);

  beforeAll(async () => {
    PORTS = await freePorts(6);
    ws = DeployWorkspace.create('deploy-rolling');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: PORTS[0], replicas: 3 });
    ws.override(APP, 'dev', replicatedOverride(PORTS));
    const first = await ws.deploy(APP, { env: 'dev' });
    expect(first.status, first.stdout + first.stderr).toBe(0);
    balancer = new LoopbackBalancer(PORTS);
    lbPort = await balancer.start();
  });

  afterAll(async () => {
    await balancer?.stop();
    ws?.cleanup();
  });

  it('serves every request while :1 is replaced by :2', async () => {
    expect(balancer.backends()).toHaveLength(3);
    const before = ids();
    ws.editSpec(APP, (spec) => {
      spec.image.tag = '2';
    });
    const client = loadClient(lbPort);

    const update = await ws.deploy(APP, { env: 'dev' });
    await new Promise((r) => setTimeout(r, 500));
    const load = await client.stop();

    expect(update.status, update.stdout + update.stderr).toBe(0);
    expect(update.stdout).toContain(`${APP}: rolling update, no downtime (image homelab-test/busybox:2 changed)`);
    expect(load.sent).toBeGreaterThan(100);
    expect(load, JSON.stringify(load)).toMatchObject({ failed: 0 });
    expect(load.bodies['ok v1']).toBeGreaterThan(0);
    expect(load.bodies['ok v2']).toBeGreaterThan(0);
    const after = await waitHealthy(PROJECT, 3);
    expect(after.map((c) => c.image)).toEqual(['homelab-test/busybox:2', 'homelab-test/busybox:2', 'homelab-test/busybox:2']);
    expect(after.filter((c) => before.includes(c.id))).toEqual([]);
  });

  it('redeploys with no change without recreating any of the three containers', async () => {
    const before = ids();

    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${APP}: unchanged (3 container(s) up to date)`);
    expect(ids()).toEqual(before);
  });

  it('keeps the old replicas serving when the new ones never become healthy', async () => {
    const before = ids();
    const client = loadClient(lbPort);
    ws.editSpec(APP, (spec) => {
      spec.image.tag = '1';
    });
    ws.override(APP, 'dev', replicatedOverride(PORTS, { healthcheck: { test: ['CMD', 'false'], interval: '1s', timeout: '2s', retries: 1, start_period: '0s' } }));

    const result = await ws.deploy(APP, { env: 'dev' });
    const load = await client.stop();
    ws.override(APP, 'dev', replicatedOverride(PORTS));

    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(new RegExp(`error: ${APP} \\(dev\\): deploy failed: .*rolled back to the previous version \\(homelab-test/busybox:2\\), which is running and healthy`));
    expect(ids()).toEqual(before);
    expect(load, JSON.stringify(load)).toMatchObject({ failed: 0 });
    expect(ws.leftovers()).toEqual([]);
  });
});
