import { managedNetwork, NETWORK_LABEL } from '../project/networks';
import type { Docker } from './docker';
import { DeployError } from './errors';
import type { Reporter } from './progress';

/**
 * Creates the shared networks a project declares external and does not find on the engine:
 * `homelab` and `homelab-<env>` (project/networks.ts managedNetwork), labelled NETWORK_LABEL,
 * `homelab-<env>` internal. Idempotent: a network that exists is left as it is (and one that
 * should be internal but is not is named in a warning, with the way to recreate it). Any other
 * external network (another app's project network) is not deploy's to make: Compose refuses a
 * missing one, naming it. Runs before `up`, after the plan.
 */
export async function ensureNetworks(docker: Docker, names: readonly string[], report: Reporter): Promise<string[]> {
  const created: string[] = [];
  for (const name of names) {
    const managed = managedNetwork(name);
    if (managed === null) continue;
    const internal = await isInternal(docker, name);
    if (internal === null) {
      const result = await docker.run(['network', 'create', '--label', `${NETWORK_LABEL}=${name}`, ...(managed.internal ? ['--internal'] : []), name]);
      // Another deploy may have created it a moment ago: that is as good.
      if (result.code !== 0 && (await isInternal(docker, name)) === null) {
        throw new DeployError(`docker network create ${name} failed: ${docker.tools.tail(result)}; create it by hand (docker network create${managed.internal ? ' --internal' : ''} ${name}) and retry`);
      }
      created.push(name);
      report.step('network', `${name}: created${managed.internal ? ' (internal: no route out of this host)' : ''}`);
    } else if (managed.internal && !internal) {
      report.warn(
        `network ${name} exists but is not internal: containers on it can reach the internet, also those of apps with network.allowInternet false; to recreate it, stop what uses it and run \`docker network rm ${name}\`, then deploy again`,
      );
    }
  }
  return created;
}

/** Whether the network is internal; null when the engine has no network of that name. */
async function isInternal(docker: Docker, name: string): Promise<boolean | null> {
  const result = await docker.run(['network', 'inspect', '--format', '{{.Internal}}', name]);
  if (result.code === 0) return result.stdout.trim() === 'true';
  if (/no such network|not found/i.test(result.stderr)) return null;
  throw new DeployError(`docker network inspect ${name} failed: ${docker.tools.tail(result)}`);
}
