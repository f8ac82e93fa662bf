import { describe, expect, it } from 'vitest';
import { type Finding, formatJson, sortFindings } from './findings';

const f = (file: string, line: number | undefined, rule: string, message: string): Finding => ({ file, line, col: line === undefined ? undefined : 1, rule, message, severity: 'error' });

describe('sortFindings', () => {
  it('sorts by file, line, column and rule, keeps the order of equal ones, and drops exact repeats wherever they stand', () => {
    const findings = [f('b.yaml', 3, 'x', 'one'), f('a.yaml', 2, 'y', 'two'), f('a.yaml', 2, 'y', 'three'), f('a.yaml', 1, 'z', 'four'), f('a.yaml', 2, 'y', 'two'), f('a.yaml', undefined, 'z', 'four'), f('b.yaml', 3, 'x', 'one'), f('a.yaml', 2, 'x', 'five')];

    expect(sortFindings(findings).map((g) => `${g.file}:${g.line}:${g.rule}:${g.message}`)).toEqual(['a.yaml:1:z:four', 'a.yaml:2:x:five', 'a.yaml:2:y:two', 'a.yaml:2:y:three', 'b.yaml:3:x:one']);
  });

  it('leaves the findings it is given as they were', () => {
    const findings = [f('b.yaml', 1, 'x', 'one'), f('a.yaml', 1, 'x', 'two')];
    sortFindings(findings);

    expect(findings.map((g) => g.file)).toEqual(['b.yaml', 'a.yaml']);
  });
});

describe('formatJson', () => {
  it('prints each finding with its fields in one order, line and column 1 where a finding has none', () => {
    const out = JSON.parse(formatJson([f('a.yaml', 4, 'x', 'm'), { file: 'b.yaml', rule: 'y', message: 'n', severity: 'warning' }], { files: 2, documents: 3 }));

    expect(out).toEqual({ files: 2, documents: 3, findings: [{ file: 'a.yaml', line: 4, col: 1, rule: 'x', message: 'm', severity: 'error' }, { file: 'b.yaml', rule: 'y', message: 'n', severity: 'warning', line: 1, col: 1 }] });
    expect(Object.keys(out.findings[0])).toEqual(['file', 'line', 'col', 'rule', 'message', 'severity']);
  });
});
