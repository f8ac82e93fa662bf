import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployError } from './errors';
import { alive } from './secrets';

/** Who holds the lock: a process, told apart from a later one with the same pid by its start time. */
interface Holder {
  pid: number;
  /** /proc start time of the process; null where the system does not say (then the pid alone counts). */
  start: string | null;
}

/** A takeover guard older than this was left by a deployer that died inside the takeover. */
const GUARD_STALE_MS = 30_000;
const ATTEMPTS = 40;

/**
 * The deploy lock of one project in one environment, and the log its holder writes.
 *
 * - Taken by creating `deploy.lock` whole and at once (a hard link of a complete file,
 *   which fails when the name exists), so nobody ever reads a half-written lock.
 * - A lock whose holder is gone (no such pid, or a pid reused by a process that started
 *   later) is replaced only inside the takeover guard (`deploy.lock.takeover`, a folder:
 *   mkdir is atomic), after checking again under the guard, with an atomic rename. Only its
 *   live holder removes a lock. So two deployers never both hold it.
 * - The log (`last-run.log`) is written by the holder only: taking the lock moves the
 *   previous run's log to `previous-run.log` and appends from there on. A dry run or a
 *   refused deploy never touches it.
 */
export class DeployLock {
  private constructor(
    private readonly file: string,
    private readonly token: string,
    private readonly logFd: number,
  ) {}

  /**
   * Takes the lock in `dir` or throws one line naming the deploy that holds it and the log
   * to follow it in (`shownDir` is how messages name the folder).
   */
  static take(dir: string, what: string, shownDir: string): DeployLock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'deploy.lock');
    const token = `${JSON.stringify({ pid: process.pid, start: processStart(process.pid) } satisfies Holder)}\n`;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (create(file, token)) return DeployLock.held(dir, file, token);
      const holder = readHolder(file);
      if (holder === 'missing') continue;
      if (holder !== 'unreadable' && holds(holder)) {
        throw new DeployError(`${what}: another deploy is running (pid ${holder.pid}); wait for it, or follow it in ${path.join(shownDir, 'last-run.log')}`);
      }
      if (takeOver(file, token, what)) return DeployLock.held(dir, file, token);
      sleep(25 + Math.floor(Math.random() * 50));
    }
    throw new DeployError(`${what}: could not take the deploy lock ${path.join(shownDir, 'deploy.lock')} (other deployers kept taking it over); retry`);
  }

  private static held(dir: string, file: string, token: string): DeployLock {
    const log = path.join(dir, 'last-run.log');
    try {
      fs.renameSync(log, path.join(dir, 'previous-run.log'));
    } catch {
      // no earlier log
    }
    return new DeployLock(file, token, fs.openSync(log, 'a', 0o600));
  }

  /** Appends a line to the holder's log. */
  log(line: string): void {
    fs.writeSync(this.logFd, `${line}\n`);
  }

  /** Closes the log and removes the lock, if it is still this process's. */
  release(): void {
    fs.closeSync(this.logFd);
    let current: string | null = null;
    try {
      current = fs.readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    if (current === this.token) fs.rmSync(this.file, { force: true });
  }
}

/** Creates `file` with `content`, whole, unless it exists. */
function create(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Replaces a lock whose holder is gone, inside the takeover guard; false when another
 * deployer is taking it over or the holder turned out to be alive (the caller looks again).
 */
function takeOver(file: string, token: string, what: string): boolean {
  const guard = `${file}.takeover`;
  try {
    fs.mkdirSync(guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (statOrNull(guard)?.mtimeMs ?? Date.now());
    if (age > GUARD_STALE_MS) {
      throw new DeployError(`${what}: a deployer died while taking over a stale deploy lock; if no deploy of it is running, remove the folder ${guard} and retry`);
    }
    return false;
  }
  try {
    // Under the guard nobody else replaces the lock, and a live holder cannot have taken
    // it: the file read here is the file the rename replaces.
    const holder = readHolder(file);
    if (holder === 'missing') return create(file, token);
    if (holder !== 'unreadable' && holds(holder)) return false;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, token);
    fs.renameSync(tmp, file);
    return true;
  } finally {
    fs.rmdirSync(guard);
  }
}

/** The holder named by a lock file, 'missing' when there is none, 'unreadable' when it names no process. */
function readHolder(file: string): Holder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  // The format before pid and start time: the pid alone.
  if (/^\d+$/.test(text)) return { pid: Number(text), start: null };
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0) return { pid: parsed.pid as number, start: typeof parsed.start === 'string' ? parsed.start : null };
  } catch {
    // not a lock this version wrote
  }
  return 'unreadable';
}

/** The holder's process still runs (and is the same process, where its start time is known). */
function holds(holder: Holder): boolean {
  if (!alive(holder.pid)) return false;
  if (holder.start === null) return true;
  const now = processStart(holder.pid);
  return now === null || now === holder.start;
}

/**
 * When a process started (Linux: field 22 of /proc/<pid>/stat, clock ticks since boot),
 * to tell it from a later process that got the same pid; null where there is no /proc.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command name, is in parentheses and may hold spaces: fields 3… follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
