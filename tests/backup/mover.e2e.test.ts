import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOVER_SH } from '../../tools/homelab/src/app/steps/compose-backup';
import { RESTIC_IMAGE, requireImage } from '../support/backup-images';
import { requireTool, run, runOk } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * The Compose mover script itself (tools/homelab/src/app/backup/mover.sh, as rendered into every
 * app's `backup-mover` config), run in the restic image on a real Docker volume, for the cases the
 * app-level tests do not reach: a new app's empty volume is skipped and counts as done, as VolSync's
 * mover skips it (restic refuses an empty snapshot), and the first file in it is then backed up.
 */
const docker = requireTool('docker');
const image = requireImage(RESTIC_IMAGE);

describe.skipIf(docker.skip || image.skip)('the Compose backup mover script', { timeout: 120_000 }, () => {
  const id = crypto.randomBytes(4).toString('hex');
  const volume = `homelab-mover-test-${id}`;
  let dir: string;
  let envFile: string;

  beforeAll(() => {
    dir = makeTempDir('mover');
    fs.mkdirSync(path.join(dir, 'repository'));
    fs.writeFileSync(path.join(dir, 'mover'), MOVER_SH);
    // The password through an env file, as the movers read it: never in argv.
    envFile = path.join(dir, 'restic.env');
    fs.writeFileSync(envFile, `RESTIC_PASSWORD=mover-${crypto.randomBytes(8).toString('hex')}\n`, { mode: 0o600 });
    runOk('docker', ['volume', 'create', volume]);
  });
  afterAll(() => {
    run('docker', ['volume', 'rm', '-f', volume]);
    // The repository's files belong to root (the mover runs as root): remove them from a container.
    run('docker', ['run', '--rm', '--network', 'none', '-v', `${dir}:/scratch`, '--entrypoint', '/bin/sh', RESTIC_IMAGE, '-c', 'rm -rf /scratch/repository']);
    removeDir(dir);
  });

  const mover = () =>
    run('docker', [
      'run', '--rm', '--network', 'none', '-v', `${volume}:/data`, '-v', `${path.join(dir, 'repository')}:/repository`, '-v', `${path.join(dir, 'mover')}:/homelab/mover:ro`,
      '--env-file', envFile, '-e', 'RESTIC_REPOSITORY=/repository/files-dev/data', '-e', 'RESTIC_HOST=volsync', '-e', 'DATA_DIR=/data', '-e', 'RESTIC_CACHE_DIR=/restic-cache',
      '-e', 'HOMELAB_VOLUME=data', '-e', 'FORGET_OPTIONS=--keep-daily 1', '--entrypoint', '/bin/sh', RESTIC_IMAGE, '/homelab/mover', 'backup',
    ], { timeout: 90_000 });

  it('skips an empty volume with exit 0 and says so, without creating a repository', () => {
    const r = mover();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('homelab-backup empty data: nothing to back up yet, no snapshot taken');
    expect(r.stdout).toMatch(/^homelab-backup digest data sha256=[0-9a-f]{64} files=0 bytes=0$/m);
    expect(r.stdout).toContain('homelab-backup done data');
    expect(fs.existsSync(path.join(dir, 'repository/files-dev/data'))).toBe(false);
  });

  it('backs up the volume once it holds a file: the repository created, the digest printed', () => {
    runOk('docker', ['run', '--rm', '--network', 'none', '-v', `${volume}:/data`, '--entrypoint', '/bin/sh', RESTIC_IMAGE, '-c', 'echo hello > /data/first.txt']);
    const r = mover();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^homelab-backup digest data sha256=[0-9a-f]{64} files=1 bytes=6$/m);
    expect(fs.existsSync(path.join(dir, 'repository/files-dev/data/config'))).toBe(true);
  });
});
