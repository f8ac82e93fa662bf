import * as http from 'node:http';
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
 * `wget --spider` would), within the app's start grace period plus a margin. Returns, per
 * probed container id, what answered; throws a DeployError naming the container, the URL
 * and the last answer when one never does (deploy then rolls back). With a remote engine
 * the addresses are not reachable from here: each such container is reported unchecked.
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
    if (typeof probe === 'string') throw new DeployError(`container ${c.name}: ${probe}`);
    if (!local) {
      report.warn(`${c.name}: health.probe outside is checked from this machine, which cannot reach containers of a remote Docker engine; not checked`);
      continue;
    }
    const address = containerAddress(c);
    if (address === null) throw new DeployError(`container ${c.name} has no network address deploy can probe (network_mode ${c.networkMode || 'none'}); give it a network or set health.probe: exec`);
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${probe.port}${probe.path}`;
    const seconds = probe.startSeconds + marginSeconds;
    const until = Date.now() + seconds * 1000;
    const started = Date.now();
    let last = 'no answer';
    for (;;) {
      last = await get(url);
      if (/^[23][0-9][0-9]$/.test(last)) break;
      if (Date.now() >= until || isInterrupted()) {
        throw new DeployError(`container ${c.name} did not answer GET ${url} from outside the container within ${seconds}s (last: ${last}); health.probe outside`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const what = `GET ${url} -> ${last}, probed from outside the container`;
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
