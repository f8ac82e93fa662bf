import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { disagreements } from './positions.test-data';
import { Locator, parseYaml, type SourceFile } from './source';

const parsed = (text: string, compose = false): SourceFile => {
  const p = parseYaml(text, 'file.yaml', compose);
  if ('rule' in p) throw new Error(p.message);
  return p;
};

const SHAPES: [string, string, boolean][] = [
  ['plain block mappings and sequences', 'a: 1\nb:\n  c: two\n  d:\n    - x\n    - y: 1\n      z: 2\n', true],
  ['comments, blank lines and trailing spaces', '# head\n\na:   # why\n\n  # more\n  b: 1   \nc: 2 # end\n', true],
  ['empty values', 'a:\nb: \nc:\n  d:\ne: ~\nf: null\n', true],
  // js-yaml reads an empty sequence item without a node of its own: the recorder cannot pair the items, the re-parse answers.
  ['an empty sequence item', 'a:\n  - \n  - x\n', false],
  ['anchors, aliases and merge keys', 'base: &base\n  x: 1\n  y: 2\nuse:\n  <<: *base\n  y: 3\nref: *base\nlist: &l [1, 2]\nagain: *l\n', true],
  ['tags on values and collections', 'a: !!str 1\nb: !!map\n  c: 1\nd: !!seq\n  - 1\n', true],
  ['flow collections', 'a: {x: 1, "y": [1, 2, {z: 3}]}\nb: [ a , b ]\nc: {}\nd: []\n', true],
  ['quoted and odd keys', '"a b": 1\n\'c\': 2\n1: one\ntrue: yes\n? explicit\n: value\n', true],
  ['block scalars', 'a: |\n  line\n  line\nb: >-\n  folded\nc: x\n', true],
  ['several documents, empty ones among them', '---\n---\n# only a comment\n---\na: 1\n---\n\n---\nb: [1]\n---\n', true],
  ['a document of a scalar, one of a list', '--- just text\n---\n- 1\n- 2\n', true],
  ['Windows line ends', 'a: 1\r\nb:\r\n  c: 2\r\n', true],
  ['sequences at the indentation of their key', 'a:\n- 1\n- b: 2\n  c: 3\n', true],
  ['multi-line plain and quoted scalars', 'a: one\n  two\nb: "x\n  y"\nc: 1\n', true],
];

describe('positions kept from the first parse', () => {
  it.each(SHAPES)('%s: every path is where the yaml package puts it', (_, text) => {
    const src = parsed(text);

    expect(disagreements(src)).toEqual([]);
  });

  it.each(SHAPES)('%s: located without a second parse', (_, text, complete) => {
    const src = parsed(text);
    const locator = new Locator();
    src.docs.forEach((_doc, i) => locator.locate(src, i, ['a']));

    expect({ complete: src.positions?.complete, reparsed: locator.reparsed }).toEqual({ complete, reparsed: complete ? 0 : src.docs.length });
  });

  it("Compose's merge tags keep their values' positions", () => {
    const src = parsed('services:\n  web:\n    networks: !reset {}\n    ports: !override ["127.0.0.1:8080:80"]\n    command: !reset null\n', true);

    expect(disagreements(src)).toEqual([]);
  });

  it('a file without kept positions is located by a re-parse, with the same answer', () => {
    const text = 'a:\n  b: [1, 2]\n';
    const locator = new Locator();
    const kept = locator.locate(parsed(text), 0, ['a', 'b', 1]);
    const without = locator.locate({ text }, 0, ['a', 'b', 1]);

    expect({ kept, without, fromParse: locator.fromParse, reparsed: locator.reparsed }).toEqual({ kept: { line: 2, col: 10, depth: 3 }, without: { line: 2, col: 10, depth: 3 }, fromParse: 1, reparsed: 1 });
  });

  it('a long file and a short one after it: lines and columns from each one\'s own line starts, the records\' room made for the first', () => {
    // More lines than the line starts' first room (16,384), and more records than the block reader makes room for at once (65,536 slots).
    const long = Array.from({ length: 40_000 }, (_, i) => `k${i}: {a: 1, b: [x, y]}`).join('\n') + '\nlast:\n  deep: [1, 2]\n';
    const locator = new Locator();
    const first = parsed(long);
    const second = parsed('one: 1\ntwo:\n  three: 3\n');

    expect(first.positions?.paired).toBe(true);
    expect([locator.locate(first, 0, ['last', 'deep', 1]), locator.locate(first, 0, ['k39999', 'b', 0]), locator.locate(first, 0, ['k5', 'b', 1]), locator.locate(second, 0, ['two', 'three'])]).toEqual([
      { line: 40_002, col: 13, depth: 3 },
      { line: 40_000, col: 20, depth: 3 },
      { line: 6, col: 19, depth: 3 },
      { line: 3, col: 10, depth: 2 },
    ]);
    expect(locator.reparsed).toBe(0);
    expect(disagreements(second)).toEqual([]);
  });

  const ROOT = path.resolve(__dirname, '../../../..');
  const fixtures = ['tests/validate/fixtures', 'tests/support/fixtures', 'tests/import']
    .flatMap((dir) => (fs.existsSync(path.join(ROOT, dir)) ? (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).map((f) => path.join(dir, f)) : []))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

  it('covers the validate fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(50);
  });

  it.each(fixtures)('%s: every path is where the yaml package puts it', (file) => {
    const p = parseYaml(fs.readFileSync(path.join(ROOT, file), 'utf8'), file, /compose/.test(path.basename(file)));
    if ('rule' in p) return expect(p.rule).toMatch(/^parse\//);
    expect(p.positions?.complete).toBe(true);
    expect(disagreements(p)).toEqual([]);
  });
});
