import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../../../tests/support/workspace';
import { RenderError } from '../errors';
import { assertParsesBack, composeLiteral, envKey, kubernetesLiteral, lineText, renderTemplate, yamlBlock, yamlDocument, yamlFlow, yamlScalar } from './engine';

/** Reads a scalar back as a YAML 1.2 parser (the yaml library) and a YAML 1.1 parser (kubectl) would. */
function readBack(emitted: string, version: '1.1' | '1.2'): unknown {
  const doc = YAML.parseDocument(`key: ${emitted}\n`, { version, uniqueKeys: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  return (doc.toJS() as { key: unknown }).key;
}

// Strings that YAML, kubectl's YAML 1.1 or Go's yaml.v3 (kustomize, Compose) could read as something else.
const HOSTILE_STRINGS = [
  'plain',
  '',
  ' ',
  'key: value',
  'a #comment',
  '#comment',
  "it's",
  'say "hi"',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'n',
  'true',
  'False',
  'null',
  '~',
  '0x10',
  '0X1F',
  '+0x1F',
  '0755',
  '0o17',
  '0b101',
  '1_000',
  '1_',
  '-_1',
  '1:20',
  '12:30:00',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '1e3',
  '.5',
  '.inf',
  '-.Inf',
  '.NaN',
  '10m',
  '*alias',
  '&anchor',
  '!tag',
  '!!str x',
  '<<',
  '=',
  '- item',
  '? key',
  ': x',
  '{a: 1}',
  '[a, b]',
  '|',
  '>',
  '%YAML 1.2',
  '@at',
  '`tick`',
  '  leading',
  'trailing  ',
  'tab\tinside',
  'line\nbreak',
  'trailing newline\n',
  'cr\r\nlf',
  'ünïcødé ✓ 🏠 漢字',
  'line\u2028separator',
  'para\u2029separator',
  'next\u0085line',
  '\ufeffbom',
  'zero\u200bwidth',
  'nul\u0000byte',
  'bell\u0007',
  '$HOME ${HOME} $$',
  '../',
  './1',
  '../1e3',
  '{{ .Values.x }}',
  'x: '.repeat(1400),
  // Over 40 characters with line breaks: the yaml library folds such double-quoted strings by default.
  'first line of a value here\nsecond line of it',
  'say "hi" to a long line of forty-plus chars\nand the next',
  "it's a long line of forty-plus characters\nand the next one",
  '  leading spaces on a long first line here\n  and on the second\n',
  'ünïcødé ✓ 🏠 漢字 on a long line, more than forty\n第二行 ✓\n\n',
  `${'long '.repeat(30)}\n${'line '.repeat(30)}\n`,
  'windows line endings on a long value here\r\nsecond line\r\n',
  'a trailing space before the break, long enough \n next',
  '\n\nstarts with two line breaks and is longer than forty',
  '# a comment-like first line that runs past forty\n- and a list-like second',
  'key: value on a line that runs past forty chars\nother: value',
];

describe('yamlScalar', () => {
  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s).slice(0, 40), s]))('emits %s so that YAML 1.2 reads it back exactly', (_label, value) => {
    expect(readBack(yamlScalar(value), '1.2')).toBe(value);
  });

  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s).slice(0, 40), s]))('emits %s so that YAML 1.1 (kubectl) reads it back exactly', (_label, value) => {
    expect(readBack(yamlScalar(value), '1.1')).toBe(value);
  });

  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s).slice(0, 40), s]))('emits %s on one line', (_label, value) => {
    expect(yamlScalar(value)).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
  });

  it.each(['0X1F', '1_', '+0x1F', '-_1', '10m', '2001-12-14', '.5'])('double-quotes %s, which starts like a number to Go yaml', (value) => {
    expect(yamlScalar(value)).toBe(JSON.stringify(value));
  });

  it.each(['yes', 'on', 'y', 'off', '1_000', '1:20', '0b101'])('double-quotes %s, a YAML 1.1 boolean or number', (value) => {
    expect(yamlScalar(value)).toBe(`"${value}"`);
  });

  it.each([
    ['\u2028', '\\u2028'],
    ['\u2029', '\\u2029'],
    ['\u0085', '\\u0085'],
    ['\ufeff', '\\ufeff'],
  ])('writes %j as the escape %s, since YAML 1.1 parsers fold it as a line break', (char, escape) => {
    expect(yamlScalar(`a${char}b`)).toBe(`"a${escape}b"`);
  });

  /** Every casing of YAML 1.1's boolean and null words, and words around them that stay plain. */
  const casings = (word: string): string[] =>
    Array.from({ length: 2 ** word.length }, (_, mask) => [...word].map((c, i) => (mask & (1 << i) ? c.toUpperCase() : c)).join(''));
  const WORDS = ['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null'].flatMap(casings);
  it.each([...WORDS, 'yess', 'nope', 'online', 'nullable', 'e10', 'E5', 'e-5', 'E-05', 'e-x', 'ex1', 'inf', 'nan', 'Infinity', 'app-001', 'a-', 'x1-2'])(
    'emits %s so that YAML 1.1 and 1.2 both read it back as that string',
    (value) => {
      expect(readBack(yamlScalar(value), '1.1')).toBe(value);
      expect(readBack(yamlScalar(value), '1.2')).toBe(value);
      expect(readBack(yamlFlow([value]), '1.1')).toEqual([value]);
    },
  );

  it('emits every word of up to three characters over those letters, digits, the dash, dot, slash, underscore and space so that both versions read it back, as the round trip wrote it', () => {
    const alphabet = [...'abeEnNoOyYtTfFiIxX0159-./_ '];
    const words = alphabet.filter((c) => /[A-Za-z]/.test(c)).flatMap((a) => [a, ...alphabet.flatMap((b) => [a + b, ...alphabet.map((c) => a + b + c)])]);
    const misread = words.filter((w) => readBack(yamlScalar(w), '1.1') !== w || readBack(yamlScalar(w), '1.2') !== w);
    expect(words.length).toBeGreaterThan(13000);
    expect(misread).toEqual([]);
    // The bytes the yaml library's round trip gives (the only path before words were known plain):
    // a file rendered before renders the same, with no drift.
    const roundTrip = (w: string) => {
      const plain = YAML.stringify(w, { lineWidth: 0, minContentWidth: 0, blockQuote: false, doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER }).trimEnd();
      return readBack(plain, '1.1') === w ? plain : null;
    };
    const changed = words.filter((w) => /^[A-Za-z][A-Za-z0-9._/ -]*$/.test(w) && yamlScalar(w) === w && roundTrip(w) !== w);
    expect(changed).toEqual([]);
  });

  it('emits a line of printable ASCII holding a character no YAML 1.1 type holds as the round trip did, without it', () => {
    // The property notYaml11Typed relies on: the yaml library's output for such a string reads back the same in YAML 1.1.
    const options = { lineWidth: 0, minContentWidth: 0, blockQuote: false, doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER };
    const roundTripChanges = (v: string) => {
      try {
        return YAML.parse(YAML.stringify(v, options), { version: '1.1' }) !== v;
      } catch {
        return true;
      }
    };
    const marks = [...'(){}[]"\'#,!$%&*/;?@\\^`|'];
    const others = [...' -?:.0159eEyYnN~<=+_aT'];
    const alphabet = [...marks, ...others];
    const short = alphabet.flatMap((a) => [a, ...alphabet.flatMap((b) => [a + b, ...alphabet.map((c) => a + b + c)])]);
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    const long = Array.from({ length: 3000 }, () => Array.from({ length: 4 + next(20) }, () => (next(2) ? alphabet[next(alphabet.length)] : printable[next(95)])).join(''));
    const marked = [...short, ...long].filter((v) => marks.some((m) => v.includes(m)));
    expect(marked.length).toBeGreaterThan(30000);
    expect(marked.filter(roundTripChanges)).toEqual([]);
    // So the bytes are the library's plain or quoted form, as before, unless the string starts like a number (double-quoted for Go).
    const differs = marked.filter((v) => {
      const before = /^[-+]?[._0-9]/.test(v) && !/^\.\.?\//.test(v) ? YAML.stringify(v, { ...options, defaultStringType: 'QUOTE_DOUBLE' }).trimEnd() : YAML.stringify(v, options).trimEnd();
      return yamlScalar(v) !== before;
    });
    expect(differs).toEqual([]);
  });

  it('emits each number, boolean and null as the yaml library writes it, -0 included', () => {
    for (const [value, text] of [[-0, '-0'], [0, '0'], [-0, '-0'], [Number.NaN, '.nan'], [Infinity, '.inf'], [-Infinity, '-.inf'], [1e21, '1e+21'], [true, 'true'], [null, 'null']] as const) {
      expect(yamlScalar(value)).toBe(text);
      expect(yamlScalar(value)).toBe(YAML.stringify(value).trimEnd());
    }
  });

  it.each(['plain', 'traefik/whoami:v1.10.4', 'ghcr.io/owner/app', 'RuntimeDefault', 'http', '../../../base/web', './run.sh'])('leaves the ordinary string %s plain', (value) => {
    expect(yamlScalar(value)).toBe(value);
  });

  it.each([
    [80, '80'],
    [0, '0'],
    [1.5, '1.5'],
    [true, 'true'],
    [false, 'false'],
    [null, 'null'],
  ])('emits the %j scalar as %s', (value, expected) => {
    expect(yamlScalar(value)).toBe(expected);
  });

  it.each([
    ['an object', { a: 1 }, 'use yamlFlow'],
    ['a list', ['a'], 'use yamlFlow'],
    ['undefined', undefined, 'misses a value'],
  ])('refuses %s', (_label, value, message) => {
    expect(() => yamlScalar(value)).toThrow(RenderError);
    expect(() => yamlScalar(value)).toThrow(message);
  });
});

describe('yamlFlow', () => {
  it('emits a list on one line in flow style', () => {
    expect(yamlFlow(['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:80/'])).toBe('[CMD, wget, -q, --spider, http://127.0.0.1:80/]');
  });

  it('quotes list items the way yamlScalar does, so both YAML versions read them back exactly', () => {
    const list = ['/bin/check', 'yes', '1_000', '0X1F', 'a, b', '[x]', '# c', 'a\u2028b', "it's", 'x: y', '*alias'];
    const emitted = yamlFlow(list);

    expect(emitted).not.toMatch(/[\n\u2028]/);
    expect(readBack(emitted, '1.2')).toEqual(list);
    expect(readBack(emitted, '1.1')).toEqual(list);
  });

  it('keeps long multi-line items on one line, and both YAML versions read them back exactly', () => {
    const list = HOSTILE_STRINGS.filter((s) => s.length > 40 && s.includes('\n'));
    const emitted = yamlFlow(list);

    expect(emitted).not.toMatch(/[\n\r]/);
    expect(readBack(emitted, '1.2')).toEqual(list);
    expect(readBack(emitted, '1.1')).toEqual(list);
  });

  it('emits a map on one line in flow style', () => {
    expect(readBack(yamlFlow({ port: 53, protocol: 'UDP', on: 'yes' }), '1.1')).toEqual({ port: 53, protocol: 'UDP', on: 'yes' });
  });

  it('refuses undefined', () => {
    expect(() => yamlFlow(undefined)).toThrow(RenderError);
  });
});

describe('yamlDocument', () => {
  const value = {
    env: { MULTI: HOSTILE_STRINGS.filter((s) => s.includes('\n')), plain: 'x' },
    nested: { deeper: [{ text: 'first line of a value here\nsecond line of it' }, { text: '  indented\n\n\n' }] },
  };

  it.each(['1.1', '1.2'] as const)('writes nested multi-line strings that YAML %s reads back exactly', (version) => {
    const text = yamlDocument(value);
    const doc = YAML.parseDocument(text, { version, uniqueKeys: true });

    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual(value);
  });
});

describe('the emitters meeting a string again (their answers are remembered per string)', () => {
  // A multi-line string is double-quoted inline and a literal block in a whole document: what is
  // remembered of one must not decide the other, in either order.
  it.each([
    ['inline first', 'first line\nsecond line (inline first)', true],
    ['document first', 'first line\nsecond line (document first)', false],
  ])('quotes a multi-line string inline and writes it as a block in a document, %s', (_label, text, inlineFirst) => {
    const inline = () => yamlScalar(text);
    const document = () => yamlDocument({ text });
    const [a, b] = inlineFirst ? [inline(), document()] : [document(), inline()];
    const [scalar, doc] = inlineFirst ? [a, b] : [b, a];

    expect(scalar).toBe(JSON.stringify(text));
    expect(doc).toBe(`text: |-\n  ${text.replace('\n', '\n  ')}\n`);
    expect([yamlScalar(text), yamlDocument({ text })]).toEqual([scalar, doc]);
  });

  it.each(['yes', 'on', '1_000', '2001-12-14', 'a\u2028b', 'plain text'])('emits %j the same every time, alone, in a flow list and in a document', (text) => {
    const first = [yamlScalar(text), yamlFlow([text]), yamlDocument({ text })];

    expect([yamlScalar(text), yamlFlow([text]), yamlDocument({ text })]).toEqual(first);
    expect(YAML.parse(first[0], { version: '1.1' })).toBe(text);
    expect(YAML.parse(first[1], { version: '1.1' })).toEqual([text]);
  });
});

describe('composeLiteral', () => {
  it.each([
    ['pa$word', 'pa$$word'],
    ['${HOME}', '$${HOME}'],
    ['$$', '$$$$'],
    ['no dollar', 'no dollar'],
  ])('doubles every $ of %s so that Compose interpolation gives it back', (value, expected) => {
    expect(composeLiteral(value)).toBe(expected);
  });

  it('doubles the $ of every string in a list and leaves other values alone', () => {
    expect(composeLiteral(['CMD', 'echo $x', 3])).toEqual(['CMD', 'echo $$x', 3]);
    expect(composeLiteral(80)).toBe(80);
    expect(composeLiteral(null)).toBeNull();
  });
});

/**
 * The kubelet's expansion of env values, command and args: a line-for-line port of Expand in
 * k8s.io/kubernetes third_party/forked/golang/expansion/expand.go (v1.34), which cannot run here
 * without a kubelet; `vars` are the container's other variables.
 */
function kubeletExpand(input: string, vars: Record<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let read: string;
    let advance = 1;
    if (rest[0] === '$') read = '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close > 0) {
        const name = rest.slice(1, close);
        read = name in vars ? vars[name] : `$(${name})`;
        advance = close + 1;
      } else read = '$(';
    } else read = `$${rest[0]}`;
    out += read;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

describe('kubernetesLiteral', () => {
  const vars = { HOME: '/home/app', DB_HOST: 'db' };

  it.each([['pa$$word'], ['$(HOME)'], ['$$(DB_HOST) and $(UNSET)'], ['$5 and $'], ['$$$'], ['ends with $('], ['no dollar'], ['${HOME}']])(
    'escapes %s so that the kubelet gives it back as written',
    (value) => {
      expect(kubeletExpand(kubernetesLiteral(value) as string, vars)).toBe(value);
    },
  );

  it('leaves a value without $$ or $( as it is, so such values render as they always did', () => {
    expect(kubernetesLiteral('$5 ${HOME} $HOME')).toBe('$5 ${HOME} $HOME');
    expect(kubernetesLiteral(['sh', '-c', 'echo $(date)', 3])).toEqual(['sh', '-c', 'echo $$(date)', 3]);
  });

  it('is needed: the same values unescaped do not arrive as written', () => {
    expect(kubeletExpand('pa$$word $(HOME)', vars)).toBe('pa$word /home/app');
  });
});

describe('yamlBlock', () => {
  const embed = (value: string) => readBack(yamlBlock(value, 4), '1.2');
  /** Embeds a block the way the ConfigMap template does: a key indented by 2, the block by 4. */
  const embedInMap = (value: string) => {
    const text = `data:\n  file.json: ${yamlBlock(value, 4)}\n`;
    return (YAML.parse(text) as { data: { 'file.json': unknown } }).data['file.json'];
  };

  it.each([
    ['no trailing newline', '{\n  "a": 1\n}', '|-'],
    ['one trailing newline', '{\n  "a": 1\n}\n', '|'],
    ['two trailing newlines', '{\n  "a": 1\n}\n\n', '|+'],
  ])('writes JSON with %s as a literal block with the matching chomping indicator', (_label, value, indicator) => {
    const emitted = yamlBlock(value, 4);

    expect(emitted.split('\n')[0]).toBe(indicator);
    expect(embedInMap(value)).toBe(value);
  });

  it('keeps blank lines inside the block', () => {
    const value = 'first\n\nthird\n';
    expect(embedInMap(value)).toBe(value);
  });

  it.each([
    ['a single line', 'one line'],
    ['a leading space', ' indented\nsecond'],
    ['a trailing space on a line', 'first \nsecond'],
    ['a control character', 'a\u0007\nb'],
    ['a carriage return', 'a\r\nb'],
    ['a line separator', 'a\u2028\nb'],
  ])('falls back to a quoted scalar for %s', (_label, value) => {
    const emitted = yamlBlock(value, 4);

    expect(emitted.startsWith('|')).toBe(false);
    expect(embed(value)).toBe(value);
  });

  it('refuses a value that is not a string', () => {
    expect(() => yamlBlock(42, 4)).toThrow(RenderError);
  });
});

describe('lineText', () => {
  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s).slice(0, 40), s]))('keeps %s inside one YAML comment line', (_label, value) => {
    const text = `# ${lineText(value)}\nkey: v\n`;

    expect(text.split('\n')).toHaveLength(3);
    for (const version of ['1.1', '1.2'] as const) {
      expect(YAML.parse(text, { version })).toEqual({ key: 'v' });
    }
  });

  it.each([
    ['a\nb', 'a\\nb'],
    ['a\r\nb', 'a\\r\\nb'],
    ['a\u2028b\u2029c\u0085d', 'a\\u2028b\\u2029c\\u0085d'],
    ['bell\u0007', 'bell\\u0007'],
    ['tab\tand ünïcødé ✓', 'tab\tand ünïcødé ✓'],
    [80, '80'],
  ])('writes %j as %s', (value, expected) => {
    expect(lineText(value)).toBe(expected);
  });

  it.each([
    ['undefined', undefined],
    ['an object', { a: 1 }],
  ])('refuses %s', (_label, value) => {
    expect(() => lineText(value)).toThrow(RenderError);
  });
});

describe('envKey', () => {
  it('passes an environment variable name through', () => {
    expect(envKey('API_TOKEN')).toBe('API_TOKEN');
  });

  it.each(['A=B', 'A\nB=1', '1X', '', 3])('refuses %j, which a dotenv file would misread', (value) => {
    expect(() => envKey(value)).toThrow(RenderError);
  });
});

describe('renderTemplate', () => {
  const dir = makeTempDir('templates');
  afterAll(() => removeDir(dir));
  const template = (name: string, source: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.hbs`), source);
    return name;
  };

  it('interpolates values through the yaml helper', () => {
    const name = template('ok', 'value: {{yaml v}}\nlist: {{yamlFlow l}}\n');

    expect(renderTemplate(name, { v: 'yes', l: ['a', 'on'] }, dir)).toBe('value: "yes"\nlist: [a, "on"]\n');
  });

  it('does not HTML-escape', () => {
    const name = template('raw', '{{v}}');

    expect(renderTemplate(name, { v: `a=b&c<d>"e'` }, dir)).toBe(`a=b&c<d>"e'`);
  });

  it.each([
    ['a plain mustache (strict mode)', 'strict-plain', 'value: {{app.missing}}\n', 'template strict-plain.hbs failed: "missing" not defined'],
    ['a helper argument', 'strict-helper', 'value: {{yaml app.missing}}\n', 'template strict-helper.hbs failed: yaml helper got undefined'],
  ])('throws a RenderError naming the template when a value is missing in %s', (_label, name, source, message) => {
    template(name, source);

    expect(() => renderTemplate(name, { app: {} }, dir)).toThrow(RenderError);
    expect(() => renderTemplate(name, { app: {} }, dir)).toThrow(message);
  });

  it('throws a RenderError when the template file is missing', () => {
    expect(() => renderTemplate('nowhere/none', {}, dir)).toThrow(/template nowhere\/none\.hbs is missing .*; restore it from git/);
  });
});

describe('assertParsesBack', () => {
  it('returns every document of a multi-document file', () => {
    expect(assertParsesBack('x.yaml', 'a: 1\n---\nb: "yes"\n')).toEqual([{ a: 1 }, { b: 'yes' }]);
  });

  it.each([
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['a bad indentation', 'a:\n  b: 1\n c: 2\n'],
    ['a tab as indentation', 'a:\n\tb: 1\n'],
    ['an alias without its anchor', 'a: *x\n'],
    ['an unterminated quoted string', 'a: "b\n'],
    ['a duplicate key in a second document', 'a: 1\n---\nb: 1\nb: 2\n'],
    ['a quoted string cut by a document marker', 'a: "b\n---\nc"\n'],
  ])('refuses %s with a RenderError naming the file', (_label, content) => {
    expect(() => assertParsesBack('base/x.yaml', content)).toThrow(RenderError);
    expect(() => assertParsesBack('base/x.yaml', content)).toThrow(/^base\/x\.yaml: rendered YAML does not parse back/);
  });

  it.each([
    ['an anchor and a `<<` key', 'a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n'],
    ['a key that is not a string', 'on: yes\n1: one\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a document marker', '---\na: 1\n'],
    ['two documents, each with a comment first', '# one\na: 1\n---\n# two\nb: [1, "2"]\n'],
    ['a document marker before two documents', '---\na: 1\n---\nb: 2\n'],
    ['an empty document last', 'a: 1\n---\n'],
    ['a document of comments alone', 'a: 1\n---\n# nothing\n---\nb: 2\n'],
    ['a comment before the first marker', '# head\n---\na: 1\n'],
    ['a marker with a comment after it', 'a: 1\n--- # two\nb: 2\n'],
    ['a document end marker', 'a: 1\n...\n---\nb: 2\n'],
    ['a longer dash line in a block scalar', 'a: |\n  x\n  ---\n  y\nb: 2\n'],
  ])('reads a file with %s as the yaml package does', (_label, content) => {
    expect(assertParsesBack('x.yaml', content)).toEqual(YAML.parseAllDocuments(content, { uniqueKeys: true }).map((d) => d.toJS()));
  });
});
