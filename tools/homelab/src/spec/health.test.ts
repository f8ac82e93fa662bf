import { describe, expect, it } from 'vitest';
import { outsideProbe } from './health';

const OUTSIDE = { 'homelab.health.probe': 'outside' };

describe('outsideProbe', () => {
  it.each<[string, Record<string, unknown> | null, ReturnType<typeof outsideProbe>]>([
    ['no labels', null, null],
    ['a service checked by Docker', { 'homelab.app': 'web' }, null],
    ['an HTTP probe (no kind label, as always)', { ...OUTSIDE, 'homelab.health.port': '80', 'homelab.health.path': '/ping', 'homelab.health.start-period': '5s' }, { kind: 'http', port: 80, path: '/ping', startSeconds: 5 }],
    ['an HTTP probe without a path', { ...OUTSIDE, 'homelab.health.port': '80' }, { kind: 'http', port: 80, path: '/', startSeconds: 30 }],
    ['a TCP probe', { ...OUTSIDE, 'homelab.health.kind': 'tcp', 'homelab.health.port': '5432', 'homelab.health.start-period': '60s' }, { kind: 'tcp', port: 5432, startSeconds: 60 }],
  ])('reads %s', (_what, labels, expected) => {
    expect(outsideProbe(labels)).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown kind', { ...OUTSIDE, 'homelab.health.kind': 'udp', 'homelab.health.port': '53' }, 'label homelab.health.kind "udp" is not a probe kind; set it to tcp, or remove it for HTTP'],
    ['a TCP probe without a port', { ...OUTSIDE, 'homelab.health.kind': 'tcp' }, 'label homelab.health.port null is not a port; set it to the port the app answers TCP on'],
    ['a TCP probe on port 0', { ...OUTSIDE, 'homelab.health.kind': 'tcp', 'homelab.health.port': '0' }, 'label homelab.health.port "0" is not a port; set it to the port the app answers TCP on'],
    ['a TCP probe with a path', { ...OUTSIDE, 'homelab.health.kind': 'tcp', 'homelab.health.port': '1883', 'homelab.health.path': '/' }, 'label homelab.health.path is set on a TCP probe (homelab.health.kind: tcp), which has no path; remove one of the two labels'],
    ['an HTTP path without a slash', { ...OUTSIDE, 'homelab.health.port': '80', 'homelab.health.path': 'ping' }, 'label homelab.health.path "ping" is not a path; set it to a path starting with /'],
  ])('says what is wrong with %s', (_what, labels, message) => {
    expect(outsideProbe(labels)).toBe(message);
  });
});
