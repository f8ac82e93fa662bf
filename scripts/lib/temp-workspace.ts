import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Throw-away homelab workspaces for the tests and the benchmarks: the homelab tool is
 * copied, the homelab content is that of a fresh clone (a fixture, never the
 * repository's own), node_modules is linked, and nothing in the repository is touched.
 */

/** The repository this file lives in (scripts/lib/temp-workspace.ts). */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * The tool a workspace runs (plugin, executors, generators, templates, plop) and its
 * settings for Nx, npm and git. Never the repository's homelab content (homelab.yaml,
 * applications/, infrastructure/, platform/): the owner of this repository fills those
 * with their own homelab, and no test or benchmark may depend on what they hold.
 */
export const TOOL_ENTRIES = [
  '.gitignore',
  '.local.env',
  '.nxignore',
  'package.json',
  'package-lock.json',
  'nx.json',
  'tsconfig.json',
  'tsconfig.base.json',
  'plopfile.ts',
  'templates',
  'tools',
  'generators',
];

/**
 * The homelab content of a freshly cloned repository (homelab.yaml with dev and prod, the
 * default secret store): what every temporary workspace starts from, whatever the
 * repository itself holds now.
 */
export const FRESH_HOMELAB = path.join(REPO_ROOT, 'tests/support/fixtures/fresh-homelab');

/** The layer folders a fresh workspace starts with (the repository keeps them with .gitkeep files). */
const LAYER_DIRS = ['specs', 'kubernetes/base', 'kubernetes/overlays', 'compose/base', 'compose/environments'];

/** Nx without a daemon, cloud or terminal UI: every command is a cold, reproducible process. */
export const NX_ENV: NodeJS.ProcessEnv = {
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
};

/**
 * The environment for a command started from this process. `_` (the program a shell
 * started) is dropped: run under `tsx` it ends in `/tsx`, and Nx then assumes tsx
 * already transpiles TypeScript and loads the .ts executors without a transpiler
 * (they fail with "Unexpected token").
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env._;
  return env;
}

/**
 * Creates `<tmp>/<prefix>XXXX` holding a fresh homelab workspace (populateWorkspace) and
 * returns its real path.
 */
export function createTempWorkspace(prefix = 'homelab-ws-'): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  populateWorkspace(root);
  return root;
}

/**
 * Fills `root` with the tool's files (TOOL_ENTRIES, without its tests), the homelab
 * content of a fresh clone (FRESH_HOMELAB; `homelabYaml` replaces its homelab.yaml) and
 * the empty layer folders, and links node_modules (linkNodeModules).
 */
export function populateWorkspace(root: string, homelabYaml?: string): void {
  for (const entry of TOOL_ENTRIES) {
    const from = path.join(REPO_ROOT, entry);
    if (!fs.existsSync(from)) continue;
    fs.cpSync(from, path.join(root, entry), {
      recursive: true,
      // Test files are not part of the tool the workspace runs.
      filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.endsWith('.test.ts'),
    });
  }
  fs.cpSync(FRESH_HOMELAB, root, { recursive: true });
  if (homelabYaml !== undefined) fs.writeFileSync(path.join(root, 'homelab.yaml'), homelabYaml);
  for (const layer of ['applications', 'infrastructure']) {
    for (const dir of LAYER_DIRS) fs.mkdirSync(path.join(root, layer, dir), { recursive: true });
  }
  linkNodeModules(root);
}

/**
 * Gives a workspace holding the tool (a copy, or a git clone of one) a node_modules of
 * links to the repository's installed packages, as `npm ci` would fill it, without a
 * registry. `homelab` links to the workspace's own tools/homelab, so the plugin,
 * executors and generators that run are the ones in the workspace; so does `.bin/homelab`
 * (`npx homelab`), in a `.bin` of its own whose other commands link to the repository's.
 */
export function linkNodeModules(root: string): void {
  fs.mkdirSync(path.join(root, 'node_modules/.bin'), { recursive: true });
  const modules = path.join(REPO_ROOT, 'node_modules');
  for (const entry of fs.readdirSync(modules)) {
    if (entry === 'homelab' || entry === '.bin') continue;
    fs.symlinkSync(path.join(modules, entry), path.join(root, 'node_modules', entry));
  }
  fs.symlinkSync('../tools/homelab', path.join(root, 'node_modules', 'homelab'));
  for (const command of fs.readdirSync(path.join(modules, '.bin'))) {
    const target = command === 'homelab' ? '../homelab/bin/homelab.js' : path.join(modules, '.bin', command);
    fs.symlinkSync(target, path.join(root, 'node_modules/.bin', command));
  }
}

/** Folders a disk listing never descends into: dependencies, Nx's own state, git. */
const IGNORED_DIRS = new Set(['node_modules', '.nx', '.git']);

/** Every file below `root` (except node_modules, .nx, .git) as relative path -> content, sorted. */
export function diskFiles(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!IGNORED_DIRS.has(entry.name)) walk(child);
      } else if (entry.isFile()) {
        out[child] = fs.readFileSync(path.join(root, child), 'utf8');
      }
    }
  };
  if (fs.existsSync(path.join(root, dir))) walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Writes workspace-relative files, creating folders. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

/** Runs a command in the workspace; throws with its output when it fails (unless allowFailure). */
export function run(
  root: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {},
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: childEnv(options.env),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && !options.allowFailure) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`\`${command} ${args.join(' ')}\` exited ${result.status} in ${root}:\n${output}`);
  }
  return result;
}

/** The workspace's own nx binary (what `npx nx` runs), daemonless and offline. */
export function nx(
  root: string,
  args: string[],
  options: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return run(root, path.join(root, 'node_modules/.bin/nx'), args, { env: { ...NX_ENV, ...options.env }, allowFailure: options.allowFailure });
}

export function git(root: string, args: string[]): SpawnSyncReturns<string> {
  return run(root, 'git', args, {
    env: { GIT_AUTHOR_NAME: 'homelab', GIT_AUTHOR_EMAIL: 'homelab@localhost', GIT_COMMITTER_NAME: 'homelab', GIT_COMMITTER_EMAIL: 'homelab@localhost' },
  });
}

/** `git init` on main and one commit of everything. */
export function commitAll(root: string, message = 'workspace'): void {
  git(root, ['init', '--quiet', '--initial-branch=main']);
  git(root, ['add', '--all']);
  git(root, ['commit', '--quiet', '--no-gpg-sign', '--message', message]);
}

/**
 * How many tasks a run-many or affected run had and how many came from the cache. Nx
 * prints `Running target validate for 50 projects` (or `for project web`, plus `and N
 * tasks it depends on`) before it runs, and a cache summary only when some tasks hit.
 */
export function taskCounts(output: string): { tasks: number; hits: number; ran: number } | null {
  output = stripAnsi(output);
  const running = /Running target \S+ for (?:(\d+) projects|project \S+)(?: and (\d+) tasks? (?:it|they) depends? on)?/.exec(output);
  if (!running) return null;
  const tasks = (running[1] ? Number(running[1]) : 1) + (running[2] ? Number(running[2]) : 0);
  const hits = cacheHits(output)?.hits ?? 0;
  return { tasks, hits, ran: tasks - hits };
}

/**
 * Nx's cache summary of a run, from `Cache: 3/4 hit` or, in older wording,
 * `Nx read the output from the cache instead of running the command for 3 out of 4 tasks`.
 * Null when the output has neither (no task ran).
 */
export function cacheHits(output: string): { hits: number; tasks: number } | null {
  output = stripAnsi(output);
  const summary = /Cache:\s+(\d+)\/(\d+) hit/.exec(output);
  if (summary) return { hits: Number(summary[1]), tasks: Number(summary[2]) };
  const sentence = /read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(output);
  if (sentence) return { hits: Number(sentence[1]), tasks: Number(sentence[2]) };
  return null;
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
