import { describe, expect, it } from 'vitest';
import { DotenvSyntaxError, parseDotenv, readDotenv } from './dotenv';
import { substitute } from './import/compose/interpolate';

describe('readDotenv reads a dotenv file as Compose does', () => {
  const text = [
    '# a comment',
    'PLAIN=value',
    'export EXPORTED=yes',
    'YAML_STYLE: colon',
    'HASH=a#b',
    'COMMENTED=kept #dropped',
    "SINGLE='literal ${PLAIN} \\n'",
    'DOUBLE="tab\\there \\"q\\" \\\\ \\$PLAIN"',
    'MULTI="line one',
    'line two"',
    'BARE',
    'AFTER=${PLAIN}-x',
  ].join('\n');

  it('takes values literally without expand', () => {
    expect(Object.fromEntries(parseDotenv(text))).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      YAML_STYLE: 'colon',
      HASH: 'a#b',
      COMMENTED: 'kept',
      SINGLE: 'literal ${PLAIN} \\n',
      DOUBLE: 'tab\there "q" \\ $PLAIN',
      MULTI: 'line one\nline two',
      AFTER: '${PLAIN}-x',
    });
  });

  it('interpolates unquoted and double-quoted values through expand, and looks bare keys up', () => {
    const expand = (written: string, earlier: ReadonlyMap<string, string>) => substitute(written, (name) => earlier.get(name));
    const entries = readDotenv(text, { expand, lookup: (name) => (name === 'BARE' ? 'from-env' : undefined) });
    const byKey = Object.fromEntries(entries.map((e) => [e.key, e]));
    expect(byKey.AFTER).toMatchObject({ value: 'value-x', written: '${PLAIN}-x', interpolated: true, line: 12 });
    expect(byKey.DOUBLE).toMatchObject({ value: 'tab\there "q" \\ $PLAIN', interpolated: true });
    expect(byKey.SINGLE).toMatchObject({ value: 'literal ${PLAIN} \\n', interpolated: false });
    expect(byKey.BARE).toMatchObject({ value: 'from-env', interpolated: false, line: 11 });
    expect(byKey.MULTI.line).toBe(9);
  });

  it.each([
    ['KEY="unclosed\nNEXT=1\n', 1, 'a quoted value without its closing "; close the quote'],
    ['OK=1\nBAD KEY=2\n', 2, 'a variable name with a space; write KEY=value'],
    ['OK=1\nBAD$=2\n', 2, 'unexpected character "$" in a variable name; names hold letters, digits, _ . -'],
  ])('strict: %j fails on line %i without showing a value', (input, line, problem) => {
    expect(() => readDotenv(input, { strict: true })).toThrow(new DotenvSyntaxError(line, problem));
  });

  it('lenient: skips a malformed line and reads the rest', () => {
    expect(Object.fromEntries(parseDotenv('OK=1\nBAD$=2\nNEXT=3\n'))).toEqual({ OK: '1', NEXT: '3' });
  });
});
