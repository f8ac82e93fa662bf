import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * kustomize-batch: many overlays built by one long-lived process that links kustomize's own
 * library at the version kubectl embeds (tools/homelab/engines/kustomize-batch, docs/validate.md,
 * "How overlays are built"). `npm run setup:engines` builds it once per machine into a cache
 * outside the repository, keyed by a hash of its sources (scripts/kustomize-batch/build.sh); this
 * module finds it there, runs it and reads its frames back. It is only a faster way to get what
 * `kubectl kustomize <overlay>` prints: the caller uses it only when the kustomize release it links
 * is the one kubectl reports, and falls back to kubectl when it is absent or fails.
 */

/** The program's sources, whose hash keys its build. */
export const KUSTOMIZE_BATCH_SOURCE = path.resolve(__dirname, '../../engines/kustomize-batch');

/**
 * The key of a build: every file of the source folder, in byte order of their names, each as its
 * name, a NUL, its content and a NUL, hashed with SHA-256; the first 16 hex digits. The same as
 * `source_key` in scripts/kustomize-batch/build.sh.
 */
export function kustomizeBatchKey(source = KUSTOMIZE_BATCH_SOURCE): string {
  const hash = createHash('sha256');
  const names = fs
    .readdirSync(source, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    hash.update(name);
    hash.update('\0');
    hash.update(fs.readFileSync(path.join(source, name)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where scripts/kustomize-batch/build.sh puts the build of these sources. */
export function kustomizeBatchPath(env: NodeJS.ProcessEnv = process.env, source = KUSTOMIZE_BATCH_SOURCE): string {
  const root = env.HOMELAB_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'homelab');
  return path.join(root, 'kustomize-batch', kustomizeBatchKey(source), 'kustomize-batch');
}

/** The kustomize release the program links: the `kustomizeVersion` constant of its main.go. */
export function kustomizeBatchVersion(source = KUSTOMIZE_BATCH_SOURCE): string | null {
  try {
    return /^const kustomizeVersion = "([^"]+)"$/m.exec(fs.readFileSync(path.join(source, 'main.go'), 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The program to build overlays with, or why there is none (for HOMELAB_DEBUG). */
export type KustomizeBatch = { bin: string } | { bin: null; reason: string };

/**
 * kustomize-batch, when it may stand in for the kustomize validate would run: not under
 * HOMELAB_KUSTOMIZE=kubectl (today's path, forced) or none, built for these sources, and linking the
 * kustomize release `kustomizeVersion` reports (kubectl's `kustomizeVersion`).
 */
export function findKustomizeBatch(kustomizeVersion: string | undefined, env: NodeJS.ProcessEnv = process.env): KustomizeBatch {
  if (env.HOMELAB_KUSTOMIZE === 'kubectl' || env.HOMELAB_KUSTOMIZE === 'none') return { bin: null, reason: `HOMELAB_KUSTOMIZE=${env.HOMELAB_KUSTOMIZE}` };
  let bin: string;
  try {
    bin = kustomizeBatchPath(env);
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return { bin: null, reason: 'kustomize-batch is not built (npm run setup:engines builds it where Go is installed)' };
  }
  const linked = kustomizeBatchVersion();
  if (!kustomizeVersion || linked !== kustomizeVersion) return { bin: null, reason: `kustomize-batch links kustomize ${linked}, kubectl has ${kustomizeVersion ?? 'no version'}` };
  return { bin };
}

/** One overlay's frame: what kubectl prints on stdout (`ok`), or on stderr after its log prefix (`error`). */
export interface BatchFrame {
  ok: boolean;
  text: string;
}

/** A line of the program's input: the path itself, or a JSON string when the path could be misread as one. */
export function inputLine(dir: string): string {
  return dir === '' || /[\n\r]/.test(dir) || dir.startsWith('"') || dir.trim() !== dir ? JSON.stringify(dir) : dir;
}

/**
 * Splits the program's stdout into `count` frames (`ok <n>\n` or `error <n>\n`, then n bytes);
 * null when it does not hold exactly that many well-formed frames.
 */
export function parseFrames(output: Buffer, count: number): BatchFrame[] | null {
  const frames: BatchFrame[] = [];
  let at = 0;
  while (at < output.length) {
    const eol = output.indexOf(0x0a, at);
    if (eol < 0) return null;
    const header = /^(ok|error) (\d+)$/.exec(output.subarray(at, eol).toString('latin1'));
    if (!header) return null;
    const end = eol + 1 + Number(header[2]);
    if (end > output.length) return null;
    frames.push({ ok: header[1] === 'ok', text: output.subarray(eol + 1, end).toString('utf8') });
    at = end;
  }
  return frames.length === count ? frames : null;
}

/**
 * Builds `dirs` (relative to `cwd`, as kubectl would be given them) with the program, in `env`:
 * one frame per overlay in their order, or null when the program did not run to the end (it could
 * not start, exited non-zero, or wrote something else than one frame per overlay): then the
 * caller builds them with kubectl.
 */
export function runKustomizeBatch(bin: string, dirs: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<BatchFrame[] | null> {
  return new Promise((resolve) => {
    const child = spawn(bin, [], { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', () => resolve(null));
    // A program that died early closes its stdin: the close below reports it.
    child.stdin.on('error', () => undefined);
    child.on('close', (status) => resolve(status === 0 ? parseFrames(Buffer.concat(out), dirs.length) : null));
    child.stdin.end(dirs.map((dir) => `${inputLine(dir)}\n`).join(''));
  });
}
