/**
 * `npm run bench:generate [-- --runs 5 --apps 0 --render 100 --keep]`: what `nx g homelab:app`
 * costs against a trivial Nx generator in the same workspace and the same run. The trivial
 * generator (written into the temporary workspace only, beside the homelab plugin, so Nx resolves
 * both the same way) writes one file; the difference is what generating an app adds: loading the
 * render core, validating the answers, rendering and writing its files.
 *
 * The workspace is a fresh homelab (scripts/lib/temp-workspace.ts) with `--apps N` apps already
 * generated (default 0) and committed; runs (at least 3) alternate between the trivial generator,
 * the same generator in plain JavaScript (no transpiler, as homelab's generators load), `nx g homelab:app`
 * and `nx g homelab:app` with its templates compiled at run time
 * (HOMELAB_TEMPLATES=compile, the path before they were precompiled), each a cold Nx process (no
 * daemon), each app under a new name, each run in the workspace as committed (what a run wrote is
 * undone after it, untimed: otherwise every run met a workspace two apps larger than the one
 * before, and the later runs of a kind weighed more in its median). Prints the medians, the ratios to the trivial generator
 * (goal <= 1.2) and the peak RSS, and `node -e 0` as a reference for the machine.
 *
 * Then what a validate batch pays per app for rendering: a cold process renders the `--render N`
 * apps of a second workspace (scripts/lib/render-apps.ts), templates precompiled and compiled at
 * run time, alternating; prints the medians and their ratio (both ways share everything else of
 * the render, the emitters' memory included). A benchmark, not a test: it exits 0
 * unless a command fails.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApp } from '../tools/homelab/src/app/generate';
import { diskHost } from '../tools/homelab/src/host';
import { argValue, median } from './lib/bench';
import { childEnv, commitAll, createTempWorkspace, git, NX_ENV } from './lib/temp-workspace';

const GOAL_RATIO = 1.2;
/** Medians of at least 3 runs. */
const RUNS = Math.max(3, argValue('--runs', 5));
const RENDER_APPS = argValue('--render', 100);
const APPS = process.argv.includes('--apps') ? Number(process.argv[process.argv.indexOf('--apps') + 1]) || 0 : 0;
const KEEP = process.argv.includes('--keep');

/**
 * The trivial generator: one file, nothing loaded beyond Nx itself. TypeScript like homelab's
 * generators, so both pay Nx's transpiler the same way.
 */
const TRIVIAL = `import type { Tree } from '@nx/devkit';

export default function trivialGenerator(tree: Tree, options: { name: string }): void {
  tree.write(\`trivial/\${options.name}.txt\`, \`\${options.name}\\n\`);
}
`;
/**
 * The same generator in plain JavaScript: Nx loads it without a transpiler, as it loads homelab's
 * generators (bundles). The stricter reference: what Nx itself costs for a generator.
 */
const TRIVIAL_JS = `'use strict';
module.exports = function trivialGenerator(tree, options) {
  tree.write(\`trivial/\${options.name}.txt\`, \`\${options.name}\\n\`);
};
module.exports.default = module.exports;
`;
const TRIVIAL_SCHEMA = {
  $schema: 'https://json-schema.org/schema',
  $id: 'BenchTrivial',
  type: 'object',
  properties: { name: { type: 'string', $default: { $source: 'argv', index: 0 } } },
  required: ['name'],
};

interface Timed {
  seconds: number;
  /** User + system CPU seconds of the process and its children (from /usr/bin/time): steadier than wall time on a busy machine. */
  cpu: number | null;
  rssMb: number | null;
}

/** Runs a command to completion, timing it and reading its peak RSS from `/usr/bin/time -v` where it exists. */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Timed & { out: string }> {
  const hasTime = fs.existsSync('/usr/bin/time');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const options = { cwd, env: childEnv({ ...NX_ENV, ...env }) };
    const child = hasTime ? spawn('/usr/bin/time', ['-v', command, ...args], options) : spawn(command, args, options);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (status) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (status !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${status}:\n${out.slice(-2000)}`));
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(out);
      const user = /User time \(seconds\): ([\d.]+)/.exec(out);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(out);
      resolve({ seconds, cpu: user && sys ? Number(user[1]) + Number(sys[1]) : null, rssMb: rss ? Number(rss[1]) / 1024 : null, out });
    });
  });
}

/** Adds the trivial generator to the workspace's copy of the homelab plugin (never the repository's). */
function addTrivialGenerator(root: string): void {
  const dir = path.join(root, 'tools/homelab/bench-trivial');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'generator.ts'), TRIVIAL);
  fs.writeFileSync(path.join(dir, 'generator-js.js'), TRIVIAL_JS);
  fs.writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(TRIVIAL_SCHEMA, null, 2));
  const file = path.join(root, 'tools/homelab/generators.json');
  const generators = JSON.parse(fs.readFileSync(file, 'utf8'));
  generators.generators['bench-trivial'] = { factory: './bench-trivial/generator', schema: './bench-trivial/schema.json', description: 'Writes one file.' };
  generators.generators['bench-trivial-js'] = { factory: './bench-trivial/generator-js', schema: './bench-trivial/schema.json', description: 'Writes one file (JavaScript).' };
  fs.writeFileSync(file, JSON.stringify(generators, null, 2));
}

const cpuOf = (runs: Timed[]) => {
  const cpus = runs.map((r) => r.cpu).filter((x): x is number => x !== null);
  return cpus.length ? median(cpus) : null;
};

const peak = (runs: Timed[]) => {
  const rss = runs.map((r) => r.rssMb).filter((x): x is number => x !== null);
  return rss.length ? `${Math.max(...rss).toFixed(0)} MB` : 'n/a';
};

/** `nx g homelab:app` with its templates compiled at run time, as before they were precompiled. */
const COMPILE = { HOMELAB_TEMPLATES: 'compile' };

const appArgs = (name: string) => ['homelab:app', name, '--image', 'traefik/whoami:v1.10.4', '--port', '80'];

async function benchGenerate(root: string): Promise<void> {
  addTrivialGenerator(root);
  const host = diskHost(root);
  for (let i = 0; i < APPS; i++) generateApp(host, { name: `existing-${i}`, image: 'traefik/whoami:v1.10.4', port: 8080 });
  commitAll(root, 'bench workspace');
  const nx = fs.realpathSync(path.join(root, 'node_modules/.bin/nx'));
  console.log(`workspace: ${root} (${APPS} app(s) already there)`);
  // One warm-up of each, not measured: the first Nx command of a workspace builds its caches.
  await timed(process.execPath, [nx, 'g', 'homelab:bench-trivial', 'warmup', '--no-interactive'], root);
  await timed(process.execPath, [nx, 'g', 'homelab:bench-trivial-js', 'warmup-js', '--no-interactive'], root);
  await timed(process.execPath, [nx, 'g', ...appArgs('warmup'), '--no-interactive'], root);

  /** Undoes what a run wrote (untimed): every run meets the workspace as committed. */
  const reset = () => {
    git(root, ['checkout', '--quiet', '--', '.']);
    git(root, ['clean', '--quiet', '-d', '--force']);
  };
  /** One timed `nx g`, then the workspace reset. */
  const generate = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> => {
    try {
      return await timed(process.execPath, [nx, 'g', ...args, '--no-interactive'], root, env);
    } finally {
      reset();
    }
  };
  reset();
  const app: Timed[] = [];
  const compiled: Timed[] = [];
  const trivial: Timed[] = [];
  const trivialJs: Timed[] = [];
  const ref: Timed[] = [];
  for (let i = 0; i < RUNS; i++) {
    trivial.push(await generate(['homelab:bench-trivial', `t${i}`]));
    trivialJs.push(await generate(['homelab:bench-trivial-js', `j${i}`]));
    app.push(await generate(appArgs(`app${i}`)));
    compiled.push(await generate(appArgs(`compiled${i}`), COMPILE));
    ref.push(await timed(process.execPath, ['-e', '0'], root));
  }
  const [a, c, t, j, r] = [app, compiled, trivial, trivialJs, ref].map((runs) => median(runs.map((x) => x.seconds)));
  const [ac, cc, tc, jc] = [cpuOf(app), cpuOf(compiled), cpuOf(trivial), cpuOf(trivialJs)];
  const cpu = (x: number | null) => (x === null ? '' : ` (CPU ${x.toFixed(2)} s)`);
  const cpuRatio = (x: number | null) => (x !== null && tc !== null ? `, CPU ${(x / tc).toFixed(2)}` : '');
  console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`);
  console.log(`node -e 0 (reference): median ${r.toFixed(3)} s of ${RUNS}`);
  console.log(`nx g homelab:bench-trivial (one file): median ${t.toFixed(3)} s${cpu(tc)}; peak RSS ${peak(trivial)}`);
  console.log(`nx g homelab:app <name> --image --port --no-interactive: median ${a.toFixed(3)} s${cpu(ac)}; peak RSS ${peak(app)}`);
  console.log(`  the same, templates compiled at run time (HOMELAB_TEMPLATES=compile): median ${c.toFixed(3)} s${cpu(cc)}; peak RSS ${peak(compiled)}`);
  console.log(`nx g homelab:bench-trivial-js (one file, JavaScript, no transpiler): median ${j.toFixed(3)} s${cpu(jc)}; peak RSS ${peak(trivialJs)}`);
  console.log(`homelab:app / trivial generator time ratio ${(a / t).toFixed(2)}${cpuRatio(ac)} (goal <= ${GOAL_RATIO}): ${a / t <= GOAL_RATIO ? 'met' : 'MISSED'}`);
  const jsCpu = ac !== null && jc !== null ? `, CPU ${(ac / jc).toFixed(2)}` : '';
  console.log(`homelab:app / trivial JavaScript generator time ratio ${(a / j).toFixed(2)}${jsCpu} (goal <= ${GOAL_RATIO}): ${a / j <= GOAL_RATIO ? 'met' : 'MISSED'}`);
  console.log(`  templates compiled at run time / trivial: ${(c / t).toFixed(2)}${cpuRatio(cc)}`);
}

interface RenderRun {
  apps: number;
  files: number;
  renderMs: number;
  renderCpuMs: number;
  processMs: number;
  precompiled: number;
  compiled: number;
}

/** What a validate batch's renders cost: RENDER_APPS apps rendered in a cold process, templates precompiled and compiled at run time. */
async function benchRender(root: string): Promise<void> {
  const host = diskHost(root);
  // Apps of three shapes, so the renders take stateful and secret templates as well as the plainest.
  for (let i = 0; i < RENDER_APPS; i++) {
    const shape = i % 3 === 0 ? {} : i % 3 === 1 ? { volumes: 'data:1Gi:/data' } : { secrets: 'TOKEN' };
    generateApp(host, { name: `render-${i}`, image: 'traefik/whoami:v1.10.4', port: 8080, ...shape });
  }
  const script = path.join(__dirname, 'lib/render-apps.ts');
  const runs: Record<'precompiled' | 'compile', RenderRun[]> = { precompiled: [], compile: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of ['precompiled', 'compile'] as const) {
      const run = await timed(process.execPath, ['--import', 'tsx', script, root], root, mode === 'compile' ? COMPILE : {});
      const line = run.out.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`render-apps.ts printed no result:\n${run.out.slice(-2000)}`);
      runs[mode].push(JSON.parse(line) as RenderRun);
    }
  }
  const show = (mode: 'precompiled' | 'compile') => {
    const rs = runs[mode];
    const [render, cpu, proc] = [median(rs.map((x) => x.renderMs)), median(rs.map((x) => x.renderCpuMs)), median(rs.map((x) => x.processMs))];
    console.log(`  ${mode === 'compile' ? 'compiled at run time (HOMELAB_TEMPLATES=compile)' : 'precompiled'}: renders median ${(render / 1000).toFixed(3)} s (CPU ${(cpu / 1000).toFixed(3)} s), process until done ${(proc / 1000).toFixed(3)} s; templates ${rs[0].precompiled} precompiled, ${rs[0].compiled} compiled`);
    return { render, cpu };
  };
  console.log(`${runs.precompiled[0].apps} apps (${runs.precompiled[0].files} files) checked and rendered in a cold process, as validate renders each app:`);
  const [fast, slow] = [show('precompiled'), show('compile')];
  console.log(`  precompiled / compiled at run time: ${(fast.render / slow.render).toFixed(2)} (CPU ${(fast.cpu / slow.cpu).toFixed(2)})`);
}

async function main(): Promise<void> {
  const root = createTempWorkspace('homelab-bench-generate-');
  const renderRoot = createTempWorkspace('homelab-bench-render-');
  try {
    await benchGenerate(root);
    await benchRender(renderRoot);
  } finally {
    if (KEEP) console.log(`kept ${root} and ${renderRoot}`);
    else for (const dir of [root, renderRoot]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
