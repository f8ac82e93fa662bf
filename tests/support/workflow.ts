import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { nxTestEnv } from './nx';
import { run, type RunResult } from './tools';
import { REPO_ROOT } from './workspace';

/** The CI workflow homelab ships to its users. */
export const WORKFLOW = '.github/workflows/ci.yml';

/**
 * The contexts an expression reads (`matrix`, `github`, `needs`, `steps`, …), as the test says
 * Actions would give them, and `hashFiles`, answered from the job's folder. A context the test
 * does not give fails the expression, so the test never guesses a value.
 */
export interface Contexts {
  [name: string]: unknown;
  /** The folder `hashFiles(path)` looks in (GITHUB_WORKSPACE). */
  workspace?: string;
  /** What `success()` and `failure()` answer: whether an earlier step failed. */
  failed?: boolean;
}

type Token = { kind: 'num' | 'str' | 'id' | 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|([A-Za-z_][\w-]*)|(==|!=|<=|>=|&&|\|\||[!<>().,[\]*]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`${WORKFLOW}: the test cannot read the expression ${text} at ${text.slice(at)}`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'str', value: m[2].replace(/''/g, "'") });
    else if (m[3] !== undefined) tokens.push({ kind: 'id', value: m[3] });
    else tokens.push({ kind: 'op', value: m[4] });
  }
  return tokens;
}

/** Actions' loose equality: numbers compare as numbers, strings case-insensitively, null as null. */
function looseEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'object' || typeof b === 'object') return a === b;
  return Number(a) === Number(b);
}

const truthy = (v: unknown) => !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v));

/**
 * Evaluates a GitHub Actions expression (the part inside `${{ }}`, or an `if:`) as Actions
 * does, for what the workflow uses: literals, context paths (`a.b`, `a['b']`, `a[0]`), `!`,
 * `==`, `!=`, `<`, `>`, `&&`, `||`, parentheses, and the functions `always()`, `success()`,
 * `failure()`, `cancelled()`, `fromJSON`, `toJSON`, `startsWith`, `contains` and `hashFiles`.
 * A property missing from a given context is null, as in Actions; a context not given fails.
 */
export function evaluateExpression(text: string, contexts: Contexts): unknown {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (value?: string) => {
    const t = tokens[i++];
    if (!t || (value !== undefined && t.value !== value)) throw new Error(`${WORKFLOW}: expected ${value ?? 'more'} in the expression ${text}`);
    return t;
  };
  const functions: Record<string, (...args: unknown[]) => unknown> = {
    always: () => true,
    success: () => !contexts.failed,
    failure: () => Boolean(contexts.failed),
    cancelled: () => false,
    fromjson: (v) => JSON.parse(String(v)),
    tojson: (v) => JSON.stringify(v, null, 2),
    startswith: (a, b) => String(a ?? '').toLowerCase().startsWith(String(b ?? '').toLowerCase()),
    contains: (a, b) => (Array.isArray(a) ? a.some((x) => looseEqual(x, b)) : String(a ?? '').toLowerCase().includes(String(b ?? '').toLowerCase())),
    hashfiles: (...patterns) => {
      if (!contexts.workspace) throw new Error(`${WORKFLOW}: hashFiles needs the job's folder; pass workspace in the contexts`);
      // Literal paths only (no globs): a file that exists has a hash, none is ''.
      const found = patterns.map(String).filter((p) => fs.existsSync(path.join(contexts.workspace!, p)));
      return found.length ? `hash-of-${found.join(',')}` : '';
    },
  };
  function primary(): unknown {
    const t = take();
    if (t.kind === 'num') return Number(t.value);
    if (t.kind === 'str') return t.value;
    if (t.kind === 'op' && t.value === '(') {
      const v = or();
      take(')');
      return postfix(v);
    }
    if (t.kind === 'op' && t.value === '!') return !truthy(primary());
    if (t.kind !== 'id') throw new Error(`${WORKFLOW}: unexpected ${t.value} in the expression ${text}`);
    if (t.value === 'true' || t.value === 'false') return t.value === 'true';
    if (t.value === 'null') return null;
    if (peek()?.value === '(') {
      take('(');
      const args: unknown[] = [];
      while (peek()?.value !== ')') {
        args.push(or());
        if (peek()?.value === ',') take(',');
      }
      take(')');
      const fn = functions[t.value.toLowerCase()];
      if (!fn) throw new Error(`${WORKFLOW}: the test does not know the function ${t.value}(); teach tests/support/workflow.ts`);
      return postfix(fn(...args));
    }
    if (!(t.value in contexts) || t.value === 'workspace' || t.value === 'failed') {
      throw new Error(`${WORKFLOW}: the test does not say what the context ${t.value} holds (in ${text}); pass it in the contexts`);
    }
    return postfix(contexts[t.value]);
  }
  function postfix(value: unknown): unknown {
    let v = value;
    for (;;) {
      if (peek()?.value === '.') {
        take('.');
        const key = take().value;
        v = v === null || v === undefined ? null : ((v as Record<string, unknown>)[key] ?? null);
      } else if (peek()?.value === '[') {
        take('[');
        const key = or();
        take(']');
        v = v === null || v === undefined ? null : ((v as Record<string, unknown>)[String(key)] ?? null);
      } else return v;
    }
  }
  function comparison(): unknown {
    let left = primary();
    while (['==', '!=', '<', '>', '<=', '>='].includes(peek()?.value ?? '')) {
      const op = take().value;
      const right = primary();
      if (op === '==') left = looseEqual(left, right);
      else if (op === '!=') left = !looseEqual(left, right);
      else if (op === '<') left = Number(left) < Number(right);
      else if (op === '>') left = Number(left) > Number(right);
      else if (op === '<=') left = Number(left) <= Number(right);
      else left = Number(left) >= Number(right);
    }
    return left;
  }
  function and(): unknown {
    let left = comparison();
    while (peek()?.value === '&&') {
      take('&&');
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  }
  function or(): unknown {
    let left = and();
    while (peek()?.value === '||') {
      take('||');
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  }
  const value = or();
  if (i !== tokens.length) throw new Error(`${WORKFLOW}: the test cannot read the rest of the expression ${text}`);
  return value;
}

/** A step's or job's `if:` as Actions decides it: an expression with or without `${{ }}`, `success()` implied unless a status function is named. */
export function conditionHolds(condition: string | boolean | undefined, contexts: Contexts): boolean {
  if (condition === undefined) return !contexts.failed;
  const text = String(condition).trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const explicit = /\b(always|success|failure|cancelled)\s*\(/.test(text);
  return truthy(evaluateExpression(explicit ? text : `success() && (${text})`, contexts));
}

/** A value of `with:`, `env:` or `outputs:` with each `${{ }}` replaced by its value (a whole-value expression keeps its type). */
export function interpolate(value: unknown, contexts: Contexts): unknown {
  if (typeof value !== 'string') return value;
  const whole = /^\$\{\{([\s\S]*?)\}\}$/.exec(value.trim());
  if (whole) return evaluateExpression(whole[1], contexts);
  return value.replace(/\$\{\{\s*([\s\S]+?)\s*\}\}/g, (_w, expression: string) => {
    const v = evaluateExpression(expression, contexts);
    return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/**
 * A step's `env` with each `${{ expression }}` replaced by its value: the one `expressions`
 * names (what the test says Actions would give it, e.g. a secret set or not), else its value in
 * the contexts; an expression the test answers neither way fails the test.
 */
function evaluate(env: Record<string, string>, expressions: Record<string, string>, contexts: Contexts = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      String(value).replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_whole, expression: string) => {
        if (expression in expressions) return expressions[expression];
        try {
          return String(interpolate(`\${{ ${expression} }}`, contexts) ?? '');
        } catch {
          throw new Error(`${WORKFLOW}: the test does not say what \${{ ${expression} }} is; pass it in expressions`);
        }
      }),
    ]),
  );
}

/** `key=value` lines and `key<<DELIMITER` blocks of a `$GITHUB_OUTPUT` file, as Actions reads them. */
export function readOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end === -1) throw new Error(`$GITHUB_OUTPUT: ${heredoc[1]}<<${heredoc[2]} has no closing ${heredoc[2]}`);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`$GITHUB_OUTPUT: the line ${JSON.stringify(line)} is neither key=value nor key<<DELIMITER`);
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

/** One step of a job, as the workflow file writes it. */
export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  id?: string;
}

export interface Job {
  if?: string;
  'runs-on'?: string;
  needs?: string | string[];
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: Record<string, unknown> | string };
  outputs?: Record<string, string>;
  steps: Step[];
}

/** The workflow as committed, parsed. */
export function readWorkflow(dir = REPO_ROOT): { env?: Record<string, string>; permissions?: Record<string, string>; defaults: { run: { shell: string } }; jobs: Record<string, Job> } {
  return YAML.parse(fs.readFileSync(path.join(dir, WORKFLOW), 'utf8'));
}

/**
 * What a test does with a step it takes over: the `uses:` steps (and any `run:` step it replaces by
 * what that step provides). The step comes with its `with:` values evaluated.
 */
export type Provide = (step: Step, env: Record<string, string>) => boolean;

/** What one `run:` step did: its output, and what it wrote to `$GITHUB_OUTPUT`. */
export interface StepRun {
  step: string;
  result: RunResult;
  outputs: Record<string, string>;
}

/** How a step is named in results and errors: its name, its action, or its script's first line. */
export const stepLabel = (step: Step) => step.name ?? step.uses ?? step.run!.split('\n')[0];

/**
 * Runs the `run:` steps of a job in `dir`, in order, as GitHub Actions runs them:
 * `bash --noprofile --norc -eo pipefail` on the step's script, with the workflow's, the job's
 * and the step's `env` and the variables Actions sets (CI, GITHUB_ACTIONS, GITHUB_OUTPUT: what a
 * step writes there is its `steps.<id>.outputs`). A step whose `if:` does not hold in `contexts`
 * (`matrix`, `github`, `needs`, … as the test says Actions would give them; a context it does not
 * give fails the test) is skipped. `provide` takes over
 * each step it returns true for, and may set variables for the later steps (as an action exports
 * them); a `uses:` step it does not take fails the test, and so does the install step unless it
 * is exactly `npm ci` (the repository's installed node_modules are linked into `dir`: no registry
 * here, and the lock file is the same). `${{ … }}` in a step's `env` takes its value from
 * `expressions`. Stops at the first step that fails, with its output.
 */
export function runJobSteps(
  dir: string,
  jobName: string,
  provide: Provide,
  expressions: Record<string, string> = {},
  contexts: Contexts = {},
): StepRun[] {
  const workflow = readWorkflow(dir);
  if (workflow.defaults.run.shell !== 'bash') throw new Error(`${WORKFLOW}: defaults.run.shell is ${workflow.defaults.run.shell}, not bash`);
  const job = workflow.jobs[jobName];
  const env: Record<string, string> = { ...workflow.env, ...job.env };
  const outputs: StepRun[] = [];
  const steps: Record<string, { outputs: Record<string, string> }> = {};
  const here: Contexts = { ...contexts, steps, workspace: dir };
  for (const [index, original] of job.steps.entries()) {
    if (!conditionHolds(original.if, here)) continue;
    // `with:` values evaluated where the contexts answer them; one that reads a context the test
    // does not give (a secret for checkout's token) stays as written, for the test's `provide` to judge.
    const evaluated = (v: unknown) => {
      try {
        return interpolate(v, here);
      } catch {
        return v;
      }
    };
    const step: Step = original.with ? { ...original, with: Object.fromEntries(Object.entries(original.with).map(([k, v]) => [k, evaluated(v)])) } : original;
    const label = stepLabel(step);
    if (provide(step, env)) continue;
    if (step.uses) throw new Error(`${WORKFLOW}: the test does not know what ${step.uses} provides; teach it`);
    if (step.run!.trim() === 'npm ci') {
      if (!fs.existsSync(path.join(dir, 'node_modules/.bin/nx'))) throw new Error('the `npm ci` step needs the linked node_modules');
      continue;
    }
    const script = path.join(dir, `.git/ci-${jobName}-step-${index}.sh`);
    const outputFile = path.join(dir, `.git/ci-${jobName}-step-${index}.output`);
    fs.writeFileSync(script, step.run!);
    fs.writeFileSync(outputFile, '');
    const result = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: dir,
      // No secret value anywhere: the runner's environment plus what Actions and the workflow set.
      env: nxTestEnv({ CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputFile, ...env, ...evaluate(step.env ?? {}, expressions, here) }),
      timeout: 900_000,
    });
    const written = readOutputFile(fs.readFileSync(outputFile, 'utf8'));
    if (step.id) steps[step.id] = { outputs: written };
    outputs.push({ step: label, result, outputs: written });
    if (result.status !== 0) throw new Error(`step "${label}" exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return outputs;
}

/** A job's `outputs:`, from what its steps wrote (runJobSteps' StepRun outputs, by step id). */
export function jobOutputs(job: Job, runs: StepRun[]): Record<string, string> {
  const steps: Record<string, { outputs: Record<string, string> }> = {};
  for (const step of job.steps) {
    // A step that did not run has no outputs: its references are empty, as in Actions.
    if (step.id) steps[step.id] = { outputs: runs.find((r) => r.step === stepLabel(step))?.outputs ?? {} };
  }
  return Object.fromEntries(Object.entries(job.outputs ?? {}).map(([key, value]) => [key, String(interpolate(value, { steps }) ?? '')]));
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
  if (asked.includes('${{')) throw new Error(`${WORKFLOW}: setup-node's node-version ${asked} is not evaluated; run the step through runJobSteps with its matrix in the contexts`);
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
