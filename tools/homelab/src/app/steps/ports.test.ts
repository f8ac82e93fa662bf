import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { InputError } from '../../errors';
import { normalizePorts } from './ports';

const WHERE = 'applications/specs/web.yaml';

describe('normalizePorts', () => {
  it('defaults each port to TCP and remembers the HTTP one', () => {
    const ports = normalizePorts(specOf('web', { ports: [{ name: 'http', port: 80, http: true }, { name: 'dns', port: 53, protocol: 'UDP' }] }).ports, WHERE);

    expect(ports.ports).toEqual([
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ]);
    expect(ports.httpPort).toBe('http');
  });

  it('finds a port by the name a field gives, else by the fallback', () => {
    const ports = normalizePorts(specOf('web', { ports: [{ name: 'http', port: 80, http: true }, { name: 'metrics', port: 9100 }] }).ports, WHERE);

    expect(ports.byName('metrics', 'monitoring.metrics.port', ports.httpPort).port).toBe(9100);
    expect(ports.byName(undefined, 'ingress.port', ports.httpPort).port).toBe(80);
  });

  it.each([
    ['a name that is no port', 'nope', 'http', 'ingress.port "nope" is not a port of the app; use one of "http"'],
    ['no name and no HTTP port', undefined, undefined, 'ingress.port needs a port; mark one port http: true or set ingress.port'],
  ])('refuses %s, naming the field', (_what, ref, fallback, message) => {
    const ports = normalizePorts(specOf('web').ports, WHERE);
    expect(() => ports.byName(ref, 'ingress.port', fallback)).toThrow(new InputError(`${WHERE}: ${message}`));
  });

  it.each([
    ['a name twice', [{ name: 'a', port: 1 }, { name: 'a', port: 2 }], 'ports[].name "a" appears twice'],
    ['a number twice on one protocol', [{ name: 'a', port: 1 }, { name: 'b', port: 1 }], 'ports[].port "1/TCP" appears twice'],
    ['two HTTP ports', [{ name: 'a', port: 1, http: true }, { name: 'b', port: 2, http: true }], 'ports "a,b" are all marked http'],
  ])('refuses %s', (_what, ports, message) => {
    expect(() => normalizePorts(specOf('web', { ports }).ports, WHERE)).toThrow(message);
  });
});
