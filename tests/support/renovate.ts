import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireTool, run, type RunResult, type ToolRequirement } from './tools';
import { REPO_ROOT } from './workspace';

/**
 * The real Renovate, pinned in scripts/renovate/versions.env and run through npx on the Node it
 * needs (Renovate 44 declares Node 24; the workspace's engine-strict install would refuse it as
 * a dependency). scripts/renovate/prefetch.sh (run by setup-engines) fills npm's cache first, so
 * a test does not pay the download.
 */
const VERSIONS = fs.readFileSync(path.join(REPO_ROOT, 'scripts/renovate/versions.env'), 'utf8');
const pinned = (name: string): string => {
  const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(VERSIONS)?.[1];
  if (!value) throw new Error(`scripts/renovate/versions.env: no ${name}= line`);
  return value;
};
export const RENOVATE_VERSION = pinned('RENOVATE_VERSION');
export const RENOVATE_NODE = pinned('RENOVATE_NODE');

/** npx's arguments that run one of Renovate's commands. */
const npx = (command: 'renovate' | 'renovate-config-validator') => ['npx', '-y', '-p', `node@${RENOVATE_NODE}`, '-p', `renovate@${RENOVATE_VERSION}`, '--', command];

/**
 * The environment of a Renovate command: this process's without the variables Renovate reads
 * its own settings and tokens from, npx told to ignore the workspace's engine-strict (Renovate's
 * packages ask for Node 22+; npx runs them on the Node 24 it fetches), and `extra`.
 */
export function renovateEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(RENOVATE_|LOG_|GITHUB_|GH_|GITLAB_)/.test(key)) env[key] = value;
  }
  return { ...env, npm_config_engine_strict: 'false', npm_config_update_notifier: 'false', ...extra };
}

/**
 * Declares that a test file needs Renovate: skipped with the reason locally where npx cannot run
 * it (no registry, nothing cached), a failure under CI (tests/support/tools.ts).
 */
export function requireRenovate(): ToolRequirement {
  return requireTool(`renovate ${RENOVATE_VERSION} on node@${RENOVATE_NODE} through npx`, [...npx('renovate'), '--version'], process.env, {
    env: renovateEnv(),
    // The first run downloads Node 24 and Renovate (about 90 s on a 2-core machine).
    timeout: 600_000,
  });
}

/** Runs a Renovate command in `cwd`. */
export function runRenovate(command: 'renovate' | 'renovate-config-validator', args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): RunResult {
  const [bin, ...rest] = npx(command);
  return run(bin, [...rest, ...args], { cwd, env: renovateEnv(env), timeout: 600_000 });
}

/** One dependency as Renovate's extract reports it. */
export interface ExtractedDep {
  depName?: string;
  packageName?: string;
  currentValue?: string;
  currentDigest?: string;
  datasource?: string;
  depType?: string;
  registryUrls?: string[];
  skipReason?: string;
}

/** Renovate's "Extracted dependencies" result: manager -> package files, each with its deps. */
export type Extracted = Record<string, { packageFile: string; deps: ExtractedDep[] }[]>;

/**
 * A dry run that extracts and stops (`--platform=local --dry-run=extract`): no lookup, so no
 * network. Returns what it extracted, from its JSON log, and the log's records.
 */
export function extractDependencies(repo: string, baseDir: string): { extracted: Extracted; records: Record<string, any>[] } {
  const result = runRenovate('renovate', ['--platform=local', '--dry-run=extract'], repo, { LOG_FORMAT: 'json', LOG_LEVEL: 'debug', RENOVATE_BASE_DIR: baseDir });
  if (result.status !== 0) throw new Error(`renovate --dry-run=extract exited ${result.status}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-4000)}`);
  const records = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
  const found = records.find((r) => r.msg === 'Extracted dependencies');
  if (!found) throw new Error(`renovate logged no "Extracted dependencies" record; its last lines:\n${result.stdout.slice(-4000)}`);
  return { extracted: found.packageFiles as Extracted, records };
}

/** How Renovate treats one dependency under a configuration's packageRules. */
export interface RuleOutcome {
  groupName: string | null;
  automerge: boolean;
  labels: string[];
}

/**
 * Applies a renovate.json5's packageRules to each dependency with Renovate's own rule engine and
 * template compiler (tests/support/renovate-rules.mjs), as its lookup stage would: what group
 * (and so which pull request) each update lands in, whether it merges itself, its labels.
 */
export function applyRules(configFile: string, deps: readonly object[]): RuleOutcome[] {
  const [bin, ...rest] = npx('renovate');
  const args = [...rest.slice(0, -1), 'node', path.join(REPO_ROOT, 'tests/support/renovate-rules.mjs'), configFile, JSON.stringify(deps)];
  const result = run(bin, args, { cwd: path.dirname(configFile), env: renovateEnv(), timeout: 600_000 });
  if (result.status !== 0) throw new Error(`renovate-rules.mjs exited ${result.status}:\n${result.stderr.slice(-4000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as RuleOutcome[];
}
