import { InputError, show } from '../../errors';
import { quantityBytes } from '../../spec/quantity';
import type { AppSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { unique } from './unique';

/** The app's volumes: claim names, sizes, mount paths (each once, never /tmp, no ".."), backed up unless said. */
export function normalizeVolumes(spec: AppSpec, where: string): Pick<NormalizedApp, 'volumes' | 'hasVolumes'> {
  const volumes = (spec.volumes ?? []).map((v) => ({
    name: v.name,
    claimName: `${spec.name}-${v.name}`,
    size: v.size,
    mountPath: v.mountPath,
    backup: v.backup ?? true,
    backupLabel: String(v.backup ?? true),
    storageClass: v.storageClass ?? null,
    composeVolume: v.name,
  }));
  unique(volumes.map((v) => v.name), `${where}: volumes[].name`, 'give each volume its own name');
  unique([...volumes.map((v) => v.mountPath), '/tmp'], `${where}: volumes[].mountPath`, 'mount each volume at its own path (homelab mounts /tmp itself)');
  for (const v of volumes) {
    quantityBytes(v.size, `${where}: volumes.${v.name}.size`);
    if (v.mountPath.split('/').includes('..')) {
      throw new InputError(`${where}: volumes.${v.name}.mountPath ${show(v.mountPath)} contains ".."; use an absolute path without ".."`);
    }
  }
  return { volumes, hasVolumes: volumes.length > 0 };
}
