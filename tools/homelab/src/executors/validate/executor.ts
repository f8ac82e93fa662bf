import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatch, runSingle, type TaskResult } from '../shared';
import { formatFinding, type ProjectLayer, projectRenderJobs, validateProject } from '../../validate/project';
import { describePrerender, prerender } from '../../validate/kustomize-compose';
import { composeMergeCounts } from '../../validate/compose-merge';
import { inValidateRun } from '../../validate/run-memo';

export interface ValidateOptions {
  layer: ProjectLayer;
}

/** One project: every finding as `path:line:col  rule  message`, then a one-line verdict. */
function run(root: string, project: string, options: ValidateOptions): TaskResult {
  const findings = validateProject(root, options.layer, project);
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.length - errors.length;
  const lines = findings.map(formatFinding);
  lines.push(errors.length === 0 ? `${project}: valid${warnings ? ` (${warnings} warning(s))` : ''}` : `${project}: ${errors.length} error(s)`);
  return { success: errors.length === 0, terminalOutput: `${lines.join('\n')}\n` };
}

/** `nx run <project>:validate` for one project. */
export default async function validateExecutor(options: ValidateOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runSingle(run, options, context);
}

/**
 * Batch implementation: many projects in one process, so validating 500 apps does not
 * cost 500 process starts; each project's environments are rendered once, all projects'
 * renders concurrently before the checks. Nx uses it by default (preferBatch in
 * executors.json). Each project's output is printed as it finishes, by runBatch.
 */
export async function batchValidate(
  taskGraph: TaskGraph,
  inputs: Record<string, ValidateOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, TaskResult>> {
  // Every project's kustomize and Compose calls (50-140 ms each) first, a few at a time, the
  // overlays many per kustomize process. A project whose renders cannot even be listed is left
  // out here: its own run reports why.
  const stats = await prerender(
    Object.entries(taskGraph.tasks).flatMap(([id, task]) => {
      try {
        return projectRenderJobs(context.root, inputs[id].layer, task.target.project);
      } catch {
        return [];
      }
    }),
  );
  if (process.env.HOMELAB_DEBUG) process.stderr.write(`${describePrerender(stats)}\n`);
  // One run: what every project reads of the whole workspace is read once (validate/run-memo.ts).
  const results = inValidateRun(() => runBatch(run, taskGraph, inputs, context));
  // Which Compose merges ran in process and which by `docker compose config` (docs/validate.md; the bench reads it).
  if (process.env.HOMELAB_DEBUG) console.error(`homelab: compose: ${composeMergeCounts.inProcess} merged in process, ${composeMergeCounts.fellBack} by docker compose config`);
  return results;
}
