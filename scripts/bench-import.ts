/**
 * `npm run bench:import -- --corpus DIR [--runs N]`: import over a corpus of Compose stacks, one
 * folder per stack as its owner keeps it (a compose.yaml, compose.yml, docker-compose.yaml or
 * docker-compose.yml, its .env, the files it references). Each stack, in its own fresh workspace:
 * the import (imported, refused with its one line, or crashed), `nx run-many -t validate` (its
 * errors), both renders of every environment (kubectl kustomize, docker compose config) and the
 * round trip of every environment against the source's own `docker compose config`
 * (docs/import.md, "Round trip"). A folder with an EXPECT-REFUSAL file must be refused in one line
 * with nothing written, and passes when it is.
 *
 * Prints one line per stack, the pass rate, and median times over RUNS runs of the corpus (3 by
 * default): per stack, per step, and against a reference measured in the same run, the source's
 * own `docker compose config` (what reading the stack costs real Compose). No figure is asserted.
 *
 *   npm run bench:import                                  # the fixture stacks, 3 runs
 *   npm run bench:import -- --corpus ~/stacks --runs 1    # your own corpus
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkStack, composeFileOf, corpusStacks, sourceConfig, stackLine, type StackCheck } from './lib/import-check';
import { createTempWorkspace, REPO_ROOT } from './lib/temp-workspace';

const GOAL_PASS_RATE = 0.9;

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  if (at >= 0 && args[at + 1] !== undefined) return args[at + 1];
  const inline = args.find((a) => a.startsWith(`--${name}=`));
  return inline === undefined ? fallback : inline.slice(name.length + 3);
}

const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

/** A stack whose check threw outside the import (a render or Compose run that could not start): counted as crashed. */
function crashed(stack: string, error: unknown, ms: number): StackCheck {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return { stack, app: stack, import: 'crashed', refusal: message, lines: [], expected: null, ms: { import: ms, total: ms }, pass: false };
}

function main(): void {
  const corpus = path.resolve(option('corpus', path.join(REPO_ROOT, 'tests/support/fixtures/import')));
  const runs = Number(option('runs', '3'));
  if (!fs.existsSync(corpus) || !fs.statSync(corpus).isDirectory()) throw new Error(`--corpus ${corpus} is not a folder; name a folder of stack folders`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${option('runs', '3')} is not a whole number of runs; give 1 or more`);
  const stacks = corpusStacks(corpus);
  if (stacks.length === 0) throw new Error(`--corpus ${corpus} has no folder with a compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml`);
  console.log(`corpus: ${stacks.length} stacks in ${corpus}; ${runs} run(s); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);

  const checks = new Map<string, StackCheck[]>(stacks.map((s) => [s, []]));
  const reference = new Map<string, number[]>(stacks.map((s) => [s, []]));
  for (let run = 0; run < runs; run++) {
    for (const stack of stacks) {
      const dir = path.join(corpus, stack);
      const root = createTempWorkspace('homelab-bench-import-');
      const started = performance.now();
      try {
        checks.get(stack)!.push(checkStack(dir, root));
      } catch (error) {
        checks.get(stack)!.push(crashed(stack, error, Math.round(performance.now() - started)));
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
      // The reference, in the same run: real Compose reading the same stack.
      const t = performance.now();
      try {
        sourceConfig(composeFileOf(dir)!);
        reference.get(stack)!.push(performance.now() - t);
      } catch {
        // A stack Compose cannot read has no reference time (the import refuses it too).
      }
    }
  }

  console.log('');
  let passes = 0;
  for (const stack of stacks) {
    const all = checks.get(stack)!;
    const last = all[all.length - 1];
    const line = stackLine({ ...last, ms: { ...last.ms, total: median(all.map((c) => c.ms.total)) } });
    const unstable = new Set(all.map((c) => c.pass)).size > 1 ? '  (UNSTABLE: the verdict changed between runs)' : '';
    console.log(`${line}${unstable}`);
    for (const error of (last.validate?.errors ?? []).slice(0, 5)) console.log(`    validate: ${error}`);
    for (const failure of last.renderFailures ?? []) console.log(`    render: ${failure}`);
    for (const [env, result] of Object.entries(last.roundTrips ?? {})) for (const d of result.differences.slice(0, 5)) console.log(`    roundtrip ${env}: ${d}`);
    if (all.every((c) => c.pass)) passes++;
  }

  const imported = stacks.filter((s) => checks.get(s)!.every((c) => c.import === 'imported'));
  const mustRefuse = stacks.filter((s) => checks.get(s)![0].expected !== null);
  const rate = passes / stacks.length;
  console.log('');
  console.log(`pass rate: ${passes}/${stacks.length} (${(rate * 100).toFixed(0)}%): stacks that import with exit 0, validate clean, render both trees and round-trip, or (${mustRefuse.length} of them) must be refused and are, in one line with nothing written; goal >= ${GOAL_PASS_RATE * 100}%: ${rate >= GOAL_PASS_RATE ? 'met' : 'MISSED'}`);

  const perStack = stacks.map((s) => median(checks.get(s)!.map((c) => c.ms.total)));
  const step = (key: 'import' | 'validate' | 'render' | 'roundTrip') => median(imported.map((s) => median(checks.get(s)!.map((c) => c.ms[key] ?? 0))));
  const refMs = median(stacks.map((s) => median(reference.get(s)!)).filter((x) => !Number.isNaN(x)));
  const importMs = step('import');
  console.log(`median time per stack: ${median(perStack)} ms (medians of ${runs} run(s), over ${stacks.length} stacks; wall times are only comparable on an idle machine)`);
  if (imported.length > 0) {
    console.log(`  of the ${imported.length} imported stacks, median per step: import ${importMs} ms, nx run-many -t validate ${step('validate')} ms, renders ${step('render')} ms, round trip (with the source's docker compose config) ${step('roundTrip')} ms`);
  }
  console.log(`reference (same run): docker compose config of the source, median ${refMs.toFixed(0)} ms a stack; import/reference time ratio ${(importMs / refMs).toFixed(2)}`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
}
