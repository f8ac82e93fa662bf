import type { ExecutorContext } from '@nx/devkit';
import { HomelabError } from '../../errors';
import { confirmProtected } from '../../deploy/confirm';
import { runInWorker } from '../../deploy/launch';
import { absenceNotice, type Action, type DeployOptions, resolveRequest } from '../../deploy/request';

export type { DeployOptions };

/**
 * Shared by `deploy` and `down`: normalize the options against homelab.yaml and the
 * project's files (an environment the project is not in is a no-op that says why), ask
 * for confirmation on a protected environment, then run the platform's adapter in the deploy worker (which cleans up and rolls back on its own).
 * A known failure is one line on stderr, never a stack trace.
 */
export async function runDeployAction(action: Action, options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    // A component installed by another environment, or an app that does not run in this one.
    const absent = absenceNotice(context.root, context.projectName!, options, action);
    if (absent !== null) {
      process.stdout.write(`${absent}\n`);
      return { success: true };
    }
    const request = resolveRequest(context.root, context.projectName!, options, action);
    await confirmProtected(request);
    return { success: (await runInWorker(request)) === 0 };
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return { success: false };
  }
}

/**
 * `nx run <project>:deploy --env <env> [--platform compose|kubernetes] [--dry-run] [--yes]`:
 * after the project's build and its dependencies' deploy (same options, forwarded by Nx).
 */
export default async function deployExecutor(options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runDeployAction('deploy', options, context);
}
