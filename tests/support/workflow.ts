import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { nxTestEnv } from './nx';
import { run, type RunResult } from './tools';
import { REPO_ROOT } from './workspace';

/** The CI workflow homelab ships to its users. */
export const WORKFLOW = '.github/workflows/ci.yml';

/**
 * A step's `env` with each `${{ expression }}` replaced by its value in `expressions` (what the
 * test says Actions would give it, e.g. a secret set or not); an expression the test does not
 * name fails the test.
 */
function evaluate(env: Record<string, string>, expressions: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      String(value).replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_whole, expression: string) => {
        if (!(expression in expressions)) throw new Error(`${WORKFLOW}: the test does not say what \${{ ${expression} }} is; pass it in expressions`);
        return expressions[expression];
      }),
    ]),
  );
}

/** One step of a job, as the workflow file writes it. */
export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}

export interface Job {
  if?: string;
  'runs-on'?: string;
  env?: Record<string, string>;
  steps: Step[];
}

/** The workflow as committed, parsed. */
export function readWorkflow(dir = REPO_ROOT): { env?: Record<string, string>; defaults: { run: { shell: string } }; jobs: Record<string, Job> } {
  return YAML.parse(fs.readFileSync(path.join(dir, WORKFLOW), 'utf8'));
}

/** What a test does with a step it takes over: the `uses:` steps (and any `run:` step it replaces by what that step provides). */
export type Provide = (step: Step, env: Record<string, string>) => boolean;

/** How a step is named in results and errors: its name, its action, or its script's first line. */
export const stepLabel = (step: Step) => step.name ?? step.uses ?? step.run!.split('\n')[0];

/**
 * Runs the `run:` steps of a job in `dir`, in order, as GitHub Actions runs them:
 * `bash --noprofile --norc -eo pipefail` on the step's script, with the workflow's, the job's
 * and the step's `env` and the variables Actions sets (CI, GITHUB_ACTIONS). `provide` takes over
 * each step it returns true for, and may set variables for the later steps (as an action exports
 * them); a `uses:` step it does not take fails the test, and so does the install step unless it
 * is exactly `npm ci` (the repository's installed node_modules are linked into `dir`: no registry
 * here, and the lock file is the same). `${{ … }}` in a step's `env` takes its value from
 * `expressions`. Stops at the first step that fails, with its output.
 */
export function runJobSteps(dir: string, jobName: string, provide: Provide, expressions: Record<string, string> = {}): { step: string; result: RunResult }[] {
  const workflow = readWorkflow(dir);
  if (workflow.defaults.run.shell !== 'bash') throw new Error(`${WORKFLOW}: defaults.run.shell is ${workflow.defaults.run.shell}, not bash`);
  const job = workflow.jobs[jobName];
  const env: Record<string, string> = { ...workflow.env, ...job.env };
  const outputs: { step: string; result: RunResult }[] = [];
  for (const [index, step] of job.steps.entries()) {
    const label = stepLabel(step);
    if (provide(step, env)) continue;
    if (step.uses) throw new Error(`${WORKFLOW}: the test does not know what ${step.uses} provides; teach it`);
    if (step.run!.trim() === 'npm ci') {
      if (!fs.existsSync(path.join(dir, 'node_modules/.bin/nx'))) throw new Error('the `npm ci` step needs the linked node_modules');
      continue;
    }
    const script = path.join(dir, `.git/ci-${jobName}-step-${index}.sh`);
    fs.writeFileSync(script, step.run!);
    const result = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: dir,
      // No secret value anywhere: the runner's environment plus what Actions and the workflow set.
      env: nxTestEnv({ CI: 'true', GITHUB_ACTIONS: 'true', ...env, ...evaluate(step.env ?? {}, expressions) }),
      timeout: 900_000,
    });
    outputs.push({ step: label, result });
    if (result.status !== 0) throw new Error(`step "${label}" exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return outputs;
}

/**
 * Takes over the `uses:` steps of a job as the actions would here: `actions/checkout` by the
 * test's own `checkout` (it knows its repository), `actions/setup-node` by this machine's node
 * (the step must ask for its major), `nrwl/nx-set-shas` by exporting NX_BASE and NX_HEAD for the
 * later steps. Any other action fails, naming the test file to teach.
 */
/** The Node majors package.json `engines` promises (`^20.19.0 || ^22.12.0 || ^24.0.0`: 20, 22 and 24). */
export function supportedNodeMajors(): string[] {
  const engines = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  return engines.split('||').map((range) => /(\d+)/.exec(range)![1]);
}

/**
 * setup-node's step: this machine's Node stands in for the one the step asks for when both are
 * Nodes the workspace promises (the suite runs on each of them: README "Tests").
 */
export function checkSetupNode(step: Step): void {
  const asked = String(step.with?.['node-version']);
  const here = process.versions.node.split('.')[0];
  const supported = supportedNodeMajors();
  if (!supported.includes(asked)) throw new Error(`${WORKFLOW}: setup-node asks for Node ${asked}, which package.json engines does not promise (${supported.join(', ')})`);
  if (!supported.includes(here)) throw new Error(`${WORKFLOW}: this machine runs Node ${here}, which package.json engines does not promise (${supported.join(', ')})`);
}

export function provideActions(
  step: Step,
  env: Record<string, string>,
  shas: { base: string; head: string },
  checkout: (step: Step, env: Record<string, string>) => void,
  testFile: string,
): boolean {
  if (!step.uses) return false;
  const action = step.uses.split('@')[0];
  if (action === 'actions/checkout') {
    checkout(step, env);
  } else if (action === 'actions/setup-node') {
    checkSetupNode(step);
  } else if (action === 'nrwl/nx-set-shas') {
    env.NX_BASE = shas.base;
    env.NX_HEAD = shas.head;
  } else {
    throw new Error(`${WORKFLOW}: the test does not know what ${step.uses} provides; teach ${testFile}`);
  }
  return true;
}
