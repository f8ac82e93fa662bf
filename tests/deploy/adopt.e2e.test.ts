import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { requireTool, run } from '../support/tools';
import { containers, DeployWorkspace, removeProject, uniqueName } from './support';

/**
 * Taking over a stack that runs on this Docker host, on the real engine: the environment's
 * compose.override.yaml names the running project (`x-homelab-adopted`, what `nx g homelab:import`
 * writes) and gives the app's volume that project's volume name. Deploy refuses in one line while
 * the old project still runs (two processes on one database volume corrupt it); once it is stopped,
 * the first deploy starts on the old volume, and the data written before is there.
 */
const compose = requireTool('docker compose');
const SOURCE = uniqueName('adopt-src');
const APP = uniqueName('adopt');
const PROJECT = `${APP}-dev`;
const SHELL = 'echo "$0" >> /data/rows; exec sleep 86400';

describe.skipIf(compose.skip)('adopting a running Compose stack with its data, on the real engine', { timeout: 180_000 }, () => {
  let ws: DeployWorkspace;
  let sourceDir: string;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;

  beforeAll(() => {
    ws = DeployWorkspace.create('deploy-adopt');
    ws.track(SOURCE);
    // The stack as it ran before homelab: its own project, its own named volume, a row written.
    sourceDir = path.join(ws.root, '..', `${SOURCE}-stack`);
    fs.mkdirSync(sourceDir, { recursive: true });
    fs.writeFileSync(
      path.join(sourceDir, 'compose.yaml'),
      YAML.stringify({
        name: SOURCE,
        services: { db: { image: 'homelab-test/busybox:1', command: ['sh', '-c', SHELL, 'written before the import'], network_mode: 'none', init: true, stop_grace_period: '1s', volumes: ['data:/data'] } },
        volumes: { data: {} },
      }),
    );
    const up = run('docker', ['compose', '--project-directory', sourceDir, '-f', path.join(sourceDir, 'compose.yaml'), 'up', '-d', '--wait']);
    expect(up.status, up.stderr).toBe(0);

    ws.addSpec(
      APP,
      `name: ${APP}
services:
  db:
    image: { repository: homelab-test/busybox, tag: "1" }
    command: [sh, -c, '${SHELL}', written by the first deploy]
    mounts: [{ volume: data, path: /data }]
    health: { probe: none }
    init: true
    stopGracePeriod: 1s
    security: { runAsRoot: "writes the volume the old stack created, owned by root" }
volumes:
  data: { size: 1Gi }
policy:
  disable: [{ rule: policy/probes, reason: a stand-in database with nothing to probe }]
`,
    );
    const override = path.join(ws.root, `applications/compose/environments/dev/${APP}/compose.override.yaml`);
    fs.writeFileSync(override, YAML.stringify({ 'x-homelab-adopted': { project: SOURCE }, volumes: { data: { name: `${SOURCE}_data` } }, services: { db: { network_mode: 'none' } } }));
  }, 120_000);

  afterAll(() => {
    // The app's containers first: they hold the adopted volume.
    ws?.cleanup();
    removeProject(SOURCE);
    run('docker', ['volume', 'rm', '-f', `${SOURCE}_data`]);
    fs.rmSync(sourceDir, { recursive: true, force: true });
  });

  it('plans on --dry-run that a deploy would refuse while the stack it takes over runs', async () => {
    const result = await ws.deploy(APP, { env: 'dev', dryRun: true });

    expect(result.status, output(result)).toBe(0);
    expect(output(result)).toContain(`a deploy would refuse: compose project ${SOURCE}, whose volumes this app takes over, still runs (${SOURCE}-db-1); stop it first with \`docker compose -p ${SOURCE} stop\``);
  });

  it('refuses in one line while the stack it takes over still runs, naming the command that stops it, and starts nothing', async () => {
    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(2);
    const refusal = output(result).split('\n').filter((line) => line.includes('still runs'));
    expect(refusal).toEqual([
      `error: ${APP} (dev): the Compose project ${SOURCE}, whose volumes this app took over, still runs (${SOURCE}-db-1); stop it first with \`docker compose -p ${SOURCE} stop\` (its volumes keep their data), then deploy again; nothing was changed`,
    ]);
    expect(containers(PROJECT)).toEqual([]);
    expect(containers(SOURCE).map((c) => c.running)).toEqual([true]);
  });

  it('once the old stack is stopped, deploys on its volume: the data written before is there', async () => {
    expect(run('docker', ['compose', '-p', SOURCE, 'stop']).status).toBe(0);

    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`[adopt]    takes over the volumes of compose project ${SOURCE}, which is not running\n`);
    const rows = run('docker', ['exec', `${PROJECT}-db-1`, 'cat', '/data/rows']).stdout;
    expect(rows).toBe('written before the import\nwritten by the first deploy\n');
    // No second, empty volume was made for the app.
    expect(run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).stdout.trim()).toBe(`${PROJECT}_backup-cache`); // only the backup mover's restic cache
  });
});
