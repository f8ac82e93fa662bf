import { describe, expect, it } from 'vitest';
import { nestingDepth, parseComposeYaml, quickValues, resolvePlain } from './yaml';

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

describe("parseComposeYaml's fast reader (js-yaml, where it reads the file as the yaml package does)", () => {
  /** The values, or the one-line refusal, of a reader. */
  const read = (text: string, fast: boolean) => {
    try {
      return { values: parseComposeYaml(text, 'compose.yaml', { fast }) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };

  it.each([
    ['a scaffold-like file', 'services:\n  web:\n    image: "traefik/whoami:v1.10.4"\n    ports: ["127.0.0.1:8080:80"]\n    mode: 0755\n    big: 1_000\n    when: 2001-12-14\n    on: yes\n    none: ~\n    script: |\n      echo "a & b * c ! d ? e"\n', true],
    ['anchors, aliases and merge keys', 'a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n', false],
    ['an alias with no anchor', 'a: *nowhere\n', false],
    ['a `<<` key without an alias', 'x:\n  <<: {a: 1}\n', false],
    ['a plain key yaml.v3 types as a number', 'labels:\n  1: one\n', false],
    ['the same key quoted', 'labels:\n  "1": one\n', false],
    ['a null key', '? \n: x\n', false],
    ['an empty flow key', 'x: {:}\n', false],
    ['explicit keys', '? a\n: b\n', false],
    ['a flow sequence as a key, in a block and in a flow mapping', 'a:\n  [x, y]: 1\nb: {c, [d]}\n', false],
    ['a flow sequence of flow mappings as a value', 'x-keys: [{key: A, remoteKey: a/b}, {key: B}]\n', true],
    // js-yaml opens such an item twice at one place; the first opening is not a flow mapping the item is a key of.
    ['flow mappings and sequences as a block sequence\'s items', 'ports:\n  - { port: 53, protocol: UDP }\n  - {port: 80}\n  - [1, 2]\n', true],
    ['a flow sequence as a key in a flow mapping that is a sequence\'s item', 'x:\n  - {a, [b]: c}\n', false],
    ['a flow sequence as a key of a block mapping that is a sequence\'s item', 'x:\n  - [a]: b\n', false],
    ['a quoted scalar over two lines, its second line not indented', 'a:\n  b: "one\ntwo"\n', false],
    ['a flow sequence over two lines', 'a:\n  b: [1,\n    2]\n', false],
    ['tags', 'a: !reset []\nb: !!str 5\n', false],
    ['several documents', 'a: 1\n---\nb: 2\n', false],
    ['a directive', '%YAML 1.2\n---\na: 1\n', false],
    ['a duplicate key', 'a: 1\na: 2\n', false],
    ['broken syntax', 'a: [1, 2\n', false],
    ['an infinite number (js-yaml refuses it as the yaml package does)', 'a: .inf\n', false],
    ['a __proto__ key', '__proto__: {x: 1}\n', false],
    ['a key of over 1,024 characters (js-yaml reads it, the yaml package refuses it)', `${'k'.repeat(1100)}: v\n`, false],
    // js-yaml reads the items after `- -` into the inner sequence ([[null, x]] instead of [[null], x]).
    ['a nested sequence item with nothing in it', 'x-list:\n  - -\n  - x\n', false],
    ['the same with a comment after it', 'x-list:\n  - - # nothing\n  - x\n', false],
    ['a nested sequence item with a value', 'x-list:\n  - - a\n  - x\n', true],
  ])('%s: the same as the yaml package (read by js-yaml: %s)', (_, text, quick) => {
    expect(read(text, true)).toEqual(read(text, false));
    expect(quickValues(text) !== null).toBe(quick);
  });

  it('gives the same values or the same refusal on 3,000 mutations of Compose files, hundreds of them read by js-yaml', () => {
    const seeds = [
      'services:\n  web:\n    image: "ghcr.io/a/b:1"\n    environment:\n      A: "1"\n      B: yes\n    ports:\n      - "127.0.0.1:80:80"\n    command: ["sh", "-c", "echo $$HOME"]\n    healthcheck: {test: [CMD, true], interval: 10s}\nvolumes:\n  data: {}\n',
      'x-common: &c\n  restart: unless-stopped\nservices:\n  a:\n    <<: *c\n    image: busybox\n  b:\n    image: busybox:1\n    labels: {homelab.schedule: "0 3 * * *"}\n',
      'name: demo\nservices:\n  db:\n    image: postgres:15\n    environment: [POSTGRES_PASSWORD_FILE=/run/secrets/pw]\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw.txt\nconfigs:\n  c:\n    content: |\n      key: value\n      other: 0755\n',
    ];
    const pieces = [':', ' ', '-', '\t', '"', "'", '[', ']', '{', '}', ',', '\n', '#', '|', '>', '?', '%', '*', '&', '!', '<<: ', '&a ', '*a', '!!str ', '~', '1', '0x1', 'yes', '---\n', '? '];
    let seed = 20261201;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let quick = 0;
    const differ: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let text = seeds[next(seeds.length)];
      for (let m = 1 + next(3); m > 0; m--) {
        const at = next(text.length);
        const op = next(3);
        const piece = pieces[next(pieces.length)];
        text = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + piece + text.slice(at + 1);
      }
      if (quickValues(text) !== null) quick++;
      if (JSON.stringify(read(text, true)) !== JSON.stringify(read(text, false))) differ.push(JSON.stringify(text));
    }
    expect(differ).toEqual([]);
    expect(quick).toBeGreaterThan(600);
  });
});
