import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, createTempWorkspace, REPO_ROOT } from '../scripts/lib/temp-workspace';
import { removeDir } from './support/workspace';

/**
 * The workspace turns Nx's plugin isolation off itself (the committed .local.env, which Nx reads
 * at every command; README "Performance"), so every Nx command of a homelab, in CI or in a shell,
 * loads the plugins in its own process instead of starting a worker per plugin. NX_PERF_LOGGING
 * names each plugin worker Nx starts: none with the workspace's setting, the homelab one when
 * isolation is asked for explicitly (so the check can fail).
 */
let root: string;

beforeAll(() => {
  root = createTempWorkspace('homelab-isolation-');
});

afterAll(() => removeDir(root));

function showProjects(extra: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const env = childEnv({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_PERF_LOGGING: 'true', ...extra });
  delete env.NX_ISOLATE_PLUGINS;
  Object.assign(env, extra);
  const result = spawnSync(path.join(root, 'node_modules/.bin/nx'), ['show', 'projects'], { cwd: root, env, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('plugin isolation', () => {
  it('is off in a workspace as it is committed: .local.env sets it, and it holds no secret', () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, '.local.env'), 'utf8');
    const settings = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(settings).toEqual(['NX_ISOLATE_PLUGINS=false']);
    expect(fs.existsSync(path.join(root, '.local.env'))).toBe(true);
  });

  it('nx starts no plugin worker with the workspace setting, and starts the homelab one when isolation is asked for', () => {
    const own = showProjects({});
    expect(own.status, own.out).toBe(0);
    expect(own.out).toContain('homelab-platform');
    expect(own.out).not.toMatch(/start-plugin-worker/);

    const isolated = showProjects({ NX_ISOLATE_PLUGINS: 'true' });
    expect(isolated.status, isolated.out).toBe(0);
    expect(isolated.out).toMatch(/start-plugin-worker:homelab/);
  });
});

/**
 * The tool's package manifest is left out of Nx's graph (.nxignore): with a `homelab` project
 * inferred from it, Nx resolves every homelab executor's schema "from source" and loads the
 * TypeScript compiler for it, about 0.5 s of every command (README, "Performance"). A preloaded
 * script records, as the nx process exits, whether it loaded TypeScript.
 */
describe('the tool package in the project graph', () => {
  function graphLoads(): { projects: string[]; typescript: boolean } {
    const record = path.join(root, '.nx', 'loaded-typescript.json');
    const hook = path.join(root, '.nx', 'record-typescript.js');
    fs.mkdirSync(path.dirname(hook), { recursive: true });
    fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache).some((k) => /[\\\\/]node_modules[\\\\/]typescript[\\\\/]/.test(k)))));\n`);
    const result = showProjects({ NODE_OPTIONS: `--require ${hook}`, NX_PERF_LOGGING: 'false' });
    expect(result.status, result.out).toBe(0);
    return { projects: result.out.trim().split('\n'), typescript: JSON.parse(fs.readFileSync(record, 'utf8')) as boolean };
  }

  it('holds no project for the tool package, and nx does not load TypeScript to read the executors', () => {
    expect(fs.readFileSync(path.join(root, '.nxignore'), 'utf8')).toMatch(/^tools\/homelab\/package\.json$/m);
    const committed = graphLoads();
    expect(committed.projects).toContain('homelab-platform');
    expect(committed.projects).not.toContain('homelab');
    expect(committed.typescript).toBe(false);

    // Without the line, the project is back and so is TypeScript: the check above can fail.
    fs.rmSync(path.join(root, '.nxignore'));
    const without = graphLoads();
    expect(without.projects).toContain('homelab');
    expect(without.typescript).toBe(true);
  });
});

