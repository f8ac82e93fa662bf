import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../../../tests/support/workspace';
import { entriesOf, existsAt, isFileAt } from './listing';
import { inValidateRun } from './run-memo';

describe('folder listings of a validate run', () => {
  const made: string[] = [];
  const dir = () => made[made.push(makeTempDir('listing')) - 1];
  afterAll(() => made.forEach(removeDir));

  /** A folder with a file, a sub-folder, a link to the file and a link to nothing. */
  function folder(): string {
    const root = dir();
    fs.writeFileSync(path.join(root, 'b.yaml'), 'b: 1\n');
    fs.mkdirSync(path.join(root, 'a'));
    fs.symlinkSync(path.join(root, 'b.yaml'), path.join(root, 'link.yaml'));
    fs.symlinkSync(path.join(root, 'gone.yaml'), path.join(root, 'dangling.yaml'));
    return root;
  }

  it('lists a folder sorted, each entry with its type, and null when it cannot be listed', () => {
    const root = folder();
    expect(entriesOf(root)).toEqual([
      { name: 'a', file: false, dir: true, link: false },
      { name: 'b.yaml', file: true, dir: false, link: false },
      { name: 'dangling.yaml', file: false, dir: false, link: true },
      { name: 'link.yaml', file: false, dir: false, link: true },
    ]);
    expect(entriesOf(path.join(root, 'missing'))).toBeNull();
  });

  it('lists a folder once within a run (a file added during it is not seen), and again in the next', () => {
    const root = folder();
    const names = () => entriesOf(root)?.map((e) => e.name);
    inValidateRun(() => {
      expect(names()).toContain('b.yaml');
      fs.writeFileSync(path.join(root, 'c.yaml'), 'c: 1\n');
      expect(names()).not.toContain('c.yaml');
    });
    expect(names()).toContain('c.yaml');
    expect(inValidateRun(() => names())).toContain('c.yaml');
  });

  it('tells types and existence as fs.statSync and fs.existsSync do, inside a run and outside it', () => {
    const root = folder();
    const cases = ['b.yaml', 'a', 'link.yaml', 'dangling.yaml', 'missing.yaml', 'a/none', 'nowhere/x.yaml'].map((name) => path.join(root, name));
    const expected = cases.map((abs) => [fs.existsSync(abs), (() => { try { return fs.statSync(abs).isFile(); } catch { return false; } })()]);
    expect(expected).toEqual([[true, true], [true, false], [true, true], [false, false], [false, false], [false, false], [false, false]]);
    expect(cases.map((abs) => [existsAt(abs), isFileAt(abs)])).toEqual(expected);
    expect(inValidateRun(() => cases.map((abs) => [existsAt(abs), isFileAt(abs)]))).toEqual(expected);
  });

  it('asks the file system about a name its folder listing lacks (a case-insensitive file system finds it)', () => {
    const root = folder();
    inValidateRun(() => {
      expect(existsAt(path.join(root, 'late.yaml'))).toBe(false);
      fs.writeFileSync(path.join(root, 'late.yaml'), 'late: 1\n');
      // Not in the run's listing of the folder, so asked again: what a listing cannot settle is never guessed.
      expect(entriesOf(root)?.map((e) => e.name)).not.toContain('late.yaml');
      expect(existsAt(path.join(root, 'late.yaml'))).toBe(true);
      expect(isFileAt(path.join(root, 'late.yaml'))).toBe(true);
    });
  });
});
