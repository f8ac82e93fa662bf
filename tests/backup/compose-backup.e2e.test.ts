import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VOLUME_DIGEST_SH } from '../../tools/homelab/src/app/steps/compose-backup';
import { busyboxOverride, DeployWorkspace, freePorts, sleep, uniqueName } from '../deploy/support';
import { requireTool, run } from '../support/tools';

/**
 * Backups on Compose on the real Docker Engine, with the real restic (docs/backup.md): a generated
 * stateful app (busybox writing files into its volume) deployed with a host-path target in a temp
 * folder, a backup taken now (`docker exec <project>-scheduler-1 sh /homelab/backup`) and read back
 * with the host's restic, the data broken and restored with the runbook's commands as written
 * (only its `<password-file>` placeholder filled in), retention, and the faults: wrong password,
 * the target folder gone. Images: the local restic/restic:0.18.0 and homelab-test/docker-cli:1 as
 * the scheduler (scripts/setup-engines.sh builds both; nothing can be pulled here).
 */

const compose = requireTool('docker compose');
const resticImage = requireTool('restic/restic:0.18.0', ['docker', 'image', 'inspect', 'restic/restic:0.18.0']);
const scheduler = requireTool('homelab-test/docker-cli:1', ['docker', 'image', 'inspect', 'homelab-test/docker-cli:1']);
const HOST_RESTIC = path.join(process.env.HOMELAB_CACHE_DIR ?? path.join(process.env.HOME ?? '/root', '.cache/homelab'), 'restic/v0.18.0/restic');
const hostRestic = requireTool('restic 0.18.0 on the host', [HOST_RESTIC, 'version']);

const APP = uniqueName('files');
const PASSWORD = 'correct horse battery staple';

describe.skipIf(compose.skip || resticImage.skip || scheduler.skip || hostRestic.skip)('backups on Compose: restic repositories in VolSync\'s layout, restored by the runbook', { timeout: 300_000 }, () => {
  let ws: DeployWorkspace;
  let target: string;
  let project: string;
  let port: number;
  const backupNow = () => run('docker', ['exec', `${project}-scheduler-1`, 'sh', '/homelab/backup']);
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  const repository = () => path.join(target, project, 'data');
  const snapshots = () => JSON.parse(run(HOST_RESTIC, ['snapshots', '--json', '--no-lock'], { env: { ...process.env, RESTIC_REPOSITORY: repository(), RESTIC_PASSWORD: PASSWORD } }).stdout) as { hostname: string; paths: string[] }[];
  const inApp = (script: string) => run('docker', ['exec', `${project}-${APP}-1`, 'sh', '-c', script]);
  /** The digest of the volume as the mover computes it (app/backup/digest.sh), read by a throwaway container. */
  const digestOf = (volume: string) =>
    run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', '-v', `${volume}:/data:ro`, 'restic/restic:0.18.0', '-c', `${VOLUME_DIGEST_SH}\nvolume_digest /data`]).stdout.trim();
  const startedAt = () => run('docker', ['inspect', '-f', '{{.State.StartedAt}}', `${project}-${APP}-1`]).stdout.trim();
  /** The app's container once it runs and is healthy again (or its state after 30 s). */
  const appHealth = async () => {
    let state = '';
    for (let i = 0; i < 120 && state !== 'running healthy'; i++, await sleep(250)) state = run('docker', ['inspect', '-f', '{{.State.Status}} {{.State.Health.Status}}', `${project}-${APP}-1`]).stdout.trim();
    return state;
  };
  const deploy = (password = PASSWORD) => ws.deploy(APP, { env: 'dev' }, { RESTIC_PASSWORD: password });

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('backup-compose');
    target = path.join(ws.root, '.backups');
    fs.mkdirSync(target);
    ws.settings((config) => {
      config.compose = { ...config.compose, scheduler: { image: 'homelab-test/docker-cli:1' } };
      config.backup = { ...config.backup, target: { path: target } };
    });
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port, volumes: 'data:16Mi:/data' });
    ws.editSpec(APP, (spec) => {
      spec.backup = { retention: { daily: 1, weekly: 0, monthly: 0 } };
    });
    // Writes its data once, into the volume, then serves.
    const writes = 'test -f /data/a.txt || { mkdir -p /data/sub && echo hello > /data/a.txt && seq 1 5000 > /data/sub/numbers; }';
    ws.override(APP, 'dev', busyboxOverride(port, { command: ['sh', '-c', `${writes} && exec httpd -f -p 127.0.0.1:${port} -h /www`] }));
    project = `${APP}-dev`;
  });

  afterAll(() => ws?.cleanup());

  it('deploy checks the target folder, and creates the mover without starting it', async () => {
    const result = await deploy();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`[backup]   ${target} (homelab.yaml backup.target.path): present and writable on the Docker host`);
    expect(result.stdout).toMatch(/docker compose --profile cron --profile backup create backup-data \(cron and backup movers: created/);
    expect(run('docker', ['inspect', '-f', '{{.State.Status}}', `${project}-backup-data-1`]).stdout.trim()).toBe('created');
    // The password reached the mover from the store (here: the environment), not the rendered files.
    expect(fs.readFileSync(path.join(ws.root, `dist/dev/compose/${APP}/compose.yaml`), 'utf8')).not.toContain(PASSWORD);
  });

  it('takes a backup now: one snapshot as VolSync takes it (host volsync, /data), the digest printed, the app stopped for the copy and running after', async () => {
    const before = startedAt();
    const expected = digestOf(`${project}_data`);

    const result = backupNow();

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`homelab-backup digest data ${expected}`);
    expect(expected).toMatch(/^sha256=[0-9a-f]{64} files=2 bytes=\d+$/);
    expect(result.stdout).toContain(`homelab-backup done ${project}`);
    expect(snapshots()).toEqual([expect.objectContaining({ hostname: 'volsync', paths: ['/data'] })]);
    // Stopped while copied (a new start), then started again, healthy.
    expect(startedAt()).not.toBe(before);
    expect(await appHealth()).toBe('running healthy');
  });

  it('restores the volume with the runbook\'s commands, as written, after the data was broken: the same digest', async () => {
    const expected = digestOf(`${project}_data`);
    inApp('rm /data/sub/numbers && echo broken > /data/a.txt && echo extra > /data/extra');
    expect(digestOf(`${project}_data`)).not.toBe(expected);
    const runbook = fs.readFileSync(path.join(ws.root, `applications/runbooks/${APP}.md`), 'utf8');
    const section = runbook.split(`### \`data\` in dev (project \`${project}\`)`)[1].split('###')[0];
    const commands = section.split('```sh\n')[1].split('```')[0].trim().split('\n');
    const passwordFile = path.join(ws.root, '.restic-password');
    fs.writeFileSync(passwordFile, `RESTIC_PASSWORD=${PASSWORD}\n`, { mode: 0o600 });

    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([`docker compose -p`, 'docker run --rm', 'docker compose -p']);
    for (const command of commands) {
      const result = run('sh', ['-c', command.replaceAll('<password-file>', passwordFile)]);
      expect(result.status, `${command}\n${output(result)}`).toBe(0);
    }

    expect(digestOf(`${project}_data`)).toBe(expected);
    expect(await appHealth()).toBe('running healthy');
  });

  it('keeps what the retention says: three backups on one day leave one snapshot (--keep-daily 1)', () => {
    for (let i = 0; i < 2; i++) expect(backupNow().status).toBe(0);

    expect(snapshots()).toHaveLength(1);
  });

  it('a wrong password fails the backup in one line naming it, and the app runs afterwards', async () => {
    expect((await deploy('not the password')).status).toBe(0);

    const result = backupNow();

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`homelab-backup error data: wrong password for the repository /repository/${project}/data; set the store's RESTIC_PASSWORD`);
    expect(result.stderr).toContain(`homelab-backup failed ${project}: data`);
    expect(await appHealth()).toBe('running healthy');
    expect(snapshots()).toHaveLength(1);
    expect((await deploy()).status).toBe(0);
  });

  it('a target folder that is gone fails the backup in one line naming it, the app runs afterwards; deploy refuses it before changing anything', async () => {
    fs.renameSync(target, `${target}.away`);
    try {
      const result = backupNow();

      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`homelab-backup error data: its mover ${project}-backup-data-1 did not start \\(.*${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\); check homelab.yaml backup.target`));
      expect(await appHealth()).toBe('running healthy');

      const refused = await deploy();
      expect(refused.status).toBe(2);
      expect(output(refused)).toContain(`the backup folder ${target} (homelab.yaml backup.target.path) does not exist on the Docker host; create it there`);
    } finally {
      fs.renameSync(`${target}.away`, target);
    }
    expect(backupNow().status).toBe(0);
  });
});
