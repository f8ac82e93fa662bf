import { describe, expect, it } from 'vitest';
import { InputError } from '../errors';
import { composeCpus, composeMemory, quantityBytes } from './quantity';

describe('quantityBytes', () => {
  it.each([
    ['1Ki', 1024],
    ['64Mi', 64 * 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['2Ti', 2 * 1024 ** 4],
    ['999999999Ki', 999_999_999 * 1024],
  ])('reads %s as %i bytes', (quantity, bytes) => {
    expect(quantityBytes(quantity, 'size')).toBe(bytes);
  });

  it.each(['1GB', '1G', '0Gi', '01Gi', '1.5Gi', '-1Gi', 'Gi', '', '1 Gi', '1Gi ', '1000000000Ki', '1gi'])(
    'refuses %j with a message naming it and the units to use',
    (quantity) => {
      expect(() => quantityBytes(quantity, 'volume size')).toThrow(InputError);
      expect(() => quantityBytes(quantity, 'volume size')).toThrow(
        `volume size ${JSON.stringify(quantity)} is not a size; use a whole number with Ki, Mi, Gi or Ti, e.g. "1Gi"`,
      );
    },
  );
});

describe('composeMemory', () => {
  it.each([
    ['512Ki', '512k'],
    ['256Mi', '256m'],
    ['1Gi', '1g'],
    ['1Ti', '1t'],
  ])('writes %s as %s (Compose units are binary)', (quantity, expected) => {
    expect(composeMemory(quantity, 'memory')).toBe(expected);
  });

  it('refuses a quantity that is not a size', () => {
    expect(() => composeMemory('1GB', 'resources.limits.memory')).toThrow('resources.limits.memory "1GB" is not a size');
  });
});

describe('composeCpus', () => {
  it.each([
    ['500m', '0.5'],
    ['250m', '0.25'],
    ['1500m', '1.5'],
    ['2', '2'],
    ['0.5', '0.5'],
  ])('writes %s as %s CPUs', (quantity, expected) => {
    expect(composeCpus(quantity)).toBe(expected);
  });
});
