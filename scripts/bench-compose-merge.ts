/**
 * `npm run bench:compose [-- --apps 500 --runs 3 --nx]`: the Compose merge of cold validate, in
 * process (tools/homelab/src/validate/compose-merge.ts) against `docker compose config` (the
 * path HOMELAB_COMPOSE_MERGE=docker forces), on a temporary workspace of N apps made by the real
 * generator (a volume, a secret, dev and prod: 2 N merges), in the same run, alternating:
 *
 *   stage   every environment's merge as the batch executor does it: in process, or the
 *           `docker compose config` calls started the way prerender starts them
 *   nx      (--nx) cold `nx run-many -t validate` in both modes, with the count of merges that
 *           fell back (HOMELAB_DEBUG's line of the batch executor)
 *
 * Medians of --runs runs, the ratio, and peak RSS of this process. A benchmark, not a test:
 * it prints figures and exits 0 unless a command fails.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateApp } from '../tools/homelab/src/app/generate';
import { diskHost } from '../tools/homelab/src/host';
import { projectEnvironments } from '../tools/homelab/src/project/environments';
import { mergeComposeInProcess } from '../tools/homelab/src/validate/compose-merge';
import { prerender, type RenderJob } from '../tools/homelab/src/validate/kustomize-compose';
import { argValue, median } from './lib/bench';
import { childEnv, commitAll, createTempWorkspace, NX_ENV } from './lib/temp-workspace';

const apps = argValue('--apps', 500);
const runs = argValue('--runs', 3);
const withNx = process.argv.includes('--nx');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** N apps by the real generator (each rendered whole: the spec, both trees, ArgoCD). */
function populate(root: string): string[] {
  const host = diskHost(root);
  const names = Array.from({ length: apps }, (_, i) => `app-${String(i).padStart(String(apps).length, '0')}`);
  for (const name of names) generateApp(host, { name, image: 'traefik/whoami:v1.10.4', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
  return names;
}

/** Runs a command, resolving with its wall time and stderr (fails on a non-zero exit only when `strict`). */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ ms: performance.now() - started, stderr, status }));
  });
}

async function main(): Promise<void> {
  const root = createTempWorkspace('homelab-bench-compose-');
  try {
    const started = performance.now();
    const names = populate(root);
    console.log(`workspace: ${apps} apps generated in ${seconds(performance.now() - started)}`);
    const merges = names.flatMap((name) => projectEnvironments(diskHost(root), 'applications', name).filter((e) => e.compose).map((e) => e.composeFiles));
    const inProcess: number[] = [];
    const docker: number[] = [];
    let fellBack = 0;
    for (let run = 0; run < runs; run++) {
      let t = performance.now();
      fellBack = merges.filter((files) => !mergeComposeInProcess(files.map((f) => path.join(root, f))).ok).length;
      inProcess.push(performance.now() - t);
      t = performance.now();
      await prerender(merges.map((files): RenderJob => ({ kind: 'compose', files, cwd: root })));
      docker.push(performance.now() - t);
    }
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(`stage: ${merges.length} merges, ${fellBack} fell back to docker compose config`);
    console.log(`  in process            median ${seconds(median(inProcess))} (${runs} runs)`);
    console.log(`  docker compose config median ${seconds(median(docker))} (${runs} runs, concurrent as prerender)`);
    console.log(`  ratio in process / docker: ${(median(inProcess) / median(docker)).toFixed(3)}; peak RSS of this process ${rss.toFixed(0)} MiB`);
    if (!withNx) return;
    commitAll(root);
    const nxBin = path.join(root, 'node_modules/.bin/nx');
    const modes = { 'in process': {}, docker: { HOMELAB_COMPOSE_MERGE: 'docker' } } as const;
    const cold: Record<string, number[]> = { 'in process': [], docker: [] };
    const counts: Record<string, string> = {};
    for (let run = 0; run < runs; run++) {
      for (const [mode, extra] of Object.entries(modes)) {
        fs.rmSync(path.join(root, '.nx'), { recursive: true, force: true });
        const r = await timed(nxBin, ['run-many', '-t', 'validate', '--skip-nx-cache'], root, childEnv({ ...NX_ENV, ...extra, HOMELAB_DEBUG: '1' }));
        if (r.status !== 0) throw new Error(`nx run-many -t validate (${mode}) failed:\n${r.stderr.slice(-2000)}`);
        cold[mode].push(r.ms);
        counts[mode] = [...r.stderr.matchAll(/homelab: compose: .*/g)].map((m) => m[0]).join('; ');
      }
    }
    for (const mode of Object.keys(modes)) console.log(`cold run-many (${mode}): median ${seconds(median(cold[mode]))} (${runs} runs); ${counts[mode] || 'no count printed'}`);
    console.log(`  ratio in process / docker: ${(median(cold['in process']) / median(cold.docker)).toFixed(3)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
