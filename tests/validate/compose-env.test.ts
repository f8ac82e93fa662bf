import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { composeConfig, prerender } from '../../tools/homelab/src/validate/kustomize-compose';
import { requireTool, run } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * What Compose interpolation sees when validate merges Compose files with the real
 * `docker compose config`: outside a workspace the project folder's `.env`, as Compose itself
 * reads it; never a variable of the caller's shell (build renders the same way), so a cached
 * validate result cannot depend on a variable that is not in its hash.
 */
const compose = requireTool('docker compose');

/** A bind mount whose host path comes from a variable: with no value it is `:/config`, which Compose refuses. */
const COMPOSE = 'services:\n  web:\n    image: homelab-test/busybox:1\n    volumes:\n      - ${CONFIG_DIR}:/config\n';

const rules = (dir: string, workspaceRoot: string | null) =>
  validatePaths(['compose.yaml'], { cwd: dir, workspaceRoot, checks: new Set(['parse', 'schema', 'render']) }).findings.map((f) => f.rule);

describe.skipIf(compose.skip)('Compose interpolation in validate', () => {
  let outer: string;
  const saved = process.env.CONFIG_DIR;
  beforeAll(() => {
    outer = makeTempDir('compose-env');
  });
  afterAll(() => removeDir(outer));
  afterEach(() => {
    if (saved === undefined) delete process.env.CONFIG_DIR;
    else process.env.CONFIG_DIR = saved;
  });

  function project(name: string, files: Record<string, string>): string {
    const dir = path.join(outer, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    return dir;
  }
  /** The real `docker compose config` in that folder, with the shell variable removed. */
  const dockerConfig = (dir: string) => {
    const { CONFIG_DIR: _drop, ...env } = process.env;
    return run('docker', ['compose', 'config'], { cwd: dir, env });
  };

  it("outside a workspace, reads the Compose file's own .env, as docker compose config does", () => {
    const withEnv = project('standalone', { 'compose.yaml': COMPOSE, '.env': 'CONFIG_DIR=./config\n' });
    expect(dockerConfig(withEnv).status).toBe(0);
    expect(rules(withEnv, null)).toEqual([]);

    const without = project('standalone-no-env', { 'compose.yaml': COMPOSE });
    expect(dockerConfig(without).status).not.toBe(0);
    expect(rules(without, null)).toEqual(['render/compose']);
  });

  it("outside a workspace, never prints a value of that .env in a finding (Compose's error lines echo values)", () => {
    const dir = project('standalone-masked', { 'compose.yaml': 'services:\n  web:\n    image: homelab-test/busybox:1\n    ports:\n      - "${PORT}"\n', '.env': 'PORT=hunter2-s3cret\n' });
    expect(dockerConfig(dir).stderr).toMatch(/hunter2-s3cret/);
    const { findings } = validatePaths(['compose.yaml'], { cwd: dir, workspaceRoot: null, checks: new Set(['parse', 'schema', 'render']) });
    expect(findings).toMatchObject([{ rule: 'render/compose', message: expect.stringMatching(/Invalid containerPort: \*\*\*;/) }]);
    expect(JSON.stringify(findings)).not.toMatch(/hunter2/);
  });

  it('in a workspace, keeps a .env beside the files out of interpolation (it may hold secrets)', () => {
    const ws = project('workspace', { 'homelab.yaml': '# a workspace root\n', 'compose.yaml': COMPOSE, '.env': 'CONFIG_DIR=./config\n' });
    expect(rules(ws, ws)).toEqual(['render/compose']);
  });

  it.each([
    ['in a workspace', 'ws-shell', true],
    ['outside a workspace', 'standalone-shell', false],
  ])('%s, a variable set in the shell does not change the result', (_where, name, inWorkspace) => {
    const dir = project(name, { 'compose.yaml': COMPOSE, ...(inWorkspace ? { 'homelab.yaml': '# a workspace root\n' } : {}) });
    const root = inWorkspace ? dir : null;
    delete process.env.CONFIG_DIR;
    const clean = rules(dir, root);
    process.env.CONFIG_DIR = '/srv/config';
    const withShellVariable = rules(dir, root);
    expect(clean).toEqual(['render/compose']);
    expect(withShellVariable).toEqual(clean);
  });

  it("in the Nx target's batch (renders started up front), a variable set in the shell does not change the result either", async () => {
    const ws = project('ws-batch', { 'homelab.yaml': '# a workspace root\n', 'compose.yaml': COMPOSE });
    const merge = async () => {
      await prerender([{ kind: 'compose', files: ['compose.yaml'], cwd: ws }]);
      return composeConfig(['compose.yaml'], ws);
    };
    delete process.env.CONFIG_DIR;
    const clean = await merge();
    process.env.CONFIG_DIR = '/srv/config';
    const withShellVariable = await merge();
    expect(clean.ok).toBe(false);
    expect(withShellVariable).toEqual(clean);
  });
});
