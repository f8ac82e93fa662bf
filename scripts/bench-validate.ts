/**
 * `npm run bench:validate`: how fast `homelab validate` checks plain manifests, in a cold
 * process, strict. Generates two corpora of 10,000 documents each (500 files x 20, the same
 * shape: scripts/lib/validate-corpus.ts): a clean one, and a mixed one where a third of the
 * documents draw policy findings. Runs `bin/homelab.js validate <folder>` RUNS times on each,
 * alternating, and prints the median documents per second and peak RSS of each, and the
 * mixed/clean time ratio (finding positions come from the first parse: the ratio is what
 * findings cost). When a `kubeconform` binary is on PATH it runs `kubeconform -strict -summary`
 * on the same files; otherwise it compares against a same-run reference: a cold node process
 * that only reads the files and parses them with js-yaml's loadAll (the floor of any JS tool).
 *
 *   npm run bench:validate              # RUNS=5 FILES=500 DOCS=20 by default
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CorpusKind, writeCorpus } from './lib/validate-corpus';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 5);
const FILES = Number(process.env.FILES ?? 500);
const DOCS = Number(process.env.DOCS ?? 20);
const GOAL_DOCS_PER_S = 10_000;
const GOAL_RSS_MB = 250;
/** A corpus where a third of the documents draw findings costs at most this much more than a clean one. */
const GOAL_MIXED_RATIO = 1.2;

interface Run {
  seconds: number;
  /**
   * CPU seconds of the process's main thread (from /proc, via a preloaded exit hook): what the
   * wall time is on an idle machine, give or take I/O, since GC and compiler threads run beside it.
   */
  mainCpu: number | null;
  /** User + system CPU seconds (from /usr/bin/time): less sensitive than wall time to a busy machine. */
  cpu: number | null;
  rssMb: number | null;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** BENCH_PROC=1 measures with /proc sampling even where /usr/bin/time exists. */
const hasTime = fs.existsSync('/usr/bin/time') && process.env.BENCH_PROC !== '1';

/**
 * Runs a command, timing it and measuring its peak RSS and CPU time: with `/usr/bin/time -v`
 * when it exists, else by sampling the child's VmHWM (its own high-water mark) in /proc.
 */
function timed(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const options = { cwd, env: { ...process.env, ...env } };
    const child = hasTime ? spawn('/usr/bin/time', ['-v', command, ...args], options) : spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    let hwmKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sampler = hasTime
      ? null
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            // the process has just ended
          }
        }, 5);
    child.on('error', reject);
    child.on('close', (status) => {
      if (sampler) clearInterval(sampler);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const rss = hasTime ? /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr) : null;
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpu = user && sys ? Number(user[1]) + Number(sys[1]) : null;
      const rssMb = rss ? Number(rss[1]) / 1024 : hwmKb ? hwmKb / 1024 : null;
      const ticks = /main-thread-cpu-ticks (\d+)/.exec(stderr);
      resolve({ seconds, cpu, rssMb, status, stdout, stderr, mainCpu: ticks ? Number(ticks[1]) / CLK_TCK : null });
    });
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Preloaded into each measured node process: prints its main thread's CPU ticks when it exits. */
const MAIN_THREAD_HOOK = `process.on('exit', () => {
  const fs = require('fs');
  try {
    const stat = fs.readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    fs.writeSync(2, '\\nmain-thread-cpu-ticks ' + (Number(f[11]) + Number(f[12])) + '\\n');
  } catch {}
});
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** What one corpus's runs of `homelab validate` measured. */
interface Measured {
  kind: CorpusKind;
  dir: string;
  docs: number;
  withFindings: number;
  runs: Run[];
}

/** Medians of a corpus's runs: wall time, CPU, main-thread CPU, peak RSS, and the findings and how they were located (from the last run). */
function summarize(m: Measured) {
  const some = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const rss = some(m.runs.map((r) => r.rssMb));
  const cpus = some(m.runs.map((r) => r.cpu));
  const mains = some(m.runs.map((r) => r.mainCpu));
  const last = m.runs[m.runs.length - 1];
  const located = /positions: (\d+) finding position\(s\) from the first parse, (\d+) by a re-parse/.exec(last.stderr);
  return {
    t: median(m.runs.map((r) => r.seconds)),
    cpu: cpus.length ? median(cpus) : null,
    main: mains.length ? median(mains) : null,
    peak: rss.length ? Math.max(...rss) : null,
    findings: (JSON.parse(last.stdout) as { findings: unknown[] }).findings.length,
    located: located ? `${located[1]} located from the first parse, ${located[2]} by a re-parse` : 'positions not reported',
  };
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-bench-'));
  try {
    const corpora: Measured[] = (['clean', 'mixed'] as const).map((kind) => {
      const dir = path.join(root, kind);
      fs.mkdirSync(dir);
      const written = writeCorpus(dir, kind, FILES, DOCS);
      const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
      console.log(`${kind} corpus: ${FILES} files, ${written.docs} documents (${written.withFindings} drawing findings), ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${dir}`);
      return { kind, dir, ...written, runs: [] };
    });
    const bin = path.join(ROOT, 'tools/homelab/bin/homelab.js');
    const hook = path.join(os.tmpdir(), `homelab-bench-hook-${process.pid}.js`);
    fs.writeFileSync(hook, MAIN_THREAD_HOOK);

    // Alternating, so that a change in the machine's load falls on both corpora alike.
    for (let i = 0; i < RUNS; i++) {
      for (const c of corpora) {
        const run = await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], c.dir, { HOMELAB_DEBUG: 'positions' });
        if (run.status !== 0 && run.status !== 1) throw new Error(`homelab validate exited ${run.status} on the ${c.kind} corpus: ${run.stderr.slice(0, 500)}`);
        c.runs.push(run);
      }
    }
    console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`);
    const [clean, mixed] = corpora.map(summarize);
    for (const [c, m] of [[corpora[0], clean], [corpora[1], mixed]] as const) {
      console.log(
        `homelab validate, ${c.kind} corpus (cold process, strict, parse+schema+policy+consistency): median ${m.t.toFixed(3)} s${m.cpu === null ? '' : ` (CPU ${m.cpu.toFixed(2)} s)`} of ${RUNS} -> ${Math.round(c.docs / m.t)} docs/s; peak RSS ${m.peak === null ? 'n/a' : `${m.peak.toFixed(0)} MB`}; ${m.findings} finding(s): ${m.located}`,
      );
      if (m.main !== null) console.log(`  main thread CPU ${m.main.toFixed(2)} s -> ${Math.round(c.docs / m.main)} docs/s: the wall time on an idle machine, whatever the load now`);
    }
    const ratio = mixed.t / clean.t;
    const mainRatio = mixed.main !== null && clean.main !== null ? mixed.main / clean.main : null;
    console.log(`mixed/clean: time ${ratio.toFixed(2)}${mainRatio === null ? '' : `, main thread CPU ${mainRatio.toFixed(2)}`} (goal <= ${GOAL_MIXED_RATIO})`);

    // The reference and kubeconform run on the mixed corpus: real repositories have findings.
    const { dir, docs } = corpora[1];
    const { t, main } = mixed;
    const peak = Math.max(clean.peak ?? 0, mixed.peak ?? 0) || null;
    const refScript = `const fs=require('fs'),path=require('path'),y=require(${JSON.stringify(require.resolve('js-yaml'))});let n=0;for(const f of fs.readdirSync('.'))n+=y.loadAll(fs.readFileSync(path.join('.',f),'utf8')).length;console.log(n)`;
    const refRuns: Run[] = [];
    for (let i = 0; i < RUNS; i++) refRuns.push(await timed(process.execPath, ['-r', hook, '-e', refScript], dir));
    const ref = median(refRuns.map((r) => r.seconds));
    const refCpus = refRuns.map((r) => r.cpu).filter((x): x is number => x !== null);
    console.log(
      `reference (cold node, read + js-yaml loadAll only): median ${ref.toFixed(3)} s${refCpus.length ? ` (CPU ${median(refCpus).toFixed(2)} s)` : ''} -> ${Math.round(docs / ref)} docs/s; homelab/reference time ratio ${(t / ref).toFixed(2)}`,
    );

    const refMain = median(refRuns.map((r) => r.mainCpu).filter((x): x is number => x !== null));
    if (main !== null && refMain) console.log(`  reference main thread CPU ${refMain.toFixed(2)} s; homelab/reference ${(main / refMain).toFixed(2)}`);
    const kc = spawnSync('kubeconform', ['-v'], { encoding: 'utf8' });
    if (kc.error) {
      console.log('kubeconform not on PATH: no kubeconform figure (FACTS.md: kubeconform v0.7.0 -strict -n 4 took 1.94 s, ~5,150 docs/s, on a 16 MB corpus of 10,000 documents)');
    } else {
      const kRuns: number[] = [];
      for (let i = 0; i < RUNS; i++) kRuns.push((await timed('kubeconform', ['-strict', '-summary', '-n', '4', '.'], dir)).seconds);
      const k = median(kRuns);
      console.log(`kubeconform ${kc.stdout.trim()} -strict -n 4: median ${k.toFixed(3)} s -> ${Math.round(docs / k)} docs/s; homelab is ${(k / t).toFixed(2)}x faster`);
    }
    const rate = docs / Math.min(t, main ?? t);
    const ok = rate >= GOAL_DOCS_PER_S && (peak === null || peak <= GOAL_RSS_MB) && ratio <= GOAL_MIXED_RATIO;
    console.log(
      `goal (>= ${GOAL_DOCS_PER_S} docs/s on the mixed corpus, <= ${GOAL_RSS_MB} MB on both, mixed/clean time <= ${GOAL_MIXED_RATIO}; rate from ${main !== null && main < t ? 'main thread CPU' : 'wall time'}): ${ok ? 'met' : 'MISSED'}`,
    );
    fs.rmSync(hook, { force: true });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
