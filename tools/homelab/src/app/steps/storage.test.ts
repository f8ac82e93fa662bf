import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { normalizeVolumes } from './storage';

const WHERE = 'applications/specs/files.yaml';

describe('normalizeVolumes', () => {
  it('names each claim after the app and backs a volume up unless it says not to', () => {
    const { volumes, hasVolumes } = normalizeVolumes(
      specOf('files', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }, { name: 'cache', size: '1Gi', mountPath: '/cache', backup: false, storageClass: 'fast' }] }),
      WHERE,
    );

    expect(hasVolumes).toBe(true);
    expect(volumes).toEqual([
      { name: 'data', claimName: 'files-data', size: '1Gi', mountPath: '/data', backup: true, backupLabel: 'true', storageClass: null, composeVolume: 'data' },
      { name: 'cache', claimName: 'files-cache', size: '1Gi', mountPath: '/cache', backup: false, backupLabel: 'false', storageClass: 'fast', composeVolume: 'cache' },
    ]);
  });

  it('has no volumes when the spec lists none', () => {
    expect(normalizeVolumes(specOf('files'), WHERE)).toEqual({ volumes: [], hasVolumes: false });
  });

  it.each([
    ['/tmp, which homelab mounts itself', [{ name: 'a', size: '1Gi', mountPath: '/tmp' }], 'volumes[].mountPath "/tmp" appears twice'],
    ['a size that is no quantity', [{ name: 'a', size: '1GB', mountPath: '/a' }], 'volumes.a.size "1GB" is not a size'],
    ['a mount path with ".."', [{ name: 'a', size: '1Gi', mountPath: '/a/../etc' }], 'contains ".."'],
  ])('refuses %s', (_what, volumes, message) => {
    expect(() => normalizeVolumes(specOf('files', { volumes }), WHERE)).toThrow(message);
  });
});
