import { describe, expect, it } from 'vitest';
import { substitute, TemplateError, type VariableUse } from './interpolate';

const VARS: Record<string, string> = { SET: 'value', EMPTY: '', OTHER: 'other' };
const lookup = (name: string) => VARS[name];

describe('substitute, as compose-go interpolates', () => {
  it.each([
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['${UNSET}', ''],
    ['${SET:-d}', 'value'],
    ['${EMPTY:-d}', 'd'],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:?need it}', 'value'],
    ['${EMPTY?need it}', ''],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${ALSO_UNSET:-${OTHER}}}', 'other'],
    ['${UNSET:-a}-${SET}-$OTHER.x', 'a-value-other.x'],
    ['$$SET and $${SET} cost $$5', '$SET and ${SET} cost $5'],
    ['no variables', 'no variables'],
  ])('%s → %j', (template, expected) => {
    expect(substitute(template, lookup)).toBe(expected);
  });

  it('reports each variable used, and the default a - form fell back to', () => {
    const uses: VariableUse[] = [];
    substitute('${SET} ${UNSET:-${OTHER}} ${EMPTY:+x}', lookup, (use) => uses.push(use));
    expect(uses).toEqual([{ name: 'SET' }, { name: 'OTHER' }, { name: 'UNSET', fallback: 'other' }, { name: 'EMPTY' }]);
  });

  it.each([['${EMPTY:?set EMPTY}'], ['${UNSET?set UNSET}']])('%s is a required-variable error naming the variable and the message as written', (template) => {
    const error = (() => {
      try {
        substitute(template, lookup);
      } catch (e) {
        return e as TemplateError;
      }
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.kind).toBe('required');
    expect(error?.variable).toBe(template.slice(2).split(/[:?]/)[0]);
  });

  it.each(['cost $5', 'trailing $', '${', '${SET', '${1X}', '${SET:x}', '${SET!}'])('%j is an invalid template', (template) => {
    expect(() => substitute(template, lookup)).toThrow(TemplateError);
  });
});
