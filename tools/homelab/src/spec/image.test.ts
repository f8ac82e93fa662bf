import { describe, expect, it } from 'vitest';
import { InputError } from '../errors';
import { checkPinned, formatImageRef, parseImageRef } from './image';

const DIGEST = `sha256:${'a1'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['traefik/whoami:v1.10.4', { repository: 'traefik/whoami', tag: 'v1.10.4' }],
    ['nginx:1.27', { repository: 'nginx', tag: '1.27' }],
    ['ghcr.io/owner/app:2024.01.02', { repository: 'ghcr.io/owner/app', tag: '2024.01.02' }],
    ['registry.home.arpa:5000/team/app:v2', { repository: 'registry.home.arpa:5000/team/app', tag: 'v2' }],
    ['localhost:5000/app:1', { repository: 'localhost:5000/app', tag: '1' }],
    ['my_org/my__app-x.y:V_1-rc.2', { repository: 'my_org/my__app-x.y', tag: 'V_1-rc.2' }],
    [`traefik/whoami@${DIGEST}`, { repository: 'traefik/whoami', digest: DIGEST }],
    [`traefik/whoami:v1@${DIGEST}`, { repository: 'traefik/whoami', tag: 'v1', digest: DIGEST }],
    [`traefik/whoami:latest@${DIGEST}`, { repository: 'traefik/whoami', tag: 'latest', digest: DIGEST }],
  ])('parses %s', (ref, expected) => {
    expect(parseImageRef(ref)).toEqual(expected);
  });

  it.each([
    'traefik/whoami:v1.10.4',
    'registry.home.arpa:5000/team/app:v2',
    `traefik/whoami@${DIGEST}`,
    `traefik/whoami:v1@${DIGEST}`,
  ])('formats %s back to the same reference', (ref) => {
    expect(formatImageRef(parseImageRef(ref))).toBe(ref);
  });

  it.each([
    ['', /--image is empty; give an image reference and pin it/],
    ['   ', /--image is empty/],
    ['traefik/whoami', /--image "traefik\/whoami" has no tag; pin it, e.g\. "traefik\/whoami:v1\.10\.4"/],
    ['registry.home.arpa:5000/app', /"registry\.home\.arpa:5000\/app" has no tag/],
    ['traefik/whoami:latest', /"traefik\/whoami:latest" uses the tag "latest", which moves under you; pin a version tag or a digest/],
    ['traefik/WhoAmI:v1', /"traefik\/WhoAmI" is not an image repository; use lower-case path components/],
    ['traefik//whoami:v1', /"traefik\/\/whoami" is not an image repository/],
    ['traefik/whoami:', /has an invalid tag ""; tags are letters, digits/],
    ['traefik/whoami:-v1', /has an invalid tag "-v1"/],
    [`traefik/whoami:${'v'.repeat(129)}`, /has an invalid tag/],
    ['traefik/whoami@sha256:abc', /has an invalid digest; a digest is "sha256:" followed by 64 lower-case hex digits/],
    [`traefik/whoami@md5:${'a'.repeat(64)}`, /has an invalid digest/],
    ['traefik/whoami:v1\n', /has an invalid tag "v1\\n"/],
    ['traefik/who ami:v1', /"traefik\/who ami" is not an image repository/],
    ['https://ghcr.io/app:v1', /is not an image repository/],
  ])('refuses %j with a one-line message naming it and the fix', (ref, message) => {
    let error: unknown;
    try {
      parseImageRef(ref);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it('names where the reference came from', () => {
    expect(() => parseImageRef('x', 'applications/specs/web.yaml: image')).toThrow(/^applications\/specs\/web\.yaml: image "x" has no tag/);
  });
});

describe('checkPinned', () => {
  it('accepts a latest tag pinned by a digest', () => {
    expect(() => checkPinned({ repository: 'a', tag: 'latest', digest: DIGEST }, 'image')).not.toThrow();
  });

  it('refuses an image with neither tag nor digest', () => {
    expect(() => checkPinned({ repository: 'a' }, 'image')).toThrow('image "a" has no tag');
  });
});
