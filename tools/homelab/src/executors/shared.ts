import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { HomelabError } from '../errors';

export interface TaskResult {
  success: boolean;
  terminalOutput: string;
}

/** One project's work of an executor: what it did, or a HomelabError naming what is wrong. */
export type ProjectWork<O> = (root: string, project: string, options: O) => TaskResult;

/**
 * Runs one project's work so that its result stands on its own: a HomelabError becomes
 * the project's one-line failure, and any other error (a bug) the project's failure with
 * its stack, instead of escaping and taking the other projects of a batch with it.
 */
export function settle<O>(work: ProjectWork<O>, root: string, project: string, options: O): TaskResult {
  try {
    return work(root, project, options);
  } catch (error) {
    if (error instanceof HomelabError) return { success: false, terminalOutput: `${project}: ${error.message}\n` };
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { success: false, terminalOutput: `${project}: unexpected error (a bug in homelab, please report it): ${detail}\n` };
  }
}

/**
 * The one reporter of every executor: a project's output as it finishes, on stdout when
 * it succeeded and on stderr when it failed. Nx shows a batch process's own output (and
 * caches terminalOutput), so a batch prints each project's result here, like a single run.
 */
export function report(result: TaskResult, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): void {
  (result.success ? out.stdout : out.stderr).write(result.terminalOutput);
}

/** Runs one project's work as a single Nx task, printing its output. */
export async function runSingle<O>(work: ProjectWork<O>, options: O, context: ExecutorContext): Promise<{ success: boolean }> {
  const result = settle(work, context.root, context.projectName!, options);
  report(result);
  return { success: result.success };
}

/**
 * Runs many projects' work in one process (an executor's batchImplementation), so
 * 500 projects do not cost 500 process starts. Each project is settled and reported on
 * its own: one failing or crashing project does not hide the others' results.
 */
export function runBatch<O>(work: ProjectWork<O>, taskGraph: TaskGraph, inputs: Record<string, O>, context: ExecutorContext): Record<string, TaskResult> {
  const results: Record<string, TaskResult> = {};
  for (const [taskId, task] of Object.entries(taskGraph.tasks)) {
    results[taskId] = settle(work, context.root, task.target.project, inputs[taskId]);
    report(results[taskId]);
  }
  return results;
}

/**
 * runBatch for work whose projects wait for something first: `ready(taskId)` resolves when the
 * task's project may be checked (its renders are done), in the tasks' order.
 */
export async function runBatchWhenReady<O>(
  work: ProjectWork<O>,
  taskGraph: TaskGraph,
  inputs: Record<string, O>,
  context: ExecutorContext,
  ready: (taskId: string) => Promise<void>,
): Promise<Record<string, TaskResult>> {
  const results: Record<string, TaskResult> = {};
  for (const [taskId, task] of Object.entries(taskGraph.tasks)) {
    // A turn of the event loop between projects, even when the next one is ready: it reads what
    // the renderers have written since (a pipe left full stops a renderer until it is read).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await ready(taskId);
    results[taskId] = settle(work, context.root, task.target.project, inputs[taskId]);
    report(results[taskId]);
  }
  return results;
}
