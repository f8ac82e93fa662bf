import { describe, expect, it } from 'vitest';
import { numericOwner, volumeMounts } from './volume-owner';

describe('which volumes deploy gives to the container user', () => {
  const doc = {
    services: {
      web: {
        image: 'example/web:1',
        user: '65532:65532',
        volumes: [
          { type: 'volume', source: 'data', target: '/data' },
          { type: 'volume', source: 'data', target: '/cache', volume: { subpath: 'cache' } },
          { type: 'volume', source: 'shared', target: '/shared', read_only: true },
          { type: 'bind', source: '/etc/localtime', target: '/etc/localtime' },
          { type: 'tmpfs', target: '/run' },
          { type: 'volume', source: 'media', target: '/media' },
          { type: 'volume', source: 'old', target: '/old' },
        ],
      },
      db: { image: 'postgres:17.5', volumes: ['db:/var/lib/postgresql/data', './init:/docker-entrypoint-initdb.d:ro'] },
    },
    volumes: {
      data: { labels: { 'homelab.backup': 'true' } },
      shared: {},
      media: { driver: 'local', driver_opts: { type: 'nfs', o: 'addr=nas', device: ':/media' } },
      old: { name: 'legacy_old', external: true },
      db: null,
    },
  };

  it('lists read-write mounts of local named volumes, with their engine name, labels, subpath and user', () => {
    expect(volumeMounts(doc, 'wiki-dev')).toEqual([
      { key: 'data', name: 'wiki-dev_data', external: false, labels: { 'homelab.backup': 'true' }, service: 'web', image: 'example/web:1', target: '/data', subpath: null, user: '65532:65532' },
      { key: 'data', name: 'wiki-dev_data', external: false, labels: { 'homelab.backup': 'true' }, service: 'web', image: 'example/web:1', target: '/cache', subpath: 'cache', user: '65532:65532' },
      { key: 'old', name: 'legacy_old', external: true, labels: {}, service: 'web', image: 'example/web:1', target: '/old', subpath: null, user: '65532:65532' },
      { key: 'db', name: 'wiki-dev_db', external: false, labels: {}, service: 'db', image: 'postgres:17.5', target: '/var/lib/postgresql/data', subpath: null, user: null },
    ]);
  });

  it.each([
    ['65532:65532', '65532:65532'],
    ['1000', '1000:1000'],
    [' 999:998 ', '999:998'],
    ['0:0', 'root'],
    ['0', 'root'],
    ['root', 'root'],
    ['', 'root'],
    ['postgres', null],
    ['app:app', null],
  ])('the user %j owns volumes as %j (root needs nothing, a name cannot be resolved)', (user, owner) => {
    expect(numericOwner(user)).toBe(owner);
  });
});
