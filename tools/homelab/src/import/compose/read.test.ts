import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomelabError } from '../../errors';
import { readComposeSource } from './read';
import { MAX_FILE_BYTES } from './yaml';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-compose-read-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes the files of a stack into the temp folder. */
function stack(files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return path.join(dir, 'compose.yaml');
}

const SECRET = 'fake-secret-value-8812';
const ENV = { HOME: '/home/importer' };

/** Reads a stack that must be refused and returns the error, checking the refusal's shape. */
function refusal(files: Record<string, string>, file = 'compose.yaml'): string {
  stack(files);
  let error: unknown;
  try {
    readComposeSource(path.join(dir, 'compose.yaml'), { environment: ENV });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(HomelabError);
  const message = (error as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  expect(message).toContain(file);
  expect(message).not.toContain(SECRET);
  return message;
}

describe('hostile input is refused in one line naming the file, before heavy work', () => {
  it('an alias bomb', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const message = refusal({ 'compose.yaml': `x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nservices:\n  web:\n    image: busybox:1\n` });
    expect(message).toMatch(/aliases expand to more than 10000 values/);
  });

  it('nesting deeper than the limit (flow and block)', () => {
    expect(refusal({ 'compose.yaml': `services:\n  web:\n    image: ${'['.repeat(5000)}${']'.repeat(5000)}\n` })).toMatch(/nests deeper than 64 levels/);
    const block = Array.from({ length: 80 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
    expect(refusal({ 'compose.yaml': `services:\n${block}\n` })).toMatch(/nests deeper than 64 levels/);
  });

  it('a file over the size limit, unparsed', () => {
    const started = Date.now();
    const message = refusal({ 'compose.yaml': `services:\n  web:\n    image: busybox:1\n# ${'x'.repeat(MAX_FILE_BYTES)}\n` });
    expect(message).toMatch(/over the 1048576-byte limit/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an include cycle', () => {
    const message = refusal({
      'compose.yaml': 'include: [a/compose.yaml]\nservices:\n  web:\n    image: busybox:1\n',
      'a/compose.yaml': 'include: [../b.yaml]\nservices:\n  a:\n    image: busybox:1\n',
      'b.yaml': 'include: [a/compose.yaml]\nservices:\n  b:\n    image: busybox:1\n',
    }, 'b.yaml');
    expect(message).toBe('b.yaml: include cycle compose.yaml -> a/compose.yaml -> b.yaml -> a/compose.yaml; remove one of these includes');
  });

  it('an extends cycle, within a file and across files', () => {
    expect(refusal({ 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' })).toMatch(/extends cycle a -> b -> a/);
    expect(
      refusal({
        'compose.yaml': 'services:\n  a:\n    extends: { file: base.yaml, service: base }\n',
        'base.yaml': 'services:\n  base:\n    extends: { file: compose.yaml, service: a }\n',
      }),
    ).toMatch(/extends cycle a -> base -> a/);
  });

  it.each([
    ['a top level that is a list', '- services\n', /the top level is not a map, so this is not a Compose file/],
    ['a top level that is a string', 'just text\n', /the top level is not a map/],
    ['no services map', 'volumes:\n  data: {}\n', /has no services: map, so this is not a Compose file/],
    ['services that are a list', 'services:\n  - web\n', /services is not a map/],
    ['an empty file', '', /is empty, so this is not a Compose file/],
    ['a YAML syntax error', 'services:\n  web: [unclosed\n', /compose\.yaml:\d+:\d+: .*fix the YAML syntax/],
    ['a duplicate key', 'services:\n  web:\n    image: a\n    image: b\n', /fix the YAML syntax/],
  ])('not a Compose file: %s', (_what, text, pattern) => {
    expect(refusal({ 'compose.yaml': text })).toMatch(pattern);
  });
});

describe('interpolation and env files never put a value into an error', () => {
  it('names the unset required variable, its message and the file', () => {
    const message = refusal({
      '.env': `API_TOKEN=${SECRET}\n`,
      'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    environment:\n      TOKEN: ${API_TOKEN}\n      DB: ${DB_PASSWORD:?set DB_PASSWORD}\n',
    });
    expect(message).toBe('compose.yaml: required variable DB_PASSWORD is missing a value (set DB_PASSWORD) in services.web.environment; set DB_PASSWORD in .env or the environment');
  });

  it('an invalid interpolation names the key, not the value', () => {
    const message = refusal({ 'compose.yaml': `services:\n  web:\n    image: busybox:1\n    environment:\n      PASSWORD: "${SECRET}$5"\n` });
    expect(message).toMatch(/services\.web\.environment has an invalid interpolation; close each \$\{ and write \$\$ for a literal \$/);
  });

  it('a malformed .env names the file and line', () => {
    const message = refusal({ '.env': `OK=1\nTOKEN="${SECRET}\n`, 'compose.yaml': 'services:\n  web:\n    image: busybox:1\n' }, '.env');
    expect(message).toBe('.env: line 2: a quoted value without its closing "; close the quote');
  });

  it('a required env_file that is missing is refused; an optional one is skipped', () => {
    expect(refusal({ 'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    env_file: web.env\n' })).toBe('compose.yaml: services.web.env_file names web.env, which does not exist; create it, or write it as { path: …, required: false }');
    const source = readComposeSource(stack({ 'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    env_file:\n      - path: web.env\n        required: false\n' }), { environment: ENV });
    expect(source.services.web.environment).toEqual({});
  });
});

describe('what the reader records for the import', () => {
  it('each variable with its value and source, and each environment value with its template', () => {
    const source = readComposeSource(
      stack({
        '.env': `DB_PASSWORD=${SECRET}\nTAG=1.2\n`,
        'compose.yaml': [
          'services:',
          '  app:',
          '    image: app:${TAG}',
          '    environment:',
          '      DB_PASSWORD: ${DB_PASSWORD}',
          '      URL: postgres://app:${DB_PASSWORD}@db/${DB_NAME:-app}',
          '      MODE: ${MODE}',
          '      REGION: $REGION',
          '  db:',
          '    image: db:16',
          '    environment: [POSTGRES_PASSWORD=$DB_PASSWORD, PLAIN=1]',
        ].join('\n'),
      }),
      { environment: { ...ENV, REGION: 'eu' } },
    );
    expect(source.variables).toEqual({
      TAG: { value: '1.2', source: 'env-file' },
      DB_PASSWORD: { value: SECRET, source: 'env-file' },
      DB_NAME: { value: 'app', source: 'default' },
      MODE: { source: 'unset' },
      REGION: { value: 'eu', source: 'environment' },
    });
    expect(source.services.app.environment.URL).toEqual({ value: `postgres://app:${SECRET}@db/app`, template: 'postgres://app:${DB_PASSWORD}@db/${DB_NAME:-app}', variables: ['DB_PASSWORD', 'DB_NAME'], from: { environment: true } });
    expect(source.services.db.environment.POSTGRES_PASSWORD).toEqual({ value: SECRET, template: '$DB_PASSWORD', variables: ['DB_PASSWORD'], from: { environment: true } });
    expect(source.services.db.environment.PLAIN).toEqual({ value: '1', variables: [], from: { environment: true } });
  });

  it('env_file values under environment:, with the file they came from', () => {
    const source = readComposeSource(
      stack({
        'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    env_file: [env/a.env, env/b.env]\n    environment:\n      SHARED: from-environment\n',
        'env/a.env': 'SHARED=a\nONLY_A=a\nLATER=a\n',
        'env/b.env': 'LATER=b\nHOSTNAME_URL=http://${HOST:-localhost}\n',
      }),
      { environment: ENV },
    );
    expect(source.services.web.environment).toEqual({
      SHARED: { value: 'from-environment', variables: [], from: { environment: true } },
      ONLY_A: { value: 'a', variables: [], from: { envFile: 'env/a.env' } },
      LATER: { value: 'b', variables: [], from: { envFile: 'env/b.env' } },
      HOSTNAME_URL: { value: 'http://localhost', template: 'http://${HOST:-localhost}', variables: ['HOST'], from: { envFile: 'env/b.env' } },
    });
    expect(source.files).toEqual(['compose.yaml', 'env/a.env', 'env/b.env']);
  });

  it('sets aside version (with its reason), drops x- extensions silently, keeps a bind source as written', () => {
    const source = readComposeSource(
      stack({ 'compose.yaml': 'version: "3.9"\nx-common: &c\n  restart: always\nservices:\n  web:\n    <<: *c\n    x-note: hi\n    image: busybox:1\n    volumes: ["~/media:/media:ro,z", "./data:/data"]\n    container_name: web1\n' }),
      { environment: ENV },
    );
    expect(source.ignored).toEqual([{ path: 'version', reason: 'obsolete: Compose ignores it (in compose.yaml)' }]);
    expect(source.services.web.restart).toBe('always');
    expect(source.services.web.other).toEqual({ container_name: 'web1' });
    expect(source.services.web.volumes).toEqual([
      { type: 'bind', source: '/home/importer/media', written_source: '~/media', target: '/media', read_only: true, bind: { selinux: 'z', create_host_path: true } },
      { type: 'bind', source: path.join(dir, 'data'), written_source: './data', target: '/data', bind: { create_host_path: true } },
    ]);
  });
});
