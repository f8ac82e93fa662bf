/**
 * npm run bench:backup [-- --runs 3 --mib 64]
 *
 * The restore drill of a generated stateful app (tests/support/fixtures/backup/files.yaml: a
 * server with a file volume holding --mib MiB of random data, its own PostgreSQL 15 with 10,000
 * rows, backed up as a dump) on the real Docker Engine with the real restic, --runs times. Prints
 * the size of the restic repositories on the backup target, and the medians of the drill's whole
 * duration and of each of its steps (backup, restore with digests, database, start and health,
 * teardown), each also as a ratio to a reference measured in the same run: a plain
 * `docker run --rm restic/restic:0.18.0 version`.
 *
 * Needs what the end-to-end tests need: `npm run setup:engines` (Docker Engine, Compose v2, the
 * local test images restic/restic:0.18.0, homelab-test/postgres:15, homelab-test/docker-cli:1).
 * Everything it starts is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployWorkspace, freePorts, uniqueName } from '../tests/deploy/support';
import { argValue, median } from './lib/bench';

const SPEC = path.join(__dirname, '../tests/support/fixtures/backup/files.yaml');
const SECRETS = { POSTGRES_PASSWORD: 'pg-bench-5e1f0a9c2b', RESTIC_PASSWORD: 'restic-bench-8b3d6e2f71' };
const STEPS = ['backup', 'restore', 'database', 'start'] as const;

function docker(args: string[]): string {
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

function timed(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Bytes of a folder tree (the restic repositories). */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(file) : fs.statSync(file).size;
  }
  return total;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const probe = spawnSync('docker', ['image', 'inspect', 'restic/restic:0.18.0', 'homelab-test/postgres:15', 'homelab-test/docker-cli:1'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error('bench:backup needs Docker with the Compose v2 plugin and the test images; run `npm run setup:engines` first');
    return 2;
  }
  const runs = argValue('--runs', 3);
  const size = argValue('--mib', 64);
  const app = uniqueName('bench');
  const project = `${app}-dev`;
  const [server, db] = await freePorts(2);
  const ws = DeployWorkspace.create('bench-backup');
  const target = path.join(ws.root, '.backups');
  fs.mkdirSync(target);
  try {
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
      config.backup = { ...config.backup, target: { path: target } };
    });
    ws.addSpec(app, fs.readFileSync(SPEC, 'utf8').replace(/^name: files$/m, `name: ${app}`).replaceAll('18091', String(server)).replaceAll('18092', String(db)));
    ws.track(project);
    const deployed = await ws.deploy(app, { env: 'dev' }, SECRETS);
    if (deployed.status !== 0) throw new Error(`deploy failed:\n${deployed.stdout}${deployed.stderr}`);
    docker(['exec', `${project}-server-1`, 'sh', '-c', `cd /srv/data && echo ok > healthz && for i in $(seq 1 ${size}); do dd if=/dev/urandom of=blob-$i.bin bs=1048576 count=1 2>/dev/null; done`]);
    docker(['exec', `${project}-db-1`, 'psql', '-X', '-q', '-U', 'postgres', '-d', 'files', '-c', 'create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 10000) g;']);

    const reference = median(Array.from({ length: runs }, () => timed(() => docker(['run', '--rm', '--network', 'none', 'restic/restic:0.18.0', 'version']))));
    console.log(`bench:backup: app ${app}, volume data ${size} MiB of random data in ${size + 1} files, database 10,000 rows; ${runs} drill(s)`);
    console.log(`reference: docker run --rm restic/restic:0.18.0 version: ${reference.toFixed(2)} s (median of ${runs})`);
    console.log('run  total     backup   restore  database start    teardown');
    const totals: number[] = [];
    const byStep: Record<string, number[]> = { teardown: [] };
    for (let run = 1; run <= runs; run++) {
      const started = Date.now();
      const result = await ws.deploy(app, { env: 'dev' }, SECRETS, 'restore-drill');
      const total = (Date.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`drill ${run} failed:\n${result.stdout}${result.stderr}`);
      const passed = /restore-drill \S+: passed in ([\d.]+) s \(([^)]*)\)/.exec(result.stdout);
      if (!passed) throw new Error(`drill ${run} printed no result line:\n${result.stdout}`);
      const steps = Object.fromEntries(passed[2].split(', ').map((part) => [part.split(' ')[0], Number(part.split(' ')[1])]));
      const teardown = total - Number(passed[1]);
      totals.push(total);
      for (const step of STEPS) (byStep[step] ??= []).push(steps[step]);
      byStep.teardown.push(teardown);
      const cells = [...STEPS.map((s) => steps[s]), teardown].map((v) => `${v.toFixed(1)} s`.padEnd(9)).join('');
      console.log(`${String(run).padEnd(5)}${`${total.toFixed(1)} s`.padEnd(10)}${cells}`);
      for (const line of result.stdout.split('\n').filter((l) => /^restore-drill \S+ \S+:/.test(l))) console.log(`     ${line}`);
    }
    const repository = treeBytes(path.join(target, project));
    console.log(`backup size: ${mib(repository)} in ${target.replace(ws.root, '<workspace>')}/${project} (${runs} snapshots of each volume, restic's deduplication and compression)`);
    console.log(`median drill: ${median(totals).toFixed(1)} s (${(median(totals) / reference).toFixed(0)}x the reference)`);
    for (const step of [...STEPS, 'teardown']) console.log(`median ${step.padEnd(9)} ${median(byStep[step]).toFixed(1)} s (${(median(byStep[step]) / reference).toFixed(1)}x the reference)`);
    return 0;
  } finally {
    ws.cleanup();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
