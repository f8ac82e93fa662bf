import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { DeployError } from './errors';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Written to the tool's stdin (e.g. a rendered file with secret values: never on the command line). */
  input?: string;
  /** Killed (SIGTERM, then SIGKILL) after this long. */
  timeoutMs?: number;
  /** Extra environment variables for this call. */
  env?: NodeJS.ProcessEnv;
  /** Each line the tool writes, as it comes (masked), for progress that must be visible. */
  onLine?: (line: string) => void;
  /** When true, an interrupt does not stop this call (rollback and clean-up must finish). */
  uninterruptible?: boolean;
}

/**
 * Runs the external tools of a deploy (docker, kubectl, argocd, secret-manager CLIs)
 * without a shell. Every child gets its own process group, so a Ctrl-C on the terminal
 * reaches homelab, which decides what to stop; `interrupt()` stops the calls in flight
 * (except uninterruptible ones) and makes later interruptible calls fail at once.
 */
export class ToolRunner {
  private readonly running = new Set<{ kill: () => void; uninterruptible: boolean }>();
  private interruptedFlag = false;

  constructor(
    private readonly baseEnv: NodeJS.ProcessEnv,
    /** Hides secret values in everything that is returned or reported. */
    readonly mask: (text: string) => string = (t) => t,
  ) {}

  get interrupted(): boolean {
    return this.interruptedFlag;
  }

  /** Stops every interruptible call in flight. */
  interrupt(): void {
    this.interruptedFlag = true;
    for (const child of this.running) if (!child.uninterruptible) child.kill();
  }

  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<ToolResult> {
    if (this.interruptedFlag && !options.uninterruptible) {
      return Promise.reject(new InterruptedError());
    }
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...this.baseEnv, ...options.env },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let partial = '';
      const emit = (chunk: string) => {
        if (!options.onLine) return;
        partial += chunk;
        const lines = partial.split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') options.onLine(this.mask(line));
      };
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        emit(d);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        emit(d);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
      let killTimer: NodeJS.Timeout | undefined;
      const kill = () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        signalGroup(child.pid, 'SIGTERM');
        killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
      };
      const entry = { kill, uninterruptible: Boolean(options.uninterruptible) };
      this.running.add(entry);
      const timer = options.timeoutMs ? setTimeout(kill, options.timeoutMs) : undefined;
      child.on('error', (error: NodeJS.ErrnoException) => {
        this.running.delete(entry);
        clearTimeout(timer);
        clearTimeout(killTimer);
        reject(
          error.code === 'ENOENT' && options.cwd && !fs.existsSync(options.cwd)
            ? new DeployError(`${command}: the folder ${options.cwd} does not exist`)
            : error.code === 'ENOENT'
            ? new DeployError(`\`${command}\` is not installed or not on PATH; install it (npm run setup:engines sets up docker and kubectl) and retry`)
            : new DeployError(`${command}: ${error.message}`),
        );
      });
      child.on('close', (code, signal) => {
        this.running.delete(entry);
        clearTimeout(timer);
        clearTimeout(killTimer);
        if (partial.trim() !== '' && options.onLine) options.onLine(this.mask(partial));
        if (this.interruptedFlag && !options.uninterruptible && code !== 0) {
          reject(new InterruptedError());
          return;
        }
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /**
   * Runs a tool that must succeed; otherwise throws a DeployError naming `what` with the
   * tool's own last stderr lines (masked).
   */
  async ok(command: string, args: readonly string[], what: string, options: RunOptions = {}): Promise<string> {
    const result = await this.run(command, args, options);
    if (result.code !== 0) throw new DeployError(`${what} failed: ${this.tail(result)}`);
    return result.stdout;
  }

  /** The last meaningful lines a failed tool wrote, masked, on one line. */
  tail(result: ToolResult, lines = 3): string {
    const text = (result.stderr.trim() || result.stdout.trim() || (result.signal ? `killed by ${result.signal}` : `exit ${result.code}`))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    return this.mask(text.slice(-lines).join(' | '));
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The deploy was interrupted (SIGINT, SIGTERM, or the caller went away). */
export class InterruptedError extends DeployError {
  constructor(message = 'interrupted before anything changed; nothing was changed') {
    super(message, 130);
    this.name = 'InterruptedError';
  }
}
