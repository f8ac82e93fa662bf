import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatch, runSingle, type TaskResult } from '../shared';
import { buildProject } from '../../build/dist';
import type { Layer } from '../../project/paths';

export interface BuildOptions {
  layer: Layer;
}

/** One project: renders every environment, then writes the files (nothing is written when a render fails). */
function run(root: string, project: string, options: BuildOptions): TaskResult {
  const files = buildProject(root, options.layer, project);
  for (const file of files) {
    const abs = path.join(root, file.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, file.content);
  }
  return { success: true, terminalOutput: `${files.map((f) => `wrote ${f.path}`).join('\n')}\n` };
}

/** `nx run <project>:build`: dist/<env>/kubernetes/<project>.yaml and dist/<env>/compose/<project>/compose.yaml. */
export default async function buildExecutor(options: BuildOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runSingle(run, options, context);
}

/** Batch implementation: one process for many projects, each reported as it finishes (like validate). */
export async function batchBuild(
  taskGraph: TaskGraph,
  inputs: Record<string, BuildOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, TaskResult>> {
  return runBatch(run, taskGraph, inputs, context);
}
