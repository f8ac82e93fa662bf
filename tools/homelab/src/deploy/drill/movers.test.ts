import { describe, expect, it } from 'vitest';
import { backedUpVolumes, engineVolume, isAppService } from './movers';
import { filesDev } from './fixture.test-data';

describe('backedUpVolumes: what the drill restores, read from the rendered movers', () => {
  it('finds one volume per mover, with its repository, target folder, image and the services that use it', () => {
    const volumes = backedUpVolumes(filesDev(), 'dist/dev/compose/files/compose.yaml');

    expect(volumes).toEqual([
      { volume: 'data', mover: 'backup-data', source: 'data', dump: false, repository: '/repository/files-dev/data', repositoryPath: '/var/backups/homelab/restic', image: 'restic/restic:0.18.0', network: null, users: ['files', 'migrate'] },
      { volume: 'db', mover: 'backup-db', source: 'db-dump', dump: true, repository: '/repository/files-dev/db', repositoryPath: '/var/backups/homelab/restic', image: 'restic/restic:0.18.0', network: null, users: ['db'] },
    ]);
  });

  it('reads an s3 target: no repository folder, the mover network by its engine name', () => {
    const doc = filesDev();
    const mover = doc.services['backup-data'];
    delete mover.network_mode;
    mover.networks = { backup: null };
    mover.environment.RESTIC_REPOSITORY = 's3:https://s3.example.org/bucket/files-dev/data';
    mover.volumes = mover.volumes.filter((v: { target: string }) => v.target !== '/repository');
    doc.networks.backup = { name: 'files-dev_backup' };

    const [data] = backedUpVolumes(doc, 'x');
    expect(data).toMatchObject({ repository: 's3:https://s3.example.org/bucket/files-dev/data', repositoryPath: null, network: 'files-dev_backup' });
  });

  it('finds nothing in a file without movers', () => {
    const doc = filesDev();
    delete doc.services['backup-data'];
    delete doc.services['backup-db'];
    expect(backedUpVolumes(doc, 'x')).toEqual([]);
  });

  it('refuses a mover that is not what homelab renders, naming it and the fix', () => {
    const doc = filesDev();
    delete doc.services['backup-data'].environment.HOMELAB_VOLUME;
    expect(() => backedUpVolumes(doc, 'dist/dev/compose/files/compose.yaml')).toThrow(
      'dist/dev/compose/files/compose.yaml: backup mover backup-data has no HOMELAB_VOLUME, RESTIC_REPOSITORY or volume at /data; run the build target again',
    );
  });

  it.each([
    ['files', true],
    ['scheduler', false],
    ['backup-data', false],
    ['report', false],
  ])('counts %s as a service of the app: %s', (name, expected) => {
    expect(isAppService(name, filesDev().services[name])).toBe(expected);
  });

  it('names a volume as the engine knows it', () => {
    const doc = filesDev();
    expect(engineVolume(doc, 'data')).toBe('files-dev_data');
    delete doc.volumes.data.name;
    expect(engineVolume(doc, 'data')).toBe('files-dev_data');
  });
});
