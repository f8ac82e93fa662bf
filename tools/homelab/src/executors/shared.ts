import type { ExecutorContext, TaskGraph } from '@nx/devkit';

export interface TaskResult {
  success: boolean;
  terminalOutput: string;
}

/** Runs one project's work as a single Nx task, printing its output. */
export async function runSingle<O>(
  work: (root: string, project: string, options: O) => TaskResult,
  options: O,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const result = work(context.root, context.projectName!, options);
  (result.success ? process.stdout : process.stderr).write(result.terminalOutput);
  return { success: result.success };
}

/**
 * Runs many projects' work in one process (an executor's batchImplementation), so
 * 500 projects do not cost 500 process starts.
 */
export function runBatch<O>(
  work: (root: string, project: string, options: O) => TaskResult,
  taskGraph: TaskGraph,
  inputs: Record<string, O>,
  context: ExecutorContext,
): Record<string, TaskResult> {
  const results: Record<string, TaskResult> = {};
  for (const [taskId, task] of Object.entries(taskGraph.tasks)) {
    results[taskId] = work(context.root, task.target.project, inputs[taskId]);
  }
  return results;
}
