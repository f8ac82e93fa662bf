import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDotenv } from '../dotenv';
import { show } from '../errors';
import type { SecretSourceConfig, WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';
import { parseStoreSpec, type SecretStoreSpec, storeSpecPath } from '../platform/secret-store';
import { onPath } from '../tool-env';
import { DeployError } from './errors';
import type { ToolRunner } from './process';

export { makeMasker, MIN_MASKED_LENGTH, parseDotenv } from '../dotenv';

/** A secret key of an app and where the secret store keeps it (as in the spec's `secrets`). */
export interface SecretKey {
  key: string;
  remoteKey: string;
  property: string;
}

/** The keys of a `.env.example`: `KEY=` lines, comments and blank lines ignored. */
export function parseEnvExample(text: string): string[] {
  const keys: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (match && !keys.includes(match[1])) keys.push(match[1]);
  }
  return keys;
}

/**
 * Writes values so that Compose's env_file reader gives back exactly these bytes:
 * single quotes (literal) when possible, else double quotes with escapes.
 */
export function formatEnvFile(values: ReadonlyMap<string, string>): string {
  const lines: string[] = [];
  for (const [key, value] of values) {
    // Single quotes are literal, except that Compose reads `\'` as a quote: a backslash needs double quotes.
    if (!/['\n\r\\]/.test(value)) {
      lines.push(`${key}='${value}'`);
    } else {
      const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
      lines.push(`${key}="${escaped}"`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export interface SecretContext {
  app: string;
  env: string;
  root: string;
  processEnv: NodeJS.ProcessEnv;
  tools: ToolRunner;
}

/**
 * Where a Compose deploy reads secret values: the environment's own source (homelab.yaml
 * `environments[].secrets`), else the workspace's secret store through its CLI (the `compose`
 * field of `platform/secrets/specs/<store>.yaml`), else environment variables (undefined).
 */
export type SecretSource = SecretSourceConfig | StoreSource;

/** The workspace's store, read with its CLI: the same store keys and properties the ExternalSecrets read on Kubernetes. */
export interface StoreSource {
  source: 'store';
  store: string;
  compose: NonNullable<SecretStoreSpec['compose']>;
}

/**
 * The source a Compose deploy of this environment reads: its own `secrets` when homelab.yaml
 * gives one (it wins), else the workspace's store (`secrets.store`) when that store has a spec with
 * a `compose` field, else environment variables. A store without a spec (a ClusterSecretStore
 * written by hand, such as the default one a fresh clone ships) says nothing about Compose.
 */
export function secretSource(root: string, workspace: WorkspaceConfig, settings: WorkspaceEnvironment): SecretSource | undefined {
  if (settings.secrets) return settings.secrets;
  const store = workspace.secrets?.store ?? 'homelab';
  const file = storeSpecPath(store);
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, file), 'utf8');
  } catch {
    return undefined;
  }
  const spec = parseStoreSpec(text, file);
  return spec.compose ? { source: 'store', store, compose: spec.compose } : undefined;
}

/** A one-line description of a source, for progress and errors (no values). */
export function describeSource(source: SecretSource | undefined): string {
  if (!source || source.source === 'env') return 'environment variables';
  if (source.source === 'file') return `file ${source.path}`;
  if (source.source === 'store') return `secret store ${source.store} (\`${source.compose.read.join(' ')}\`)`;
  return `command \`${(source.command ?? []).join(' ')}\``;
}

/**
 * Fetches the values of `keys` from the environment's source. Empty values count as
 * missing. Returns the values found and the keys missing; throws only when the source
 * itself is broken (a file inside the repository, a command that fails).
 */
export async function resolveSecrets(
  keys: readonly SecretKey[],
  source: SecretSource | undefined,
  ctx: SecretContext,
): Promise<{ values: Map<string, string>; missing: string[] }> {
  const values = new Map<string, string>();
  const missing: string[] = [];
  if (keys.length === 0) return { values, missing };
  const kind = source?.source ?? 'env';
  if (kind === 'env') {
    const local = readLocalSecrets(ctx.root, ctx.app);
    for (const k of keys) {
      const v = ctx.processEnv[k.key] || local.get(k.key);
      if (v === undefined || v === '') missing.push(k.key);
      else values.set(k.key, v);
    }
  } else if (kind === 'file') {
    const file = secretFilePath((source as SecretSourceConfig).path, ctx);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new DeployError(`secrets file ${show(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); create it with the keys of .env.example, or change secrets.path in homelab.yaml`);
    }
    const found = parseDotenv(text);
    for (const k of keys) {
      const v = found.get(k.key);
      if (v === undefined || v === '') missing.push(k.key);
      else values.set(k.key, v);
    }
  } else if (kind === 'store') {
    const store = source as StoreSource;
    checkStoreCli(store, ctx.processEnv);
    const read = (k: SecretKey, stdout: string) => storeValue(stdout, store, k);
    await runPerKey(keys, store.compose.read, ctx, values, missing, read);
  } else {
    const template = (source as SecretSourceConfig | undefined)?.command ?? [];
    if (template.length === 0) throw new DeployError('secrets.source "command" needs secrets.command in homelab.yaml (e.g. [op, read, "op://homelab/{remoteKey}/{property}"])');
    await runPerKey(keys, template, ctx, values, missing, (_k, stdout) => stdout.replace(/\r?\n$/, ''));
  }
  return { values, missing };
}

/** Runs an argv template once per key ({app} {env} {key} {remoteKey} {property}); `value` turns stdout into the value (empty or undefined: missing). */
async function runPerKey(
  keys: readonly SecretKey[],
  template: readonly string[],
  ctx: SecretContext,
  values: Map<string, string>,
  missing: string[],
  value: (key: SecretKey, stdout: string) => string | undefined,
): Promise<void> {
  for (const k of keys) {
    const argv = template.map((part) => fill(part, { app: ctx.app, env: ctx.env, key: k.key, remoteKey: k.remoteKey, property: k.property }));
    const result = await ctx.tools.run(argv[0], argv.slice(1), { cwd: ctx.root, timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new DeployError(`secret ${k.key}: \`${argv.join(' ')}\` failed: ${ctx.tools.tail(result, 2)}`);
    }
    const v = value(k, result.stdout);
    if (v === undefined || v === '') missing.push(k.key);
    else values.set(k.key, v);
  }
}

/**
 * A store's CLI must be installed and its credentials set before the first read: each missing one
 * is refused in one line naming it and the fix (never with a value: only the variables' names).
 */
function checkStoreCli(store: StoreSource, env: NodeJS.ProcessEnv): void {
  const { cli, credentials } = store.compose;
  const other = 'or give this environment its own `secrets` source in homelab.yaml (docs/deploy.md, "Secret sources")';
  if (onPath(cli, env) === null) {
    throw new DeployError(`secret store ${store.store} is read with \`${cli}\`, which is not installed or not on PATH; install it where deploy runs (docs/infrastructure.md, "The compose field of a store spec"), ${other}`);
  }
  const unset = credentials.filter((name) => !env[name]);
  if (unset.length > 0) {
    throw new DeployError(`secret store ${store.store}: \`${cli}\` needs ${unset.join(', ')}, which ${unset.length === 1 ? 'is' : 'are'} not set; export ${unset.length === 1 ? 'it' : 'them'} (the store's credential, as in its bootstrap Secret) for the deploy, ${other}`);
  }
}

/**
 * The value a store's `read` printed: stdout itself, or with `select` the value at that dotted
 * path of its JSON (`{property}` filled in per segment, so a property may hold dots; a string on
 * the way that holds JSON is parsed), then decoded (`decode: base64`). Undefined when the path
 * leads nowhere (a missing property counts as missing). Errors never quote stdout.
 */
export function storeValue(stdout: string, store: StoreSource, k: SecretKey): string | undefined {
  const { select, decode } = store.compose;
  let value: string | undefined;
  if (select === undefined) {
    value = stdout.replace(/\r?\n$/, '');
  } else {
    let node: unknown = parseJson(stdout);
    if (node === undefined) throw new DeployError(`secret ${k.key}: secret store ${store.store} printed no JSON for ${k.remoteKey}, and its compose.select (${select}) reads JSON; check the store spec's compose.read`);
    for (const segment of select.split('.').map((part) => fill(part, { app: '', env: '', key: k.key, remoteKey: k.remoteKey, property: k.property }))) {
      if (typeof node === 'string') node = parseJson(node) ?? node;
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
      if (node === undefined) return undefined;
    }
    value = node === null ? undefined : typeof node === 'string' ? node : typeof node === 'object' ? JSON.stringify(node) : String(node);
  }
  if (value !== undefined && decode === 'base64') value = Buffer.from(value, 'base64').toString('utf8');
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Where this machine keeps the secret values of an app that `nx g homelab:import` brought in
 * from a stack that had them in its files: `.homelab/secrets/<app>.env` (git-ignored, 0600).
 * The `env` source reads it for the keys the environment does not set, so an imported stack
 * deploys here as it ran before; move the values to your secret store when you can.
 */
export const LOCAL_SECRETS_DIR = '.homelab/secrets';

export function localSecretsFile(root: string, app: string): string {
  return path.join(root, LOCAL_SECRETS_DIR, `${app}.env`);
}

/** The app's local secret values; none when there is no file. A file others can read is refused, as ssh refuses a key. */
export function readLocalSecrets(root: string, app: string): Map<string, string> {
  const file = localSecretsFile(root, app);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return new Map();
  }
  const rel = path.relative(root, file);
  if ((stat.mode & 0o077) !== 0) {
    throw new DeployError(`secrets file ${rel} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 600 ${rel}\``);
  }
  return parseDotenv(fs.readFileSync(file, 'utf8'));
}

/**
 * Adds values to the app's local secrets file (0600 in a 0700 folder), keeping every value
 * already there: returns the keys it added and the keys it kept as they were.
 */
export function addLocalSecrets(root: string, app: string, values: ReadonlyMap<string, string>): { added: string[]; kept: string[] } {
  const file = localSecretsFile(root, app);
  const existing = readLocalSecrets(root, app);
  const added = [...values.keys()].filter((k) => !existing.has(k));
  const kept = [...values.keys()].filter((k) => existing.has(k));
  if (added.length === 0) return { added, kept };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const merged = new Map([...existing, ...added.map((k): [string, string] => [k, values.get(k)!])]);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, formatEnvFile(merged), { mode: 0o600 });
  fs.renameSync(temp, file);
  return { added, kept };
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(app|env|key|remoteKey|property)\}/g, (_m, name: string) => vars[name]);
}

/** The file source's path for this app and environment; refused inside the repository. */
export function secretFilePath(template: string | undefined, ctx: { app: string; env: string; root: string }): string {
  if (!template) throw new DeployError('secrets.source "file" needs secrets.path in homelab.yaml (e.g. ~/.config/homelab/{env}/{app}.env)');
  let file = fill(template, { app: ctx.app, env: ctx.env, key: '', remoteKey: '', property: '' });
  if (file === '~' || file.startsWith('~/')) file = path.join(os.homedir(), file.slice(1));
  file = path.resolve(ctx.root, file);
  const rel = path.relative(path.resolve(ctx.root), file);
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    throw new DeployError(`secrets.path ${show(template)} is inside the repository; keep secret values outside it (e.g. ~/.config/homelab/{env}/{app}.env)`);
  }
  return file;
}

/**
 * A private scratch folder (0700) for the env files a deploy hands to Compose (0600).
 * Its name carries the owning process id, so a deploy that was killed before its
 * clean-up ran is swept by the next one (`sweepStaleScratch`).
 */
export class SecretScratch {
  readonly dir: string;

  constructor(tmp = os.tmpdir()) {
    this.dir = fs.mkdtempSync(path.join(tmp, `${SCRATCH_PREFIX}${process.pid}-`));
    fs.chmodSync(this.dir, 0o700);
  }

  /** Writes a file readable by this user only; returns its path. */
  write(name: string, content: string): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, content, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    return file;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const SCRATCH_PREFIX = 'homelab-deploy-';

/** Removes scratch folders of deploys whose process is gone (killed before clean-up). */
export function sweepStaleScratch(tmp = os.tmpdir()): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(tmp);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(entry);
    if (!match || alive(Number(match[1]))) continue;
    fs.rmSync(path.join(tmp, entry), { recursive: true, force: true });
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
