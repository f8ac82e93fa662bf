import type { ExecutorContext } from '@nx/devkit';
import { HomelabError } from '../../errors';
import { type LogsOptions, runLogs } from '../../deploy/logs';
import { ToolRunner } from '../../deploy/process';
import { Reporter } from '../../deploy/progress';
import { absenceNotice, type DeployOptions, resolveRequest } from '../../deploy/request';

export type LogsExecutorOptions = Pick<DeployOptions, 'layer' | 'env' | 'platform'> & LogsOptions;

/**
 * `nx run <project>:logs --env <env> [--platform compose|kubernetes] [--follow] [--since D] [--service S]`:
 * the logs of the project's services where the environment runs them, secret values masked.
 * With --follow it streams until interrupted: Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the tool and
 * end the task successfully. A known failure is one line on stderr.
 */
export default async function logsExecutor(options: LogsExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  for (const s of signals) process.on(s, stop);
  try {
    const absent = absenceNotice(context.root, context.projectName!, options, 'logs');
    if (absent !== null) {
      process.stdout.write(`${absent}\n`);
      return { success: true };
    }
    const request = resolveRequest(context.root, context.projectName!, options, 'logs');
    const report = new Reporter((line) => process.stdout.write(`${line}\n`));
    const tools = new ToolRunner(process.env);
    const code = await runLogs(request, options, { tools, report, env: process.env }, { out: (line) => process.stdout.write(`${line}\n`), stopped });
    return { success: code === 0 };
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return { success: false };
  } finally {
    for (const s of signals) process.off(s, stop);
  }
}
