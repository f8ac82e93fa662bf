import * as fs from 'node:fs';
import { ToolRunner } from './process';
import { Reporter } from './progress';
import type { DeployRequest } from './request';
import { runAction } from './run';
import { alive } from './secrets';

/** What the launcher passes to the worker: the request and the pid of the process waiting for it. */
export interface WorkerPayload extends DeployRequest {
  parentPid?: number;
}

/** File descriptor of the control pipe to the launcher: `{"pid":…}` first, `{"exitCode":…}` last. */
const CONTROL_FD = 3;

/**
 * The deploy worker: a process of its own, outside the process tree of Nx, so that when
 * Nx stops a task on Ctrl-C (SIGTERM to the whole tree, SIGKILL five seconds later) the
 * rollback and the removal of the private env files still run to the end.
 *
 * A first SIGINT/SIGTERM/SIGHUP, or the launcher going away, interrupts the deploy: the
 * tool call in flight is stopped and whatever changed is rolled back; later signals only
 * say the rollback is under way. Output goes to the launcher (while it listens) and, once
 * the deploy lock is held, to .homelab/state/<env>/<project>/last-run.log, masked like
 * everything else.
 */
export async function workerMain(payload: WorkerPayload): Promise<number> {
  const control = openControl();
  control(`${JSON.stringify({ pid: process.pid })}\n`);
  process.stdout.on('error', () => undefined);
  const write = (line: string) => {
    try {
      process.stdout.write(`${line}\n`);
    } catch {
      // the launcher is gone; the log (written under the deploy lock, see runAction) keeps the rest
    }
  };
  const report = new Reporter(write);
  const tools = new ToolRunner(process.env, (text) => report.mask(text));
  let interrupts = 0;
  const interrupt = (why: string) => {
    interrupts += 1;
    if (interrupts === 1) {
      report.line(`${why}: stopping the deploy and rolling back whatever changed`);
      tools.interrupt();
    } else {
      report.line(`${why}: the rollback is under way; it finishes on its own`);
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handlers = signals.map((signal) => [signal, () => interrupt(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const watchdog = payload.parentPid
    ? setInterval(() => {
        if (!alive(payload.parentPid!)) {
          clearInterval(watchdog);
          interrupt('the caller went away');
        }
      }, 500)
    : undefined;
  try {
    const code = await runAction(payload, { tools, report, env: process.env });
    control(`${JSON.stringify({ exitCode: code })}\n`);
    return code;
  } finally {
    clearInterval(watchdog);
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

function openControl(): (text: string) => void {
  try {
    fs.fstatSync(CONTROL_FD);
  } catch {
    return () => undefined;
  }
  return (text) => {
    try {
      fs.writeSync(CONTROL_FD, text);
    } catch {
      // the launcher is gone
    }
  };
}

if (require.main === module) {
  workerMain(JSON.parse(process.argv[2] ?? '{}') as WorkerPayload).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
