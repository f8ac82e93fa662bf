import { describe, expect, it } from 'vitest';
import { parseAppSpec, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import { specOf } from '../support/spec';

/** `policy.disable` in the app spec: each policy rule turned off with its reason. */
describe('app spec policy.disable', () => {
  const disable = [{ rule: 'policy/read-only-root-fs', reason: 'the image writes its cache under /var/lib/app' }];

  it('is kept when a spec is written and read back', () => {
    const spec = specOf('web', { policy: { disable } });
    expect(parseAppSpec(stringifyAppSpec(spec), 'applications/specs/web.yaml').policy).toEqual({ disable });
  });

  it.each([
    [{ disable: [{ rule: 'policy/read-only-root-fs' }] }, /misses the field "reason"/],
    [{ disable: [{ rule: 'schema/unknown-field', reason: 'not a policy rule' }] }, /does not match/],
    [{ disable: [{ rule: 'policy/probes', reason: 'x' }] }, /reason/],
  ])('refuses %j', (policy, message) => {
    const text = stringifyAppSpec(specOf('web', { policy: policy as never }));
    expect(() => parseAppSpec(text, 'applications/specs/web.yaml')).toThrow(message);
  });
});
