import { InputError, show } from '../../errors';
import { checkPinned, formatImageRef, parseImageRef } from '../../spec/image';
import type { CatalogEntry } from '../catalog';
import type { ComponentSpec } from '../types';

/** Refuses a chart version that is not one exact version. */
export function checkChartPins(spec: ComponentSpec, where: string): void {
  for (const chart of spec.kubernetes.charts) {
    if (!/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(chart.version)) {
      throw new InputError(`${where}: chart ${show(chart.name)} version ${show(chart.version)} is not exact; pin one version such as 1.2.3`);
    }
  }
}

/**
 * The pinned image and the memory limit of each Compose service. On Compose every service the
 * catalog runs needs a pinned image, and memory limits name only services that exist.
 */
export function composeImages(spec: ComponentSpec, entry: CatalogEntry, isCompose: boolean, where: string): { images: Record<string, string>; memory: Record<string, string> } {
  const images: Record<string, string> = {};
  for (const [service, ref] of Object.entries(spec.compose?.images ?? {})) {
    const image = parseImageRef(ref, `${where}: compose.images.${service}`);
    checkPinned(image, `${where}: compose.images.${service}`);
    images[service] = formatImageRef(image);
  }
  const memory: Record<string, string> = { ...entry.memory, ...(spec.compose?.memory ?? {}) };
  if (isCompose) {
    for (const [service, pin] of Object.entries(entry.images(spec.settings ?? {}))) {
      if (!images[service]) {
        throw new InputError(
          `${where}: compose.images misses ${show(service)}; add a pinned image for it (the catalog pins ${pin}), or run the migrations of a homelab update (docs/upgrading.md)`,
        );
      }
    }
    for (const service of Object.keys(memory)) {
      if (!images[service]) throw new InputError(`${where}: compose.memory names ${show(service)}, which is no service of ${spec.name}; use one of ${Object.keys(images).map((i) => show(i)).join(', ')}`);
    }
  }
  return { images, memory };
}
