import type { ExecutorContext } from '@nx/devkit';
import type { DeployOptions } from '../../deploy/request';
import { runDeployAction } from '../deploy/executor';

/**
 * `nx run <project>:down --env <env> [--platform compose|kubernetes] [--volumes] [--dry-run] [--yes]`:
 * removes the project's stack from an environment; volumes stay unless --volumes.
 */
export default async function downExecutor(options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runDeployAction('down', options, context);
}
