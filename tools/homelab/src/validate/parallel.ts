import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import { type CheckClass, Engine } from './engine';
import type { Finding } from './findings';
import type { Issue, K8sObject, Obj, PolicySubject } from './objects';
import type { DocPath, SourceFile } from './source';

/**
 * `homelab validate` of many plain manifests on several cores. The files are claimed one at a
 * time from a shared counter by the main thread and by worker threads, each with an Engine of
 * its own and the same options, which checks a claimed file exactly as the main thread would
 * (parse, schema, policy) and keeps the objects the folder's set checks need. The main thread
 * gathers every thread's findings and kept objects, runs the set checks, and hands a finding on
 * another thread's object back to that thread, which locates it in the positions of its one
 * parse. Findings are sorted by file, line, column and rule in the end (sortFindings), and each
 * file's findings come from one thread in the order one thread makes them, so the output is the
 * one thread's, byte for byte (tests/validate/parallel.test.ts).
 *
 * The main thread waits for the workers synchronously (Atomics.wait on a shared counter, then
 * receiveMessageOnPort), so validation stays a synchronous function. A worker that fails to
 * start hands its files back; one that fails later makes the run an internal error.
 */

/** A file to check, as the engine labels it. */
export interface PoolFile {
  abs: string;
  label: string;
}

export interface PoolOptions {
  workspaceRoot: string | null;
  checks: ReadonlySet<CheckClass>;
  maxFileBytes?: number;
}

/** An object a worker kept for the set checks: its file's index, where it is, and its number on that worker. */
interface KeptObject {
  file: number;
  obj: Obj;
  doc: number;
  base: DocPath;
  patch: boolean;
  ref: number;
}

/** What one worker found in the files it claimed. */
interface Share {
  findings: Finding[];
  files: number;
  documents: number;
  fromParse: number;
  reparsed: number;
  kept: KeptObject[];
}

/** An issue of a set check on a worker's object, for that worker to locate. */
interface Deferred {
  ref: number;
  rule: string;
  message: string;
  path: DocPath;
  key?: string;
  about?: PolicySubject;
}

type Located = { fromParse: number; reparsed: number };
type FromWorker = { share: Share } | { findings: Finding[]; located: Located } | { error: string; claimed: number[] };

interface WorkerData {
  files: PoolFile[];
  options: { workspaceRoot: string | null; checks: CheckClass[]; maxFileBytes?: number };
  /** [0] the next file to claim, [1] bumped by a worker each time it posts. */
  counters: Int32Array;
  port: MessagePort;
  /** The CLI bundle this process runs (src/bundle/load.js), else null: this module through tsx. */
  bundle: string | null;
  module: string;
}

/** Below this much YAML a worker's start (loading the code and the validators) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Threads by default, at most: each worker holds its own code, validators and heap (about 55 MB
 * on the bench's 10,000 documents: 190 MB peak with one thread, 240 with two, 295 with three), and
 * validate must stay within 250 MB. On a quiet 2-core machine two threads did not pay
 * (`RUNS=3 npm run bench:validate`, 10,000 documents: 1.52 s against 1.36 s for one thread in one
 * run, 1.51 s against 1.61 s in the next) and took 236-242 MB, so by default it is one: more
 * threads only with HOMELAB_VALIDATE_THREADS.
 */
export const MAX_DEFAULT_THREADS = 1;

/**
 * How many threads check files: `HOMELAB_VALIDATE_THREADS` when set (1: the main thread alone),
 * else one a core up to MAX_DEFAULT_THREADS, and 1 for less than PARALLEL_MIN_BYTES of YAML.
 * `bytes` is asked only when it decides (a stat of every file otherwise: 500 for the bench's corpus).
 */
export function threadsFor(bytes: () => number, env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.HOMELAB_VALIDATE_THREADS);
  if (Number.isInteger(asked) && asked >= 1) return asked;
  const most = Math.max(1, Math.min(MAX_DEFAULT_THREADS, os.availableParallelism()));
  return most === 1 || bytes() < PARALLEL_MIN_BYTES ? 1 : most;
}

/** The entry of the `homelab` command, whose bundle (when this process runs one) holds validateWorker. */
const CLI_ENTRY = path.join(__dirname, '../cli/main.ts');

/** How a worker thread starts: the code this process runs (the CLI bundle, or this module through tsx), then validateWorker. */
const BOOT = `
const { workerData } = require('node:worker_threads');
let code;
try {
  code = workerData.bundle ? require(workerData.bundle) : (require('tsx/cjs'), require(workerData.module));
} catch (error) {
  workerData.port.postMessage({ error: String((error && error.stack) || error), claimed: [] });
  Atomics.add(workerData.counters, 1, 1);
  Atomics.notify(workerData.counters, 1);
}
if (code) code.validateWorker();
`;

/** The main thread's side: starts the workers, claims files beside them, gathers what they found. */
export class FilePool {
  private readonly counters = new Int32Array(new SharedArrayBuffer(8));
  private readonly ports: MessagePort[] = [];
  private readonly workers: Worker[] = [];
  /** The worker and number of each object a worker kept. */
  private readonly remote = new Map<K8sObject, { worker: number; ref: number }>();
  private readonly deferred: Deferred[][] = [];
  /** How the workers' findings got their positions (HOMELAB_DEBUG=positions), by worker. */
  private readonly located: Located[] = [];

  constructor(
    readonly files: PoolFile[],
    options: PoolOptions,
    workers: number,
  ) {
    const bundle = (require('../bundle/load.js') as { loaded: Map<string, string> }).loaded.get(CLI_ENTRY) ?? null;
    for (let w = 0; w < workers; w++) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = {
        files,
        options: { workspaceRoot: options.workspaceRoot, checks: [...options.checks], maxFileBytes: options.maxFileBytes },
        counters: this.counters,
        port: port2,
        bundle,
        module: __filename,
      };
      const worker = new Worker(BOOT, { eval: true, workerData: data, transferList: [port2] });
      // The process ends when the main thread is done; a worker's own end is not waited for.
      worker.unref();
      this.workers.push(worker);
      this.ports.push(port1);
      this.deferred.push([]);
    }
  }

  /** The next file for the main thread to check, or -1 when every file is claimed. */
  claim(): number {
    const i = Atomics.add(this.counters, 0, 1);
    return i < this.files.length ? i : -1;
  }

  /**
   * Waits for every worker's share: their findings, counts and kept objects (as K8sObjects whose
   * source carries the file's label and path; their issues go to `defer`). Call it once the main
   * thread's `claim` returns -1. A worker that could not start claimed no file and has no share.
   */
  gather(): { shares: Share[]; objects: { file: number; target: K8sObject }[] } {
    const shares: Share[] = [];
    const objects: { file: number; target: K8sObject }[] = [];
    this.waitAll((w, m) => {
      if ('error' in m) {
        if (m.claimed.length) throw new Error(`a validate worker failed: ${m.error}`);
        return;
      }
      if (!('share' in m)) return;
      shares.push(m.share);
      this.located[w] = { fromParse: m.share.fromParse, reparsed: m.share.reparsed };
      for (const k of m.share.kept) {
        const f = this.files[k.file];
        // Its text and positions stay on the worker: what the set checks read is the object.
        const source = { file: f.label, abs: f.abs, text: '', docs: [] } as SourceFile;
        const target: K8sObject = { obj: k.obj, source, doc: k.doc, base: k.base, patch: k.patch };
        this.remote.set(target, { worker: w, ref: k.ref });
        objects.push({ file: k.file, target });
      }
    });
    return { shares, objects };
  }

  /** How the workers' findings were located, all told (after `finish`). */
  positions(): Located {
    return this.located.reduce((a, b) => ({ fromParse: a.fromParse + b.fromParse, reparsed: a.reparsed + b.reparsed }), { fromParse: 0, reparsed: 0 });
  }

  /** Is this object a worker's (its issues go to `defer`)? */
  isRemote(t: K8sObject): boolean {
    return this.remote.has(t);
  }

  /** An issue on a worker's object: located by that worker in `finish`. */
  defer(issue: Issue): void {
    const { worker, ref } = this.remote.get(issue.target)!;
    this.deferred[worker].push({ ref, rule: issue.rule, message: issue.message, path: issue.path, key: issue.key, about: issue.about });
  }

  /** Sends each worker the issues deferred to it; returns their findings (in order, worker by worker) and lets the workers end. */
  finish(): Finding[] {
    const out: Finding[][] = this.workers.map(() => []);
    this.ports.forEach((port, w) => port.postMessage({ resolve: this.deferred[w] }));
    this.waitAll((w, m) => {
      if ('error' in m) throw new Error(`a validate worker failed: ${m.error}`);
      if ('findings' in m) {
        out[w] = m.findings;
        this.located[w] = m.located;
      }
    });
    for (const port of this.ports) port.close();
    return out.flat();
  }

  /** Receives one message from every worker, in whatever order they come. */
  private waitAll(onMessage: (worker: number, message: FromWorker) => void): void {
    const pending = new Set(this.ports.keys());
    while (pending.size) {
      const seen = Atomics.load(this.counters, 1);
      for (const w of [...pending]) {
        const received = receiveMessageOnPort(this.ports[w]);
        if (!received) continue;
        pending.delete(w);
        const m = received.message as FromWorker;
        if ('error' in m && m.claimed.length === 0 && !('share' in m)) this.workers[w].terminate();
        onMessage(w, m);
      }
      if (pending.size) Atomics.wait(this.counters, 1, seen, 1000);
    }
  }
}

/**
 * A worker thread's side (started by FilePool): claims files until none is left and checks each
 * as the main thread would, posts its share, then locates the set-check issues it is sent back.
 */
export function validateWorker(): void {
  const data = workerData as WorkerData;
  const { files, options, counters, port } = data;
  const post = (message: FromWorker) => {
    port.postMessage(message);
    Atomics.add(counters, 1, 1);
    Atomics.notify(counters, 1);
  };
  const engine = new Engine({ workspaceRoot: options.workspaceRoot, checks: new Set(options.checks), maxFileBytes: options.maxFileBytes, retainDocs: false });
  const kept: K8sObject[] = [];
  const share: Share = { findings: [], files: 0, documents: 0, fromParse: 0, reparsed: 0, kept: [] };
  const claimed: number[] = [];
  try {
    for (let i = Atomics.add(counters, 0, 1); i < files.length; i = Atomics.add(counters, 0, 1)) {
      claimed.push(i);
      const { objects } = engine.checkFile(files[i].abs, files[i].label, 'kubernetes');
      for (const t of objects) {
        share.kept.push({ file: i, obj: t.obj, doc: t.doc, base: t.base, patch: t.patch, ref: kept.length });
        kept.push(t);
      }
    }
    Object.assign(share, { findings: engine.findings.splice(0), files: engine.files, documents: engine.documents });
  } catch (error) {
    post({ error: String((error as Error)?.stack ?? error), claimed });
    port.close();
    return;
  }
  post({ share: { ...share, fromParse: engine.locator.fromParse, reparsed: engine.locator.reparsed } });
  port.on('message', (m: { resolve: Deferred[] }) => {
    try {
      for (const d of m.resolve) engine.resolve({ rule: d.rule, message: d.message, target: kept[d.ref], path: d.path, key: d.key, about: d.about });
      post({ findings: engine.findings.splice(0), located: { fromParse: engine.locator.fromParse, reparsed: engine.locator.reparsed } });
    } catch (error) {
      post({ error: String((error as Error)?.stack ?? error), claimed });
    }
    port.close();
  });
}
