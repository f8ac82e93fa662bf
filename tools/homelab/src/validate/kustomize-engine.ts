import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { homelabCacheRoot } from './probe-cache';

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
  return path.join(homelabCacheRoot(env), 'kustomize-batch', kustomizeBatchKey(source), 'kustomize-batch');
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
 * The first frame of `output` (`ok <n>\n` or `error <n>\n`, then n bytes) and the bytes after it;
 * `more` when the output ends before the frame does, `bad` when it does not start with a header.
 */
export function nextFrame(output: Buffer): { frame: BatchFrame; rest: Buffer } | 'more' | 'bad' {
  const eol = output.indexOf(0x0a);
  // A header is `error ` and at most 20 digits: longer without a line break, it is not one.
  if (eol < 0) return output.length < 32 ? 'more' : 'bad';
  const header = /^(ok|error) (\d+)$/.exec(output.subarray(0, eol).toString('latin1'));
  if (!header) return 'bad';
  const end = eol + 1 + Number(header[2]);
  if (end > output.length) return 'more';
  return { frame: { ok: header[1] === 'ok', text: output.subarray(eol + 1, end).toString('utf8') }, rest: output.subarray(end) };
}

/**
 * Builds `dirs` (relative to `cwd`, as kubectl would be given them) with the program, in `env`,
 * handing each overlay's frame to `onFrame` as soon as the program has written it (it writes them
 * in input order), so a caller can check the first overlays while the program builds the next.
 * Resolves with how many frames were handed over (fewer than `dirs.length` when the program could
 * not start, died, or wrote something else than a frame: the caller then builds the overlays from
 * that index on with kubectl) and whether the program ran to its end cleanly (exit 0, nothing but
 * frames). A frame is whole when handed over (its header and every byte its length says), so what
 * was handed over stays a complete build of its overlay.
 */
export function streamKustomizeBatch(
  bin: string,
  dirs: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onFrame: (index: number, frame: BatchFrame) => void,
  options: { json?: boolean } = {},
): Promise<{ delivered: number; clean: boolean }> {
  return new Promise((resolve) => {
    // --json: an ok frame is the overlay's objects as one JSON array, not kubectl's YAML (main.go).
    const child = spawn(bin, options.json ? ['--json'] : [], { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
    let pending: Buffer = Buffer.alloc(0);
    let delivered = 0;
    let broken = false;
    child.stdout.on('data', (d: Buffer) => {
      if (broken) return;
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      while (pending.length > 0) {
        const next = nextFrame(pending);
        if (next === 'more') break;
        if (next === 'bad' || delivered >= dirs.length) {
          broken = true;
          break;
        }
        onFrame(delivered++, next.frame);
        pending = next.rest;
      }
    });
    child.on('error', () => resolve({ delivered, clean: false }));
    // A program that died early closes its stdin: the close below reports it.
    child.stdin.on('error', () => undefined);
    child.on('close', (status) => resolve({ delivered, clean: status === 0 && !broken && pending.length === 0 }));
    child.stdin.end(dirs.map((dir) => `${inputLine(dir)}\n`).join(''));
  });
}
