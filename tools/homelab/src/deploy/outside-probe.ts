import * as http from 'node:http';
import * as net from 'node:net';
import { outsideProbe } from '../spec/health';
import type { ContainerInfo } from './docker';
import { DeployError } from './errors';
import type { Reporter } from './progress';

/** Seconds deploy keeps probing after the app's start grace period, before it gives up. */
const GRACE_MARGIN_SECONDS = 30;

/**
 * Can deploy reach the containers' addresses? Only when the engine runs on this machine:
 * no docker context (other than `default`) and no DOCKER_HOST other than a unix socket.
 */
export function engineIsLocal(context: string | undefined, env: NodeJS.ProcessEnv): boolean {
  const ctx = context ?? env.DOCKER_CONTEXT;
  if (ctx && ctx !== 'default') return false;
  return !env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://');
}

/** Where a container answers: 127.0.0.1 with host networking, else its address on its first network. */
export function containerAddress(c: ContainerInfo): string | null {
  if (c.networkMode === 'host') return '127.0.0.1';
  return c.addresses[0] ?? null;
}

/**
 * The health check of services with `health.probe: outside` (labels homelab.health.*):
 * GET http://<address>:<port><path> from this machine until it answers 2xx or 3xx (as
 * `wget --spider` would), or for a TCP probe (`homelab.health.kind: tcp`) a connect to
 * <address>:<port> until it is accepted, within the app's start grace period plus a margin.
 * Returns, per probed container id, what answered; throws a DeployError naming the
 * container, what was probed and the last answer when one never does (deploy then rolls
 * back). With a remote engine the addresses are not reachable from here: each such
 * container is reported unchecked.
 */
export async function probeFromOutside(
  containers: ContainerInfo[],
  report: Reporter,
  local: boolean,
  isInterrupted: () => boolean = () => false,
  marginSeconds = GRACE_MARGIN_SECONDS,
): Promise<Map<string, string>> {
  const answered = new Map<string, string>();
  for (const c of containers) {
    const probe = outsideProbe(c.labels);
    if (probe === null) continue;
    // A container Docker checks itself (a healthcheck the owner added in compose.override.yaml) is
    // judged by that check (isUp): the outside probe stands in only where Docker has none.
    if (c.health !== undefined) continue;
    if (typeof probe === 'string') throw new DeployError(`container ${c.name}: ${probe}`);
    if (!local) {
      report.warn(`${c.name}: health.probe outside is checked from this machine, which cannot reach containers of a remote Docker engine; not checked`);
      continue;
    }
    const address = containerAddress(c);
    if (address === null) throw new DeployError(`container ${c.name} has no network address deploy can probe (network_mode ${c.networkMode || 'none'}); give it a network or set health.probe: exec`);
    const host = address.includes(':') ? `[${address}]` : address;
    const check =
      probe.kind === 'tcp'
        ? { asked: `a TCP connect to ${host}:${probe.port}`, once: () => connect(address, probe.port), healthy: (answer: string) => answer === 'open', said: () => `TCP ${probe.port} open` }
        : { asked: `GET http://${host}:${probe.port}${probe.path}`, once: () => get(`http://${host}:${probe.port}${probe.path}`), healthy: (answer: string) => /^[23][0-9][0-9]$/.test(answer), said: (answer: string) => `GET http://${host}:${probe.port}${probe.path} -> ${answer}` };
    const seconds = probe.startSeconds + marginSeconds;
    const until = Date.now() + seconds * 1000;
    const started = Date.now();
    let last = 'no answer';
    for (;;) {
      last = await check.once();
      if (check.healthy(last)) break;
      if (Date.now() >= until || isInterrupted()) {
        throw new DeployError(`container ${c.name} did not answer ${check.asked} from outside the container within ${seconds}s (last: ${last}); health.probe outside`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const what = `${check.said(last)}, probed from outside the container`;
    report.step('health', `${c.name}: ${what} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    answered.set(c.id, what);
  }
  return answered;
}

/** One GET: the status code as text, or why there was none. */
function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(String(response.statusCode ?? 'no status'));
    });
    request.on('timeout', () => request.destroy(new Error('timed out after 2s')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** One TCP connect, with the same 2 s timeout as a GET: `open` once accepted, or why it was not. */
function connect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out after 2s')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
