import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf } from '../../../../../tests/support/spec';
import type { AppSpec } from '../../spec/types';
import { normalizeStorage, normalizeVolumes, shareVolumes, type VolumeUser } from './storage';

const WHERE = 'applications/specs/files.yaml';

const persistent = (spec: AppSpec) => normalizeVolumes(normalizeStorage(spec, WHERE), []);

describe('normalizeVolumes', () => {
  it('names each claim after the app and backs a volume up unless it says not to', () => {
    const { volumes, hasVolumes } = persistent(
      specOf('files', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }, { name: 'cache', size: '1Gi', mountPath: '/cache', backup: false, storageClass: 'fast' }] }),
    );

    expect(hasVolumes).toBe(true);
    expect(volumes).toEqual([
      { name: 'data', claimName: 'files-data', size: '1Gi', readWriteMany: false, mountPath: '/data', backup: true, backupOptions: { dump: null, stop: true, copyMethod: null }, backupLabel: 'true', storageClass: null, composeVolume: 'data' },
      { name: 'cache', claimName: 'files-cache', size: '1Gi', readWriteMany: false, mountPath: '/cache', backup: false, backupOptions: { dump: null, stop: true, copyMethod: null }, backupLabel: 'false', storageClass: 'fast', composeVolume: 'cache' },
    ]);
  });

  it('has no volumes when the spec lists none', () => {
    expect(persistent(specOf('files'))).toEqual({ volumes: [], hasVolumes: false });
  });

  it('says where the services of the full form mount a volume, and leaves out the kinds homelab does not create', () => {
    const spec = { name: 'files', services: { a: { image: { repository: 'a', tag: '1' } } }, volumes: { data: { size: '1Gi' }, etc: { hostPath: '/etc/files' } } } as AppSpec;
    const mounts = [{ mounts: [{ volume: 'data', path: '/srv', readOnly: false, subPath: null }] }, { mounts: [{ volume: 'data', path: '/data', readOnly: true, subPath: null }] }];

    expect(normalizeVolumes(normalizeStorage(spec, WHERE), mounts).volumes.map((v) => [v.name, v.mountPath])).toEqual([['data', '/srv, /data']]);
  });

  it.each([
    ['/tmp, which homelab mounts itself', [{ name: 'a', size: '1Gi', mountPath: '/tmp' }], 'volumes[].mountPath "/tmp" appears twice'],
    ['a size that is no quantity', [{ name: 'a', size: '1GB', mountPath: '/a' }], 'volumes.a.size "1GB" is not a size'],
    ['a mount path with ".."', [{ name: 'a', size: '1Gi', mountPath: '/a/../etc' }], 'contains ".."'],
  ])('refuses %s', (_what, volumes, message) => {
    expect(() => persistent(specOf('files', { volumes }))).toThrow(message);
  });
});

const where = 'applications/specs/stack.yaml';
const full = (volumes: Record<string, unknown>): AppSpec => ({ name: 'stack', services: { web: { image: { repository: 'a', tag: '1' } } }, volumes }) as AppSpec;

describe('normalizeStorage', () => {
  it("keeps the shorthand's volumes what they were: persistent, <app>-<name> claims, their mount paths, backed up by default", () => {
    const volumes = normalizeStorage(specOf('web', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }, { name: 'cache', size: '2Gi', mountPath: '/cache', backup: false, storageClass: 'fast' }] }), where);

    expect(volumes.map((v) => [v.name, v.kind, v.claimName, v.mountPath, v.backupLabel, v.composeVolume])).toEqual([
      ['data', 'persistent', 'web-data', '/data', 'true', 'data'],
      ['cache', 'persistent', 'web-cache', '/cache', 'false', 'cache'],
    ]);
    expect(volumes[1].persistent).toEqual({ size: '2Gi', storageClass: 'fast', accessMode: 'ReadWriteOnce', backup: false, backupOptions: { dump: null, stop: true, copyMethod: null } });
  });

  it('gives each of the six kinds of the full form what its platforms declare', () => {
    const volumes = normalizeStorage(
      full({
        data: { size: '10Gi', accessMode: 'ReadWriteMany' },
        localtime: { hostPath: '/etc/localtime', type: 'File', reason: 'the server shows local times' },
        movies: { nfs: { server: 'nas.home.arpa', path: '/export/movies' } },
        scratch: { tmpfs: { size: '4Gi' } },
        settings: { config: { content: 'a: 1\n' } },
        old: { claim: 'legacy-data' },
      }),
      where,
    );

    expect(Object.fromEntries(volumes.map((v) => [v.name, [v.kind, v.isClaimed, v.claimName, v.composeVolume]]))).toEqual({
      data: ['persistent', true, 'stack-data', 'data'],
      localtime: ['hostPath', false, null, null],
      movies: ['nfs', false, null, 'movies'],
      scratch: ['tmpfs', false, null, null],
      settings: ['config', false, null, null],
      old: ['claim', true, 'legacy-data', 'old'],
    });
    const byName = new Map(volumes.map((v) => [v.name, v]));
    expect(byName.get('data')?.persistent).toEqual({ size: '10Gi', storageClass: null, accessMode: 'ReadWriteMany', backup: true, backupOptions: { dump: null, stop: true, copyMethod: null } });
    expect(byName.get('localtime')?.hostPath).toEqual({ path: '/etc/localtime', type: 'File', reason: 'the server shows local times' });
    expect(byName.get('movies')?.nfs).toEqual({ server: 'nas.home.arpa', path: '/export/movies' });
    expect(byName.get('scratch')?.tmpfs).toEqual({ size: '4Gi', bytes: 4 * 1024 ** 3 });
    expect(byName.get('settings')?.config).toEqual({ configMap: 'stack-settings', key: 'settings', content: 'a: 1\n', file: null });
  });

  it('reads a config file from the folder beside the spec, named like the app', () => {
    const read: string[] = [];
    const [volume] = normalizeStorage(full({ nginx: { config: { file: 'conf/nginx.conf' } } }), where, (file) => {
      read.push(file);
      return 'worker_processes 1;\n';
    });

    expect(read).toEqual(['applications/specs/stack/conf/nginx.conf']);
    expect(volume.config).toEqual({ configMap: 'stack-nginx', key: 'nginx', content: 'worker_processes 1;\n', file: 'applications/specs/stack/conf/nginx.conf' });
  });

  it.each([
    ['a missing file', 'x.conf', null, 'volumes.x.config.file "x.conf": applications/specs/stack/x.conf is missing; put the file there (the folder beside the spec, named like the app) or use config.content'],
    ['a path out of the folder', 'a/../../other.yaml', 'x', 'volumes.x.config.file "a/../../other.yaml" must be a path inside applications/specs/stack/ without ".", ".." or empty segments'],
    ['a file that is not UTF-8 text', 'x.bin', 'a\uFFFDb', 'applications/specs/stack/x.bin is not UTF-8 text'],
    ['a file too large for a ConfigMap', 'x.conf', 'a'.repeat(262145), 'applications/specs/stack/x.conf has 262145 characters, more than the 262144 a config volume holds'],
  ])('refuses a config file: %s, in one line', (_label, file, content, message) => {
    const error = inputErrorOf(() => normalizeStorage(full({ x: { config: { file } } }), where, () => content));

    expect(error).toContain(message);
    expect(error.startsWith(`${where}: volumes.x.config.file`)).toBe(true);
    expect(error).not.toMatch(/\n/);
  });

  it.each([
    ['a shorthand volume listed twice', specOf('web', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/a' }, { name: 'data', size: '1Gi', mountPath: '/b' }] }), 'volumes[].name "data" appears twice'],
    ['a shorthand mount on /tmp', specOf('web', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/tmp' }] }), 'volumes[].mountPath "/tmp" appears twice; mount each volume at its own path (homelab mounts /tmp itself)'],
    ['a host path with ..', full({ x: { hostPath: '/srv/../etc' } }), 'volumes.x.hostPath "/srv/../etc" contains ".."'],
  ])('refuses %s in one line', (_label, spec, message) => {
    const error = inputErrorOf(() => normalizeStorage(spec, where));

    expect(error).toContain(message);
    expect(error).not.toMatch(/\n/);
  });
});

describe('shareVolumes', () => {
  const volumes = normalizeStorage(full({ html: { size: '100Gi' }, shared: { size: '1Gi', accessMode: 'ReadWriteMany' }, movies: { nfs: { server: 'nas', path: '/m' } } }), where);
  const user = (name: string, mounts: string[], replicas = 1, maxReplicas = replicas): VolumeUser => ({ name, replicas, maxReplicas, volumes: mounts });

  it('pins every later service that mounts a ReadWriteOnce volume to the first one that does', () => {
    const pins = shareVolumes(volumes, [user('app', ['html']), user('db', []), user('cron', ['html']), user('backup', ['html'])], where);

    expect([...pins]).toEqual([
      ['cron', 'app'],
      ['backup', 'app'],
    ]);
  });

  it('pins nothing for ReadWriteMany and other kinds, where replicas may be several', () => {
    expect([...shareVolumes(volumes, [user('a', ['shared', 'movies'], 3), user('b', ['shared', 'movies'], 2)], where)]).toEqual([]);
  });

  it.each([
    ['replicas above 1 on a ReadWriteOnce volume', [user('app', ['html'], 2)], 'replicas above 1 with volumes; app mounts the ReadWriteOnce volume "html", which holds one replica, so set replicas: 1'],
    ['an environment that scales it above 1', [user('app', ['html'], 1, 3)], 'replicas above 1 with volumes; app mounts'],
  ])('refuses %s', (_label, users, message) => {
    expect(inputErrorOf(() => shareVolumes(volumes, users, where))).toContain(message);
  });

  it('refuses a service pinned to two services that may run on different nodes', () => {
    const two = normalizeStorage(full({ a: { size: '1Gi' }, b: { size: '1Gi' } }), where);

    expect(inputErrorOf(() => shareVolumes(two, [user('x', ['a']), user('y', ['b']), user('z', ['a', 'b'])], where))).toBe(
      `${where}: services.z shares ReadWriteOnce volumes with both "x" and "y", which may run on different nodes; mount them from one service or set accessMode: ReadWriteMany`,
    );
  });
});
