import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onPath } from '../tool-env';

/**
 * What a tool answers about itself (`kubectl version --client -o json`, `docker compose version`),
 * kept between processes. Every validate process asked both before its first check: about 0.2 s
 * and 0.3-0.5 s on a 2-core machine, most of `nx affected -t validate` for one app. An answer is
 * kept under the identity of the files that decide it: the executable PATH resolves the command
 * to (its real path, device, inode, size and modification time) and any other file the caller
 * names (Docker's CLI plugins); replacing, upgrading or removing one of them asks again. The file
 * is `probes.json` in homelab's cache folder (`${HOMELAB_CACHE_DIR:-~/.cache/homelab}`); where it
 * cannot be read or written, the tool is asked every time, as before.
 */

/** homelab's cache folder: HOMELAB_CACHE_DIR, else `$XDG_CACHE_HOME/homelab`, else `~/.cache/homelab`. */
export function homelabCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOMELAB_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'homelab');
}

/** A file's identity, or `-` when it does not exist (so that installing it changes the key). */
function identity(file: string): string {
  try {
    const real = fs.realpathSync(file);
    const st = fs.statSync(real);
    return `${real}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `${file}:-`;
  }
}

/** Answers kept at most: old ones go first (a tool upgraded many times leaves no trail). */
const KEPT = 32;

/**
 * `command args`'s stdout when it exits 0, null when it fails or is not installed, from the cache
 * when the same executable (and `dependsOn` files) answered before.
 */
export function cachedAnswer(command: string, args: string[], dependsOn: string[] = []): string | null {
  const bin = onPath(command);
  if (bin === null) return null;
  const key = JSON.stringify([command, ...args, identity(bin), ...dependsOn.map(identity)]);
  const file = path.join(homelabCacheRoot(), 'probes.json');
  let kept: Record<string, string | null> = {};
  try {
    const read = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (read && typeof read === 'object' && !Array.isArray(read)) kept = read as Record<string, string | null>;
  } catch {
    // no cache yet, or one that does not read: asked below
  }
  if (Object.hasOwn(kept, key) && (typeof kept[key] === 'string' || kept[key] === null)) return kept[key];
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 });
  const answer = !r.error && r.status === 0 ? r.stdout : null;
  // A tool that could not be run to its end (a timeout on a busy machine) is asked again next time.
  if (r.error) return answer;
  const entries = Object.entries(kept).filter(([k]) => k !== key);
  const next = Object.fromEntries([...entries.slice(Math.max(0, entries.length - KEPT + 1)), [key, answer]]);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(next, null, 1)}\n`);
    fs.renameSync(tmp, file);
  } catch {
    // a cache folder that cannot be written: the answer is used, not kept
  }
  return answer;
}

/**
 * The files Docker's CLI finds the `compose` plugin in (its plugin folders, and the config file
 * that can name more), whose identity keys `docker compose version`'s answer.
 */
export function dockerComposePluginFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const config = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  const dirs = [path.join(config, 'cli-plugins'), '/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];
  return [path.join(config, 'config.json'), ...dirs.map((dir) => path.join(dir, 'docker-compose'))];
}
