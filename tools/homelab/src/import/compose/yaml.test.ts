import { describe, expect, it } from 'vitest';
import { nestingDepth, parseComposeYaml, resolvePlain } from './yaml';

describe('plain scalars are typed as Go yaml.v3 types them (what Compose sees)', () => {
  it.each([
    ['0755', 493],
    ['0o17', 15],
    ['0x10', 16],
    ['1_000', 1000],
    ['1e3', 1000],
    ['1.50', 1.5],
    ['-0', 0],
    ['12345678901234567890', '12345678901234567890'],
    ['yes', 'yes'],
    ['on', 'on'],
    ['True', true],
    ['FALSE', false],
    ['~', null],
    ['Null', null],
    ['1:20', '1:20'],
    ['2001-12-14', '2001-12-14 00:00:00 +0000 UTC'],
    ['8080:80', '8080:80'],
    ['v1.2', 'v1.2'],
  ])('%s → %j', (text, value) => {
    expect(resolvePlain(text)).toEqual(value);
  });

  it('keeps quoted scalars as strings and resolves anchors, aliases and <<: merges (explicit keys win, earlier merges win)', () => {
    const [doc] = parseComposeYaml('a: &a {x: 1, y: "0755"}\nb: &b {y: 2, z: 3}\nc:\n  <<: [*a, *b]\n  x: 9\n', 'compose.yaml');
    expect(doc).toEqual({ a: { x: 1, y: '0755' }, b: { y: 2, z: 3 }, c: { x: 9, y: '0755', z: 3 } });
  });

  it('estimates nesting from indentation, compact items and flow brackets', () => {
    expect(nestingDepth('a:\n  b:\n    - c\n')).toBe(4);
    expect(nestingDepth('a: [[{b: 1}]]\n')).toBe(4);
    expect(nestingDepth('a: "[[[[ in a string"\n')).toBe(1);
    expect(nestingDepth('- - - x\n')).toBe(4);
  });
});
