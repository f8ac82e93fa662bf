import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf } from '../../../../../tests/support/spec';
import { NOTES_DUMPS } from '../../../../../tests/support/database';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseAppSpec, parseWorkspaceConfig } from '../../spec/io';
import type { VolumeSpec, WorkspaceConfig } from '../../spec/types';
import type { Dependencies } from '../normalized';
import { normalizeApp } from '../normalize';
import { resticRepository } from './backup';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const NONE: Dependencies = new Map();
const withBackup = (backup: WorkspaceConfig['backup']): WorkspaceConfig => ({ ...workspace, backup });
const S3 = { endpoint: 'https://s3.example.org', bucket: 'homelab-backups' };

/** A shorthand app with two volumes: `data` as the spec says, `cache` never backed up. */
const appWith = (backup: VolumeSpec['backup'], ws: WorkspaceConfig = workspace) =>
  normalizeApp(
    specOf('files', {
      volumes: [
        { name: 'data', size: '1Gi', mountPath: '/data', backup },
        { name: 'cache', size: '1Gi', mountPath: '/cache', backup: false },
      ],
    }),
    ws,
    NONE,
  );

describe('normalizeBackup on Kubernetes', () => {
  describe('copyMethod', () => {
    it.each([
      { case: 'nothing said: Direct, which works on storage without CSI snapshots', backup: true, ws: workspace, expected: 'Direct' },
      { case: 'homelab.yaml backup.copyMethod', backup: true, ws: withBackup({ copyMethod: 'Snapshot' }), expected: 'Snapshot' },
      { case: "the volume's own, over homelab.yaml's", backup: { copyMethod: 'Clone' as const }, ws: withBackup({ copyMethod: 'Snapshot' }), expected: 'Clone' },
      { case: 'an object without copyMethod: the workspace default', backup: { stop: false }, ws: withBackup({ copyMethod: 'Snapshot' }), expected: 'Snapshot' },
    ])('$case', ({ backup, ws, expected }) => {
      const app = appWith(backup, ws);

      expect(app.backup.volumes.map((v) => [v.name, v.copyMethod])).toEqual([['data', expected]]);
    });
  });

  it('treats a backup object as backed up', () => {
    const app = appWith({ copyMethod: 'Direct' });

    expect(app.backup.enabled).toBe(true);
    expect(app.volumes.find((v) => v.name === 'data')?.backupOptions).toEqual({ dump: null, stop: true, copyMethod: 'Direct' });
  });

  describe('PostgreSQL dumps', () => {
    const POSTGRES: Dependencies = new Map([['postgres', { kubernetes: true, namespace: 'databases' }]]);
    const notes = (text = NOTES_DUMPS) => normalizeApp(parseAppSpec(text, 'applications/specs/notes.yaml'), workspace, POSTGRES);

    it('gives a dump volume a dump CronJob instead of a ReplicationSource', () => {
      const app = notes();

      expect(app.backup.volumes.map((v) => [v.name, v.isSource])).toEqual([
        ['files', true],
        ['pgdata', false],
      ]);
      expect(app.backup.componentResources).toEqual(['replicationsource.yaml', 'cronjob.yaml']);
      expect(app.backup.dumps.map((d) => [d.name, d.resticSecret, d.image])).toEqual([
        ['notes-pgdata-dump', 'notes-pgdata-restic', 'postgres:16.4'],
        ['notes-database-dump', 'notes-database-restic', 'ghcr.io/cloudnative-pg/postgresql:17.5'],
      ]);
    });

    it("dumps the service's PostgreSQL through its Service, with the service's own variables", () => {
      const [pgdata] = notes().backup.dumps;

      expect(pgdata.dumpScript).toContain('pg_dumpall --clean --if-exists -h db -p 5432 -U "${POSTGRES_USER:-postgres}" > /data/dump.sql.tmp');
      expect(pgdata.env.k8sEnv.map((e) => e.name)).toEqual(['POSTGRES_USER', 'POSTGRES_PASSWORD']);
      expect(pgdata.server).toMatchObject({ name: 'db', port: 5432, isDatabase: false, namespace: null });
    });

    it("dumps the app's database on the shared PostgreSQL with the libpq variables of its environment", () => {
      const app = notes();

      expect(app.environments.map((e) => e.databaseDump)).toEqual([
        {
          name: 'notes-database-dump',
          data: [
            { name: 'PGHOST', value: 'postgres-rw.databases.svc' },
            { name: 'PGPORT', value: '5432' },
            { name: 'PGDATABASE', value: 'notes_dev' },
            { name: 'PGUSER', value: 'notes_dev' },
            { name: 'PGPASSWORD', value: '{{ .password }}' },
          ],
        },
        expect.objectContaining({ name: 'notes-database-dump' }),
      ]);
      expect(app.environments[0].resticSecrets.map((r) => [r.name, r.repository])).toEqual([
        ['notes-files-restic', '{{ .repository }}/notes-dev/files'],
        ['notes-pgdata-restic', '{{ .repository }}/notes-dev/pgdata'],
        ['notes-database-restic', '{{ .repository }}/notes-dev/database'],
      ]);
    });

    it('lets the dumps reach DNS, the database each reads and the repository, and the database service lets them in', () => {
      const { dump } = notes().network;

      expect(dump).toMatchObject({ enabled: true, name: 'notes-backup-dump', selector: { 'homelab.dev/backup-dump': 'notes' }, database: { namespace: 'databases', port: 5432 } });
      expect(dump.services).toEqual([{ name: 'notes-db-from-backup-dump', service: 'db', selector: { 'app.kubernetes.io/name': 'notes', 'app.kubernetes.io/component': 'db' }, port: 5432 }]);
      expect(dump.repository).toMatchObject({ cidr: '0.0.0.0/0', ports: [] });
    });

    it("names the runbook's restore: the services to stop through git, and the dumps' restore commands", () => {
      const app = notes();
      const restore = Object.fromEntries(app.backup.volumes.map((v) => [v.name, v.kubernetesRestore]));

      expect(restore.files).toEqual({ stopFields: ['services.server.replicas: 0'], hasStopFields: true, dumpCommand: null });
      expect(restore.pgdata.stopFields).toEqual(['services.server.replicas: 0']);
      expect(restore.pgdata.dumpCommand).toMatch(/^kubectl -n <ns> run notes-pgdata-restore -q --rm --attach --restart=Never --image=restic\/restic:0\.18\.0 --labels=homelab\.dev\/backup-dump=notes --overrides='.*"args":\["dump","latest","dump\.sql","--host","volsync","--no-cache"\].*"secretRef":\{"name":"notes-pgdata-restic"\}.*' \| kubectl -n <ns> exec -i statefulset\/db -- sh -c 'psql -q -U "\$\{POSTGRES_USER:-postgres\}" -d postgres'$/);
      expect(app.backup.databaseRestore?.stopFields).toEqual(['services.server.replicas: 0']);
      expect(app.backup.databaseRestore?.dumpCommand).toContain(`| kubectl -n <ns> run notes-database-psql -q --rm -i --restart=Never --image=ghcr.io/cloudnative-pg/postgresql:17.5`);
    });

    it('renders no dump for an app without dump volume or database', () => {
      const app = appWith(true);

      expect(app.backup.dumps).toEqual([]);
      expect(app.network.dump.enabled).toBe(false);
      expect(app.environments[0].databaseDump).toBeNull();
    });

    it.each([
      {
        case: 'a dump volume no long-running service mounts',
        text: NOTES_DUMPS.replace('    mounts: [{ volume: pgdata, path: /var/lib/postgresql/data }]\n', ''),
        message: 'applications/specs/notes.yaml: volumes.pgdata.backup.dump "postgres": no service mounts it, and a dump runs in the one database service that owns the volume; mount it from that service alone, or drop dump',
      },
      {
        case: 'a database service without a TCP port',
        text: NOTES_DUMPS.replace('    ports: [{ name: pg, port: 5432 }]\n', ''),
        message: 'applications/specs/notes.yaml: volumes.pgdata.backup.dump postgres: service "db" has no TCP port the dump could connect to; give it its PostgreSQL port (5432)',
      },
    ])('refuses $case in one line', ({ text, message }) => {
      expect(inputErrorOf(() => notes(text))).toBe(message);
    });
  });

  describe('repository', () => {
    it('keeps the store\'s repository property without a target (renders as before)', () => {
      const app = appWith(true);

      expect(app.environments.map((e) => e.resticSecrets)).toEqual([
        [{ name: 'files-data-restic', repository: '{{ .repository }}/files-dev/data', password: '{{ .password }}' }],
        [{ name: 'files-data-restic', repository: '{{ .repository }}/files/data', password: '{{ .password }}' }],
      ]);
    });

    it.each([
      { case: 'backup.target.s3', backup: { target: { s3: S3 } } },
      { case: 'the older backup.s3', backup: { s3: S3 } },
    ])('renders the S3 repository of $case per namespace and volume', ({ backup }) => {
      const app = appWith(true, withBackup(backup));

      expect(app.environments.map((e) => e.resticSecrets.map((s) => s.repository))).toEqual([
        ['s3:https://s3.example.org/homelab-backups/files-dev/data'],
        ['s3:https://s3.example.org/homelab-backups/files/data'],
      ]);
    });

    it('drops a trailing slash of the endpoint', () => {
      expect(resticRepository({ endpoint: 'http://127.0.0.1:9000/', bucket: 'b' }, 'files-dev', 'data')).toBe('s3:http://127.0.0.1:9000/b/files-dev/data');
    });
  });
});
