/**
 * npm run bench:deploy [-- --runs 3]
 *
 * A replicated stateless app (3 replicas of homelab-test/busybox, host networking, one
 * port per replica) behind a loopback balancer, on the real Docker Engine. A client sends
 * requests to 127.0.0.1 through the balancer during each rolling update (:1 -> :2 -> :1 ...)
 * and counts the failures. Then the same deploy again with no change: how long it takes
 * and how many containers it recreated. Prints the figures; exits 1 when a goal is missed
 * (0 failed requests; no-change redeploy <= 3 s with 0 containers recreated).
 *
 * Needs what the end-to-end tests need: `npm run setup:engines` (Docker Engine, Compose v2,
 * the local test images). Everything it starts is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { containers, DeployWorkspace, freePorts, uniqueName, waitHealthy } from '../tests/deploy/support';
import { loadClient, LoopbackBalancer, replicatedOverride } from '../tests/deploy/loopback';
import { argValue, median } from './lib/bench';

const REPLICAS = 3;
const GOAL_NO_CHANGE_SECONDS = 3;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error('bench:deploy needs Docker with the Compose v2 plugin and the test images; run `npm run setup:engines` first');
    return 2;
  }
  const runs = argValue('--runs', 3);
  const app = uniqueName('bench');
  const project = `${app}-dev`;
  const ports = await freePorts(REPLICAS * 2);
  const ws = DeployWorkspace.create('bench-deploy');
  const balancer = new LoopbackBalancer(ports);
  try {
    ws.addApp({ name: app, image: 'homelab-test/busybox:1', port: ports[0], replicas: REPLICAS });
    ws.override(app, 'dev', replicatedOverride(ports));
    const first = await ws.deploy(app, { env: 'dev' });
    if (first.status !== 0) throw new Error(`first deploy failed:\n${first.stdout}${first.stderr}`);
    await waitHealthy(project, REPLICAS);
    const lbPort = await balancer.start();

    console.log(`bench:deploy: ${REPLICAS} replicas of homelab-test/busybox on 127.0.0.1:${ports.join(',')}, balancer on 127.0.0.1:${lbPort}, client: 2 connections`);
    console.log('run  update    requests  failed  duration');
    const updates: { sent: number; failed: number; ms: number }[] = [];
    let tag = '1';
    for (let run = 1; run <= runs; run++) {
      const next = tag === '1' ? '2' : '1';
      ws.editSpec(app, (spec) => {
        spec.image.tag = next;
      });
      const client = loadClient(lbPort);
      const started = Date.now();
      const result = await ws.deploy(app, { env: 'dev' });
      const ms = Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const load = await client.stop();
      if (result.status !== 0) throw new Error(`update ${run} failed:\n${result.stdout}${result.stderr}`);
      if (!result.stdout.includes('rolling update')) throw new Error(`update ${run} was not a rolling update:\n${result.stdout}`);
      updates.push({ sent: load.sent, failed: load.failed, ms });
      const reasons = load.failed > 0 ? `  ${JSON.stringify(load.reasons)}` : '';
      console.log(`${String(run).padEnd(5)}:${tag} -> :${next}  ${String(load.sent).padEnd(10)}${String(load.failed).padEnd(8)}${seconds(ms)}${reasons}`);
      tag = next;
    }

    const noChange: { ms: number; recreated: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const before = new Set(containers(project).map((c) => c.id));
      const started = Date.now();
      const result = await ws.deploy(app, { env: 'dev' });
      const ms = Date.now() - started;
      if (result.status !== 0) throw new Error(`no-change redeploy failed:\n${result.stdout}${result.stderr}`);
      noChange.push({ ms, recreated: containers(project).filter((c) => !before.has(c.id)).length });
    }

    const beforeNx = new Set(containers(project).map((c) => c.id));
    const nxStarted = Date.now();
    const viaNx = ws.nx(['run', `${app}:deploy`, '--env', 'dev']);
    const nxMs = Date.now() - nxStarted;
    const nxRecreated = containers(project).filter((c) => !beforeNx.has(c.id)).length;

    const sent = updates.reduce((n, u) => n + u.sent, 0);
    const failed = updates.reduce((n, u) => n + u.failed, 0);
    const recreated = noChange.reduce((n, r) => n + r.recreated, 0);
    const noChangeMedian = median(noChange.map((r) => r.ms));
    console.log('');
    console.log(`rolling update:      ${sent} requests sent, ${failed} failed, update duration median ${seconds(median(updates.map((u) => u.ms)))} over ${runs} run(s)   (goal: 0 failed)`);
    console.log(`no-change redeploy:  median ${seconds(noChangeMedian)} over ${runs} run(s), ${recreated} container(s) recreated   (goal: <= ${GOAL_NO_CHANGE_SECONDS} s, 0 recreated)`);
    console.log(`  the same through \`npx nx run ${app}:deploy --env dev\` (project graph, cached build, task process included): ${seconds(nxMs)}, ${nxRecreated} recreated${viaNx.status === 0 ? '' : ` (exit ${viaNx.status})`}`);
    const met = failed === 0 && recreated === 0 && noChangeMedian <= GOAL_NO_CHANGE_SECONDS * 1000;
    console.log(met ? 'goals met' : 'GOAL MISSED');
    return met ? 0 : 1;
  } finally {
    await balancer.stop();
    ws.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench:deploy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
