import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HomelabError } from '../errors';
import { runBatch, runBatchWhenReady, runSingle, type ProjectWork } from './shared';

/** A task graph of `<project>:build` tasks, as Nx hands it to a batch implementation. */
function graph(...projects: string[]): TaskGraph {
  const tasks = Object.fromEntries(projects.map((p) => [`${p}:build`, { id: `${p}:build`, target: { project: p, target: 'build' } }]));
  return { tasks } as unknown as TaskGraph;
}

/** What each project's work does in these tests: succeed, fail as a user error, or crash as a bug. */
const work: ProjectWork<{ layer: string }> = (_root, project) => {
  if (project === 'crashes') throw new TypeError("Cannot read properties of undefined (reading 'name')");
  if (project === 'refused') throw new HomelabError('applications/specs/refused.yaml: image "x:latest" is not pinned; pin a tag');
  return { success: true, terminalOutput: `wrote dist/dev/kubernetes/${project}.yaml\n` };
};

describe('executor results: each project stands on its own, and is reported', () => {
  const written = { stdout: '', stderr: '' };
  const capture = () => {
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((written.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((written.stderr += String(chunk)), true));
  };
  afterEach(() => {
    vi.restoreAllMocks();
    written.stdout = '';
    written.stderr = '';
  });

  it('a plain Error in one project of a batch fails that project only; the others keep their results', () => {
    capture();
    const inputs = { 'ok:build': { layer: 'applications' }, 'crashes:build': { layer: 'applications' }, 'last:build': { layer: 'applications' } };

    const results = runBatch(work, graph('ok', 'crashes', 'last'), inputs, { root: '/ws' } as ExecutorContext);

    expect(results['ok:build']).toEqual({ success: true, terminalOutput: 'wrote dist/dev/kubernetes/ok.yaml\n' });
    expect(results['last:build']).toEqual({ success: true, terminalOutput: 'wrote dist/dev/kubernetes/last.yaml\n' });
    expect(results['crashes:build'].success).toBe(false);
    expect(results['crashes:build'].terminalOutput).toMatch(/^crashes: unexpected error \(a bug in homelab, please report it\): TypeError: Cannot read properties of undefined/);
  });

  it('a HomelabError is the project\'s one-line reason, without a stack', () => {
    capture();
    const results = runBatch(work, graph('refused'), { 'refused:build': { layer: 'applications' } }, { root: '/ws' } as ExecutorContext);

    expect(results['refused:build']).toEqual({ success: false, terminalOutput: 'refused: applications/specs/refused.yaml: image "x:latest" is not pinned; pin a tag\n' });
  });

  it('a batch prints every project as it finishes: successes on stdout, failures on stderr', () => {
    capture();
    runBatch(work, graph('ok', 'refused'), { 'ok:build': { layer: 'applications' }, 'refused:build': { layer: 'applications' } }, { root: '/ws' } as ExecutorContext);

    expect(written.stdout).toBe('wrote dist/dev/kubernetes/ok.yaml\n');
    expect(written.stderr).toBe('refused: applications/specs/refused.yaml: image "x:latest" is not pinned; pin a tag\n');
  });

  it('a batch that waits checks each project only once it is ready, in the order of the tasks, and reports each', async () => {
    capture();
    const ready: Record<string, () => void> = {};
    const waits = new Map(['ok', 'last'].map((p) => [`${p}:build`, new Promise<void>((resolve) => (ready[p] = resolve))]));
    const checked: string[] = [];
    const inputs = { 'ok:build': { layer: 'applications' }, 'last:build': { layer: 'applications' } };

    const running = runBatchWhenReady((root, project, options) => (checked.push(project), work(root, project, options)), graph('ok', 'last'), inputs, { root: '/ws' } as ExecutorContext, (id) => waits.get(id)!);
    ready.last();
    await new Promise((resolve) => setImmediate(resolve));
    expect(checked).toEqual([]);
    ready.ok();
    const results = await running;

    expect(checked).toEqual(['ok', 'last']);
    expect(results['last:build']).toEqual({ success: true, terminalOutput: 'wrote dist/dev/kubernetes/last.yaml\n' });
    expect(written.stdout).toBe('wrote dist/dev/kubernetes/ok.yaml\nwrote dist/dev/kubernetes/last.yaml\n');
  });

  it('a single task reports through the same reporter and fails instead of throwing on a bug', async () => {
    capture();
    const result = await runSingle(work, { layer: 'applications' }, { root: '/ws', projectName: 'crashes' } as ExecutorContext);

    expect(result).toEqual({ success: false });
    expect(written.stderr).toMatch(/^crashes: unexpected error/);
  });
});
