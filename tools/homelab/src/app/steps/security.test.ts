import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import { normalizeSecurity } from './security';

const WHERE = 'applications/specs/dns.yaml';

describe('normalizeSecurity', () => {
  it('keeps the hardened defaults when the spec asks for nothing', () => {
    expect(normalizeSecurity({})).toEqual({
      runAsUser: 65532,
      runAsGroup: 65532,
      runAsNonRoot: true,
      imageUser: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: [],
      hasCapabilities: false,
      dropAllCapabilities: true,
      hostNetwork: false,
      optIns: [],
      hasOptIns: false,
    });
  });

  it.each([
    ['a user and group of the shorthand', { securityContext: { runAsUser: 1000, runAsGroup: 2000 } }, { runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true }],
    ['a user of a service, its group by default the same', { security: { user: { uid: 999 } } }, { runAsUser: 999, runAsGroup: 999 }],
    ['root, with its reason', { security: { runAsRoot: 'binds port 53 and drops privileges' } }, { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false }],
    ['a writable root filesystem', { security: { writableRootFilesystem: 'writes its pid file' } }, { readOnlyRootFilesystem: false }],
    ['capabilities, sorted', { security: { capabilities: { NET_BIND_SERVICE: 'port 53', NET_ADMIN: 'its DHCP server' } } }, { capabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'], hasCapabilities: true }],
    ["the image's own user: no user, and not promised non-root", { security: { imageUser: 'the image drops to its own user' } }, { runAsUser: undefined, runAsGroup: undefined, runAsNonRoot: false, imageUser: true }],
    ["the runtime's default capabilities, with added ones", { security: { defaultCapabilities: 'gosu needs SETUID', capabilities: { NET_ADMIN: 'DHCP' } } }, { dropAllCapabilities: false, capabilities: ['NET_ADMIN'] }],
    ['privileged mode and the host network', { security: { privileged: 'a USB stick', hostNetwork: 'mDNS discovery' } }, { privileged: true, hostNetwork: true }],
  ])('follows %s', (_what, container, expected) => {
    expect(normalizeSecurity(container, WHERE, 'services.dns.')).toMatchObject(expected);
  });

  it('records each opt-in with its reason, in a stable order, to write beside what it allows', () => {
    const security = normalizeSecurity({ security: { hostNetwork: 'mDNS', capabilities: { NET_ADMIN: 'DHCP' }, runAsRoot: 'drops privileges itself' } }, WHERE, 'services.dns.');

    expect(security.optIns).toEqual([
      { optIn: 'runAsRoot', reason: 'drops privileges itself' },
      { optIn: 'capabilities.NET_ADMIN', reason: 'DHCP' },
      { optIn: 'hostNetwork', reason: 'mDNS' },
    ]);
  });

  it.each([
    ['root and a user at once', { security: { runAsRoot: 'because', user: { uid: 1 } } }, `${WHERE}: services.dns.security.user and services.dns.security.runAsRoot both say who the service runs as; keep one`],
    ["the image's user and a user at once", { security: { imageUser: 'because', user: { uid: 1 } } }, `${WHERE}: services.dns.security.user and services.dns.security.imageUser both say who the service runs as; keep one`],
    ['a reason of blanks', { security: { privileged: '   ' } }, `${WHERE}: services.dns.security.privileged "   " gives no reason; say why the service needs it, in a sentence a reviewer can judge`],
  ])('refuses %s', (_what, container, message) => {
    expect(inputErrorOf(() => normalizeSecurity(container, WHERE, 'services.dns.'))).toBe(message);
  });
});
