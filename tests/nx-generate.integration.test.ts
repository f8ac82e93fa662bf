import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import type { AppOptions } from '../tools/homelab/src/app/options';
import { diskHost } from '../tools/homelab/src/host';
import { run, runOk } from './support/tools';
import { copyWorkspace, diskFiles, makeTempDir, removeDir } from './support/workspace';
import { nxTestEnv } from './support/nx';
import { VAULT_ANSWERS } from './support/spec';

/**
 * The real `npx nx g homelab:app` in a temporary copy of the workspace: it must write
 * byte for byte what the render core writes, honour --dry-run, and refuse bad input
 * with a one-line message and no file written.
 */

/** Nx without the daemon, the cloud, the cache or a TUI: a plain, repeatable child process. */
const NX_ENV: NodeJS.ProcessEnv = nxTestEnv({ NX_SKIP_NX_CACHE: 'true' });

const ANSWERS: AppOptions = { ...VAULT_ANSWERS };

/** The same answers as `nx g` flags. */
function flags(options: AppOptions): string[] {
  const out = [options.name, `--image=${options.image}`, `--port=${options.port}`];
  for (const key of ['secrets', 'volumes', 'host', 'environments'] as const) {
    if (options[key] !== undefined) out.push(`--${key}=${options[key]}`);
  }
  return out;
}

function nxGenerate(cwd: string, args: string[]) {
  return run('npx', ['nx', 'g', 'homelab:app', ...args, '--no-interactive'], { cwd, env: NX_ENV, timeout: 180_000 });
}

/** A fresh copy of the workspace, a git repository with one commit, as a clone would be. */
function freshWorkspace(prefix: string): string {
  const dir = makeTempDir(prefix);
  copyWorkspace(dir);
  const git = (...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'workspace');
  return dir;
}

/** Files the generator writes: everything outside the copied sources. */
function generatedFiles(root: string): Record<string, string> {
  return Object.fromEntries(
    ['applications', 'platform'].flatMap((dir) => Object.entries(diskFiles(root, dir))).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

const dirs: string[] = [];
const workspace = (prefix: string) => {
  const dir = freshWorkspace(prefix);
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach(removeDir));

describe('npx nx g homelab:app in a copy of the workspace', () => {
  let viaNx: string;
  let viaCore: string;
  let nxResult: ReturnType<typeof run>;

  beforeAll(() => {
    viaNx = workspace('nx-g');
    viaCore = workspace('core');
    nxResult = nxGenerate(viaNx, flags(ANSWERS));
    generateApp(diskHost(viaCore), ANSWERS);
  });

  it('exits 0 and lists the files it creates', () => {
    expect(nxResult.status, nxResult.stderr + nxResult.stdout).toBe(0);
    expect(nxResult.stdout).toContain('CREATE applications/specs/vault.yaml');
    expect(nxResult.stdout).toContain('CREATE platform/argocd/applications/prod/vault.yaml');
  });

  it('writes byte for byte the files the render core writes for the same answers', () => {
    const fromNx = generatedFiles(viaNx);
    const fromCore = generatedFiles(viaCore);

    expect(Object.keys(fromNx)).toEqual(Object.keys(fromCore));
    expect(Object.keys(fromNx).length).toBeGreaterThan(25);
    for (const [file, content] of Object.entries(fromCore)) {
      expect(fromNx[file], file).toBe(content);
    }
  });

  it('changes no byte when run again with --force and the same answers', () => {
    const before = generatedFiles(viaNx);

    const again = nxGenerate(viaNx, [...flags(ANSWERS), '--force']);

    expect(again.status, again.stderr + again.stdout).toBe(0);
    expect(again.stdout).toContain('vault: nothing to change, every file already matches the answers');
    expect(generatedFiles(viaNx)).toEqual(before);
  });
});

describe('npx nx g homelab:app --dry-run', () => {
  it('lists the files it would create and writes none', () => {
    const dir = workspace('nx-dry');
    const before = diskFiles(dir);

    const result = nxGenerate(dir, [...flags(ANSWERS), '--dry-run']);

    expect(result.status, result.stderr + result.stdout).toBe(0);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('CREATE applications/kubernetes/base/vault/statefulset.yaml');
    expect(output).toContain('NOTE: The "dryRun" flag means no changes were made.');
    expect(diskFiles(dir)).toEqual(before);
    // A fresh workspace has the empty layer folders; the dry run puts no file in them.
    expect(diskFiles(dir, 'applications')).toEqual({});
  });
});

describe('npx nx g homelab:app refusals', () => {
  let dir: string;
  beforeAll(() => {
    dir = workspace('nx-refuse');
  });

  it.each([
    { case: 'an upper-case name', args: flags({ ...ANSWERS, name: 'Vault' }), message: 'app name "Vault" is not a DNS-1123 label; use 1-53 lower-case letters' },
    { case: 'an image tagged latest', args: flags({ ...ANSWERS, image: 'vault:latest' }), message: '--image "vault:latest" uses the tag "latest", which moves under you; pin a version tag or a digest' },
    { case: 'port 70000', args: flags({ ...ANSWERS, port: 70000 }), message: '--port "70000" is not a port; use a whole number from 1 to 65535' },
    { case: 'an unknown environment', args: flags({ ...ANSWERS, environments: 'staging' }), message: '--environments "staging" is not an environment of this workspace; use one of "dev", "prod"' },
  ])('refuses $case: exits non-zero, prints one line naming the value and the fix, writes nothing', ({ args, message }) => {
    const before = diskFiles(dir);

    const result = nxGenerate(dir, args);

    expect(result.status).not.toBe(0);
    const output = `${result.stdout}\n${result.stderr}`;
    const lines = output.split('\n').filter((l) => l.includes(message));
    expect(lines, output).toHaveLength(1);
    expect(output).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
    expect(diskFiles(dir)).toEqual(before);
  });
});
