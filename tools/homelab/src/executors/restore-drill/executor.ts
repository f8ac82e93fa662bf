import type { ExecutorContext } from '@nx/devkit';
import type { DeployOptions } from '../../deploy/request';
import { runDeployAction } from '../deploy/executor';

/**
 * `nx run <app>:restore-drill --env <env> [--keep] [--scratch-size 512m]`: takes a backup now,
 * restores it into a scratch Compose project, starts the app there isolated and checks it
 * (docs/backup.md, "restore-drill"). Runs in the deploy worker, under the project's deploy lock.
 */
export default async function restoreDrillExecutor(options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runDeployAction('restore-drill', options, context);
}
