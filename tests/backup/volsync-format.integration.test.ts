import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderDigest, RESTIC_IMAGE, requireImage, requireRestic, requireVolsyncMover, resticBackupInContainer } from '../support/backup-images';
import { requireTool, run, runOk } from '../support/tools';

/**
 * One repository format on both platforms (docs/backup.md): a snapshot the Compose side writes is restored
 * by VolSync's own restic mover script (mover-restic/entry.sh of VolSync v0.14.0, run with bash and restic
 * 0.18.0 on the host, as its mover container runs it), and a snapshot VolSync's script writes is restored
 * by the Compose restore command of the runbook, with real Docker volumes. Nothing is faked.
 *
 * VolSync runs entry.sh with DATA_DIR=/data; here DATA_DIR is a temp folder named `data`, because entry.sh
 * only restores snapshots whose path list contains `/data` (`restic snapshots | grep /data`): the Compose
 * movers mount the volume at /data for that reason, which the first test checks.
 */
const docker = requireTool('docker compose');
const resticImage = requireImage(RESTIC_IMAGE);
const restic = requireRestic();
const mover = requireVolsyncMover();
const bash = requireTool('bash');

const PROJECT = 'files-dev';
const PASSWORD = `test-${crypto.randomBytes(8).toString('hex')}`;
const KEEP = '--keep-daily 7 --keep-weekly 4 --keep-monthly 6';

describe.skipIf(docker.skip || resticImage.skip || restic.skip || mover.skip || bash.skip)('one restic format: Compose movers and VolSync', () => {
  let tmp: string;
  let repository: string;
  let envFile: string;
  let source: string;
  const volumes: string[] = [];

  /** A Docker volume named as Compose names a project's volume (`<project>_<volume>`), removed after the tests. */
  const projectVolume = (volume: string) => {
    const name = `${PROJECT}-${crypto.randomBytes(3).toString('hex')}_${volume}`;
    runOk('docker', ['volume', 'create', name]);
    volumes.push(name);
    return name;
  };

  /** Copies a host folder into a volume, keeping modes and links (docker cp of a created container). */
  const fillVolume = (volume: string, from: string) => {
    const id = runOk('docker', ['create', '--network', 'none', '-v', `${volume}:/data`, RESTIC_IMAGE, 'version']).trim();
    try {
      runOk('docker', ['cp', `${from}/.`, `${id}:/data`]);
    } finally {
      run('docker', ['rm', '-f', id]);
    }
  };

  /** The volume's files, copied out to a new host folder. */
  const readVolume = (volume: string) => {
    const out = fs.mkdtempSync(path.join(tmp, 'out-'));
    const id = runOk('docker', ['create', '--network', 'none', '-v', `${volume}:/data`, RESTIC_IMAGE, 'version']).trim();
    try {
      runOk('docker', ['cp', `${id}:/data/.`, out]);
    } finally {
      run('docker', ['rm', '-f', id]);
    }
    return out;
  };

  /** The Compose side's backup of one volume (contract 1): the volume at /data, the repository bound at /repository. */
  const composeBackup = (volume: string, name: string) =>
    resticBackupInContainer({ volume, repositories: repository, repository: `${PROJECT}/${name}`, envFile, keep: KEEP });

  /** The runbook's Compose restore (contract 5), exactly as written there. */
  const composeRestore = (volume: string, name: string) =>
    runOk('docker', [
      'run', '--rm', '--network', 'none', '-v', `${volume}:/data`, '-v', `${repository}:/repository`, '--env-file', envFile,
      '-e', `RESTIC_REPOSITORY=/repository/${PROJECT}/${name}`, RESTIC_IMAGE,
      'restore', 'latest', '--host', 'volsync', '--target', '/data', '--delete',
    ]);

  /** VolSync's mover script on the host, with the environment its ReplicationSource/Destination give it. */
  const volsyncMover = (operations: string[], dataDir: string, name: string, extra: Record<string, string> = {}) =>
    run('bash', [mover.path, ...operations], {
      env: {
        PATH: `${path.dirname(restic.path)}:${process.env.PATH}`,
        HOME: tmp,
        DATA_DIR: dataDir,
        RESTIC_REPOSITORY: path.join(repository, PROJECT, name),
        RESTIC_PASSWORD: PASSWORD,
        RESTIC_CACHE_DIR: path.join(tmp, 'volsync-cache'),
        PRIVILEGED_MOVER: '0',
        ...extra,
      },
      timeout: 300_000,
    });

  /** Every entry under a folder: type, mode and content digest (or link target), for byte-for-byte comparison. */
  const tree = (root: string): Record<string, string> => {
    const entries: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const rel = path.relative(root, full);
        const stat = fs.lstatSync(full);
        const mode = (stat.mode & 0o7777).toString(8);
        if (entry.isSymbolicLink()) entries[rel] = `link -> ${fs.readlinkSync(full)}`;
        else if (entry.isDirectory()) {
          entries[rel] = `dir ${mode}`;
          walk(full);
        } else entries[rel] = `file ${mode} ${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
      }
    };
    walk(root);
    return entries;
  };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-format-'));
    repository = path.join(tmp, 'repository');
    fs.mkdirSync(repository);
    envFile = path.join(tmp, 'restic.env');
    fs.writeFileSync(envFile, `RESTIC_PASSWORD=${PASSWORD}\n`, { mode: 0o600 });
    // A volume's worth of files: nested folders, binary content, an empty file, a name with spaces,
    // a private file and a symbolic link.
    source = path.join(tmp, 'source', 'data');
    fs.mkdirSync(path.join(source, 'photos', '2026'), { recursive: true });
    fs.writeFileSync(path.join(source, 'photos', '2026', 'a.bin'), crypto.randomBytes(3 * 1024 * 1024 + 17));
    fs.writeFileSync(path.join(source, 'photos', 'notes with spaces.txt'), 'hello\nworld\n');
    fs.writeFileSync(path.join(source, 'empty'), '');
    fs.writeFileSync(path.join(source, 'secret.key'), crypto.randomBytes(64), { mode: 0o600 });
    fs.symlinkSync('photos/notes with spaces.txt', path.join(source, 'latest'));
  });

  afterAll(() => {
    for (const v of volumes) run('docker', ['volume', 'rm', '-f', v]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("restores with VolSync's entry.sh, byte for byte, what the Compose mover backed up", () => {
    const volume = projectVolume('data');
    fillVolume(volume, source);

    composeBackup(volume, 'data');
    const snapshots = JSON.parse(runOk(restic.path, ['snapshots', '--json'], {
      env: { ...process.env, RESTIC_REPOSITORY: path.join(repository, PROJECT, 'data'), RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(tmp, 'cache') },
    })) as { hostname: string; paths: string[] }[];
    expect(snapshots.map((s) => [s.hostname, s.paths])).toEqual([['volsync', ['/data']]]);

    const restored = path.join(tmp, 'volsync-restore', 'data');
    fs.mkdirSync(restored, { recursive: true });
    const result = volsyncMover(['restore'], restored, 'data');

    expect(result.stderr + result.stdout).toContain('Selected restic snapshot with id');
    expect(result.status).toBe(0);
    expect(tree(restored)).toEqual(tree(source));
    expect(folderDigest(restored)).toEqual(folderDigest(source));
  });

  it("restores with the runbook's Compose command, byte for byte, what VolSync's entry.sh backed up, deleting what the snapshot lacks", () => {
    const first = volsyncMover(['backup'], source, 'uploads', { FORGET_OPTIONS: KEEP });
    expect(first.stderr + first.stdout).toContain('=== Initialize Dir ===');
    expect(first.status).toBe(0);
    // A second run finds the repository initialised (`restic cat config` exits 0) and adds a snapshot.
    const second = volsyncMover(['backup'], source, 'uploads', { FORGET_OPTIONS: KEEP });
    expect(second.stdout).toContain('dir is initialized');
    expect(second.status).toBe(0);

    const volume = projectVolume('uploads');
    const stale = fs.mkdtempSync(path.join(tmp, 'stale-'));
    fs.writeFileSync(path.join(stale, 'not-in-the-snapshot'), 'stale');
    fs.writeFileSync(path.join(stale, 'empty'), 'overwritten by the restore');
    fillVolume(volume, stale);

    composeRestore(volume, 'uploads');

    const out = readVolume(volume);
    expect(tree(out)).toEqual(tree(source));
    expect(folderDigest(out)).toEqual(folderDigest(source));
  });

  it("fails VolSync's restore with its wrong-password error when the Compose side's repository has another password", () => {
    const volume = projectVolume('media');
    fillVolume(volume, source);
    composeBackup(volume, 'media');
    const restored = path.join(tmp, 'wrong-password', 'data');
    fs.mkdirSync(restored, { recursive: true });

    const result = volsyncMover(['restore'], restored, 'media', { RESTIC_PASSWORD: 'not-the-password' });

    expect(result.status).toBe(3);
    expect(result.stdout).toContain('ERROR: failure connecting to repository, incorrect password');
    expect(fs.readdirSync(restored)).toEqual([]);
  });
});
