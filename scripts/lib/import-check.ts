import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderCompose, renderKubernetes } from '../../tools/homelab/src/build/dist';
import { HomelabError } from '../../tools/homelab/src/errors';
import { diskHost } from '../../tools/homelab/src/host';
import { generateImport } from '../../tools/homelab/src/import/generate';
import { compareRoundTrip, type RoundTripResult } from '../../tools/homelab/src/import/roundtrip';
import { projectEnvironments } from '../../tools/homelab/src/project/environments';
import { appPaths } from '../../tools/homelab/src/project/paths';
import { parseAppSpec } from '../../tools/homelab/src/spec/io';
import { diskFiles, nx } from './temp-workspace';

/**
 * One stack of an import corpus, checked end to end in a homelab workspace (docs/import.md,
 * "Round trip" and "Benchmark"): the import (`generateImport`, no Docker engine asked), `nx
 * run-many -t validate`, both renders of every environment (`kubectl kustomize` of each overlay,
 * `docker compose config` of each Compose environment, as build renders them) and the round trip
 * of each environment against the source's own `docker compose config`. Shared by
 * tests/import/roundtrip.integration.test.ts and `npm run bench:import`.
 */

/** The file names a stack's folder holds its Compose file under, in Compose's order of preference. */
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/**
 * A stack that must be refused has this file in its folder. Its first line that is neither empty
 * nor a `#` comment, when there is one, is a part of the one-line refusal the import must give.
 */
export const EXPECT_REFUSAL = 'EXPECT-REFUSAL';

/**
 * The one environment both sides of the round trip read the stack with: no variable of the
 * caller's shell leaks into interpolation, and `~` is the same folder on both sides.
 */
export function stackEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/importer', ...extra };
}

/** The Compose file of a stack's folder, or null when it holds none. */
export function composeFileOf(dir: string): string | null {
  const name = COMPOSE_FILES.find((f) => fs.existsSync(path.join(dir, f)));
  return name === undefined ? null : path.join(dir, name);
}

/** The folders of a corpus that hold a Compose file, sorted. */
export function corpusStacks(corpus: string): string[] {
  return fs
    .readdirSync(corpus, { withFileTypes: true })
    .filter((e) => e.isDirectory() && composeFileOf(path.join(corpus, e.name)) !== null)
    .map((e) => e.name)
    .sort();
}

/** The app name a stack is imported under: its folder's name as a DNS label (`Paperless_NGX` → `paperless-ngx`). */
export function appNameOf(stack: string): string {
  return stack.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
}

/** What the stack's EXPECT-REFUSAL file asks of the refusal: '' for any one-line refusal; null when the stack must import. */
export function expectedRefusal(dir: string): string | null {
  const file = path.join(dir, EXPECT_REFUSAL);
  if (!fs.existsSync(file)) return null;
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#')) ?? '';
}

export interface StackCheck {
  stack: string;
  app: string;
  import: 'imported' | 'refused' | 'crashed';
  /** The refusal's (or the crash's) message, when not imported. */
  refusal?: string;
  /** The import's report (not carried over, warning and note lines). */
  lines: string[];
  /** For a refused or crashed import: the workspace's files are as they were. */
  wroteNothing?: boolean;
  /** The must-refuse expectation of the folder (expectedRefusal). */
  expected: string | null;
  validate?: { status: number | null; errors: string[]; warnings: string[]; output: string };
  /** `<env> kubernetes|compose: <why>` for each render that failed. */
  renderFailures?: string[];
  /** The round trip of each environment the app has on Compose. */
  roundTrips?: Record<string, RoundTripResult>;
  /** Milliseconds of each step that ran. */
  ms: { import: number; validate?: number; render?: number; roundTrip?: number; total: number };
  pass: boolean;
}

/**
 * Checks one stack folder in `root`, a fresh homelab workspace (createTempWorkspace), which it
 * writes the import into. The stack is read with `envFiles` instead of its `.env`, when given, and
 * with stackEnvironment(`environment`) on both sides. A refusal (a HomelabError) is a result, not
 * a failure; any other error of the import is a crash.
 */
export function checkStack(dir: string, root: string, options: { envFiles?: string[]; environment?: Record<string, string> } = {}): StackCheck {
  const stack = path.basename(dir);
  const app = appNameOf(stack);
  const file = composeFileOf(dir);
  if (file === null) throw new Error(`${dir} holds none of ${COMPOSE_FILES.join(', ')}`);
  const environment = stackEnvironment(options.environment);
  const expected = expectedRefusal(dir);
  const started = performance.now();
  const ms: StackCheck['ms'] = { import: 0, total: 0 };
  const result: StackCheck = { stack, app, import: 'imported', lines: [], expected, ms, pass: false };
  const finish = (): StackCheck => {
    ms.total = Math.round(performance.now() - started);
    result.pass = verdict(result);
    return result;
  };

  const before = diskFiles(root);
  let step = performance.now();
  try {
    const imported = generateImport(diskHost(root), { name: app, file, envFile: options.envFiles }, { cwd: dir, environment, engine: null });
    imported.writeSecrets(root);
    result.lines = imported.lines;
  } catch (error) {
    result.import = error instanceof HomelabError ? 'refused' : 'crashed';
    result.refusal = error instanceof Error ? error.message : String(error);
    result.wroteNothing = sameFiles(before, diskFiles(root));
  }
  ms.import = elapsed(step);
  if (result.import !== 'imported') return finish();

  step = performance.now();
  const validate = nx(root, ['run-many', '-t', 'validate', '--skip-nx-cache'], { allowFailure: true, env: { NX_ISOLATE_PLUGINS: 'false', FORCE_COLOR: '0', NO_COLOR: '1' } });
  const output = `${validate.stdout}\n${validate.stderr}`;
  const findings = output.split('\n').filter((l) => /^\S+:\d+:\d+ {2}\S+ {2}/.test(l));
  result.validate = {
    status: validate.status,
    errors: findings.filter((l) => !l.endsWith(' [warning]')),
    warnings: findings.filter((l) => l.endsWith(' [warning]')),
    output,
  };
  ms.validate = elapsed(step);

  step = performance.now();
  const merged: Record<string, string> = {};
  result.renderFailures = [];
  for (const env of projectEnvironments(diskHost(root), 'applications', app)) {
    if (env.kubernetes) attempt(() => renderKubernetes(root, 'applications', app, env.env), `${env.env} kubernetes`, result.renderFailures);
    if (env.compose) {
      const text = attempt(() => renderCompose(root, 'applications', app, env.env), `${env.env} compose`, result.renderFailures);
      if (text !== undefined) merged[env.env] = text;
    }
  }
  ms.render = elapsed(step);

  step = performance.now();
  const source = sourceConfig(file, { envFiles: options.envFiles, environment });
  const spec = parseAppSpec(fs.readFileSync(path.join(root, appPaths(app).spec), 'utf8'), appPaths(app).spec);
  result.roundTrips = Object.fromEntries(Object.entries(merged).map(([env, text]) => [env, compareRoundTrip({ source, merged: text, spec })]));
  ms.roundTrip = elapsed(step);
  return finish();
}

/** The source side of the round trip: real `docker compose config --format json` of the stack, every profile on, in the stack's folder. */
export function sourceConfig(file: string, options: { envFiles?: string[]; environment?: Record<string, string> } = {}): string {
  const args = ['compose', '-f', file, ...(options.envFiles ?? []).flatMap((f) => ['--env-file', f]), '--profile', '*', 'config', '--format', 'json'];
  const result = spawnSync('docker', args, { cwd: path.dirname(file), env: options.environment ?? stackEnvironment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`docker compose config of ${file} exited ${result.status}: ${(result.stderr || String(result.error)).trim()}`);
  return result.stdout;
}

/** Did the stack do what its folder expects: import, validate clean, render, round-trip; or, when it must be refused, refused in one line with nothing written? */
function verdict(check: StackCheck): boolean {
  if (check.expected !== null) {
    return check.import === 'refused' && check.wroteNothing === true && !check.refusal!.includes('\n') && check.refusal!.includes(check.expected);
  }
  if (check.import !== 'imported' || !check.validate || check.validate.status !== 0 || check.validate.errors.length > 0) return false;
  if ((check.renderFailures ?? []).length > 0 || Object.keys(check.roundTrips ?? {}).length === 0) return false;
  return Object.values(check.roundTrips!).every((r) => r.differences.length === 0);
}

/** The one line `bench:import` prints for a stack (and the refusal's line below it). */
export function stackLine(check: StackCheck): string {
  const columns = [check.stack.padEnd(24), check.import.padEnd(8)];
  if (check.import === 'imported') {
    const v = check.validate;
    const errors = !v ? '-' : v.errors.length > 0 ? `${v.errors.length} errors` : v.status === 0 ? 'ok' : `failed (exit ${v.status})`;
    const diffs = Object.values(check.roundTrips ?? {}).reduce((n, r) => n + r.differences.length, 0);
    columns.push(`validate ${errors}`.padEnd(18), `render ${(check.renderFailures ?? []).length === 0 ? 'ok' : 'fail'}`.padEnd(11), `roundtrip ${diffs === 0 ? 'ok' : `${diffs} diffs`}`.padEnd(18));
  } else {
    const written = check.wroteNothing === undefined ? '' : check.wroteNothing ? ', nothing written' : ', FILES WRITTEN';
    columns.push(`${check.expected !== null ? 'expected' : 'unexpected'}${written}`.padEnd(49));
  }
  columns.push(`${check.ms.total} ms`.padStart(9), check.pass ? 'pass' : 'FAIL');
  const line = columns.join('  ');
  return check.refusal === undefined ? line : `${line}\n    ${check.refusal.split('\n')[0]}`;
}

function attempt(render: () => string, what: string, failures: string[]): string | undefined {
  try {
    return render();
  } catch (error) {
    failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function sameFiles(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}
