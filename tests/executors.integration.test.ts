import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nxTestEnv } from './support/nx';
import { requireTool, run, runOk, type RunResult } from './support/tools';
import { copyWorkspace, makeTempDir, removeDir, workspaceYamlWith } from './support/workspace';

/**
 * The build and deploy targets through the real `npx nx run`, as a user and a script see
 * them: the exit code when the validate they depend on fails (1, never Nx's "interrupted"
 * 130), and the reason of a failed build in batch and single-task mode, with and
 * without Docker.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

/** This test's own workspace settings (never the repository's homelab.yaml): a fresh clone's, with dev only. */
const HOMELAB_YAML = workspaceYamlWith((config) => {
  config.environments = config.environments.filter((e: { name: string }) => e.name === 'dev');
});

const NX_ENV = nxTestEnv({ NX_SKIP_NX_CACHE: 'true' });

describe.skipIf(kubectl.skip || compose.skip)('nx run <app>:build and :deploy: exit codes and reasons', () => {
  let ws: string;
  /** A folder for PATH holding node, npx, kubectl and sh, but no docker. */
  let noDocker: string;
  const file = (rel: string) => path.join(ws, rel);
  const nx = (args: string[], env: NodeJS.ProcessEnv = {}): RunResult => run('npx', ['nx', ...args], { cwd: ws, env: { ...NX_ENV, ...env }, timeout: 300_000 });
  const output = (r: RunResult) => r.stdout + r.stderr;

  /** Changes a file for one test and puts it back afterwards. */
  function withFile<T>(rel: string, change: (text: string) => string, body: () => T): T {
    const saved = fs.readFileSync(file(rel), 'utf8');
    fs.writeFileSync(file(rel), change(saved));
    try {
      return body();
    } finally {
      fs.writeFileSync(file(rel), saved);
    }
  }

  beforeAll(() => {
    ws = makeTempDir('executors');
    copyWorkspace(ws);
    fs.writeFileSync(file('homelab.yaml'), HOMELAB_YAML);
    for (const app of ['demo', 'other']) {
      runOk('npx', ['nx', 'g', 'homelab:app', app, '--image', 'traefik/whoami:v1.10.4', '--port', '80', '--no-interactive'], { cwd: ws, env: NX_ENV, timeout: 180_000 });
    }
    noDocker = path.join(ws, '.no-docker-bin');
    fs.mkdirSync(noDocker);
    for (const tool of ['node', 'npx', 'kubectl', 'sh']) {
      fs.symlinkSync(runOk('sh', ['-c', `command -v ${tool}`]).trim(), path.join(noDocker, tool));
    }
  });
  afterAll(() => removeDir(ws));

  const DRIFT = 'applications/kubernetes/base/demo/service.yaml';
  const REASON = `${DRIFT}:`;

  it('exits 1 (not 130) when the validate that build depends on fails, and shows validate\'s reason', () => {
    const result = withFile(DRIFT, (t) => `${t}# a hand edit\n`, () => nx(['run', 'demo:build']));

    expect(result.status, output(result)).toBe(1);
    expect(output(result)).toContain(REASON);
    expect(output(result)).toContain('sync/drift');
    expect(fs.existsSync(file('dist/dev/kubernetes/demo.yaml'))).toBe(false);
  });

  it('exits 1 (not 130) when deploy\'s dependencies fail, and shows the reason', () => {
    const result = withFile(DRIFT, (t) => `${t}# a hand edit\n`, () => nx(['run', 'demo:deploy', '--env', 'dev', '--dry-run']));

    expect(result.status, output(result)).toBe(1);
    expect(output(result)).toContain(REASON);
    expect(output(result)).not.toContain('deploy demo -> dev');
  });

  it.each([
    ['in a batch (the default)', []],
    ['as a single task', ['--batch=false']],
  ])('build without Docker names the missing tool %s', (_mode, flags) => {
    const result = nx(['run', 'demo:build', '--exclude-task-dependencies', ...flags], { PATH: noDocker });

    expect(result.status, output(result)).toBe(1);
    expect(output(result)).toContain('demo: docker compose config of demo in dev: `docker` is not installed; run `npm run setup:engines`');
  });

  it('a batch of builds reports every project: the failing one with its reason, the other with what it wrote', () => {
    const override = 'applications/compose/environments/dev/demo/compose.override.yaml';
    const result = withFile(override, () => 'services:\n  demo:\n    not_a_compose_key: 1\n', () =>
      nx(['run-many', '-t', 'build', '--projects', 'demo,other', '--exclude-task-dependencies']),
    );

    expect(result.status, output(result)).toBe(1);
    expect(output(result)).toMatch(/demo: docker compose config of demo in dev failed: .*not_a_compose_key/);
    expect(output(result)).toContain('wrote dist/dev/compose/other/compose.yaml');
    expect(fs.existsSync(file('dist/dev/compose/other/compose.yaml'))).toBe(true);
  });
});
