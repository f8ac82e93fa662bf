import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { formatFinding, validateProject } from '../../validate/project';

export interface ValidateOptions {
  layer: 'applications' | 'infrastructure';
}

function run(root: string, project: string, options: ValidateOptions): { success: boolean; terminalOutput: string } {
  const findings = validateProject(root, options.layer, project);
  const errors = findings.filter((f) => f.severity === 'error');
  const lines = findings.map(formatFinding);
  lines.push(errors.length === 0 ? `${project}: valid` : `${project}: ${errors.length} error(s)`);
  return { success: errors.length === 0, terminalOutput: `${lines.join('\n')}\n` };
}

/** `nx run <project>:validate` for one project. */
export default async function validateExecutor(options: ValidateOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const result = run(context.root, context.projectName!, options);
  (result.success ? process.stdout : process.stderr).write(result.terminalOutput);
  return { success: result.success };
}

/**
 * Batch implementation: many projects in one process, so validating 500 apps does not
 * cost 500 process starts. Nx uses it by default (preferBatch in executors.json).
 */
export async function batchValidate(
  taskGraph: TaskGraph,
  inputs: Record<string, ValidateOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, { success: boolean; terminalOutput: string }>> {
  const results: Record<string, { success: boolean; terminalOutput: string }> = {};
  for (const [taskId, task] of Object.entries(taskGraph.tasks)) {
    results[taskId] = run(context.root, task.target.project, inputs[taskId]);
  }
  return results;
}
