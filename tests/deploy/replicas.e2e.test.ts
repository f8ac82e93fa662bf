import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, uniqueName } from './support';
import { loadClient, LoopbackBalancer, replicatedOverride } from './loopback';

/**
 * A replicated service keeps serving while one of its replicas goes away (docs/availability.md,
 * "Replicated services"): an app of 3 replicas deployed by deploy to the real Docker Engine, a
 * bounded client loop through the balancer the whole time, and one replica stopped with
 * `docker stop` in the middle. The loopback balancer stands in for the ingress (Traefik on a real
 * Docker host): the test engine has no bridge network, so each replica binds its own loopback
 * port (tests/deploy/loopback.ts) and the balancer routes to the healthy ones, as Traefik does.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('replicas');
const PROJECT = `${APP}-dev`;

describe.skipIf(compose.skip)('a replicated service on the real engine loses one replica', () => {
  let ws: DeployWorkspace;
  let balancer: LoopbackBalancer;
  let lbPort: number;

  beforeAll(async () => {
    const ports = await freePorts(3);
    ws = DeployWorkspace.create('deploy-replicas');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: ports[0], replicas: 3 });
    ws.override(APP, 'dev', replicatedOverride(ports));
    const deployed = await ws.deploy(APP, { env: 'dev' });
    expect(deployed.status, deployed.stdout + deployed.stderr).toBe(0);
    balancer = new LoopbackBalancer(ports);
    lbPort = await balancer.start();
  });

  afterAll(async () => {
    await balancer?.stop();
    ws?.cleanup();
  });

  it('answers every request of a client loop while one replica is stopped with docker stop, and after it', async () => {
    expect(balancer.backends()).toHaveLength(3);
    const client = loadClient(lbPort);
    // Counted in answered requests, not in time, so a busy machine changes how long it takes,
    // not what it proves: 50 answers before the stop, the stop, then 100 answers after it.
    await client.answered(50);
    const [victim] = containers(PROJECT).filter((c) => c.running);

    const stopped = run('docker', ['stop', '--time', '2', victim.id]);
    await client.answered(100);
    const load = await client.stop();

    expect(stopped.status, stopped.stderr).toBe(0);
    expect(containers(PROJECT).filter((c) => c.running)).toHaveLength(2);
    expect(balancer.backends()).toHaveLength(2);
    expect(load.sent).toBeGreaterThanOrEqual(150);
    expect(load, JSON.stringify(load)).toMatchObject({ failed: 0 });
  });
});
