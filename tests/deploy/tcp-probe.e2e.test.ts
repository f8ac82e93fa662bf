import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, freePorts, uniqueName } from './support';

/**
 * A service that answers TCP only, on an image without a TCP client for a Compose health check,
 * deployed from its spec on the real Docker Engine: `health: { tcp: { port }, probe: outside }`
 * has deploy connect to the port from this machine (127.0.0.1, host networking), and a service
 * that waits for it (`dependsOn: healthy`) starts only once the port is open. A broker that
 * listens on nothing fails the deploy with one line and is rolled back.
 *
 * The broker is busybox `httpd` bound to 127.0.0.1 with no health page: busybox `nc -l` cannot
 * bind one address (it listens on every interface), and these tests bind loopback only. The
 * probe sends nothing over the connection, so what listens does not matter; the broker waits
 * 2 s before it listens, so a client started without the order would find the port closed.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('tcpprobe');
const PROJECT = `${APP}-dev`;
const IMAGE = '{ repository: homelab-test/busybox, tag: "1" }';
const HOST = 'hostNetwork: "listens on 127.0.0.1 of the Docker host, which has no bridge network"';

/** The spec a user writes: a broker checked by TCP from outside, a client that waits for it. */
function specText(port: number, broker: string): string {
  return `name: ${APP}
services:
  broker:
    image: ${IMAGE}
    command: [sh, -c, '${broker}']
    ports: [{ name: mqtt, port: ${port} }]
    health: { tcp: { port: mqtt }, probe: outside, startGraceSeconds: 5 }
    init: true
    stopGracePeriod: 2s
    security: { ${HOST} }
  client:
    image: ${IMAGE}
    command: [sh, -c, 'nc -w 2 127.0.0.1 ${port} </dev/null || { echo "client: the broker is not listening" >&2; exit 1; }; exec sleep 86400']
    dependsOn: { broker: healthy }
    init: true
    stopGracePeriod: 2s
    security: { ${HOST} }
`;
}

describe.skipIf(compose.skip)('a TCP-only service probed from outside the container, on the real engine', { timeout: 180_000 }, () => {
  let ws: DeployWorkspace;
  let port = 0;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const listening = (p: number) => `sleep 2; exec httpd -f -p 127.0.0.1:${p} -h /bin`;
  const ids = () => containers(PROJECT).map((c) => `${c.name} ${c.id}`).sort();

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('deploy-tcp');
    ws.addSpec(APP, specText(port, listening(port)));
    ws.track(PROJECT);
  });

  afterAll(() => ws?.cleanup());

  it('turns healthy through deploy\'s TCP connect, and starts the service that waits for it after it', async () => {
    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('[plan]     start order: 1. broker  2. client\n');
    expect(result.stdout).toMatch(new RegExp(`\\[health\\] +${PROJECT}-broker-1: TCP ${port} open, probed from outside the container after [0-9.]+s\\n`));
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-broker-1: running, healthy (TCP ${port} open, probed from outside the container)\n`);
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-client-1: running\n`);
    // Compose has no health check of the broker: deploy is its check.
    expect(run('docker', ['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{index .Config.Labels "homelab.health.kind"}}', `${PROJECT}-broker-1`]).stdout.trim()).toBe('none tcp');
    expect(run('docker', ['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', `${PROJECT}-client-1`]).stdout.trim()).toBe('running 0');
    expect(ws.leftovers()).toEqual([]);
  });

  it('fails a broker that listens on nothing with one line naming the port, and rolls back to the one that listens', async () => {
    const running = ids();
    ws.editSpec(APP, (spec) => {
      spec.services.broker.command = ['sh', '-c', 'exec sleep 86400'];
      spec.services.broker.health.startGraceSeconds = 1;
    });

    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(1);
    const errors = output(result).split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([
      `error: ${APP} (dev): deploy failed: container ${PROJECT}-broker-1 did not answer a TCP connect to 127.0.0.1:${port} from outside the container within 31s (last: ECONNREFUSED); health.probe outside; rolled back to the previous version (homelab-test/busybox:1), which is running and healthy`,
    ]);
    expect(result.stdout).toMatch(new RegExp(`\\[health\\] +${PROJECT}-broker-1: TCP ${port} open, probed from outside the container`));
    // The rolled-back broker listens again, and the client still runs.
    expect(run('docker', ['exec', `${PROJECT}-client-1`, 'nc', '-w', '2', '127.0.0.1', String(port)], { input: '' }).status).toBe(0);
    expect(ids().map((l) => l.split(' ')[0])).toEqual(running.map((l) => l.split(' ')[0]));
    expect(ws.leftovers()).toEqual([]);
  });
});
