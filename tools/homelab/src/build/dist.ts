import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { HomelabError } from '../errors';
import { diskHost } from '../host';
import { projectEnvironments } from '../project/environments';
import { composeFiles, composeProjectDir, distPaths, environmentPaths, type Layer, projectPaths } from '../project/paths';
import { BACKUP_PROFILE, CRON_PROFILE, homelabComposeOptions, toolEnv } from '../tool-env';

export { BACKUP_PROFILE, CRON_PROFILE };

export interface BuiltFile {
  /** Workspace-relative path under dist/. */
  path: string;
  content: string;
}

/**
 * What deploy needs to know about a rendered Compose project and cannot read from Compose
 * itself: the secret keys (from `.env.example`, mapped to the store like the spec's
 * `secrets`) and the services that read the deploy's env file. Written into the rendered
 * file as the top-level extension `x-homelab`, which Compose ignores.
 */
export interface ComposeMetadata {
  project: string;
  environment: string;
  secrets: { keys: { key: string; remoteKey: string; property: string }[]; services: string[] };
}

/**
 * Renders what deploy will apply, per environment: the kustomize build of the overlay
 * and the merged Compose file. Deterministic, byte for byte: Compose runs with no secret
 * value (its env file points at a path that does not exist, `.env` is not read), without
 * the caller's environment variables (so `${VAR}` cannot pick up a value from the shell)
 * and without path resolution (relative paths stay relative to the Compose base folder,
 * so no absolute path of this machine ends up in dist/).
 */
export function buildProject(root: string, layer: Layer, name: string): BuiltFile[] {
  const out: BuiltFile[] = [];
  for (const { env, kubernetes, compose } of projectEnvironments(diskHost(root), layer, name)) {
    if (kubernetes) out.push({ path: distPaths.kubernetes(env, name), content: renderKubernetes(root, layer, name, env) });
    if (compose) out.push({ path: distPaths.compose(env, name), content: renderCompose(root, layer, name, env) });
  }
  return out;
}

/** `kubectl kustomize` of the project's overlay in one environment. */
export function renderKubernetes(root: string, layer: Layer, name: string, env: string): string {
  const { overlay } = environmentPaths(layer, name, env);
  return run('kubectl', ['kustomize', overlay], root, `kustomize build of ${overlay}`, toolEnv({}));
}

/** The merged Compose file of the project in one environment, with its `x-homelab` metadata. */
export function renderCompose(root: string, layer: Layer, name: string, env: string): string {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-build-'));
  try {
    const files = composeFiles(layer, name, env).filter((f) => fs.existsSync(path.join(root, f)));
    const args = ['compose', ...homelabComposeOptions(scratch), ...files.flatMap((f) => ['-f', f]), 'config', '--no-path-resolution'];
    const merged = run(
      'docker',
      args,
      root,
      `docker compose config of ${name} in ${env}`,
      toolEnv({ HOMELAB_ENV_FILE: path.join(scratch, 'no-secrets-at-build-time.env') }),
    );
    const doc = YAML.parse(merged) as { name?: string; 'x-homelab-backup'?: { keys?: unknown } } | null;
    const project = doc?.name ?? name;
    // The backups' keys live in the store entry homelab.yaml backup.repositoryKey names (x-homelab-backup), not the app's.
    const backupKeys = Array.isArray(doc?.['x-homelab-backup']?.keys) ? (doc['x-homelab-backup'].keys as { key: string; remoteKey: string; property: string }[]) : [];
    const metadata: ComposeMetadata = { project, environment: env, secrets: secretsMetadata(root, layer, name, files, backupKeys) };
    return `${merged.replace(/\n*$/, '\n')}${YAML.stringify({ 'x-homelab': metadata }, { lineWidth: 0 })}`;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The file `build` rendered for deploy (dist/...), rendered and written now when build
 * has not run (an executor called outside Nx).
 */
export function ensureRendered(root: string, layer: Layer, name: string, env: string, platform: 'compose' | 'kubernetes'): { text: string; relative: string } {
  const relative = distPaths[platform](env, name);
  const file = path.join(root, relative);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, platform === 'compose' ? renderCompose(root, layer, name, env) : renderKubernetes(root, layer, name, env));
  }
  return { text: fs.readFileSync(file, 'utf8'), relative };
}

/** Reads `x-homelab` back from a rendered Compose file. */
export function composeMetadata(rendered: string): ComposeMetadata | null {
  const doc = YAML.parse(rendered) as Record<string, unknown> | null;
  const meta = doc?.['x-homelab'] as ComposeMetadata | undefined;
  return meta && typeof meta === 'object' ? meta : null;
}

/**
 * The secret keys of the project (`.env.example` beside the Compose base), where the
 * store keeps each (the spec's `secrets`, else entry <name>, property <KEY>), and the
 * services that read `${HOMELAB_ENV_FILE}` in any of the project's Compose files.
 */
function secretsMetadata(root: string, layer: Layer, name: string, files: string[], known: { key: string; remoteKey: string; property: string }[] = []): ComposeMetadata['secrets'] {
  const host = diskHost(root);
  const example = host.read(`${composeProjectDir(layer, name)}/.env.example`) ?? '';
  const keyNames = [...example.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]);
  const mapping = new Map<string, { remoteKey?: string; property?: string }>(known.map((k) => [k.key, { remoteKey: k.remoteKey, property: k.property }]));
  const spec = lenientYaml(host.read(projectPaths(layer, name).spec)) as { secrets?: unknown; services?: Record<string, { secrets?: unknown } | null> } | null;
  // The app's keys, and those a service of the full form declares in place ({ key, remoteKey, property }).
  const declared = [spec?.secrets, ...Object.values(spec?.services ?? {}).map((s) => s?.secrets)].flatMap((list) => (Array.isArray(list) ? list : []));
  for (const s of declared as { key?: unknown; remoteKey?: unknown; property?: unknown }[]) {
    if (typeof s?.key === 'string' && !mapping.has(s.key)) {
      mapping.set(s.key, { remoteKey: typeof s.remoteKey === 'string' ? s.remoteKey : undefined, property: typeof s.property === 'string' ? s.property : undefined });
    }
  }
  const keys = [...new Set(keyNames)].map((key) => ({ key, remoteKey: mapping.get(key)?.remoteKey ?? name, property: mapping.get(key)?.property ?? key }));
  const services = new Set<string>();
  for (const file of files) {
    const doc = lenientYaml(host.read(file)) as { services?: Record<string, { env_file?: unknown }> } | null;
    for (const [service, config] of Object.entries(doc?.services ?? {})) {
      const entries = config?.env_file === undefined ? [] : Array.isArray(config.env_file) ? config.env_file : [config.env_file];
      const paths = entries.map((e) => (typeof e === 'string' ? e : (e as { path?: unknown } | null)?.path));
      if (paths.some((p) => typeof p === 'string' && p.includes('HOMELAB_ENV_FILE'))) services.add(service);
    }
  }
  return { keys, services: [...services].sort() };
}

function lenientYaml(text: string | null): unknown {
  if (text === null) return null;
  try {
    return YAML.parse(text, { maxAliasCount: 100 });
  } catch {
    return null;
  }
}

function run(command: string, args: string[], cwd: string, what: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new HomelabError(
      missing ? `${what}: \`${command}\` is not installed; run \`npm run setup:engines\` (or install it) and retry` : `${what}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    throw new HomelabError(`${what} failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  }
  return result.stdout;
}
