/**
 * `npm run bench:generate [-- --runs 5 --apps 0 --keep]`: what `nx g homelab:app` costs against a
 * trivial Nx generator in the same workspace and the same run. The trivial generator (written
 * into the temporary workspace only, beside the homelab plugin, so Nx resolves both the same way)
 * writes one file; the difference is what generating an app adds: loading the render core,
 * validating the answers, rendering and writing its files.
 *
 * The workspace is a fresh homelab (scripts/lib/temp-workspace.ts) with `--apps N` apps already
 * generated (default 0) and committed; runs alternate between the two generators, each a cold Nx
 * process (no daemon), each app under a new name. Prints the medians, their ratio (goal <= 1.2)
 * and the peak RSS, and `node -e 0` as a reference for the machine. A benchmark, not a test: it
 * exits 0 unless a command fails.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApp } from '../tools/homelab/src/app/generate';
import { diskHost } from '../tools/homelab/src/host';
import { argValue, median } from './lib/bench';
import { childEnv, commitAll, createTempWorkspace, NX_ENV } from './lib/temp-workspace';

const GOAL_RATIO = 1.2;
const RUNS = argValue('--runs', 5);
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
function timed(command: string, args: string[], cwd: string): Promise<Timed> {
  const hasTime = fs.existsSync('/usr/bin/time');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = hasTime
      ? spawn('/usr/bin/time', ['-v', command, ...args], { cwd, env: childEnv(NX_ENV) })
      : spawn(command, args, { cwd, env: childEnv(NX_ENV) });
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
      resolve({ seconds, cpu: user && sys ? Number(user[1]) + Number(sys[1]) : null, rssMb: rss ? Number(rss[1]) / 1024 : null });
    });
  });
}

/** Adds the trivial generator to the workspace's copy of the homelab plugin (never the repository's). */
function addTrivialGenerator(root: string): void {
  const dir = path.join(root, 'tools/homelab/bench-trivial');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'generator.ts'), TRIVIAL);
  fs.writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(TRIVIAL_SCHEMA, null, 2));
  const file = path.join(root, 'tools/homelab/generators.json');
  const generators = JSON.parse(fs.readFileSync(file, 'utf8'));
  generators.generators['bench-trivial'] = { factory: './bench-trivial/generator', schema: './bench-trivial/schema.json', description: 'Writes one file.' };
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

async function main(): Promise<void> {
  const root = createTempWorkspace('homelab-bench-generate-');
  try {
    addTrivialGenerator(root);
    const host = diskHost(root);
    for (let i = 0; i < APPS; i++) generateApp(host, { name: `existing-${i}`, image: 'traefik/whoami:v1.10.4', port: 8080 });
    commitAll(root, 'bench workspace');
    const nx = fs.realpathSync(path.join(root, 'node_modules/.bin/nx'));
    console.log(`workspace: ${root} (${APPS} app(s) already there)`);
    // One warm-up of each, not measured: the first Nx command of a workspace builds its caches.
    await timed(process.execPath, [nx, 'g', 'homelab:bench-trivial', 'warmup', '--no-interactive'], root);
    await timed(process.execPath, [nx, 'g', 'homelab:app', 'warmup', '--image', 'traefik/whoami:v1.10.4', '--port', '80', '--no-interactive'], root);

    const app: Timed[] = [];
    const trivial: Timed[] = [];
    const ref: Timed[] = [];
    for (let i = 0; i < RUNS; i++) {
      trivial.push(await timed(process.execPath, [nx, 'g', 'homelab:bench-trivial', `t${i}`, '--no-interactive'], root));
      app.push(await timed(process.execPath, [nx, 'g', 'homelab:app', `app${i}`, '--image', 'traefik/whoami:v1.10.4', '--port', '80', '--no-interactive'], root));
      ref.push(await timed(process.execPath, ['-e', '0'], root));
    }
    const [a, t, r] = [app, trivial, ref].map((runs) => median(runs.map((x) => x.seconds)));
    const [ac, tc] = [cpuOf(app), cpuOf(trivial)];
    const cpu = (c: number | null) => (c === null ? '' : ` (CPU ${c.toFixed(2)} s)`);
    console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`);
    console.log(`node -e 0 (reference): median ${r.toFixed(3)} s of ${RUNS}`);
    console.log(`nx g homelab:bench-trivial (one file): median ${t.toFixed(3)} s${cpu(tc)}; peak RSS ${peak(trivial)}`);
    console.log(`nx g homelab:app <name> --image --port --no-interactive: median ${a.toFixed(3)} s${cpu(ac)}; peak RSS ${peak(app)}`);
    console.log(`homelab:app / trivial generator time ratio ${(a / t).toFixed(2)} (goal <= ${GOAL_RATIO}): ${a / t <= GOAL_RATIO ? 'met' : 'MISSED'}`);
    if (ac !== null && tc !== null) console.log(`  CPU time ratio ${(ac / tc).toFixed(2)}`);
  } finally {
    if (KEEP) console.log(`kept ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
