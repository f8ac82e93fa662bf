import { InputError } from '../../errors';
import { formatImageRef, splitImageRef } from '../../spec/image';
import type { ImageSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import { refusePlaceholder } from './placeholders';
import type { ImportReport } from './report';

/**
 * A service's image as the spec holds it. A pinned tag or digest is kept; an untagged image is
 * what Compose pulls, `latest`, and `latest` is kept too (the import starts what the source
 * started) with a warning line, and its service is named in the app's policy/image-tag
 * exception (`unpinned`). `build:` without `image:` is refused (homelab deploys images, it does
 * not build them); beside an `image:`, the image is used and the build listed.
 */
export function mapImage(service: string, svc: ComposeService, report: ImportReport, unpinned: string[]): ImageSpec {
  const at = `services.${service}.image`;
  if (svc.image === undefined) {
    if (svc.build !== undefined) {
      throw new InputError(`services.${service}.build: a service built from source and without image: cannot be imported (homelab deploys images, it does not build them); build and push the image, set services.${service}.image to it, and import again`);
    }
    throw new InputError(`services.${service} has no image:; set services.${service}.image to the image it runs, and import again`);
  }
  refusePlaceholder(svc.image, at);
  const image = splitImageRef(svc.image, at);
  if (svc.build !== undefined) report.notCarried(`services.${service}.build`, `homelab deploys images: the service runs ${formatImageRef(image)}, which must be built and pushed elsewhere`);
  if (image.tag === undefined && image.digest === undefined) image.tag = 'latest';
  if (image.tag === 'latest' && image.digest === undefined) {
    report.warn(`image ${at} is not pinned (latest): pin a tag or digest`);
    unpinned.push(service);
  }
  return image;
}
