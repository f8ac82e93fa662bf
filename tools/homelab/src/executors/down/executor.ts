import type { ExecutorContext } from '@nx/devkit';
import type { DeployOptions } from '../../deploy/request';
import { runDeployAction } from '../deploy/executor';

/**
 * `nx run <project>:down --env <env> [--platform compose|kubernetes] [--volumes --delete-data=<project>] [--dry-run] [--yes]`:
 * removes the project's stack from an environment; volumes stay unless --volumes, confirmed by --delete-data.
 */
export default async function downExecutor(options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runDeployAction('down', options, context);
}
