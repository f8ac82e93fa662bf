import { isDeepStrictEqual } from 'node:util';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { corpusFile } from '../../../../scripts/lib/validate-corpus';
import { yamlMutations } from '../../../../tests/support/yaml-mutations';
import { KNOWN_IMPLICIT_TAGS, readBlockYaml } from './block-yaml';
import { FilePositions } from '../validate/positions';
import { disagreements } from '../validate/positions.test-data';
import { implicitTypes, LIMITS, LOAD_SCHEMA } from '../validate/source';

const implicit = implicitTypes(LOAD_SCHEMA);

/** The block reader's documents and positions, or undefined where it gives up. */
function block(text: string) {
  const positions = new FilePositions(text);
  const docs = readBlockYaml(text, implicit, LIMITS.maxDepth, positions);
  return docs && { file: 'file.yaml', text, docs, positions };
}

/** js-yaml's documents, or its error. */
function jsYaml(text: string): unknown[] | Error {
  try {
    return jsyaml.loadAll(text, undefined, { schema: LOAD_SCHEMA, maxDepth: LIMITS.maxDepth } as jsyaml.LoadOptions) as unknown[];
  } catch (error) {
    return error as Error;
  }
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the app
  labels:
    app.kubernetes.io/name: web
    "quoted/key": 'it''s'
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.0.0
          args: ["--port", "8080", -v, --flag=x]
          command:
          - /bin/server
          - --config=/etc/web/config.yaml
          env:
            - {name: A, value: "1"}
            - name: EMPTY
              value: ""
            - name: URL
              value: http://127.0.0.1:8080/path?q=1#frag
          ports: [{ containerPort: 8080, name: http }]
          resources: {}
          securityContext:
            capabilities: { drop: [ALL] }
          readinessProbe:
            httpGet: { path: /healthz, port: http }
      volumes: []
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  config.yaml: |
    listen: :8080

    # a comment in the text
    nested:
      deeper: "x"
  trimmed: |-
    one
    two
  numbers: "0755"
  empty:
  octal: 0o17
  hex: 0x1F
  float: 1.5e3
  bool: True
  nothing: ~
  escaped: "tab\\there \\u00e9 \\\\ \\"q\\""
`;

describe('the block reader', () => {
  it.each([
    ['a Deployment and a ConfigMap as tools write them', DEPLOYMENT, true],
    ['plain block mappings and sequences', 'a: 1\nb:\n  c: two\n  d:\n    - x\n    - y: 1\n      z: 2\n', true],
    ['comments, blank lines and trailing spaces', '# head\n\na:   # why\n\n  # more\n  b: 1   \nc: 2 # end\n', true],
    ['empty values', 'a:\nb: \nc:\n  d:\ne: ~\nf: null\n', true],
    ['sequences at the indentation of their key', 'a:\n- 1\n- b: 2\n  c: 3\nd: x\n', true],
    ['keys the schema resolves (numbers, booleans, null)', '1: one\n0x10: sixteen\ntrue: yes\n~: nothing\n1.5: float\n', true],
    ['several documents, with a leading marker and comments after markers', '---\na: 1\n--- # two\nb: [1]\n---\n- x\n', true],
    ['a flow value with a URL in it', 'a: [http://x:80/y, {b: c}]\n', true],
    ['anchors, aliases and merge keys', 'base: &base\n  x: 1\nuse:\n  <<: *base\n', false],
    ['tags', 'a: !!str 1\n', false],
    ['a folded block scalar', 'a: >-\n  folded\n  text\n', false],
    ['literal block scalars with lines of spaces (fewer than the text\'s indentation, as many, none) and deeper lines', 'a: |\n\n    one\n  \n      deeper\n    \n\n    two\n \nb:\n  - |-\n     x\n   \n     y\n  - z\n', true],
    ['a literal block scalar with a keep or indentation indicator', 'a: |+\n  x\n\nb: |2\n   y\n', false],
    ['a literal block scalar at the end without a line break', 'a: |\n  x', false],
    ['empty documents', '---\n---\na: 1\n', false],
    ['a document of a scalar', '--- just text\n', false],
    ['Windows line ends', 'a: 1\r\nb: 2\r\n', false],
    ['tabs', 'a:\t1\n', false],
    ['a control character js-yaml refuses, plain or quoted', 'a: x\x01y\nb: "\x7f"\n', false],
    ['characters beyond the Basic Multilingual Plane', 'a: "\u{1F600}"\n', false],
    ['other characters beyond ASCII', 'caf\u00e9: na\u00efve \u2014 \u00fcber\n', true],
    ['multi-line plain and quoted scalars', 'a: one\n  two\n', false],
    ['a quoted scalar over two lines', 'a: "x\n  y"\n', false],
    ['a flow collection over two lines', 'a: [1,\n  2]\n', false],
    ['a trailing comma in a flow collection', 'a: [1, 2, ]\n', false],
    ['explicit keys', '? a\n: b\n', false],
    ['a duplicate key', 'a: 1\na: 2\n', false],
    ['a __proto__ key', '__proto__: {x: 1}\n', false],
    ['an empty sequence item', 'a:\n  - \n  - x\n', false],
    ['a sequence on its parent item\'s line', '- - a\n  - b\n', false],
    ['a scalar or flow collection on the line below its key or dash', 'a:\n  text\nb:\n    {}\nc:\n  - \n    [1, 2]\n  -\n    "q"\n', true],
    ['a scalar below its key that goes on over the next line', 'a:\n  text\n  more\n', false],
    ['a block scalar\'s header below its key', 'a:\n  |\n    text\n', false],
    ['a mapping value on its key\'s line', 'a: b: c\n', false],
    ['a directive and a document end', '%YAML 1.2\n---\na: 1\n...\n', false],
    ['broken indentation', 'a:\n    b: 1\n  c: 2\n', false],
  ])('%s: js-yaml\'s documents and the yaml package\'s positions, or it gives up (reads it: %s)', (_, text, reads) => {
    const read = block(text);

    expect(read !== undefined).toBe(reads);
    if (read) {
      expect(read.docs).toEqual(jsYaml(text));
      expect(disagreements(read)).toEqual([]);
    }
  });

  it('reads the validate benchmark\'s corpus as js-yaml does, positions included', () => {
    for (const kind of ['clean', 'mixed'] as const) {
      const { text } = corpusFile(kind, 3, 20);
      const read = block(text);

      expect(read?.docs).toEqual(jsYaml(text));
      expect(disagreements(read!)).toEqual([]);
      // Without positions (quickValues' use) no record is written, and the values are the same.
      expect(readBlockYaml(text, implicit, LIMITS.maxDepth)).toEqual(read?.docs);
    }
  });

  it('knows the core schema\'s implicit types, and tries any other schema\'s on every plain scalar', () => {
    expect(implicitTypes(LOAD_SCHEMA).map((t) => t.tag).sort()).toEqual([...KNOWN_IMPLICIT_TAGS].sort());
    // js-yaml's default schema resolves timestamps too: a plain scalar the core types never resolve.
    const text = 'when: 2001-12-14\nyes: yes\n';
    expect(readBlockYaml(text, implicitTypes(jsyaml.DEFAULT_SCHEMA), LIMITS.maxDepth)).toEqual(jsyaml.loadAll(text));
    const words = [{ tag: 'tag:example,2026:word', resolve: () => true, construct: (s: string) => `<${s}>` }];
    expect(readBlockYaml('a: [x, "y"]\nb: z\n', words, LIMITS.maxDepth)).toEqual([{ '<a>': ['<x>', 'y'], '<b>': '<z>' }]);
  });

  it('gives js-yaml\'s documents or gives up on 4,000 mutations of manifests, over a thousand of them read, and keeps the yaml package\'s positions', () => {
    const seeds = [DEPLOYMENT, corpusFile('mixed', 1, 3).text, 'a:\n- 1\n- b: 2\n  c: [x, {y: z}]\nd: |\n  text\n  more\ne: "q"\nf:\n  {}\ng:\n  -\n    [1]\n'];
    const pieces = [':', ': ', ' ', '-', '- ', '\t', '"', "'", '[', ']', '{', '}', ',', '\n', '#', ' #', '|', '|-', '>', '?', '%', '*', '&', '!', '<<: ', '~', '1', '0x1', 'true', '---\n', '...\n', '\\', '\\u00e9', '  ', '\n  ', '__proto__: ', 'a: 1\n', '\x01', '\u0085', '\u00e9', '\u{1F600}'];
    let read = 0;
    let located = 0;
    const differ: string[] = [];
    let i = 0;
    for (const text of yamlMutations(seeds, 4000, 20261202, pieces)) {
      i++;
      const got = block(text);
      if (!got) continue;
      read++;
      const want = jsYaml(text);
      if (want instanceof Error || !isDeepStrictEqual(got.docs, want)) differ.push(`${JSON.stringify(text)}: ${want instanceof Error ? want.message.split('\n')[0] : 'other documents'}`);
      // The yaml package's positions for every path of one read mutation in ten (a re-parse each).
      else if (i % 10 === 0) {
        located++;
        const wrong = disagreements(got);
        if (wrong.length) differ.push(`${JSON.stringify(text)}: ${wrong[0]}`);
      }
    }
    expect(differ).toEqual([]);
    expect({ read: read > 1000, located: located > 100 }).toEqual({ read: true, located: true });
  });
});
