import { describe, expect, it } from 'vitest';
import { filesDev } from './fixture.test-data';
import { backedUpVolumes } from './movers';
import { scratchCompose, scratchProject, tmpfsVolume } from './scratch';

const drill = (options: { scratchSize?: string } = {}) => {
  const doc = filesDev();
  return scratchCompose(doc, backedUpVolumes(doc, 'x'), { project: scratchProject('files-dev'), ...options });
};

describe('scratchCompose: the app as the drill runs it, isolated from the live one', () => {
  it('is the project P-drill with the long-running services only: no mover, cron service, scheduler or job', () => {
    const { doc, services } = drill();
    expect(doc.name).toBe('files-dev-drill');
    expect(services).toEqual(['db', 'files', 'metrics']);
    expect(Object.keys(doc.services).sort()).toEqual(['db', 'files', 'metrics']);
  });

  it('publishes no port, fixes no container name, and runs every service on one internal network', () => {
    const { doc } = drill();
    expect(doc.networks).toEqual({ default: { internal: true } });
    for (const name of ['db', 'files']) {
      const s = doc.services[name];
      expect(s.ports).toBeUndefined();
      expect(s.container_name).toBeUndefined();
      expect(s.networks).toBeUndefined();
      expect(s.network_mode).toBeUndefined();
    }
  });

  it('keeps a sidecar in the network of its service, which is in the scratch project too', () => {
    expect(drill().doc.services.metrics.network_mode).toBe('service:files');
  });

  it('runs one replica, and drops the dependencies on services it leaves out', () => {
    const files = drill().doc.services.files;
    expect(files.deploy.replicas).toBe(1);
    expect(Object.keys(files.depends_on)).toEqual(['db']);
  });

  it('mounts the restored scratch volume for a backed-up file volume, and empty scratch volumes for everything else', () => {
    const { doc, restored } = drill();
    expect(doc.volumes.data).toEqual({ name: 'files-dev-drill_data', external: true });
    // The database directory starts empty: the dump is loaded into it.
    expect(doc.volumes.db).toEqual({});
    expect(doc.volumes.cache).toEqual({});
    expect(restored.map((r) => [r.backup.volume, r.name])).toEqual([
      ['data', 'files-dev-drill_data'],
      ['db', 'files-dev-drill_db-dump'],
    ]);
    expect(JSON.stringify(doc)).not.toContain('files-dev_');
  });

  it('replaces a read-write bind mount by an empty scratch volume and says so; a read-only one stays', () => {
    const { doc, notes } = drill();
    const mounts = doc.services.files.volumes;
    expect(mounts).toContainEqual({ type: 'volume', source: 'files-bind-2', target: '/uploads' });
    expect(mounts).toContainEqual({ type: 'bind', source: '/etc/localtime', target: '/etc/localtime', read_only: true });
    expect(notes).toEqual([expect.stringMatching(/^files: the read-write bind mount of \/srv\/uploads at \/uploads is an empty scratch volume/)]);
  });

  it('starts the database of a dump volume first', () => {
    expect(drill().databases.map((d) => [d.service, d.backup.volume])).toEqual([['db', 'db']]);
  });

  it('gives the private env file only to services it starts, and drops the database deploy provisions', () => {
    const { doc } = drill();
    expect(doc['x-homelab']).toMatchObject({ project: 'files-dev-drill', secrets: { services: ['files'] } });
    expect(doc['x-homelab-database']).toBeUndefined();
  });

  it('with a scratch size, makes every scratch volume a tmpfs of that size, the restored ones being created by the drill', () => {
    const { doc } = drill({ scratchSize: '64m' });
    expect(doc.volumes.cache).toEqual(tmpfsVolume('64m'));
    expect(doc.volumes.cache).toEqual({ driver: 'local', driver_opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' } });
    expect(doc.volumes.data).toEqual({ name: 'files-dev-drill_data', external: true });
  });

  it('leaves the resolved file it was given as it was', () => {
    const doc = filesDev();
    scratchCompose(doc, backedUpVolumes(doc, 'x'), { project: 'files-dev-drill' });
    expect(doc).toEqual(filesDev());
  });
});
