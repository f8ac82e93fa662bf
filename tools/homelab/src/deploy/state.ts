import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployLock } from './lock';

/**
 * What homelab remembers between deploys, per environment and project, under
 * `.homelab/state/<env>/<project>/` (git-ignored; it belongs to the machine that deploys):
 *   compose.yaml       the rendered Compose file of the last successful deploy (no secret values)
 *   compose.json       the image IDs that deploy ran, so a rollback restores them even if a tag moved
 *   kubernetes.yaml    the manifests of the last successful server-side apply
 *   kubernetes.json    the kinds applied, so a later apply prunes a kind that disappeared
 *   last-run.log       the (masked) output of the deploy or down that holds, or last held, the lock
 *   previous-run.log   the same of the run before it
 *   deploy.lock        the pid and start time of the deploy in progress (lock.ts)
 */
export const STATE_ROOT = '.homelab/state';

export interface ComposeRecord {
  deployedAt: string;
  /** Image reference and image ID per service, as they ran. */
  images: Record<string, { ref: string; id: string }>;
}

export interface KubernetesRecord {
  deployedAt: string;
  /** `group/version/Kind` of every object applied (what the next deploy prunes among, and down deletes). */
  kinds: string[];
  /** The app's namespace, and whether its deploys created it (then down removes it once empty). */
  namespace?: { name: string; created: boolean };
}

export class StateDir {
  readonly dir: string;
  /** The folder as messages name it: relative to the workspace. */
  readonly shown: string;

  constructor(root: string, env: string, project: string) {
    this.shown = path.join(STATE_ROOT, env, project);
    this.dir = path.join(root, this.shown);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  read(name: string): string | null {
    try {
      return fs.readFileSync(this.file(name), 'utf8');
    } catch {
      return null;
    }
  }

  readJson<T>(name: string): T | null {
    const text = this.read(name);
    if (text === null) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }

  /** Writes atomically (temp file + rename), so an interrupted write never leaves half a record. */
  write(name: string, content: string): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = this.file(`.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, this.file(name));
  }

  remove(...names: string[]): void {
    for (const name of names) fs.rmSync(this.file(name), { force: true });
  }

  /**
   * Takes the deploy lock of this project and environment (with the log its holder
   * writes), or throws naming the deploy that holds it. See DeployLock.
   */
  lock(what: string): DeployLock {
    return DeployLock.take(this.dir, what, this.shown);
  }
}
