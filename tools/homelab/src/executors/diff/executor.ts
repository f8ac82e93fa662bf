import type { ExecutorContext } from '@nx/devkit';
import { HomelabError } from '../../errors';
import { runDiff } from '../../deploy/changes';
import { ToolRunner } from '../../deploy/process';
import { Reporter } from '../../deploy/progress';
import { absenceNotice, type DeployOptions, resolveRequest } from '../../deploy/request';

export type DiffExecutorOptions = Pick<DeployOptions, 'layer' | 'env' | 'platform'>;

/**
 * `nx run <project>:diff --env <env> [--platform compose|kubernetes]`: what a deploy would change
 * against what runs now. The task fails when a deploy would change something, as
 * `git diff --exit-code` does (runDiff: 0 nothing, 1 changes, 2 errors); Nx exits 1 for both
 * failures, and an error is the one line on stderr.
 */
export default async function diffExecutor(options: DiffExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const absent = absenceNotice(context.root, context.projectName!, options, 'diff');
    if (absent !== null) {
      process.stdout.write(`${absent}\n`);
      return { success: true };
    }
    const request = resolveRequest(context.root, context.projectName!, options, 'diff');
    const report = new Reporter((line) => process.stdout.write(`${line}\n`));
    const tools = new ToolRunner(process.env, (text) => report.mask(text));
    return { success: (await runDiff(request, { tools, report, env: process.env })) === 0 };
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return { success: false };
  }
}
