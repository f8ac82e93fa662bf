import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { buildProject, type Layer } from '../../build/render';
import { HomelabError } from '../../errors';

export interface BuildOptions {
  layer: Layer;
}

function run(root: string, project: string, options: BuildOptions): { success: boolean; terminalOutput: string } {
  try {
    const files = buildProject(root, options.layer, project);
    for (const file of files) {
      const abs = path.join(root, file.path);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, file.content);
    }
    return { success: true, terminalOutput: `${files.map((f) => `wrote ${f.path}`).join('\n')}\n` };
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    return { success: false, terminalOutput: `${project}: ${error.message}\n` };
  }
}

/** `nx run <project>:build`: dist/<env>/kubernetes/<project>.yaml and dist/<env>/compose/<project>/compose.yaml. */
export default async function buildExecutor(options: BuildOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const result = run(context.root, context.projectName!, options);
  (result.success ? process.stdout : process.stderr).write(result.terminalOutput);
  return { success: result.success };
}

/** Batch implementation: one process for many projects. */
export async function batchBuild(
  taskGraph: TaskGraph,
  inputs: Record<string, BuildOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, { success: boolean; terminalOutput: string }>> {
  const results: Record<string, { success: boolean; terminalOutput: string }> = {};
  for (const [taskId, task] of Object.entries(taskGraph.tasks)) {
    results[taskId] = run(context.root, task.target.project, inputs[taskId]);
  }
  return results;
}
