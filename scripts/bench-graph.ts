/**
 * `npm run bench:graph [-- --apps 500 --runs 3 --cold-runs 1 --keep --isolate-plugins --no-per-overlay --no-kubectl-pair]`: builds a temporary workspace
 * with N apps (one app rendered by the real generator, copied under N names), commits
 * it, and measures what CI pays for the project graph and validate at that scale:
 *
 *   graph      `nx show projects`, cold (no project graph cache, no plugin parse cache), daemonless
 *   warm graph `nx show projects` again: the plugin reads every spec's facts from its parse cache
 *   cold       `nx run-many -t validate` with an empty cache (after the equivalent of `nx reset`),
 *              with the overlays built many per kustomize process (the default; its note says how
 *              many processes and how many overlays were built alone), alternating, unless
 *              --no-kubectl-pair, with a run under HOMELAB_KUSTOMIZE=kubectl (the overlays built by
 *              aggregate kubectl processes instead of kustomize-batch), for the ratio of the two; then,
 *              unless --no-per-overlay, with every overlay built alone (HOMELAB_KUSTOMIZE_BATCH=1,
 *              the path before batching)
 *   cached     `nx run-many -t validate` again, nothing changed (must be N/N cache hits)
 *   affected   `nx affected -t validate --base=HEAD` with one app's overlay edited, then the same with
 *              the plugin and the executor loaded from their TypeScript sources (HOMELAB_BUNDLE=0,
 *              the path before bundles) for the ratio of the bundles (src/bundle/load.js)
 *   no code cache  the cached and affected runs again without V8's code cache of the bundles and
 *              validators (HOMELAB_CODE_CACHE=0, src/bundle/code-cache.js), for the ratio of the cache
 *   plugin     Nx's own "Load Nx Plugin: homelab" time (NX_PERF_LOGGING) in `nx show projects`, from
 *              the bundle and from the sources (HOMELAB_BUNDLE=0), alternating
 *
 * The bundles of the workspace's plugin and executors are built by a warm-up before anything is
 * measured (as a user's first command after an upgrade would build them).
 *
 * plus peak memory and reference figures measured in the same run (`node -e 0`,
 * `nx --version`), so the times can be compared across machines as ratios (columns `x node`
 * and `x nx`), and what the plugin's parse cache served (NX_VERBOSE_LOGGING's line).
 * A benchmark, not a test: it prints figures and the goals met or missed, and exits 0
 * unless a command fails.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApp } from '../tools/homelab/src/app/generate';
import { backupAlertName } from '../tools/homelab/src/app/steps/signals';
import { diskHost, listFilesRecursive } from '../tools/homelab/src/host';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { childEnv, commitAll, createTempWorkspace, NX_ENV, taskCounts } from './lib/temp-workspace';
import { median } from './lib/bench';

interface Args {
  apps: number;
  runs: number;
  /** Cold runs validate every app: at hundreds of apps one may be all there is time for. */
  coldRuns: number;
  keep: boolean;
  /**
   * Plugins in worker processes (NX_ISOLATE_PLUGINS=true, Nx's own default) for every Nx command,
   * instead of the workspace's setting (its .local.env turns isolation off).
   */
  isolatePlugins: boolean;
  /** Also the cold run with every overlay built alone, for the ratio of the batched kustomize builds. */
  perOverlay: boolean;
  /** Each cold run paired with one under HOMELAB_KUSTOMIZE=kubectl, for the ratio of kustomize-batch. */
  kubectlPair: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { apps: 500, runs: 3, coldRuns: 0, keep: false, isolatePlugins: false, perOverlay: true, kubectlPair: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a whole number >= 1, got ${JSON.stringify(argv[i])}`);
      return v;
    };
    if (flag === '--apps') args.apps = value();
    else if (flag === '--runs') args.runs = value();
    else if (flag === '--cold-runs') args.coldRuns = value();
    else if (flag === '--keep') args.keep = true;
    else if (flag === '--isolate-plugins') args.isolatePlugins = true;
    else if (flag === '--no-per-overlay') args.perOverlay = false;
    else if (flag === '--no-kubectl-pair') args.kubectlPair = false;
    else throw new Error(`unknown option ${flag}; use --apps N, --runs N, --cold-runs N, --keep, --isolate-plugins, --no-per-overlay, --no-kubectl-pair`);
  }
  if (args.coldRuns === 0) args.coldRuns = args.runs;
  return args;
}

/** The name the template app is generated under: long and unique, so replacing it cannot hit anything else. */
const TEMPLATE = 'benchtemplate';

function appName(i: number, width: number): string {
  return `app-${String(i).padStart(width, '0')}`;
}

/** Generates one app with the real generator, then writes N copies of its files under other names, synced. */
function populate(root: string, apps: number): string[] {
  const host = diskHost(root);
  generateApp(host, { name: TEMPLATE, image: 'traefik/whoami:v1.10.4', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
  const mine = (file: string) => file.includes(`/${TEMPLATE}/`) || file.includes(`/${TEMPLATE}.`);
  const files = [...listFilesRecursive(host, 'applications'), ...listFilesRecursive(host, 'platform/argocd/applications')].filter(mine);
  const contents = files.map((file) => ({ file, content: host.read(file) ?? '' }));
  for (const { file } of contents) host.delete(file);
  for (const dir of [`applications/kubernetes/base/${TEMPLATE}`, `applications/compose/base/${TEMPLATE}`]) {
    fs.rmSync(path.join(root, dir), { recursive: true, force: true });
  }
  for (const env of host.list('applications/kubernetes/overlays')) {
    fs.rmSync(path.join(root, 'applications/kubernetes/overlays', env, TEMPLATE), { recursive: true, force: true });
  }
  for (const env of host.list('applications/compose/environments')) {
    fs.rmSync(path.join(root, 'applications/compose/environments', env, TEMPLATE), { recursive: true, force: true });
  }
  const width = String(apps).length;
  const names: string[] = [];
  for (let i = 1; i <= apps; i++) {
    const name = appName(i, width);
    names.push(name);
    // The name appears as is, and capitalised in the stale-backup alert's name.
    const rename = (text: string) => text.split(backupAlertName(TEMPLATE)).join(backupAlertName(name)).split(TEMPLATE).join(name);
    for (const { file, content } of contents) host.write(rename(file), rename(content));
  }
  // What the spec renders from the name in another form (an alert's `BenchtemplateBackupStale`) is rendered again, as `nx sync` would.
  syncAll(host);
  return names;
}

interface Measured {
  seconds: number;
  /** User + system CPU time of the command and its children (from /usr/bin/time -v): steadier than wall time on a busy machine. */
  cpuSeconds?: number;
  output: string;
  /** Largest resident set of any one process of the command (from /usr/bin/time -v), in MiB. */
  maxProcessMiB?: number;
  /** Largest sum of the resident sets of the command's process tree, sampled from /proc, in MiB. */
  treePeakMiB?: number;
}

const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const PROC = fs.existsSync('/proc/self/stat');

/** Resident memory of a process and all its descendants, in KiB, from /proc. */
function treeRssKiB(rootPid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid ... rss is field 24.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      rss.set(Number(entry), Number(fields[21]) * 4);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Runs a command in the workspace, timing it and sampling its memory; rejects when it fails. */
function measure(root: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const argv = GNU_TIME ? [GNU_TIME, '-v', command, ...args] : [command, ...args];
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: root, env: childEnv({ ...NX_ENV, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let peak = 0;
    const sampler = PROC ? setInterval(() => (peak = Math.max(peak, treeRssKiB(child.pid!))), 100) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (sampler) clearInterval(sampler);
      if (code !== 0) {
        reject(new Error(`\`${command} ${args.join(' ')}\` exited ${code}:\n${output.trim().split('\n').slice(-30).join('\n')}`));
        return;
      }
      const maxRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(output);
      const user = /User time \(seconds\): ([\d.]+)/.exec(output);
      const system = /System time \(seconds\): ([\d.]+)/.exec(output);
      resolve({
        seconds,
        cpuSeconds: user && system ? Number(user[1]) + Number(system[1]) : undefined,
        output,
        maxProcessMiB: maxRss ? Number(maxRss[1]) / 1024 : undefined,
        treePeakMiB: PROC ? peak / 1024 : undefined,
      });
    });
  });
}

interface Row {
  figure: string;
  runs: Measured[];
  goal?: number;
  note: string;
  /** An extra condition of the goal besides time (e.g. exactly one task ran). */
  extraOk?: boolean;
}

/** Empties the task cache and the project graph cache (what `nx reset` does without a daemon). */
function reset(root: string): void {
  fs.rmSync(path.join(root, '.nx'), { recursive: true, force: true });
}

function log(message: string): void {
  process.stderr.write(`[bench:graph] ${message}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const nxBin = (root: string) => path.join(root, 'node_modules/.bin/nx');
  const t0 = Date.now();
  const root = createTempWorkspace('homelab-bench-');
  log(`workspace ${root}`);
  // Ctrl-C (or a timeout) must not leave a 500-app workspace behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (!args.keep) fs.rmSync(root, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    const names = populate(root, args.apps);
    commitAll(root, `${args.apps} apps`);
    log(`${args.apps} apps generated and committed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const nxEnv = args.isolatePlugins ? { NX_ISOLATE_PLUGINS: 'true' } : {};
    const nx = (...a: string[]) => measure(root, nxBin(root), a, nxEnv);
    const repeat = async (n: number, before: (i: number) => void, step: () => Promise<Measured>) => {
      const runs: Measured[] = [];
      for (let i = 0; i < n; i++) {
        before(i);
        runs.push(await step());
      }
      return runs;
    };
    const rows: Row[] = [];

    log('warm-up: the plugin and validate executor bundles of this workspace');
    await measure(root, nxBin(root), ['run', `${names[0]}:validate`], nxEnv);
    reset(root);

    log('reference: node -e 0, nx --version');
    rows.push({ figure: 'node -e 0 (reference)', runs: await repeat(args.runs, () => {}, () => measure(root, process.execPath, ['-e', '0'])), note: 'process start' });
    rows.push({ figure: 'nx --version (reference)', runs: await repeat(args.runs, () => {}, () => nx('--version')), note: 'Nx start, no graph' });

    log('project graph: nx show projects, cold');
    const graph = await repeat(args.runs, () => reset(root), () => nx('show', 'projects'));
    const listed = graph[0].output.split('\n').filter((l) => names.includes(l.trim())).length;
    rows.push({ figure: 'graph: nx show projects (cold)', runs: graph, goal: 3, note: `${listed}/${args.apps} apps listed`, extraOk: listed === args.apps });
    log('project graph: nx show projects, plugin parse cache warm');
    const warm = await repeat(args.runs, () => {}, () => nx('show', 'projects'));
    const pluginLine = /homelab plugin: .*/.exec((await measure(root, nxBin(root), ['show', 'projects'], { ...nxEnv, NX_VERBOSE_LOGGING: 'true' })).output)?.[0];
    rows.push({ figure: 'graph: nx show projects (warm)', runs: warm, note: pluginLine ?? 'no "homelab plugin:" line (NX_VERBOSE_LOGGING)' });

    log(`cold run-many -t validate (empty cache), overlays batched${args.kubectlPair ? ', alternating with HOMELAB_KUSTOMIZE=kubectl' : ''}`);
    // HOMELAB_DEBUG: the batch process says how it built the overlays (one line, in the note).
    const coldRun = (env: NodeJS.ProcessEnv) => measure(root, nxBin(root), ['run-many', '-t', 'validate'], { ...nxEnv, HOMELAB_DEBUG: '1', ...env });
    const kustomizeNote = (runs: Measured[]) => [...new Set(runs.map((r) => /homelab: kustomize: (.*)/.exec(r.output)?.[1] ?? 'no kustomize line'))].join('; ');
    // Paired with HOMELAB_KUSTOMIZE=kubectl: the two alternate, each going first in every other round.
    const cold: Measured[] = [];
    const viaKubectl: Measured[] = [];
    for (let i = 0; i < args.coldRuns; i++) {
      const order = args.kubectlPair ? (i % 2 === 0 ? ['program', 'kubectl'] : ['kubectl', 'program']) : ['program'];
      for (const which of order) {
        reset(root);
        if (which === 'program') cold.push(await coldRun({}));
        else viaKubectl.push(await coldRun({ HOMELAB_KUSTOMIZE: 'kubectl' }));
      }
    }
    const coldTasks = cold.map((r) => taskCounts(r.output));
    rows.push({
      figure: 'cold: run-many -t validate',
      runs: cold,
      goal: 15,
      note: `${coldTasks.map((t) => t?.ran ?? '?').join('/')} tasks ran; ${kustomizeNote(cold)}`,
      // Every app's task and homelab-platform's ran, none from the cache (it counted 501 of 500 as a miss).
      extraOk: coldTasks.every((t) => t !== null && t.hits === 0 && t.tasks === args.apps + 1),
    });
    if (args.kubectlPair) {
      const ratio = median(cold.map((r) => r.seconds)) / median(viaKubectl.map((r) => r.seconds));
      rows.push({
        figure: 'cold, overlays by kubectl (HOMELAB_KUSTOMIZE=kubectl)',
        runs: viaKubectl,
        note: `${viaKubectl.map((r) => taskCounts(r.output)?.ran ?? '?').join('/')} tasks ran; ${kustomizeNote(viaKubectl)}; the default cold run is ${ratio.toFixed(2)}x this (alternated)`,
      });
    }
    if (args.perOverlay) {
      log('cold run-many -t validate (empty cache), every overlay built alone (HOMELAB_KUSTOMIZE_BATCH=1)');
      const alone = await repeat(args.coldRuns, () => reset(root), () => coldRun({ HOMELAB_KUSTOMIZE_BATCH: '1' }));
      const times = median(alone.map((r) => r.seconds)) / median(cold.map((r) => r.seconds));
      rows.push({
        figure: 'cold, overlays alone (HOMELAB_KUSTOMIZE_BATCH=1)',
        runs: alone,
        note: `${alone.map((r) => taskCounts(r.output)?.ran ?? '?').join('/')} tasks ran; ${kustomizeNote(alone)}; ${times.toFixed(2)}x the batched cold run`,
      });
    }

    log('cached run-many -t validate');
    const cached = await repeat(args.runs, () => {}, () => nx('run-many', '-t', 'validate'));
    const cachedTasks = cached.map((r) => taskCounts(r.output));
    rows.push({
      figure: 'cached: run-many -t validate',
      runs: cached,
      goal: 2.5,
      note: `${cachedTasks.map((t) => (t ? `${t.hits}/${t.tasks}` : '?')).join(' ')} cache hits`,
      // Every app and the homelab-platform project.
      extraOk: cachedTasks.every((t) => t?.hits === args.apps + 1 && t.tasks === args.apps + 1),
    });

    log('affected -t validate, one app touched');
    const touched = names[Math.floor(names.length / 2)];
    const overlay = path.join(root, 'applications/kubernetes/overlays/dev', touched, 'kustomization.yaml');
    const original = fs.readFileSync(overlay, 'utf8');
    // A different edit each run, so every run validates (no cache hit from the previous one).
    const affected = await repeat(args.runs, (i) => fs.writeFileSync(overlay, `${original}# edit ${i} ${Date.now()}\n`), () => nx('affected', '-t', 'validate', '--base=HEAD'));
    fs.writeFileSync(overlay, original);
    const ran = affected.map((r) => taskCounts(r.output)?.ran ?? NaN);
    rows.push({
      figure: `affected -t validate (${touched} touched)`,
      runs: affected,
      goal: 3,
      note: `${ran.join('/')} task(s) ran`,
      extraOk: ran.every((n) => n === 1),
    });

    /** The affected run again with `env` on top: a fresh edit of the overlay each run, the overlay as it was after. */
    const affectedWith = async (tag: string, env: Record<string, string>) => {
      const runs = await repeat(
        args.runs,
        (i) => fs.writeFileSync(overlay, `${original}# ${tag} edit ${i} ${Date.now()}\n`),
        () => measure(root, nxBin(root), ['affected', '-t', 'validate', '--base=HEAD'], { ...nxEnv, ...env }),
      );
      fs.writeFileSync(overlay, original);
      return runs;
    };

    log('affected -t validate, one app touched, plugin and executor from their sources (HOMELAB_BUNDLE=0)');
    const fromSources = await affectedWith('sources', { HOMELAB_BUNDLE: '0' });
    rows.push({
      figure: 'affected, sources (HOMELAB_BUNDLE=0)',
      runs: fromSources,
      note: `${fromSources.map((r) => taskCounts(r.output)?.ran ?? '?').join('/')} task(s) ran; the bundles: ${ratio(affected, fromSources)}`,
    });

    log('cached run-many and affected without V8 code cache (HOMELAB_CODE_CACHE=0)');
    const cachedNoCodeCache = await repeat(args.runs, () => {}, () => measure(root, nxBin(root), ['run-many', '-t', 'validate'], { ...nxEnv, HOMELAB_CODE_CACHE: '0' }));
    rows.push({
      figure: 'cached, no code cache (HOMELAB_CODE_CACHE=0)',
      runs: cachedNoCodeCache,
      note: `${cachedNoCodeCache.map((r) => taskCounts(r.output)?.hits ?? '?').join('/')} cache hits; the code cache: ${ratio(cached, cachedNoCodeCache, true, 'the runs without')}`,
    });
    const affectedNoCodeCache = await affectedWith('no code cache', { HOMELAB_CODE_CACHE: '0' });
    rows.push({
      figure: 'affected, no code cache (HOMELAB_CODE_CACHE=0)',
      runs: affectedNoCodeCache,
      note: `${affectedNoCodeCache.map((r) => taskCounts(r.output)?.ran ?? '?').join('/')} task(s) ran; the code cache: ${ratio(affected, affectedNoCodeCache, true, 'the runs without')}`,
    });

    log('plugin load: "Load Nx Plugin: homelab" (NX_PERF_LOGGING), bundle and sources alternating');
    const pluginLoad: Record<'bundle' | 'sources', Measured[]> = { bundle: [], sources: [] };
    for (let i = 0; i < args.runs; i++) {
      for (const way of ['bundle', 'sources'] as const) {
        const r = await measure(root, nxBin(root), ['show', 'projects'], { ...nxEnv, NX_PERF_LOGGING: 'true', ...(way === 'sources' ? { HOMELAB_BUNDLE: '0' } : {}) });
        const ms = /Time taken for 'Load Nx Plugin: homelab' ([\d.]+)ms/.exec(r.output);
        if (!ms) throw new Error(`no "Load Nx Plugin: homelab" time in \`nx show projects\` (NX_PERF_LOGGING=true):\n${r.output.slice(-2000)}`);
        // The figure is Nx's own time for loading the plugin; cpu and memory are the whole command's.
        pluginLoad[way].push({ ...r, seconds: Number(ms[1]) / 1000 });
      }
    }
    rows.push({ figure: 'plugin load, bundle (NX_PERF_LOGGING)', runs: pluginLoad.bundle, note: `Nx's "Load Nx Plugin: homelab"; ${ratio(pluginLoad.bundle, pluginLoad.sources, false)}; cpu: the whole command` });
    rows.push({ figure: 'plugin load, sources (HOMELAB_BUNDLE=0)', runs: pluginLoad.sources, note: "the same, through Nx's transpiler (the path before bundles)" });

    print(args, rows, ((Date.now() - t0) / 1000).toFixed(0));
  } finally {
    if (args.keep) log(`kept ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * `0.42x wall, 0.55x cpu of the sources`: medians of a measure over those of its reference from the
 * same run (cpu: the whole command's, left out with `withCpu` false).
 */
function ratio(runs: Measured[], reference: Measured[], withCpu = true, of = 'the sources'): string {
  const wall = median(runs.map((r) => r.seconds)) / median(reference.map((r) => r.seconds));
  const cpu = withCpu && runs.concat(reference).every((r) => r.cpuSeconds !== undefined)
    ? `, ${(median(runs.map((r) => r.cpuSeconds!)) / median(reference.map((r) => r.cpuSeconds!))).toFixed(2)}x cpu`
    : '';
  return `${wall.toFixed(2)}x wall${cpu} of ${of}`;
}

function print(args: Args, rows: Row[], totalSeconds: string): void {
  const ref = median(rows[0].runs.map((r) => r.seconds));
  const nxRef = median(rows[1].runs.map((r) => r.seconds));
  const table = rows.map((row) => {
    const m = median(row.runs.map((r) => r.seconds));
    const maxProcess = Math.max(...row.runs.map((r) => r.maxProcessMiB ?? NaN));
    const tree = Math.max(...row.runs.map((r) => r.treePeakMiB ?? NaN));
    const met = row.goal === undefined ? '' : m <= row.goal && row.extraOk !== false ? 'met' : 'MISSED';
    const cpu = row.runs.every((r) => r.cpuSeconds !== undefined) ? `${median(row.runs.map((r) => r.cpuSeconds!)).toFixed(2)} s` : '-';
    return [
      row.figure,
      `${m.toFixed(2)} s`,
      cpu,
      `${(m / ref).toFixed(0)}x`,
      `${(m / nxRef).toFixed(1)}x`,
      row.runs.map((r) => r.seconds.toFixed(2)).join(' '),
      row.goal === undefined ? '' : `<= ${row.goal} s`,
      met,
      Number.isFinite(maxProcess) ? `${maxProcess.toFixed(0)}` : '-',
      Number.isFinite(tree) ? `${tree.toFixed(0)}` : '-',
      row.note,
    ];
  });
  const header = ['figure', 'median', 'cpu', 'x node', 'x nx', 'runs (s)', 'goal', '', 'max proc MiB', 'tree MiB', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [
    `homelab graph benchmark: ${args.apps} apps, median of ${args.runs} (cold: ${args.coldRuns}), Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}, NX_DAEMON=false${args.isolatePlugins ? ', NX_ISOLATE_PLUGINS=true' : ''}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.map(line),
    '',
    `cpu: median user+system time of the command and its children; on a busy machine (load ${os.loadavg()[0].toFixed(1)} at the end) wall time grows, cpu much less.`,
    `memory: "max proc" is the largest single process (${GNU_TIME ? '/usr/bin/time -v' : 'not measured: no /usr/bin/time'}); "tree" the largest sum over the process tree (${PROC ? 'sampled from /proc every 100 ms' : 'not measured: no /proc'}).`,
  ];
  const goals = rows.filter((r) => r.goal !== undefined);
  const missed = goals.filter((r) => median(r.runs.map((x) => x.seconds)) > r.goal! || r.extraOk === false);
  out.push(missed.length === 0 ? `goals: all ${goals.length} met` : `goals: ${goals.length - missed.length}/${goals.length} met; missed: ${missed.map((r) => r.figure).join(', ')}`);
  out.push(`total ${totalSeconds} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:graph] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
