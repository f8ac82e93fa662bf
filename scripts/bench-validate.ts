/**
 * `npm run bench:validate`: how fast `homelab validate` checks plain manifests, in a cold
 * process, strict. Generates 10,000 documents (500 files x 20: Deployment, Service, ConfigMap
 * and CRD documents — ServiceMonitor, ExternalSecret, ReplicationSource) in a temp folder, runs
 * `bin/homelab.js validate <folder>` RUNS times and prints the median documents per second and
 * the peak RSS, beside a same-run reference: a cold node process that only reads the files and
 * parses them with js-yaml's loadAll (the floor of any JS tool). Where kubeconform is built
 * (`npm run setup:engines`, scripts/kubeconform/build.sh; or $KUBECONFORM, or on PATH) it runs
 * `kubeconform -strict -n 4 -summary` on the same files with local strict schemas written from
 * homelab's own sources (scripts/kubeconform/schemas.ts), alternating with homelab's runs, prints
 * the ratio and both peak RSS, and checks that the two agree on which documents are schema-invalid
 * (exit 1 when they do not). Without kubeconform it says so and prints homelab's figures only.
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
import { writeValidateCorpus } from './lib/validate-corpus';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 5);
const FILES = Number(process.env.FILES ?? 500);
const DOCS = Number(process.env.DOCS ?? 20);
const GOAL_DOCS_PER_S = 10_000;
const GOAL_RSS_MB = 250;
/** Issue 17: homelab validate in at most half of kubeconform's time on the same files. */
const GOAL_KUBECONFORM_RATIO = 0.5;

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
}

/** BENCH_PROC=1 measures with /proc sampling even where /usr/bin/time exists. */
const hasTime = fs.existsSync('/usr/bin/time') && process.env.BENCH_PROC !== '1';

/**
 * Runs a command, timing it and measuring its peak RSS and CPU time: with `/usr/bin/time -v`
 * when it exists, else by sampling the child's VmHWM (its own high-water mark) in /proc.
 */
function timed(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = hasTime ? spawn('/usr/bin/time', ['-v', command, ...args], { cwd }) : spawn(command, args, { cwd });
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
      resolve({ seconds, cpu, rssMb, status, stdout, mainCpu: ticks ? Number(ticks[1]) / CLK_TCK : null });
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

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-bench-'));
  const hook = path.join(os.tmpdir(), `homelab-bench-hook-${process.pid}.js`);
  try {
    const docs = writeValidateCorpus(dir, FILES, DOCS);
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    console.log(`corpus: ${FILES} files, ${docs} documents, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${dir}`);
    const bin = path.join(ROOT, 'tools/homelab/bin/homelab.js');
    fs.writeFileSync(hook, MAIN_THREAD_HOOK);
    const files = fs.readdirSync(dir).sort();

    const kubeconform = findKubeconform();
    const schemas = kubeconform ? kubeconformSchemaDir({ log: (line) => console.log(line) }) : null;
    if (!kubeconform) console.log('kubeconform not found (npm run setup:engines builds it where Go exists): homelab figures only');

    // Alternating runs, so a change of load on a shared machine falls on all three alike.
    const runs: Run[] = [];
    const refRuns: Run[] = [];
    const kRuns: Run[] = [];
    const refScript = `const fs=require('fs'),path=require('path'),y=require(${JSON.stringify(require.resolve('js-yaml'))});let n=0;for(const f of fs.readdirSync('.'))n+=y.loadAll(fs.readFileSync(path.join('.',f),'utf8')).length;console.log(n)`;
    for (let i = 0; i < RUNS; i++) {
      const run = await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], dir);
      if (run.status !== 0 && run.status !== 1) throw new Error(`homelab validate exited ${run.status}`);
      runs.push(run);
      if (kubeconform && schemas) {
        const k = await timed(kubeconform, kubeconformArgs(schemas, files), dir);
        if (k.status !== 0 && k.status !== 1) throw new Error(`kubeconform exited ${k.status}: ${k.stdout.slice(0, 500)}`);
        kRuns.push(k);
      }
      refRuns.push(await timed(process.execPath, ['-r', hook, '-e', refScript], dir));
    }
    const findings = (JSON.parse(runs[0].stdout) as { findings: { file: string; line: number; rule: string }[] }).findings;
    const t = median(runs.map((r) => r.seconds));
    const peak = runs.map((r) => r.rssMb).filter((x): x is number => x !== null).reduce((m, x) => Math.max(m, x), 0) || null;
    const mains = runs.map((r) => r.mainCpu).filter((x): x is number => x !== null);
    const main = mains.length ? median(mains) : null;
    console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`);
    console.log(`homelab validate (cold process, strict, parse+schema+policy+consistency): median ${t.toFixed(3)} s${cpuOf(runs)} of ${RUNS} -> ${Math.round(docs / t)} docs/s; peak RSS ${rssOf(runs)}; ${findings.length} finding(s)`);
    if (main !== null) {
      console.log(`  main thread CPU ${main.toFixed(2)} s -> ${Math.round(docs / main)} docs/s: the wall time on an idle machine, whatever the load now`);
    }
    const ref = median(refRuns.map((r) => r.seconds));
    console.log(`reference (cold node, read + js-yaml loadAll only): median ${ref.toFixed(3)} s${cpuOf(refRuns)} -> ${Math.round(docs / ref)} docs/s; homelab/reference time ratio ${(t / ref).toFixed(2)}`);
    const refMains = refRuns.map((r) => r.mainCpu).filter((x): x is number => x !== null);
    if (main !== null && refMains.length) console.log(`  reference main thread CPU ${median(refMains).toFixed(2)} s; homelab/reference ${(main / median(refMains)).toFixed(2)}`);

    let kubeconformOk = true;
    if (kubeconform && schemas) {
      const k = median(kRuns.map((r) => r.seconds));
      const version = spawnSync(kubeconform, ['-v'], { encoding: 'utf8' }).stdout.trim();
      console.log(`kubeconform ${version} -strict -n 4, local schemas: median ${k.toFixed(3)} s${cpuOf(kRuns)} of ${RUNS} -> ${Math.round(docs / k)} docs/s; peak RSS ${rssOf(kRuns)}`);
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
    const ok = rate >= GOAL_DOCS_PER_S && (peak === null || peak <= GOAL_RSS_MB);
    console.log(`goal (>= ${GOAL_DOCS_PER_S} docs/s, <= ${GOAL_RSS_MB} MB; rate from ${main !== null && main < t ? 'main thread CPU' : 'wall time'}): ${ok ? 'met' : 'MISSED'}`);
    if (!kubeconformOk) process.exitCode = 1;
  } finally {
    fs.rmSync(hook, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
