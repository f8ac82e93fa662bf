import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { DeployRequest } from './request';
import { StateDir } from './state';

export interface LaunchIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The worker's environment (secret source `env`, DOCKER_HOST, TMPDIR); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a deploy in the worker process (worker.ts) and waits for it, relaying its output
 * and forwarding SIGINT/SIGTERM/SIGHUP to it as an interrupt. The worker is started
 * through `sh -c '… &'`: the shell exits at once, so the worker is no child of this
 * process and Nx's clean-up on Ctrl-C (which kills the task's whole process tree after
 * a short grace period) cannot cut its rollback short. Returns the worker's exit code.
 */
export async function runInWorker(request: DeployRequest, io: LaunchIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...args] = workerCommand();
  const payload = JSON.stringify({ ...request, parentPid: process.pid });
  const child = spawn('/bin/sh', ['-c', '"$@" &', 'homelab-deploy', command, ...args, payload], {
    cwd: request.root,
    env: io.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let workerPid: number | undefined;
  let exitCode: number | undefined;
  let pendingSignal = false;
  const forward = () => {
    if (workerPid) signal(workerPid);
    else pendingSignal = true;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  const control = child.stdio[3] as NodeJS.ReadableStream;
  let buffer = '';
  control.setEncoding('utf8');
  control.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const message = parse(line);
      if (typeof message?.pid === 'number') {
        workerPid = message.pid;
        if (pendingSignal) signal(workerPid);
      }
      if (typeof message?.exitCode === 'number') exitCode = message.exitCode;
    }
  });
  child.stdout!.pipe(io.stdout, { end: false });
  child.stderr!.pipe(io.stderr, { end: false });
  try {
    await Promise.all([closed(child.stdout!), closed(child.stderr!), closed(control)]);
  } finally {
    for (const s of signals) process.off(s, forward);
  }
  if (exitCode === undefined) {
    // A dry run keeps no log (it takes no lock); a deploy's log is in its state folder.
    const log = request.dryRun ? '' : `; see ${path.join(new StateDir(request.root, request.env, request.project).shown, 'last-run.log')}`;
    io.stderr.write(`error: ${request.project} (${request.env}): the deploy process ended without a result${log}\n`);
    return 1;
  }
  return exitCode;
}

/**
 * How to start the worker: compiled JavaScript with node, or the TypeScript source with
 * @swc-node/register (what Nx itself loads TypeScript executors with).
 */
function workerCommand(): string[] {
  const js = path.join(__dirname, 'worker.js');
  if (fs.existsSync(js)) return [process.execPath, js];
  const register = createRequire(__filename).resolve('@swc-node/register');
  return [process.execPath, '-r', register, path.join(__dirname, 'worker.ts')];
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    // already gone
  }
}

function parse(line: string): { pid?: unknown; exitCode?: unknown } | null {
  try {
    return JSON.parse(line) as { pid?: unknown; exitCode?: unknown };
  } catch {
    return null;
  }
}

function closed(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
    stream.resume?.();
  });
}
