import { VOLUME_LABEL } from '../project/backup-metrics';
import type { Docker } from './docker';
import { DeployError } from './errors';
import type { Reporter } from './progress';

/**
 * Creates the shared volumes a project declares external and does not find on the engine:
 * `homelab-backup-metrics` (project/backup-metrics.ts), labelled VOLUME_LABEL. Idempotent, like
 * the shared networks (networks.ts): a volume that exists is left as it is, and one another deploy
 * created a moment ago is as good. Any other external volume (a user's) is not deploy's to make:
 * Compose refuses a missing one, naming it. Runs before `up`, after the plan.
 */
export async function ensureVolumes(docker: Docker, names: readonly string[], report: Reporter): Promise<string[]> {
  const created: string[] = [];
  for (const name of names) {
    if (await volumeExists(docker, name)) continue;
    const result = await docker.run(['volume', 'create', '--label', `${VOLUME_LABEL}=${name}`, name]);
    if (result.code !== 0 && !(await volumeExists(docker, name))) {
      throw new DeployError(`docker volume create ${name} failed: ${docker.tools.tail(result)}; create it by hand (docker volume create ${name}) and retry`);
    }
    created.push(name);
    report.step('volume', `${name}: created`);
  }
  return created;
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  const result = await docker.run(['volume', 'inspect', '--format', '{{.Name}}', name]);
  if (result.code === 0) return true;
  if (/no such volume|not found/i.test(result.stderr)) return false;
  throw new DeployError(`docker volume inspect ${name} failed: ${docker.tools.tail(result)}`);
}
