import type { ExecutorContext } from '@nx/devkit';
import { HomelabError } from '../../errors';
import type { Layer } from '../../project/paths';
import { formatStatusJson, formatStatusTable, statusReasons } from '../../status/format';
import { readStatus } from '../../status/index';

export interface StatusExecutorOptions {
  layer: Layer;
  env?: string;
  format?: 'table' | 'json';
  requireDeployed?: boolean;
}

/**
 * `nx run <project>:status [--env <env>] [--format table|json] [--require-deployed]`: the rows of
 * `homelab status` for this project; fails with each reason, one line, when one is not ok.
 */
export default async function statusExecutor(options: StatusExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName!;
  try {
    const format = options.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw new HomelabError(`--format ${JSON.stringify(format)}: use table or json`);
    const report = await readStatus(context.root, { project, env: options.env, requireDeployed: Boolean(options.requireDeployed) });
    process.stdout.write(format === 'json' ? formatStatusJson(report) : formatStatusTable(report));
    for (const reason of statusReasons(report)) process.stderr.write(`${reason}\n`);
    return { success: report.ok };
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    process.stderr.write(`${project}: ${error.message}\n`);
    return { success: false };
  }
}
