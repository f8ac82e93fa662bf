import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, WorkspaceConfig } from '../../spec/types';
import type { Dependencies } from '../normalized';
import { normalizeApp } from '../normalize';
import { resticRepository } from './backup';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const NONE: Dependencies = new Map();
const withBackup = (backup: WorkspaceConfig['backup']): WorkspaceConfig => ({ ...workspace, backup });
const S3 = { endpoint: 'https://s3.example.org', bucket: 'homelab-backups' };

/** A shorthand app with two volumes: `data` as the spec says, `cache` never backed up. */
const appWith = (backup: NonNullable<AppSpec['volumes']>[number]['backup'], ws: WorkspaceConfig = workspace) =>
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

  it('gives a dump volume no ReplicationSource: its dump is what is backed up', () => {
    const app = appWith({ dump: 'postgres' });

    expect(app.backup.volumes.map((v) => [v.name, v.isSource])).toEqual([['data', false]]);
    expect(app.backup.componentResources).toEqual([]);
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
