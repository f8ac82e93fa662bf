import { InputError, show } from '../errors';

/** A container image reference split into its parts. */
export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

// The grammar of github.com/distribution/reference: an optional registry host
// (with a port) and lower-case path components separated by '/'.
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)';
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Checks a repository name (no tag) and explains the fix when it is not one. */
export function checkRepository(repository: string, where: string): void {
  if (repository.length > 255 || !REPOSITORY.test(repository)) {
    throw new InputError(
      `${where} ${show(repository)} is not an image repository; use lower-case path components such as "traefik/whoami" or "ghcr.io/owner/app"`,
    );
  }
}

/**
 * Parses `repo:tag`, `repo@sha256:...` or `repo:tag@sha256:...`, refusing references
 * that are not pinned: no tag and no digest, or the tag `latest`.
 *
 * @example parseImageRef('traefik/whoami:v1.10.4') // { repository: 'traefik/whoami', tag: 'v1.10.4' }
 */
export function parseImageRef(ref: string, where = '--image'): ImageRef {
  const image = splitImageRef(ref, where);
  checkPinned(image, where, ref);
  return image;
}

/**
 * Splits an image reference into its parts, refusing one that is not a reference (an empty
 * value, an invalid tag, digest or repository) but not one that is unpinned: an import keeps
 * what the source runs and records the exception.
 *
 * @example splitImageRef('redis') // { repository: 'redis' }
 */
export function splitImageRef(ref: string, where: string): ImageRef {
  const fix = 'pin it, e.g. "traefik/whoami:v1.10.4" or "repo@sha256:<64 hex>"';
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new InputError(`${where} is empty; give an image reference and ${fix}`);
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      throw new InputError(`${where} ${show(ref)} has an invalid digest; a digest is "sha256:" followed by 64 lower-case hex digits`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new InputError(`${where} ${show(ref)} has an invalid tag ${show(tag)}; tags are letters, digits, '_', '.' and '-' (at most 128)`);
    }
  }
  checkRepository(rest, where);
  return { repository: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Refuses an image with neither tag nor digest, or tagged `latest` without a digest. */
export function checkPinned(image: ImageRef, where: string, shown = formatImageRef(image)): void {
  if (!image.tag && !image.digest) {
    throw new InputError(`${where} ${show(shown)} has no tag; ${'pin it, e.g. "traefik/whoami:v1.10.4" or "repo@sha256:<64 hex>"'}`);
  }
  if (image.tag === 'latest' && !image.digest) {
    throw new InputError(`${where} ${show(shown)} uses the tag "latest", which moves under you; pin a version tag or a digest`);
  }
}

/** Formats an image reference the way Kubernetes and Compose take it. */
export function formatImageRef(image: ImageRef): string {
  return `${image.repository}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
}
