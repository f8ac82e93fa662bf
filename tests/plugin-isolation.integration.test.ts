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
