import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** How kustomize builds are run here: `kubectl kustomize` or `kustomize build`, whichever exists. */
export type Kustomizer = { command: string; args: (dir: string) => string[] } | null;

let kustomizer: Kustomizer | undefined;
let composeAvailable: boolean | undefined;

function works(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  return !r.error && r.status === 0;
}

export function findKustomizer(): Kustomizer {
  if (kustomizer === undefined) {
    if (process.env.HOMELAB_KUSTOMIZE !== 'none' && works('kubectl', ['version', '--client'])) kustomizer = { command: 'kubectl', args: (dir) => ['kustomize', dir] };
    else if (process.env.HOMELAB_KUSTOMIZE !== 'none' && works('kustomize', ['version'])) kustomizer = { command: 'kustomize', args: (dir) => ['build', dir] };
    else kustomizer = null;
  }
  return kustomizer;
}

export function hasCompose(): boolean {
  composeAvailable ??= process.env.HOMELAB_COMPOSE !== 'none' && works('docker', ['compose', 'version']);
  return composeAvailable;
}

export type RenderResult = { ok: true; output: string } | { ok: false; error: string };

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** Builds a kustomization folder (relative to cwd). */
export function kustomize(dir: string, cwd: string): RenderResult {
  const k = findKustomizer();
  if (!k) return { ok: false, error: 'no kustomize' };
  const r = spawnSync(k.command, k.args(dir), { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (r.error) return { ok: false, error: r.error.message };
  if (r.status !== 0) return { ok: false, error: lastLines(r.stderr || r.stdout) };
  return { ok: true, output: r.stdout };
}

/**
 * Merges Compose files with `docker compose config`, without any secret value: the env file
 * the base reads (HOMELAB_ENV_FILE) points at a path that does not exist, and an empty
 * --env-file keeps a `.env` beside the files out of interpolation.
 */
export function composeConfig(files: string[], cwd: string): RenderResult {
  if (!hasCompose()) return { ok: false, error: 'no docker compose' };
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-validate-'));
  try {
    const emptyEnv = path.join(scratch, 'empty.env');
    fs.writeFileSync(emptyEnv, '');
    const args = ['compose', '--env-file', emptyEnv, ...files.flatMap((f) => ['-f', f]), 'config'];
    const r = spawnSync('docker', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
      env: { ...process.env, HOMELAB_ENV_FILE: path.join(scratch, 'no-secrets-at-validate-time.env') },
    });
    if (r.error) return { ok: false, error: r.error.message };
    if (r.status !== 0) return { ok: false, error: lastLines(r.stderr || r.stdout) };
    return { ok: true, output: r.stdout };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
