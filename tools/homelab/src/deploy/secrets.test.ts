import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolRunner } from './process';
import {
  formatEnvFile,
  makeMasker,
  parseDotenv,
  parseEnvExample,
  resolveSecrets,
  SCRATCH_PREFIX,
  SecretScratch,
  secretFilePath,
  sweepStaleScratch,
  addLocalSecrets,
  localSecretsFile,
  type SecretKey,
  type StoreSource,
  storeValue,
} from './secrets';
import { storeSpecFromOptions } from '../platform/secret-store';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-secrets-test-'));
  fs.mkdirSync(path.join(dir, 'repo'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const key = (k: string): SecretKey => ({ key: k, remoteKey: 'web', property: k });
const ctx = (processEnv: NodeJS.ProcessEnv = {}) => ({ app: 'web', env: 'dev', root: path.join(dir, 'repo'), processEnv, tools: new ToolRunner(process.env) });

describe('.env.example', () => {
  it('lists the keys in order, once, ignoring comments, blank lines and export', () => {
    expect(parseEnvExample('# keys of web\n\nAPI_TOKEN=\nexport DB_PASSWORD=\nAPI_TOKEN=\n  # INDENTED=\n')).toEqual(['API_TOKEN', 'DB_PASSWORD']);
  });
});

describe('the private env file', () => {
  it.each([
    ['plain', 'hunter22'],
    ['spaces and a hash', 'pass word #1'],
    ['a dollar and braces (no interpolation)', 'a$b ${HOME} $$'],
    ['single quotes', "it's"],
    ['double quotes and backslashes', 'say "hi" \\o/'],
    ['a newline', 'line one\nline two'],
    ['an equals sign first', '=starts'],
    ['a trailing backslash', 'ends with \\'],
    ['a quote and a dollar', "it's $5"],
  ])('gives back a value with %s byte for byte', (_what, value) => {
    const values = new Map([['K', value]]);
    expect(parseDotenv(formatEnvFile(values)).get('K')).toBe(value);
  });

  it('writes one KEY=value line per key', () => {
    expect(formatEnvFile(new Map([['A', 'x'], ['B', "y'z"]]))).toBe("A='x'\nB=\"y'z\"\n");
  });
});

describe('masking', () => {
  it('hides every value, in the forms Compose and JSON print it, and leaves short values alone', () => {
    const mask = makeMasker(['s3cr3t-value', 'a$b-dollar', 'multi\nline-two', 'ab']);
    expect(mask('token=s3cr3t-value')).toBe('token=***');
    expect(mask('FOO: a$$b-dollar')).toBe('FOO: ***');
    expect(mask('"multi\\nline-two"')).toBe('"***"');
    expect(mask('only line-two here')).toBe('only *** here');
    expect(mask('ab stays')).toBe('ab stays');
  });
});

describe('secret sources', () => {
  it('env: reads variables named after the keys; empty counts as missing', async () => {
    const result = await resolveSecrets([key('A'), key('B'), key('C')], { source: 'env' }, ctx({ A: 'va', B: '' }));
    expect([...result.values]).toEqual([['A', 'va']]);
    expect(result.missing).toEqual(['B', 'C']);
  });

  it("env: reads the keys the environment does not set from the app's local secrets file (an imported stack's values)", async () => {
    expect(addLocalSecrets(ctx().root, 'web', new Map([['A', 'local a'], ['B', 'local b']]))).toEqual({ added: ['A', 'B'], kept: [] });

    const result = await resolveSecrets([key('A'), key('B'), key('C')], { source: 'env' }, ctx({ A: 'from env' }));

    expect([...result.values]).toEqual([['A', 'from env'], ['B', 'local b']]);
    expect(result.missing).toEqual(['C']);
    expect(fs.statSync(localSecretsFile(ctx().root, 'web')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(localSecretsFile(ctx().root, 'web'))).mode & 0o777).toBe(0o700);
  });

  it('keeps every value the local secrets file already holds, and adds only new keys', async () => {
    addLocalSecrets(ctx().root, 'web', new Map([['A', "it's 'quoted' $HOME"]]));

    expect(addLocalSecrets(ctx().root, 'web', new Map([['A', 'other'], ['B', 'new']]))).toEqual({ added: ['B'], kept: ['A'] });
    const result = await resolveSecrets([key('A'), key('B')], { source: 'env' }, ctx());
    expect([...result.values]).toEqual([['A', "it's 'quoted' $HOME"], ['B', 'new']]);
  });

  it('refuses a local secrets file that other users can read, naming the fix and no value', async () => {
    addLocalSecrets(ctx().root, 'web', new Map([['A', 'hidden-value']]));
    fs.chmodSync(localSecretsFile(ctx().root, 'web'), 0o644);

    const error = await resolveSecrets([key('A')], { source: 'env' }, ctx()).catch((e: Error) => e);
    expect(String((error as Error).message)).toBe('secrets file .homelab/secrets/web.env can be read by other users (mode 644); run `chmod 600 .homelab/secrets/web.env`');
  });

  it('env is the default when homelab.yaml names no source', async () => {
    expect((await resolveSecrets([key('A')], undefined, ctx({ A: 'x' }))).values.get('A')).toBe('x');
  });

  it('file: reads a dotenv file outside the repository, {app} and {env} filled in', async () => {
    fs.mkdirSync(path.join(dir, 'secrets/dev'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'secrets/dev/web.env'), "A='from file'\nB=\n");
    const result = await resolveSecrets([key('A'), key('B')], { source: 'file', path: path.join(dir, 'secrets/{env}/{app}.env') }, ctx());
    expect(result.values.get('A')).toBe('from file');
    expect(result.missing).toEqual(['B']);
  });

  it('file: refuses a path inside the repository', () => {
    expect(() => secretFilePath('secrets/{app}.env', { app: 'web', env: 'dev', root: path.join(dir, 'repo') })).toThrow(/is inside the repository; keep secret values outside it/);
  });

  it('file: names the file it cannot read', async () => {
    await expect(resolveSecrets([key('A')], { source: 'file', path: path.join(dir, 'none.env') }, ctx())).rejects.toThrow(/secrets file ".*none\.env" cannot be read \(ENOENT\)/);
  });

  it('command: runs the template once per key with the placeholders filled in, value on stdout', async () => {
    const result = await resolveSecrets([key('A'), { key: 'B', remoteKey: 'shared', property: 'pw' }], { source: 'command', command: ['printf', '%s', '{env}/{remoteKey}/{property}:{key}'] }, ctx());
    expect([...result.values]).toEqual([
      ['A', 'dev/web/A:A'],
      ['B', 'dev/shared/pw:B'],
    ]);
  });

  it('command: a failing command names the key and the tool error', async () => {
    await expect(resolveSecrets([key('A')], { source: 'command', command: ['sh', '-c', 'echo "not signed in" >&2; exit 1'] }, ctx())).rejects.toThrow(/^secret A: `sh -c .*` failed: not signed in$/);
  });
});

describe('the secret store source: the store spec\'s compose field', () => {
  /** tests/support/fixtures/store-cli/op: a strict test double of 1Password's `op` (1Password cannot run here). */
  const OP_DOUBLE_DIR = path.resolve(__dirname, '../../../../tests/support/fixtures/store-cli');
  const TOKEN = 'ops_test-double-token-123';
  const store = (provider: string, options: Record<string, string> = {}): StoreSource => ({ source: 'store', store: provider, compose: storeSpecFromOptions({ provider, ...options }).compose! });
  const opEnv = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: `${OP_DOUBLE_DIR}${path.delimiter}${process.env.PATH}`, OP_DOUBLE_TOKEN: TOKEN, OP_DOUBLE_STORE: path.join(dir, 'op'), ...extra });

  it('onepassword: runs `op read op://<vault>/<remoteKey>/<property>` per key through the CLI double', async () => {
    fs.mkdirSync(path.join(dir, 'op/homelab/web'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'op/homelab/web/A'), 'value of A with $ and "quotes"');
    fs.mkdirSync(path.join(dir, 'op/homelab/shared'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'op/homelab/shared/pw'), 'shared-pw-1');
    const env = opEnv({ OP_SERVICE_ACCOUNT_TOKEN: TOKEN });
    const tools = new ToolRunner({ ...process.env, ...env });
    const result = await resolveSecrets([key('A'), { key: 'B', remoteKey: 'shared', property: 'pw' }], store('onepassword'), { ...ctx(env), tools });
    expect([...result.values]).toEqual([['A', 'value of A with $ and "quotes"'], ['B', 'shared-pw-1']]);
    expect(result.missing).toEqual([]);
  });

  it('onepassword: a credential that is not set is refused before the CLI runs, in one line naming it and the fix', async () => {
    await expect(resolveSecrets([key('A')], store('onepassword'), ctx(opEnv()))).rejects.toThrow(
      'secret store onepassword: `op` needs OP_SERVICE_ACCOUNT_TOKEN, which is not set; export it (the store\'s credential, as in its bootstrap Secret) for the deploy, or give this environment its own `secrets` source in homelab.yaml (docs/deploy.md, "Secret sources")',
    );
  });

  it('a CLI that is not installed is refused in one line naming it and the fix', async () => {
    await expect(resolveSecrets([key('A')], store('bitwarden', { organization: 'org', project: 'prj' }), ctx({ PATH: dir, BWS_ACCESS_TOKEN: 'x' }))).rejects.toThrow(
      'secret store bitwarden is read with `bws`, which is not installed or not on PATH; install it where deploy runs (docs/infrastructure.md, "The compose field of a store spec"), or give this environment its own `secrets` source in homelab.yaml (docs/deploy.md, "Secret sources")',
    );
  });

  it('a failing read names the key and the CLI error, never a value or the token', async () => {
    const env = opEnv({ OP_SERVICE_ACCOUNT_TOKEN: 'ops_wrong-token-456' });
    const error = await resolveSecrets([key('A')], store('onepassword'), { ...ctx(env), tools: new ToolRunner({ ...process.env, ...env }) }).catch((e: Error) => e);
    expect(String((error as Error).message)).toBe('secret A: `op read op://homelab/web/A` failed: [ERROR] authentication failed: the service account token is missing or invalid');
  });

  it.each([
    ['bitwarden: a JSON string holding JSON, at value.{property}', store('bitwarden', { organization: 'o', project: 'p' }), JSON.stringify({ id: 'x', key: 'web', value: JSON.stringify({ A: 'bw-value', N: 5 }) }), 'bw-value'],
    ['vault: data.data.{property}', store('vault', { server: 'https://vault.example:8200' }), JSON.stringify({ data: { data: { A: 'vault-value' }, metadata: {} } }), 'vault-value'],
    ['doppler: the JSON object of the secret, at {property}', store('doppler'), '{"A":"doppler-value"}\n', 'doppler-value'],
    ['kubernetes: base64 data, decoded', store('kubernetes'), Buffer.from('k8s value\nwith a newline').toString('base64'), 'k8s value\nwith a newline'],
    ['a number in JSON, as text', store('vault', { server: 'https://vault.example:8200' }), JSON.stringify({ data: { data: { A: 42 } } }), '42'],
    ['a property the JSON lacks: missing', store('vault', { server: 'https://vault.example:8200' }), JSON.stringify({ data: { data: {} } }), undefined],
  ])('%s', (_what, source, stdout, value) => {
    expect(storeValue(stdout, source, key('A'))).toBe(value);
  });

  it('a property with dots is one segment of the path', () => {
    const source: StoreSource = { source: 'store', store: 's', compose: { cli: 'x', credentials: [], read: ['x'], select: 'data.{property}' } };
    expect(storeValue('{"data":{"db.password":"dotted"}}', source, { key: 'DB', remoteKey: 'web', property: 'db.password' })).toBe('dotted');
  });

  it('stdout that is not JSON where select expects it is refused without quoting it', () => {
    expect(() => storeValue('s3cret-not-json', store('doppler'), key('A'))).toThrow(
      'secret A: secret store doppler printed no JSON for web, and its compose.select ({property}) reads JSON; check the store spec\'s compose.read',
    );
  });
});

describe('the scratch folder', () => {
  it('is private to this user (0700) and its files too (0600)', () => {
    const scratch = new SecretScratch(dir);
    const file = scratch.write('next.env', "A='x'\n");
    expect(fs.statSync(scratch.dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    scratch.remove();
    expect(fs.existsSync(scratch.dir)).toBe(false);
  });

  it('sweeps folders left by deploys whose process is gone, and keeps live ones', () => {
    const live = new SecretScratch(dir);
    const dead = path.join(dir, `${SCRATCH_PREFIX}999999-abc`);
    fs.mkdirSync(dead);
    sweepStaleScratch(dir);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live.dir)).toBe(true);
  });
});
