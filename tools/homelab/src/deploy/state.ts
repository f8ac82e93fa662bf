import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployError } from './errors';
import { alive } from './secrets';

/**
 * What homelab remembers between deploys, per environment and project, under
 * `.homelab/state/<env>/<project>/` (git-ignored; it belongs to the machine that deploys):
 *   compose.yaml       the rendered Compose file of the last successful deploy (no secret values)
 *   compose.json       the image IDs that deploy ran, so a rollback restores them even if a tag moved
 *   kubernetes.yaml    the manifests of the last successful server-side apply
 *   kubernetes.json    the kinds applied, so a later apply prunes a kind that disappeared
 *   last-deploy.log    the (masked) output of the last deploy, also when the terminal went away
 *   deploy.lock        the pid of a deploy in progress
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

  constructor(root: string, env: string, project: string) {
    this.dir = path.join(root, STATE_ROOT, env, project);
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
   * Takes the deploy lock of this project and environment, or throws naming the deploy
   * that holds it. A lock whose process is gone is taken over.
   */
  lock(what: string): () => void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file('deploy.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
        return () => {
          if (this.read('deploy.lock')?.trim() === String(process.pid)) fs.rmSync(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(this.read('deploy.lock')?.trim());
        if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
          throw new DeployError(`${what}: another deploy is running (pid ${holder}); wait for it, or see ${path.join(this.dir, 'last-deploy.log')}`);
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new DeployError(`${what}: could not take the deploy lock ${file}`);
  }
}
