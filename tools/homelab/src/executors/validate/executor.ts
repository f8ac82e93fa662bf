import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatchWhenReady, runSingle, type TaskResult } from '../shared';
import { formatFinding, type ProjectLayer, projectRenderJobs, validateProject } from '../../validate/project';
import { describePrerender, prerender, renderedFor, type RenderJob } from '../../validate/kustomize-compose';
import { composeMergeCounts } from '../../validate/compose-merge';
import { inValidateRunAsync } from '../../validate/run-memo';

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
 * cost 500 process starts. Every project's overlays are handed to kustomize-batch first (one
 * process, building them in the tasks' order); while it builds, this process plans the Compose
 * merges, then checks the projects one by one, each as soon as its own renders are done. Nx uses
 * it by default (preferBatch in executors.json). Each project's output is printed as it
 * finishes, by runBatchWhenReady.
 */
export async function batchValidate(
  taskGraph: TaskGraph,
  inputs: Record<string, ValidateOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, TaskResult>> {
  // One run: what every project reads of the whole workspace (the specs, homelab.yaml, each
  // Compose file the merges read) is read once (validate/run-memo.ts).
  return inValidateRunAsync(async () => {
    // A project whose renders cannot even be listed has none here (projectRenderJobs): its own run reports why.
    const jobsOf = (kind: RenderJob['kind']) =>
      new Map(Object.entries(taskGraph.tasks).map(([id, task]): [string, RenderJob[]] => [id, projectRenderJobs(context.root, inputs[id].layer, task.target.project, [kind])]));
    const overlays = jobsOf('kustomize');
    const building = prerender([...overlays.values()].flat());
    // Awaited below, after the checks: until then a failure must not count as unhandled.
    building.catch(() => undefined);
    // Planning the merges parses every Compose file: done here, while the overlays build elsewhere.
    const merges = jobsOf('compose');
    const merging = prerender([...merges.values()].flat());
    merging.catch(() => undefined);
    const results = await runBatchWhenReady(run, taskGraph, inputs, context, (id) => renderedFor([...(overlays.get(id) ?? []), ...(merges.get(id) ?? [])]));
    const [built, merged] = [await building, await merging];
    if (process.env.HOMELAB_DEBUG) {
      process.stderr.write(`${describePrerender({ program: built.program + merged.program, batchProcesses: built.batchProcesses + merged.batchProcesses, batched: built.batched + merged.batched, alone: [...built.alone, ...merged.alone] })}\n`);
      // Which Compose merges ran in process and which by `docker compose config` (docs/validate.md; the bench reads it).
      console.error(`homelab: compose: ${composeMergeCounts.inProcess} merged in process, ${composeMergeCounts.fellBack} by docker compose config`);
    }
    return results;
  });
}
