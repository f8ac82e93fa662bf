import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import type { ShorthandAppSpec } from '../../spec/types';
import { normalizeHealth } from './health';
import { normalizePorts } from './ports';

const WHERE = 'applications/specs/web.yaml';
const health = (overrides: Partial<ShorthandAppSpec>) => {
  const spec = specOf('web', overrides);
  return normalizeHealth(spec.health, WHERE, normalizePorts(spec.ports, WHERE));
};

describe('normalizeHealth', () => {
  it('checks HTTP on the HTTP port inside the container by default, within the start grace period', () => {
    expect(health({})).toEqual({
      enabled: true,
      composeExec: true,
      outside: false,
      isHttp: true,
      isTcp: false,
      isCommand: false,
      path: '/',
      port: 'http',
      portNumber: 8080,
      command: [],
      startGraceSeconds: 30,
      startupFailureThreshold: 6,
      composeTest: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8080/'],
    });
  });

  it.each<[string, ShorthandAppSpec['health'], Partial<ReturnType<typeof normalizeHealth>>]>([
    ['a command', { command: ['/bin/check'] }, { isHttp: false, composeTest: ['CMD', '/bin/check'] }],
    ['the outside probe', { probe: 'outside', http: { path: '/ping' } }, { composeExec: false, outside: true, path: '/ping' }],
    ['no check', { probe: 'none' }, { enabled: false, composeExec: false, outside: false }],
    ['a TCP check probed from outside', { probe: 'outside', tcp: { port: 'http' } }, { enabled: true, composeExec: false, outside: true, isTcp: true, isHttp: false, port: 'http', portNumber: 8080, composeTest: [] }],
    ['a TCP check without probe (the kubelet only, as always)', { tcp: { port: 'http' } }, { enabled: true, composeExec: false, outside: false, isTcp: true, composeTest: [] }],
    ['a short grace period', { startGraceSeconds: 3 }, { startupFailureThreshold: 1 }],
  ])('follows %s', (_what, spec, expected) => {
    expect(health({ health: spec })).toMatchObject(expected);
  });

  it.each<[string, ShorthandAppSpec['health'], string]>([
    ['an outside probe with a command', { probe: 'outside', command: ['x'] }, 'health.probe "outside" probes HTTP or TCP from outside the container'],
    ['no probe with an HTTP check', { probe: 'none', http: { path: '/' } }, 'health.probe "none" turns the health check off, but health.http describes one'],
  ])('refuses %s', (_what, spec, message) => {
    expect(() => health({ health: spec })).toThrow(message);
  });
});
