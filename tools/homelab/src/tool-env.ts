import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The environment the external tools render with (`kubectl kustomize`, `docker compose config`),
 * in validate and in build alike: only what they need to run (PATH, HOME, and where Docker and
 * kubectl keep their configuration), plus `extra`. No other variable of the caller's shell
 * reaches a render, so `${VAR}` in a Compose file cannot pick up a value from the shell, the same
 * files render the same way for everyone, and a cached validate or build result depends only on
 * the inputs in its hash.
 */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.homedir() };
  for (const key of ['DOCKER_CONFIG', 'KUBECONFIG']) if (process.env[key]) env[key] = process.env[key];
  return { ...env, ...extra };
}

/**
 * The executable file `command` runs as: looked up in the folders of PATH as a shell does, or the
 * path itself when it has a slash; null when there is none.
 */
export function onPath(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const executable = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return executable(command) ? command : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, command))) return path.join(dir, command);
  }
  return null;
}

/**
 * One query of this machine's Docker engine through the docker CLI, run synchronously (the
 * generators are synchronous): its output lines, or null when no engine answered.
 */
export function dockerLines(args: readonly string[], context?: string): string[] | null {
  const result = spawnSync('docker', [...(context ? ['--context', context] : []), ...args], { encoding: 'utf8', env: toolEnv({}), timeout: 30_000 });
  if (result.status !== 0) return null;
  return result.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * The Compose profile of the cron services: `up` leaves them alone, deploy creates their
 * containers and the app's scheduler starts them on their schedules.
 */
export const CRON_PROFILE = 'cron';

/** The Compose profile of the backup movers (docs/backup.md): created by deploy like cron services, started by the scheduler. */
export const BACKUP_PROFILE = 'backup';

/**
 * The `docker compose` options of every merge of a homelab's own Compose files (build and
 * validate alike): an empty `--env-file` (written in `scratch`) keeps a `.env` beside the files
 * out of interpolation, and the cron and backup profiles are on, so the merged file holds the cron
 * services and backup movers that `up` never starts (docs/deploy.md, "Cron services").
 */
export function homelabComposeOptions(scratch: string): string[] {
  const emptyEnv = path.join(scratch, 'empty.env');
  fs.writeFileSync(emptyEnv, '');
  return ['--env-file', emptyEnv, '--profile', CRON_PROFILE, '--profile', BACKUP_PROFILE];
}
