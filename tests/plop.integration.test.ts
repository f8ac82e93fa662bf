import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempWorkspace } from '../scripts/lib/temp-workspace';
import { nxTestEnv } from './support/nx';

/**
 * `npm run plop -- app -- ...` and `npx nx g homelab:app ... --no-interactive`, both for
 * real, each in its own temporary copy of the workspace; for the same answers the two
 * copies must hold the same files, byte for byte.
 */

/** Not part of what either tool writes: dependencies, git and Nx's own workspace data. */
const NOT_COMPARED = new Set(['node_modules', '.git', '.nx']);

/** A fresh workspace of its own (the tool, a fresh clone's homelab content), as a git repository. */
function copyWorkspace(label: string): string {
  const dir = createTempWorkspace(`homelab-plop-${label}-`);
  run(dir, 'git', ['init', '-q']);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin closed (not a terminal), as CI does. */
function run(cwd: string, command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: nxTestEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Every file of a workspace copy, path -> SHA-256 of its bytes (comparing digests, not
 * megabytes of buffers element by element, keeps the comparison fast).
 */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (dir === '' && NOT_COMPARED.has(entry.name)) continue;
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, createHash('sha256').update(fs.readFileSync(path.join(root, rel))).digest('hex'));
    }
  };
  walk('');
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

type Answers = { image: string; port: string; secrets?: string; volumes?: string; host?: string; environments?: string; force?: boolean };

function flags(answers: Answers): string[] {
  return Object.entries(answers).flatMap(([key, value]) => (value === true ? [`--${key}`] : value === undefined || value === false ? [] : [`--${key}`, String(value)]));
}

const plop = (dir: string, args: string[]) => run(dir, 'npm', ['run', 'plop', '--', 'app', '--', ...args]);
const nxGenerate = (dir: string, name: string, answers: Answers) =>
  run(dir, 'npx', ['nx', 'g', 'homelab:app', name, ...flags(answers), '--no-interactive']);

let plopDir: string;
let nxDir: string;

beforeAll(() => {
  plopDir = copyWorkspace('plop');
  nxDir = copyWorkspace('nx');
});

afterAll(() => {
  for (const dir of [plopDir, nxDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('plop app and nx g homelab:app write the same bytes', () => {
  it.each<{ title: string; name: string; answers: Answers }>([
    { title: 'a plain app', name: 'plain', answers: { image: 'traefik/whoami:v1.10.4', port: '80' } },
    {
      title: 'an app with secrets, volumes and a host',
      name: 'stateful',
      answers: {
        image: 'ghcr.io/example/notes@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        port: '8080',
        secrets: 'API_TOKEN,DB_PASSWORD',
        volumes: 'data:1Gi:/data,cache:256Mi:/var/cache/notes',
        host: 'notes.home.example.org',
      },
    },
    { title: 'an app in one environment', name: 'devonly', answers: { image: 'nginx:1.27.3', port: '8081', environments: 'dev' } },
    { title: 'a --force re-run of the plain app with the same answers', name: 'plain', answers: { image: 'traefik/whoami:v1.10.4', port: '80', force: true } },
  ])('$title', async ({ name, answers }) => {
    const before = snapshot(plopDir);
    const [fromPlop, fromNx] = await Promise.all([plop(plopDir, ['--name', name, ...flags(answers)]), nxGenerate(nxDir, name, answers)]);
    expect(fromPlop.code, fromPlop.stderr + fromPlop.stdout).toBe(0);
    expect(fromNx.code, fromNx.stderr + fromNx.stdout).toBe(0);

    const byPlop = snapshot(plopDir);
    const byNx = snapshot(nxDir);
    expect(byPlop.has(`applications/specs/${name}.yaml`)).toBe(true);
    if (answers.force) expect(byPlop).toEqual(before);
    else expect(byPlop.size - before.size).toBeGreaterThan(10);
    expect([...byPlop.keys()]).toEqual([...byNx.keys()]);
    for (const [file, digest] of byPlop) expect(digest, `${file} differs`).toBe(byNx.get(file));
  });
});

describe('plop import and remove write the same bytes as nx g homelab:import and homelab:remove', () => {
  // A stack as its owner keeps it (the reader's fixture): read from where it is, outside both workspaces.
  const stack = path.join(__dirname, 'support/fixtures/import/resolver/compose.yaml');

  it.each([
    ['import', ['--name', 'resolver', '--file', stack, '--adopt', 'none'], ['homelab:import', 'resolver', '--file', stack, '--adopt', 'none']],
    ['remove', ['--name', 'devonly'], ['homelab:remove', 'devonly']],
  ])('%s', async (generator, plopArgs, nxArgs) => {
    const before = snapshot(plopDir);
    const [fromPlop, fromNx] = await Promise.all([run(plopDir, 'npm', ['run', 'plop', '--', generator, '--', ...plopArgs]), run(nxDir, 'npx', ['nx', 'g', ...nxArgs, '--no-interactive'])]);
    expect(fromPlop.code, fromPlop.stderr + fromPlop.stdout).toBe(0);
    expect(fromNx.code, fromNx.stderr + fromNx.stdout).toBe(0);

    const byPlop = snapshot(plopDir);
    expect(byPlop).not.toEqual(before);
    expect([...byPlop.keys()]).toEqual([...snapshot(nxDir).keys()]);
    for (const [file, digest] of byPlop) expect(digest, `${file} differs`).toBe(snapshot(nxDir).get(file));
  });
});

describe('plop app refuses in one line, exits non-zero and writes nothing', () => {
  it.each([
    ['a name that is not a DNS label', ['--name', '../evil', '--image', 'traefik/whoami:v1.10.4', '--port', '80'], 'app name "../evil" is not a DNS-1123 label'],
    ['the latest tag', ['--name', 'moving', '--image', 'traefik/whoami:latest', '--port', '80'], 'uses the tag "latest"'],
    ['an app that exists, without --force', ['--name', 'plain', '--image', 'traefik/whoami:v1.10.4', '--port', '80'], 'app "plain" already exists'],
    // Why it cannot ask depends on where the suite runs (CI is set, or there is no terminal): either way it refuses in one line.
    ['a missing required answer without a terminal', ['--name', 'quiet'], 'plop app is missing --image, --port and cannot ask ('],
    ['an option the generator does not have', ['--name', 'typo', '--img', 'a:1', '--port', '80'], 'plop app has no option "--img"'],
  ])('%s', async (_title, args, message) => {
    const before = snapshot(plopDir);
    const result = await plop(plopDir, args);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(snapshot(plopDir)).toEqual(before);
  });
});

describe('npm run plop exit code', () => {
  it('is non-zero when the plopfile cannot load (plop itself would exit 0)', async () => {
    const schema = path.join(plopDir, 'generators/app/schema.json');
    fs.renameSync(schema, `${schema}.away`);
    try {
      const result = await plop(plopDir, ['--name', 'unloaded', '--image', 'a:1', '--port', '80']);
      expect(result.stderr).toContain('Something went wrong with reading your plop file');
      expect(result.code).toBe(1);
    } finally {
      fs.renameSync(`${schema}.away`, schema);
    }
  });
});
