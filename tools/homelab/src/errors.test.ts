import { describe, expect, it } from 'vitest';
import { HomelabError, InputError, RenderError, show } from './errors';

describe('show', () => {
  it.each<[unknown, string]>([
    ['whoami', '"whoami"'],
    ['a\nb', '"a\\nb"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['', '""'],
    [0, '"0"'],
    [null, '"null"'],
    [undefined, '"undefined"'],
  ])('shows %j as %s on one line', (value, expected) => {
    expect(show(value)).toBe(expected);
  });

  it('cuts values longer than 80 characters', () => {
    expect(show('x'.repeat(500))).toBe(`"${'x'.repeat(77)}..."`);
  });
});

describe('errors', () => {
  it('maps input and render errors to exit code 2', () => {
    expect(new InputError('x').exitCode).toBe(2);
    expect(new RenderError('x').exitCode).toBe(2);
    expect(new InputError('x')).toBeInstanceOf(HomelabError);
    expect(new InputError('x').name).toBe('InputError');
  });
});
