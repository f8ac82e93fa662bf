import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeMasker, parseDotenv } from '../dotenv';
import { needsOwnBuild, scratchFolder, splitAggregate, writeAggregate } from './kustomize-batch';
import { findKustomizeBatch, streamKustomizeBatch, type KustomizeBatch } from './kustomize-engine';
import { cachedAnswer, dockerComposePluginFiles } from './probe-cache';
import { homelabComposeOptions, toolEnv } from '../tool-env';

/**
 * How kustomize builds are run here: `kubectl kustomize` or `kustomize build`, whichever exists,
 * with the kustomize release it reports (kubectl's `kustomizeVersion`, `kustomize version`).
 */
export type Kustomizer = { command: string; args: (dir: string) => string[]; version?: string } | null;

let kustomizer: Kustomizer | undefined;
/** findBatchProgram's answers, by HOMELAB_KUSTOMIZE and the cache folder (a test switches them between calls). */
const batchPrograms = new Map<string, KustomizeBatch>();
let composeAvailable: boolean | undefined;

/** kubectl's own kustomize release, from `kubectl version --client -o json`. */
function kubectlKustomizeVersion(json: string): string | undefined {
  try {
    const version = (JSON.parse(json) as { kustomizeVersion?: unknown }).kustomizeVersion;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

export function findKustomizer(): Kustomizer {
  if (kustomizer === undefined) {
    const kubectl = process.env.HOMELAB_KUSTOMIZE !== 'none' ? cachedAnswer('kubectl', ['version', '--client', '-o', 'json']) : null;
    const standalone = kubectl === null && process.env.HOMELAB_KUSTOMIZE !== 'none' ? cachedAnswer('kustomize', ['version']) : null;
    if (kubectl !== null) kustomizer = { command: 'kubectl', args: (dir) => ['kustomize', dir], version: kubectlKustomizeVersion(kubectl) };
    else if (standalone !== null) kustomizer = { command: 'kustomize', args: (dir) => ['build', dir], version: standalone.trim().split('\n')[0] || undefined };
    else kustomizer = null;
  }
  return kustomizer;
}

/**
 * kustomize-batch (kustomize-engine.ts), when it may build the overlays prerender batches: there
 * is a kustomize, the program is built and links the same kustomize release, and
 * HOMELAB_KUSTOMIZE does not force kubectl.
 */
export function findBatchProgram(): KustomizeBatch {
  const key = ['HOMELAB_KUSTOMIZE', 'HOMELAB_CACHE_DIR', 'XDG_CACHE_HOME'].map((name) => process.env[name] ?? '').join('\0');
  if (!batchPrograms.has(key)) batchPrograms.set(key, findKustomizer() ? findKustomizeBatch(findKustomizer()!.version) : { bin: null, reason: 'no kustomize' });
  return batchPrograms.get(key)!;
}

export function hasCompose(): boolean {
  composeAvailable ??= process.env.HOMELAB_COMPOSE !== 'none' && cachedAnswer('docker', ['compose', 'version'], dockerComposePluginFiles()) !== null;
  return composeAvailable;
}

/** How Compose files are interpolated: `homelab` (a workspace) reads no `.env`; `project` reads the project folder's `.env`. */
export type ComposeEnv = 'homelab' | 'project';

/**
 * `docker compose config` of files, in the tools' clean environment (toolEnv, the same as build)
 * with no secret file (in a scratch folder). In a workspace it merges as build does
 * (homelabComposeOptions: no `.env`, the cron services included); outside one, Compose reads the
 * project folder's `.env` as `docker compose config` does.
 */
function composeArgs(files: string[], scratch: string, dotEnv: ComposeEnv): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['compose', ...(dotEnv === 'homelab' ? homelabComposeOptions(scratch) : []), ...files.flatMap((f) => ['-f', f]), 'config'],
    env: toolEnv({ HOMELAB_ENV_FILE: path.join(scratch, 'no-secrets-at-validate-time.env') }),
  };
}

/**
 * A render: its output, or the tool's error. `json`: the output is kustomize-batch's `--json` body,
 * the overlay's objects as one JSON array (the objects `kubectl kustomize` prints as YAML), which
 * validate reads without a YAML parse; otherwise it is the tool's own text.
 */
export type RenderResult = { ok: true; output: string; json?: true } | { ok: false; error: string };

/** The tool's last lines, without the clock of Compose's log lines (`time="…" level=warning`) or kubectl's (`E1129 11:25:40.196873   29522 run.go:72] `), so a finding reads the same on every run. */
export function lastLines(text: string): string {
  return text
    .trim()
    .split('\n')
    .slice(-3)
    .map((line) => line.replace(/^time="[^"]*" /, '').replace(/^[EWI]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]]+\] /, ''))
    .join(' | ');
}

/**
 * Renders done ahead of time (prerender), each used once: the batch executor starts every
 * project's kustomize and Compose calls concurrently, then checks the projects one by one.
 */
const prerendered = new Map<string, RenderResult>();
const kustomizeKey = (dir: string, cwd: string) => `kustomize\0${path.resolve(cwd, dir)}`;
const composeKey = (files: string[], cwd: string) => `compose\0${files.map((f) => path.resolve(cwd, f)).join('\0')}`;

/** The renders a running prerender still owes, each with what resolves its waiters (renderedFor). */
const owed = new Map<string, { promise: Promise<void>; resolve: () => void }>();

function owe(key: string): void {
  if (owed.has(key)) return;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  owed.set(key, { promise, resolve });
}

/** Keeps a render's result and wakes whoever waits for it. */
function keep(key: string, result: RenderResult): void {
  prerendered.set(key, result);
  owed.get(key)?.resolve();
  owed.delete(key);
}

const jobKey = (job: RenderJob) => (job.kind === 'kustomize' ? kustomizeKey(job.dir, job.cwd) : composeKey(job.files, job.cwd));

/**
 * Resolves when every one of `jobs` that a running prerender will render is rendered (or the
 * prerender has ended): a batch checks a project as soon as its own overlays are built, while
 * kustomize-batch builds the next projects' overlays in its own process.
 */
export async function renderedFor(jobs: RenderJob[]): Promise<void> {
  await Promise.all(jobs.map((job) => owed.get(jobKey(job))?.promise));
}

function takePrerendered(key: string): RenderResult | undefined {
  const result = prerendered.get(key);
  prerendered.delete(key);
  return result;
}

export type RenderJob = { kind: 'kustomize'; dir: string; cwd: string } | { kind: 'compose'; files: string[]; cwd: string };

/**
 * How prerender built the overlays: aggregate kustomize processes started, overlays they
 * rendered, and the overlays built alone (set aside, or refused by every batch they were in).
 */
export interface PrerenderStats {
  /** Overlays kustomize-batch built (one process per working folder). */
  program: number;
  batchProcesses: number;
  batched: number;
  alone: string[];
}

/** The debug line of a prerender (HOMELAB_DEBUG): `kustomize: 998 overlays by kustomize-batch, 0 batch process(es) for 0 overlays, 0 built alone`. */
export function describePrerender(stats: PrerenderStats): string {
  const alone = stats.alone.length > 0 && stats.alone.length <= 5 ? ` (${stats.alone.join(', ')})` : '';
  const program = findBatchProgram();
  const why = program.bin === null && findKustomizer() ? ` (kustomize-batch not used: ${program.reason})` : '';
  return `homelab: kustomize: ${stats.program} overlays by kustomize-batch${why}, ${stats.batchProcesses} batch process(es) for ${stats.batched} overlays, ${stats.alone.length} built alone${alone}`;
}

/**
 * Overlays per aggregate kustomize process: HOMELAB_KUSTOMIZE_BATCH, a debugging switch (1
 * builds every overlay alone, as before batching), else 25 (docs/validate.md): kustomize's CPU time per
 * overlay is lowest at 10-25 overlays a process and grows again beyond (its work grows faster than
 * the objects it holds).
 */
export function kustomizeBatchSize(): number {
  const size = Number(process.env.HOMELAB_KUSTOMIZE_BATCH ?? 25);
  return Number.isInteger(size) && size >= 1 ? size : 25;
}

/**
 * Runs render jobs concurrently (a few at a time) and keeps their results for kustomize() and
 * composeConfig(). Overlays are built many per kustomize process (kustomize-batch.ts), each
 * overlay a batch cannot render being built alone.
 */
export async function prerender(jobs: RenderJob[], concurrency = Math.max(2, os.availableParallelism?.() ?? os.cpus().length)): Promise<PrerenderStats> {
  const stats: PrerenderStats = { program: 0, batchProcesses: 0, batched: 0, alone: [] };
  const keys = jobs.filter((job) => (job.kind === 'kustomize' ? findKustomizer() : hasCompose())).map(jobKey);
  for (const key of keys) owe(key);
  try {
    await runPrerender(jobs, concurrency, stats);
  } finally {
    // A render that failed to run (its worker threw) is owed no longer: its project renders it itself.
    for (const key of keys) owed.get(key)?.resolve();
    for (const key of keys) owed.delete(key);
  }
  return stats;
}

async function runPrerender(jobs: RenderJob[], concurrency: number, stats: PrerenderStats): Promise<void> {
  const work: (() => Promise<void>)[] = [];
  const k = findKustomizer();
  const overlays = k ? jobs.filter((j): j is Extract<RenderJob, { kind: 'kustomize' }> => j.kind === 'kustomize') : [];
  const size = kustomizeBatchSize();
  for (const cwd of new Set(overlays.map((j) => j.cwd))) {
    const dirs = [...new Set(overlays.filter((j) => j.cwd === cwd).map((j) => j.dir))];
    const program = findBatchProgram().bin;
    // kustomize-batch builds each overlay as a build of its own: all of them, in one process;
    // should it not run to the end, the overlays it did not deliver go back in the queue as kubectl builds.
    if (program && size !== 1 && dirs.length > 0) work.push(() => buildWithProgram(program, dirs, cwd, stats, (rest) => work.push(...kubectlWork(k!, rest, cwd, size, stats))));
    else work.push(...kubectlWork(k!, dirs, cwd, size, stats));
  }
  for (const job of jobs) {
    if (job.kind !== 'compose' || !hasCompose()) continue;
    work.push(async () => {
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-validate-'));
      try {
        const { args, env } = composeArgs(job.files, scratch, 'homelab');
        keep(composeKey(job.files, job.cwd), await runAsync('docker', args, job.cwd, env));
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    });
  }
  const workers = Array.from({ length: Math.min(concurrency, work.length) }, async () => {
    for (let next = work.shift(); next; next = work.shift()) await next();
  });
  await Promise.all(workers);
}

function readKustomization(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      // the next name
    }
  }
  return '';
}

/**
 * The kubectl builds of overlays (relative to cwd): aggregate builds of `size` overlays, each
 * overlay that sets what only a top-level build honours built alone.
 */
function kubectlWork(k: NonNullable<Kustomizer>, dirs: string[], cwd: string, size: number, stats: PrerenderStats): (() => Promise<void>)[] {
  const work: (() => Promise<void>)[] = [];
  const alone = size === 1 ? dirs : dirs.filter((dir) => needsOwnBuild(readKustomization(path.resolve(cwd, dir))));
  const batchable = dirs.filter((dir) => !alone.includes(dir));
  for (const dir of alone) work.push(() => buildAlone(k, dir, cwd, stats));
  // Batches of even sizes (26 overlays: two of 13), so no overlay is left alone at the end.
  const per = Math.ceil(batchable.length / Math.ceil(batchable.length / size));
  for (let i = 0; i < batchable.length; i += per) {
    const batch = batchable.slice(i, i + per);
    work.push(() => buildBatch(k, batch, cwd, stats));
  }
  return work;
}

/**
 * Overlays (relative to cwd) built by kustomize-batch, each result exactly what the per-overlay
 * command gives (an error as kubectl's last lines) and kept as soon as the program has written it;
 * the overlays it did not deliver (it could not start, died, or wrote something else) go back to
 * `fallBack`, which queues their kubectl builds.
 */
async function buildWithProgram(program: string, dirs: string[], cwd: string, stats: PrerenderStats, fallBack: (rest: string[]) => void): Promise<void> {
  // validate reads the objects, not the text: JSON frames spare kustomize's YAML conversion and the YAML parse here.
  const { delivered } = await streamKustomizeBatch(
    program,
    dirs,
    cwd,
    toolEnv(),
    (i, frame) => keep(kustomizeKey(dirs[i], cwd), frame.ok ? { ok: true, output: frame.text, json: true } : { ok: false, error: lastLines(frame.text) }),
    { json: true },
  );
  stats.program += delivered;
  if (delivered < dirs.length) fallBack(dirs.slice(delivered));
}

/** One overlay with the per-overlay command: its result, error included, is exactly kustomize()'s. */
async function buildAlone(k: NonNullable<Kustomizer>, dir: string, cwd: string, stats: PrerenderStats): Promise<void> {
  stats.alone.push(dir);
  keep(kustomizeKey(dir, cwd), await runAsync(k.command, k.args(dir), cwd, toolEnv()));
}

/**
 * Overlays (relative to cwd) built by one aggregate kustomize process and split back per
 * overlay; a batch that fails or does not split cleanly is bisected, down to overlays built alone.
 */
async function buildBatch(k: NonNullable<Kustomizer>, dirs: string[], cwd: string, stats: PrerenderStats): Promise<void> {
  if (dirs.length === 1) return buildAlone(k, dirs[0], cwd, stats);
  const scratch = scratchFolder();
  let parts: string[] | null = null;
  try {
    writeAggregate(scratch, dirs.map((dir) => path.resolve(cwd, dir)));
    stats.batchProcesses++;
    const result = await runAsync(k.command, k.args(scratch), cwd, toolEnv());
    parts = result.ok ? splitAggregate(result.output, dirs.length) : null;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (parts) {
    stats.batched += dirs.length;
    dirs.forEach((dir, i) => keep(kustomizeKey(dir, cwd), { ok: true, output: parts![i] }));
    return;
  }
  const half = Math.ceil(dirs.length / 2);
  await buildBatch(k, dirs.slice(0, half), cwd, stats);
  await buildBatch(k, dirs.slice(half), cwd, stats);
}

function runAsync(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RenderResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (error) => resolve({ ok: false, error: error.message }));
    child.on('close', (status) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve(status === 0 ? { ok: true, output: stdout } : { ok: false, error: lastLines(stderr || stdout) });
    });
  });
}

/** Builds a kustomization folder (relative to cwd). */
export function kustomize(dir: string, cwd: string): RenderResult {
  const done = takePrerendered(kustomizeKey(dir, cwd));
  if (done) return done;
  const k = findKustomizer();
  if (!k) return { ok: false, error: 'no kustomize' };
  const r = spawnSync(k.command, k.args(dir), { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, env: toolEnv() });
  if (r.error) return { ok: false, error: r.error.message };
  if (r.status !== 0) return { ok: false, error: lastLines(r.stderr || r.stdout) };
  return { ok: true, output: r.stdout };
}

/**
 * Merges Compose files with `docker compose config`, without any secret value of the homelab
 * and without the caller's shell variables: the env file the base reads (HOMELAB_ENV_FILE)
 * points at a path that does not exist; in a workspace (`homelab`) an empty --env-file keeps a
 * `.env` beside the files out of interpolation, outside one (`project`) the project folder's
 * `.env` is read, as `docker compose config` reads it.
 */
export function composeConfig(files: string[], cwd: string, dotEnv: ComposeEnv = 'homelab'): RenderResult {
  const done = takePrerendered(composeKey(files, cwd));
  if (done) return done;
  if (!hasCompose()) return { ok: false, error: 'no docker compose' };
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-validate-'));
  try {
    const { args, env } = composeArgs(files, scratch, dotEnv);
    const r = spawnSync('docker', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000, env });
    if (r.error) return { ok: false, error: r.error.message };
    if (r.status !== 0) return { ok: false, error: dotEnvMasker(files, cwd, dotEnv)(lastLines(r.stderr || r.stdout)) };
    return { ok: true, output: r.stdout };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Masks the values of the project folder's `.env` (read outside a workspace) in Compose's error lines: they may be secrets. */
function dotEnvMasker(files: string[], cwd: string, dotEnv: ComposeEnv): (text: string) => string {
  if (dotEnv !== 'project' || files.length === 0) return (text) => text;
  try {
    return makeMasker(parseDotenv(fs.readFileSync(path.join(path.dirname(path.resolve(cwd, files[0])), '.env'), 'utf8')).values());
  } catch {
    return (text) => text;
  }
}
