import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf, stackSpec } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML, workspaceYamlWith } from '../../../../../tests/support/workspace';
import { backupTarget } from '../../spec/backup-target';
import { checkSchema } from '../../spec/schema';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, FullAppSpec, WorkspaceConfig } from '../../spec/types';
import { normalizeApp } from '../normalize';
import { MOVER_SH, VOLUME_DIGEST_SH } from './compose-backup';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const withBackup = (backup: object) => parseWorkspaceConfig(workspaceYamlWith((c) => (c.backup = { ...c.backup, ...backup })));
const normalize = (spec: AppSpec, ws: WorkspaceConfig = workspace) => normalizeApp(spec, ws, new Map());

/** A server and its PostgreSQL with their volumes, in the full form. */
function stack(volumes: FullAppSpec['volumes'], dbMounts = [{ volume: 'db', path: '/var/lib/postgresql/data' }]): FullAppSpec {
  return {
    name: 'notes',
    services: {
      server: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }], mounts: [{ volume: 'data', path: '/data' }], stopGracePeriod: '30s' },
      db: { image: { repository: 'postgres', tag: '15' }, ports: [{ name: 'postgres', port: 5432 }], mounts: dbMounts },
    },
    volumes,
  };
}

describe('backups on Compose: the movers', () => {
  it('gives each backed-up volume a mover backup-<volume>; a dump volume is backed up from <volume>-dump, never its files', () => {
    const app = normalize(stack({ data: { size: '1Gi' }, db: { size: '1Gi', backup: { dump: 'postgres' } } }));

    expect(app.composeBackup.movers.map((m) => [m.service, m.volume, m.source, m.isDump])).toEqual([
      ['backup-data', 'data', 'data', false],
      ['backup-db', 'db', 'db-dump', true],
    ]);
    expect(app.composeBackup.dumpVolumes).toEqual([{ name: 'db-dump', volume: 'db', target: '/dumps/db' }]);
    // Only the file-copied volume stops its services, with their grace period.
    expect(app.composeBackup.users).toEqual({ data: [{ service: 'server', grace: 30 }] });
    expect(app.scheduler?.name).toBe('scheduler');
    expect(app.composeVolumes.map((v) => v.name)).toEqual(['data', 'db', 'db-dump', 'backup-cache', 'backup-metrics']);
    // Where each mover writes its last success: the host's shared volume, external (deploy creates it).
    expect(app.composeVolumes.at(-1)).toMatchObject({ name: 'backup-metrics', external: 'homelab-backup-metrics' });
  });

  it('stops nothing for a volume with stop: false, and backs up nothing with backup: false', () => {
    const app = normalize(stack({ data: { size: '1Gi', backup: { stop: false } }, db: { size: '1Gi', backup: false } }));

    expect(app.composeBackup.movers.map((m) => m.service)).toEqual(['backup-data']);
    expect(app.composeBackup.users).toEqual({});
    expect(app.environments[0].composeBackup.script).not.toMatch(/^stop /m);
  });

  it('renders nothing of it for an app without backed-up volumes (no scheduler, no mover)', () => {
    const app = normalize(specOf('web'));

    expect(app.composeBackup.enabled).toBe(false);
    expect(app.scheduler).toBeNull();
    expect(app.environments[0].crontab).toBe('');
  });

  it.each([
    ['a dump on a volume no service mounts', stack({ data: { size: '1Gi' }, db: { size: '1Gi', backup: { dump: 'postgres' } } }, []), 'volumes.db.backup.dump "postgres": no service mounts it'],
    [
      'a dump on a volume two services mount',
      stack({ data: { size: '1Gi', backup: { dump: 'postgres' } }, db: { size: '1Gi' } }),
      'volumes.data.backup.dump "postgres": "server" and "db" mount it',
    ],
    [
      'a service named like a mover',
      { ...stack({ data: { size: '1Gi' }, db: { size: '1Gi' } }), services: { ...stack({}).services, 'backup-data': { image: { repository: 'busybox', tag: '1' } } } },
      "services.backup-data: the name is the Compose backup mover's of volume \"data\"; rename the service",
    ],
  ])('refuses %s in one line naming it and the fix', (_what, spec, message) => {
    const dataMountedTwice = spec as FullAppSpec;
    if (message.includes('"server" and "db"')) dataMountedTwice.services.db.mounts = [{ volume: 'data', path: '/var/lib/postgresql/data' }, { volume: 'db', path: '/other' }];
    expect(inputErrorOf(() => normalize(spec))).toContain(message);
  });
});

describe('backups on Compose: one environment', () => {
  it('points each mover at <target>/<project>/<volume> and gives the scheduler the backup line and script', () => {
    const app = normalize(stack({ data: { size: '1Gi' }, db: { size: '1Gi', backup: { dump: 'postgres' } } }), withBackup({ target: { path: '/mnt/backups/restic' } }));
    const dev = app.environments.find((e) => e.name === 'dev')!;

    expect(dev.composeBackup.movers).toEqual([
      { service: 'backup-data', repository: '/repository/notes-dev/data' },
      { service: 'backup-db', repository: '/repository/notes-dev/db' },
    ]);
    expect(dev.crontab).toBe('0 3 * * * sh /homelab/backup\n');
    // The dump first, then the services stopped, each mover, and the end (which starts them again).
    expect(dev.composeBackup.script.split('\n').filter((l) => /^(dump|stop|move|finish)( |$)/.test(l))).toEqual([
      `dump 'db' "$PROJECT" 'db' 'pg_dumpall --clean --if-exists -U "\${POSTGRES_USER:-postgres}"'`,
      "stop 'server' 30",
      "move 'data'",
      "move 'db'",
      'finish',
    ]);
    expect(dev.composeBackup.script).toContain("PROJECT='notes-dev'");
    expect(dev.composeBackup.deploy).toEqual({ targetPath: '/mnt/backups/restic', createTarget: false, keys: [{ key: 'RESTIC_PASSWORD', remoteKey: 'homelab/restic', property: 'password' }] });
    expect(app.composeBackup.defaultTarget).toBe(false);
  });

  it('dumps the database of `database:` from the postgres component, as its owner, into the dump volume `database`', () => {
    const app = normalizeApp({ ...specOf('wiki'), dependsOn: ['postgres'], database: { env: { url: 'DATABASE_URL' } } }, workspace, new Map([['postgres', { kubernetes: true, namespace: 'postgres' }]]));
    const dev = app.environments.find((e) => e.name === 'dev')!;

    expect(app.composeBackup.movers.map((m) => [m.service, m.source])).toEqual([['backup-database', 'database-dump']]);
    expect(dev.composeBackup.script).toContain(`dump 'database' 'postgres' 'postgres' 'pg_dump --clean --if-exists -U '\\''${dev.database.owner}'\\'' '\\''${dev.database.name}'\\'''`);
  });

  it('writes to an S3 bucket: s3:<endpoint>/<bucket>/<project>/<volume>, the AWS keys from the store, no host path', () => {
    const app = normalize(specOf('files', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }] }), withBackup({ s3: { endpoint: 'https://s3.example.org/', bucket: 'homelab' } }));
    const dev = app.environments.find((e) => e.name === 'dev')!;

    expect(dev.composeBackup.movers).toEqual([{ service: 'backup-data', repository: 's3:https://s3.example.org/homelab/files-dev/data' }]);
    expect(app.composeBackup).toMatchObject({ isS3: true, isPath: false, targetPath: null, envKeys: ['RESTIC_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] });
  });

  it('writes scripts that sh reads: the mover, the digest and every environment\'s /homelab/backup', () => {
    const app = normalize(stack({ data: { size: '1Gi' }, db: { size: '1Gi', backup: { dump: 'postgres' } } }));
    for (const script of [MOVER_SH, VOLUME_DIGEST_SH, ...app.environments.map((e) => e.composeBackup.script)]) {
      const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });
});

describe('homelab.yaml backup.target', () => {
  it('defaults to a folder on the Docker host, and reads backup.s3 as target.s3', () => {
    expect(backupTarget(workspace)).toEqual({ kind: 'path', path: '/var/backups/homelab/restic', isDefault: true });
    expect(backupTarget({ backup: { s3: { endpoint: 'https://s3.example.org', bucket: 'b' } } })).toEqual({ kind: 's3', endpoint: 'https://s3.example.org', bucket: 'b', isDefault: false });
    expect(backupTarget({ backup: { target: { path: '/mnt/backups/restic/' } } })).toEqual({ kind: 'path', path: '/mnt/backups/restic', isDefault: false });
  });

  it.each([
    [{ target: { path: 'backups/restic' } }, 'backup.target.path "backups/restic" is not an absolute path'],
    [{ target: { path: '/var/lib/docker/backups' } }, "is inside Docker's own folder"],
    [{ target: { path: '/mnt/b', s3: { endpoint: 'https://s3', bucket: 'b' } } }, 'backup.target has both path and s3; keep one'],
    [{ s3: { endpoint: 'https://s3', bucket: 'b' }, target: { path: '/mnt/b' } }, 'backup.s3 and backup.target.path name two places'],
  ])('refuses %j in one line when homelab.yaml is read', (backup, message) => {
    expect(inputErrorOf(() => withBackup(backup))).toContain(message);
  });

  it('accepts the object form of volumes.<v>.backup and refuses a dump kind it does not know', () => {
    const spec = (backup: unknown) => ({ name: 'n', services: { s: { image: { repository: 'busybox', tag: '1' } } }, volumes: { v: { size: '1Gi', backup } } });

    expect(checkSchema('app', spec({ dump: 'postgres', stop: false, copyMethod: 'Direct' }))).toEqual([]);
    expect(checkSchema('app', spec(true))).toEqual([]);
    expect(checkSchema('app', spec({ dump: 'mysql' })).map((p) => p.message).join('\n')).toMatch(/volumes\.v\.backup/);
    expect(checkSchema('workspace', { ...workspace, backup: { copyMethod: 'Snapshot' }, compose: { backup: { image: 'restic/restic:0.18.0' } } })).toEqual([]);
  });
});

describe('a stack spec', () => {
  it('keeps rendering: a stack with a PostgreSQL volume copies its files unless it says dump', () => {
    expect(normalize(stackSpec('photos')).composeBackup.movers.map((m) => m.source)).toEqual(['library', 'db']);
  });
});
