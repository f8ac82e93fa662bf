import { describe, expect, it } from 'vitest';
import { composeSourcePath } from './engine';

/** A finding of the merged Compose document is reported where its value is written (engine.reportComposeIssue). */
describe('composeSourcePath', () => {
  const base = { services: { prometheus: { volumes: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }, 'data:/prometheus'] } } };
  const override = { services: { prometheus: { volumes: [{ type: 'bind', source: './rules/prod', target: '/etc/rules/prod' }, { type: 'bind', source: './rules/dev', target: '/etc/rules/dev' }] } } };
  // As `docker compose config` merges them: the override's volumes after the base's.
  const merged = { services: { prometheus: { volumes: [...base.services.prometheus.volumes.map((v) => (typeof v === 'string' ? { type: 'volume', source: 'data', target: '/prometheus' } : v)), ...override.services.prometheus.volumes] } } };

  it.each([
    [0, base, ['services', 'prometheus', 'volumes', 0]],
    [0, override, null],
    [1, base, ['services', 'prometheus', 'volumes', 1]],
    [2, override, ['services', 'prometheus', 'volumes', 0]],
    [3, override, ['services', 'prometheus', 'volumes', 1]],
    [3, base, null],
  ] as const)('finds merged volume %i, merged by its target, in the file that has it', (index, file, expected) => {
    expect(composeSourcePath(merged, file, ['services', 'prometheus', 'volumes', index])).toEqual(expected);
  });

  it('keeps every other path as it is', () => {
    expect(composeSourcePath(merged, base, ['services', 'prometheus', 'user'])).toEqual(['services', 'prometheus', 'user']);
    expect(composeSourcePath({ services: { a: { command: ['x', 'y'] } } }, {}, ['services', 'a', 'command', 1])).toEqual(['services', 'a', 'command', 1]);
  });
});
