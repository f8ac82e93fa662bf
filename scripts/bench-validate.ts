/**
 * `npm run bench:validate`: how fast `homelab validate` checks plain manifests, in a cold
 * process, strict. Generates two corpora of 10,000 documents each (500 files x 20, the same
 * shape: scripts/lib/validate-corpus.ts): a clean one, and a mixed one where a third of the
 * documents draw policy findings. Runs `bin/homelab.js validate <folder>` RUNS times on each,
 * alternating, and prints the median documents per second and peak RSS of each, and the
 * mixed/clean time ratio (finding positions come from the first parse: the ratio is what
 * findings cost), beside a same-run reference on the mixed corpus: a cold node process that only
 * reads the files and parses them with js-yaml's loadAll (the floor of any JS tool). Where
 * kubeconform is built (`npm run setup:engines`, scripts/kubeconform/build.sh; or $KUBECONFORM,
 * or on PATH) it runs `kubeconform -strict -n 4 -summary` on the mixed corpus with local strict
 * schemas written from homelab's own sources (scripts/kubeconform/schemas.ts), alternating with
 * homelab's runs, prints the ratio and both peak RSS, and checks that the two agree on which
 * documents are schema-invalid (exit 1 when they do not). Without kubeconform it says so and
 * prints homelab's figures only. It also runs homelab with two threads (HOMELAB_VALIDATE_THREADS=2)
 * on the mixed corpus, checks that it prints the same findings, and prints the ratio, and without
 * V8's code cache (HOMELAB_CODE_CACHE=0, src/bundle/code-cache.js) for the ratio of the cache. The
 * first run of a changed checkout builds the CLI bundle (src/bundle/load.js) and writes the code
 * caches of the bundle and of the validators it loads: a warm-up run of validate comes first, as a
 * user's first run.
 *
 *   npm run bench:validate              # RUNS=5 FILES=500 DOCS=20 by default
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findKubeconform, homelabSchemaVerdicts, kubeconformArgs, kubeconformVerdicts, verdictDisagreements } from './kubeconform/compare';
import { kubeconformSchemaDir } from './kubeconform/schemas';
import { median } from './lib/bench';
import { type CorpusKind, writeCorpus } from './lib/validate-corpus';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 5);
const FILES = Number(process.env.FILES ?? 500);
const DOCS = Number(process.env.DOCS ?? 20);
const GOAL_DOCS_PER_S = 10_000;
const GOAL_RSS_MB = 250;
/** Issue 17: homelab validate in at most half of kubeconform's time on the same files. */
const GOAL_KUBECONFORM_RATIO = 0.5;
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

const rssOf = (runs: Run[]) => {
  const rss = runs.map((r) => r.rssMb).filter((x): x is number => x !== null);
  return rss.length ? `${Math.max(...rss).toFixed(0)} MB` : 'n/a';
};
const cpuOf = (runs: Run[]) => {
  const cpus = runs.map((r) => r.cpu).filter((x): x is number => x !== null);
  return cpus.length ? ` (CPU ${median(cpus).toFixed(2)} s)` : '';
};

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
  const hook = path.join(os.tmpdir(), `homelab-bench-hook-${process.pid}.js`);
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
    fs.writeFileSync(hook, MAIN_THREAD_HOOK);
    // The reference and kubeconform run on the mixed corpus: real repositories have findings.
    const { dir, docs } = corpora[1];
    const files = fs.readdirSync(dir).sort();

    const kubeconform = findKubeconform();
    const schemas = kubeconform ? kubeconformSchemaDir({ log: (line) => console.log(line) }) : null;
    if (!kubeconform) console.log('kubeconform not found (npm run setup:engines builds it where Go exists): homelab figures only');

    // A warm-up: the first run after the sources changed builds the CLI's bundle (src/bundle/load.js)
    // and writes the code caches (src/bundle/code-cache.js), as a user's first run would.
    await timed(process.execPath, [bin, 'validate', '.', '--format', 'json'], corpora[0].dir);
    // Alternating runs, so that a change in the machine's load falls on every tool and corpus alike.
    const refRuns: Run[] = [];
    const kRuns: Run[] = [];
    /** homelab on the mixed corpus with two threads (HOMELAB_VALIDATE_THREADS=2): what a worker thread would save, same run. */
    const twoThreadRuns: Run[] = [];
    /** homelab on the mixed corpus without V8's code cache (HOMELAB_CODE_CACHE=0): what the cache saves, same run. */
    const noCacheRuns: Run[] = [];
    const refScript = `const fs=require('fs'),path=require('path'),y=require(${JSON.stringify(require.resolve('js-yaml'))});let n=0;for(const f of fs.readdirSync('.'))n+=y.loadAll(fs.readFileSync(path.join('.',f),'utf8')).length;console.log(n)`;
    for (let i = 0; i < RUNS; i++) {
      for (const c of corpora) {
        const run = await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], c.dir, { HOMELAB_DEBUG: 'positions' });
        if (run.status !== 0 && run.status !== 1) throw new Error(`homelab validate exited ${run.status} on the ${c.kind} corpus: ${run.stderr.slice(0, 500)}`);
        c.runs.push(run);
      }
      if (kubeconform && schemas) {
        const k = await timed(kubeconform, kubeconformArgs(schemas, files), dir);
        if (k.status !== 0 && k.status !== 1) throw new Error(`kubeconform exited ${k.status}: ${k.stdout.slice(0, 500)}`);
        kRuns.push(k);
      }
      refRuns.push(await timed(process.execPath, ['-r', hook, '-e', refScript], dir));
      twoThreadRuns.push(await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], dir, { HOMELAB_VALIDATE_THREADS: '2' }));
      noCacheRuns.push(await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], dir, { HOMELAB_CODE_CACHE: '0' }));
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

    const { t, main } = mixed;
    const peak = Math.max(clean.peak ?? 0, mixed.peak ?? 0) || null;
    const findings = (JSON.parse(corpora[1].runs[0].stdout) as { findings: { file: string; line: number; rule: string }[] }).findings;
    const ref = median(refRuns.map((r) => r.seconds));
    console.log(`reference (cold node, read + js-yaml loadAll only, mixed corpus): median ${ref.toFixed(3)} s${cpuOf(refRuns)} -> ${Math.round(docs / ref)} docs/s; homelab/reference time ratio ${(t / ref).toFixed(2)}`);
    const refMains = refRuns.map((r) => r.mainCpu).filter((x): x is number => x !== null);
    if (main !== null && refMains.length) console.log(`  reference main thread CPU ${median(refMains).toFixed(2)} s; homelab/reference ${(main / median(refMains)).toFixed(2)}`);

    const two = median(twoThreadRuns.map((r) => r.seconds));
    if (twoThreadRuns.some((r) => r.stdout !== corpora[1].runs[0].stdout)) throw new Error('homelab validate with two threads printed other findings than with its default');
    console.log(`homelab validate, mixed corpus, two threads (HOMELAB_VALIDATE_THREADS=2): median ${two.toFixed(3)} s${cpuOf(twoThreadRuns)}; peak RSS ${rssOf(twoThreadRuns)}; two-threads/default time ratio ${(two / t).toFixed(2)}, same findings`);
    const noCache = median(noCacheRuns.map((r) => r.seconds));
    if (noCacheRuns.some((r) => r.stdout !== corpora[1].runs[0].stdout)) throw new Error('homelab validate without the code cache printed other findings than with it');
    console.log(`homelab validate, mixed corpus, without the code cache (HOMELAB_CODE_CACHE=0): median ${noCache.toFixed(3)} s${cpuOf(noCacheRuns)}; default/no-cache time ratio ${(t / noCache).toFixed(2)}, same findings`);

    let kubeconformOk = true;
    if (kubeconform && schemas) {
      const k = median(kRuns.map((r) => r.seconds));
      const version = spawnSync(kubeconform, ['-v'], { encoding: 'utf8' }).stdout.trim();
      console.log(`kubeconform ${version} -strict -n 4, local schemas, mixed corpus: median ${k.toFixed(3)} s${cpuOf(kRuns)} of ${RUNS} -> ${Math.round(docs / k)} docs/s; peak RSS ${rssOf(kRuns)}`);
      console.log(`homelab/kubeconform time ratio ${(t / k).toFixed(2)} (goal <= ${GOAL_KUBECONFORM_RATIO})`);
      // Schema verdicts: kubeconform's exit code and invalid documents against homelab's schema/* findings.
      const theirs = kubeconformVerdicts(kRuns[0].stdout, dir);
      const ours = homelabSchemaVerdicts(findings, dir);
      const disagree = verdictDisagreements(ours, theirs.byFile);
      const oursInvalid = [...ours.values()].reduce((n, x) => n + x, 0);
      const exitAgrees = (kRuns[0].status !== 0) === oursInvalid > 0;
      kubeconformOk = exitAgrees && disagree.length === 0;
      console.log(
        `schema verdicts: homelab ${oursInvalid} invalid document(s), kubeconform ${theirs.summary.invalid} invalid + ${theirs.summary.errors} error(s) of ${theirs.summary.valid + theirs.summary.invalid + theirs.summary.errors + theirs.summary.skipped} (exit ${kRuns[0].status}): ${kubeconformOk ? 'agree' : `DISAGREE${exitAgrees ? '' : ' on the exit code'}${disagree.length ? ` in ${disagree.length} file(s): ${disagree.slice(0, 5).join('; ')}` : ''}`}`,
      );
      const ok = t / k <= GOAL_KUBECONFORM_RATIO && (peak === null || peak <= GOAL_RSS_MB);
      console.log(`goal (homelab <= ${GOAL_KUBECONFORM_RATIO}x kubeconform's time, <= ${GOAL_RSS_MB} MB): ${ok ? 'met' : 'MISSED'}`);
    }
    const rate = docs / Math.min(t, main ?? t);
    const ok = rate >= GOAL_DOCS_PER_S && (peak === null || peak <= GOAL_RSS_MB) && ratio <= GOAL_MIXED_RATIO;
    console.log(
      `goal (>= ${GOAL_DOCS_PER_S} docs/s on the mixed corpus, <= ${GOAL_RSS_MB} MB on both, mixed/clean time <= ${GOAL_MIXED_RATIO}; rate from ${main !== null && main < t ? 'main thread CPU' : 'wall time'}): ${ok ? 'met' : 'MISSED'}`,
    );
    if (!kubeconformOk) process.exitCode = 1;
  } finally {
    fs.rmSync(hook, { force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
