/**
 * Valid env values that YAML, kubectl (YAML 1.1), Go's yaml.v3 (kustomize, Compose) or
 * Compose's interpolation could read as something else. Keys are valid env names; every
 * value is at most 4096 characters, as the app schema demands.
 */
export const HOSTILE_ENV: Readonly<Record<string, string>> = {
  COLON_SPACE: 'key: value',
  HASH: 'a #not-a-comment',
  LEADING_HASH: '#comment?',
  SINGLE_QUOTE: "it's",
  DOUBLE_QUOTE: 'say "hi"',
  BOTH_QUOTES: `'"'`,
  YES: 'yes',
  NO: 'no',
  ON: 'on',
  OFF: 'off',
  Y: 'y',
  TRUE: 'true',
  NULL: 'null',
  TILDE: '~',
  EMPTY: '',
  HEX: '0x10',
  HEX_UPPER: '0X1F',
  OCTAL_11: '0755',
  OCTAL_12: '0o17',
  BINARY: '0b101',
  UNDERSCORE_INT: '1_000',
  SEXAGESIMAL: '1:20',
  DATE: '2001-12-14',
  FLOAT: '1e3',
  INFINITY: '.inf',
  ALIAS: '*alias',
  ANCHOR: '&anchor',
  TAG: '!!str',
  MERGE: '<<',
  DASH: '- item',
  QUESTION: '? key',
  FLOW: '{a: [b, c]}',
  PIPE: '|',
  PERCENT: '%YAML 1.2',
  BACKTICK: '`cmd`',
  LEADING_SPACES: '   indented',
  TRAILING_SPACES: 'trailing   ',
  UNICODE: 'ünïcødé ✓ 🏠 漢字',
  LINE_SEPARATOR: 'a\u2028b\u2029c\u0085d',
  BOM: '\ufeffbom',
  NEWLINES: 'line one\nline two\n\nline four\n',
  CRLF: 'windows\r\nline',
  TAB: 'a\tb',
  DOLLAR: 'pa$$word $HOME ${HOME} $(date) ${UNSET:?boom}',
  BRACES: '{{ .Values.x }}',
  LONG: `${'x: '.repeat(1333)}end`,
  // Over 40 characters with line breaks: the yaml library folds such double-quoted strings unless told not to.
  MULTILINE_LONG: 'a value longer than forty characters here\nsecond line',
  MULTILINE_INDENTED: '  leading spaces on a first line over forty chars\n    a deeper second line\n',
  MULTILINE_UNICODE: 'ünïcødé ✓ 🏠 漢字 on a first line longer than forty\n第二行 ✓\n\n',
  MULTILINE_SPECIALS: `say "hi", it's a first line of more than forty chars\nnext: line # not a comment\n- not an item`,
  MULTILINE_CRLF: 'windows line endings on a value over forty chars\r\nsecond\r\n',
};

/** Hosts that are valid but look like YAML specials (a wildcard is an alias marker when plain). */
export const HOSTILE_HOSTS: readonly string[] = [
  '*.home.example.org',
  'yes.example.org',
  '0x10.example.org',
  'null.example.org',
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.example.org`,
];

/** A health command whose items YAML 1.1 or Compose would otherwise read differently. */
export const HOSTILE_COMMAND: readonly string[] = [
  '/bin/check',
  '--flag=yes',
  'on',
  '1_000',
  '# not a comment',
  'a: b',
  '*alias',
  "it's",
  '"q"',
  'cost $5',
  '2001-12-14',
  'an argument of more than forty characters, then\n  an indented second line',
];

/** Compose interpolates `$`; a rendered Compose file doubles it so that Compose reads back the exact value. */
export function composeForm(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** The kubelet reads `$$` as `$` and expands `$(VAR)`; a rendered Kubernetes value doubles a `$` before `$` or `(` so that the container gets the exact value. */
export function kubernetesForm(value: string): string {
  return value.replace(/\$(?=[$(])/g, '$$$$');
}
