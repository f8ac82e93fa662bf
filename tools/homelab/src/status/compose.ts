import YAML from 'yaml';
import { cronInterval } from '../app/steps/schedule';
import { renderCompose } from '../build/dist';
import { BACKUP_METRIC, BACKUP_METRICS_MOUNT, BACKUP_METRICS_VOLUME } from '../project/backup-metrics';
import type { Layer } from '../project/paths';
import type { WorkspaceEnvironment } from '../spec/types';
import { ComposeCli, CONFIG_DIGEST_LABEL, runnable } from '../deploy/compose';
import { type ComposeModel, type ComposeService, parseCompose } from '../deploy/compose-plan';
import { databaseEnvValues } from '../deploy/database';
import { type ContainerInfo, Docker, hasCompleted, isCron, isJob } from '../deploy/docker';
import { backedUpVolumes, SCHEDULER_SERVICE } from '../deploy/drill/movers';
import type { ToolRunner } from '../deploy/process';
import { type DeployRecord, readDeployRecord, sha256 } from '../deploy/compose-record';
import { SecretScratch } from '../deploy/secrets';
import type { Drift, Health, LastBackup, ServiceStatus, StatusRow } from './types';

/** One project in one Compose environment, as the workspace has it. */
export interface ComposeTarget {
  project: string;
  layer: Layer;
  env: string;
  settings: WorkspaceEnvironment;
}

export interface ComposeStatusOptions {
  tools: ToolRunner;
  /** A project never deployed is an error. */
  requireDeployed?: boolean;
  /** "Now", for the backup's age (tests pass their own). */
  now?: Date;
  /** Where the scratch files of the hash computation go (default: the OS temp folder). */
  tmpDir?: string;
}

/** What a secret's value is shown as. */
export const MASKED = '***';

/**
 * The status of projects in their Compose environments, read from the environment's engine (its
 * docker context, DOCKER_HOST or the local engine, as deploy reaches it): what git renders now
 * against the containers of the project, the record the last deploy left (deploy/compose-record.ts), and
 * the backups' metric. No secret value is read: the services that read the deploy's env file are
 * compared key by key (their values shown as `***`), not by Compose's config hash, which covers
 * the values.
 */
export async function composeStatus(root: string, targets: ComposeTarget[], options: ComposeStatusOptions): Promise<StatusRow[]> {
  const rows: StatusRow[] = [];
  const engines = new Map<string, Promise<string | null>>();
  for (const target of targets) {
    const docker = new Docker(options.tools, target.settings.compose?.context);
    const key = target.settings.compose?.context ?? '';
    if (!engines.has(key)) engines.set(key, reachable(docker));
    const unreachable = await engines.get(key)!;
    rows.push(unreachable === null ? await projectStatus(root, target, docker, options) : unknownRow(target, unreachable));
  }
  return rows;
}

/** Null when the engine answers, else why not, in one line. */
async function reachable(docker: Docker): Promise<string | null> {
  try {
    await docker.versions(docker.where(process.env));
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function unknownRow(target: ComposeTarget, why: string): StatusRow {
  return {
    ...baseRow(target),
    health: 'unknown',
    problems: [why],
    ok: false,
  };
}

function baseRow(target: ComposeTarget): StatusRow {
  return {
    project: target.project,
    layer: target.layer,
    environment: target.env,
    platform: 'compose',
    deployed: false,
    wantedVersion: null,
    runningVersion: null,
    health: 'unknown',
    services: [],
    drift: [],
    lastDeploy: null,
    lastBackup: null,
    problems: [],
    ok: false,
  };
}

async function projectStatus(root: string, target: ComposeTarget, docker: Docker, options: ComposeStatusOptions): Promise<StatusRow> {
  const row = baseRow(target);
  let rendered: string;
  let model: ComposeModel;
  try {
    rendered = renderCompose(root, target.layer, target.project, target.env);
    model = parseCompose(rendered, `${target.project} in ${target.env}`);
  } catch (error) {
    return { ...row, problems: [`cannot render what git wants: ${(error as Error).message.split('\n')[0]}`] };
  }
  const main = mainService(model, target.project);
  row.wantedVersion = main ? versionOf(main.image) : null;
  let containers: ContainerInfo[];
  let record: DeployRecord | null;
  try {
    [containers, record] = await Promise.all([docker.containers(model.project), readDeployRecord(docker, model.project)]);
  } catch (error) {
    return { ...row, problems: [(error as Error).message] };
  }
  if (containers.length === 0 && record === null) {
    row.health = 'not-deployed';
    row.services = model.services.map((s) => ({ name: s.name, wantedImage: s.image, runningImage: null, health: 'not-deployed', state: 'not deployed' }));
    row.ok = !options.requireDeployed;
    if (options.requireDeployed) row.problems.push(`not deployed (--require-deployed)`);
    return row;
  }
  row.deployed = true;
  row.lastDeploy = record ? { at: record.at, commit: record.dirty ? null : record.commit, ...(record.dirty ? { dirty: true } : {}) } : null;

  row.services = model.services.map((s) => serviceStatus(s, containers.filter((c) => c.service === s.name)));
  for (const c of containers.filter((c) => !model.services.some((s) => s.name === c.service))) {
    row.services.push({ name: c.service || c.name, wantedImage: null, runningImage: c.imageRef, health: containerHealth(c).health, state: containerHealth(c).state, restarts: c.restartCount });
  }
  const mainRunning = main ? containers.find((c) => c.service === main.name) : undefined;
  row.runningVersion = mainRunning ? versionOf(mainRunning.imageRef) : null;
  row.drift = await driftOf(root, target, model, rendered, containers, docker, options);
  // The file git renders now is not the one the last deploy applied (a secret-reading service's change shows here when nothing else does).
  const digest = sha256(rendered);
  if (record && record.renderedDigest !== '' && record.renderedDigest !== digest && row.drift.length === 0) {
    row.drift.push({ what: 'rendered file', wanted: short(digest), running: `${short(record.renderedDigest)} (last deploy)` });
  }
  row.health = rowHealth(row.services);
  row.lastBackup = await lastBackup(docker, model, rendered, containers, options.now ?? new Date());

  for (const s of row.services) {
    if (s.health === 'healthy' || s.health === 'not-deployed') continue;
    row.problems.push(`${s.name}: ${s.health} (${s.state})`);
  }
  for (const d of row.drift) row.problems.push(`drift: ${describeDrift(d)}`);
  if (row.lastBackup && !row.lastBackup.healthy) {
    const interval = cronInterval(row.lastBackup.schedule, 'backup schedule');
    row.problems.push(
      row.lastBackup.at === null
        ? `backup: no successful backup recorded within twice the schedule "${row.lastBackup.schedule}" (${formatSeconds(2 * interval)}) of its movers' start`
        : `backup: the last successful backup (${row.lastBackup.at}) is older than twice the schedule "${row.lastBackup.schedule}" allows (${formatSeconds(2 * interval)})`,
    );
  }
  row.ok = row.problems.length === 0;
  return row;
}

/** The service whose image is the project's version: the one named like the project, else the first long-running one. */
export function mainService(model: ComposeModel, project: string): ComposeService | undefined {
  return model.services.find((s) => s.name === project) ?? model.services.find((s) => !s.job && !s.cron && s.name !== SCHEDULER_SERVICE) ?? model.services[0];
}

/**
 * The version of an image reference: its digest (shortened) when pinned by one, else its tag
 * (`latest` when it has none).
 * @example versionOf('ghcr.io/a/b:1.2@sha256:0123456789abcdef…') // 'sha256:0123456789ab'
 */
export function versionOf(ref: string): string {
  const at = ref.indexOf('@');
  if (at !== -1) return ref.slice(at + 1, at + 1 + 'sha256:'.length + 12);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : 'latest';
}

/** A container's health and state in a few words. Jobs that exited 0 are done; a cron or backup container that never ran or last ran fine is healthy. */
export function containerHealth(c: ContainerInfo): { health: Health; state: string } {
  if (isCron(c)) {
    if (c.running) return { health: 'healthy', state: 'running now (started by the scheduler)' };
    if (c.status === 'created' || c.finishedAt === '' || c.finishedAt.startsWith('0001-')) return { health: 'healthy', state: 'never ran yet' };
    const when = c.finishedAt.replace(/\.\d+Z$/, 'Z');
    return c.exitCode === 0 ? { health: 'healthy', state: `last run ok at ${when}` } : { health: 'unhealthy', state: `last run exited with code ${c.exitCode} at ${when}` };
  }
  if (hasCompleted(c)) return { health: 'healthy', state: 'completed' };
  if (c.restarting) return { health: 'unhealthy', state: `restarting (${c.restartCount} restart(s))` };
  if (!c.running) {
    if (isJob(c)) return { health: 'unhealthy', state: `exited (${c.exitCode})` };
    return { health: 'stopped', state: c.status === 'created' ? 'created, never started' : `exited (${c.exitCode})` };
  }
  if (c.health === 'unhealthy') return { health: 'unhealthy', state: 'running, health check failing' };
  if (c.health === 'starting') return { health: 'starting', state: 'running, health check not passed yet' };
  return { health: 'healthy', state: c.health === 'healthy' ? 'running, healthy' : 'running' };
}

const SEVERITY: Health[] = ['healthy', 'not-deployed', 'starting', 'stopped', 'unhealthy', 'unknown'];

function worst(healths: Health[]): Health {
  return healths.reduce<Health>((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'healthy');
}

function serviceStatus(s: ComposeService, containers: ContainerInfo[]): ServiceStatus {
  if (containers.length === 0) return { name: s.name, wantedImage: s.image, runningImage: null, health: 'stopped', state: 'no container' };
  const states = containers.map(containerHealth);
  const health = worst(states.map((h) => h.health));
  const state = containers.length === 1 ? states[0].state : `${states.filter((h) => h.health === 'healthy').length}/${containers.length} up; ${[...new Set(states.map((h) => h.state))].join(', ')}`;
  return { name: s.name, wantedImage: s.image, runningImage: containers[0].imageRef, health, state, restarts: containers.reduce((n, c) => n + c.restartCount, 0) };
}

/** A row's health: a service that does not run at all makes the row stopped only when none runs; otherwise the worst. */
function rowHealth(services: ServiceStatus[]): Health {
  if (services.length > 0 && services.every((s) => s.health === 'stopped')) return 'stopped';
  return worst(services.map((s) => s.health));
}

/**
 * How what runs differs from what git renders: a missing or extra service, a container started by
 * hand, and per service the image, the environment (names of secret keys only, values `***`), the
 * command, the inline configs' digest and, for the services that read no secret value, Compose's
 * config hash as deploy computes it (so ports, volumes and every other setting count too).
 */
async function driftOf(
  root: string,
  target: ComposeTarget,
  model: ComposeModel,
  rendered: string,
  containers: ContainerInfo[],
  docker: Docker,
  options: ComposeStatusOptions,
): Promise<Drift[]> {
  const drift: Drift[] = [];
  const doc = YAML.parse(rendered) as { services?: Record<string, Record<string, unknown>> };
  const secretKeys = new Set([...model.meta.secrets.keys.map((k) => k.key), ...(model.backup?.keys ?? []).map((k) => k.key), ...(model.database ? databaseEnvValues(model.database, '').keys() : [])]);
  const readsSecrets = new Set(model.meta.secrets.services);
  const hashes = await configHashes(root, target, model, rendered, containers, docker, options);
  for (const s of model.services) {
    const mine = containers.filter((c) => c.service === s.name);
    if (mine.length === 0) {
      drift.push({ service: s.name, what: 'missing service', wanted: s.image, running: 'no container' });
      continue;
    }
    const wanted = doc.services?.[s.name] ?? {};
    for (const c of mine) {
      if (c.labels['com.docker.compose.oneoff'] === 'True' || !c.configHash) {
        drift.push({ service: s.name, what: 'started by hand', wanted: 'a container deploy created', running: `container ${c.name}` });
        continue;
      }
      if (c.imageRef !== s.image) drift.push({ service: s.name, what: 'image', wanted: s.image, running: c.imageRef });
      drift.push(...(await envDrift(s.name, wanted.environment, c, secretKeys, docker)));
      const command = Array.isArray(wanted.command) ? (wanted.command as unknown[]).map(String) : null;
      if (command && c.command && JSON.stringify(command) !== JSON.stringify(c.command)) {
        drift.push({ service: s.name, what: 'command', wanted: JSON.stringify(command), running: JSON.stringify(c.command) });
      }
      if ((s.configDigest ?? '') !== (c.labels[CONFIG_DIGEST_LABEL] ?? '')) {
        drift.push({ service: s.name, what: 'config', wanted: short(s.configDigest ?? 'none'), running: short(c.labels[CONFIG_DIGEST_LABEL] ?? 'none') });
      }
      const hash = hashes.get(s.name);
      const explained = drift.some((d) => d.service === s.name);
      if (!readsSecrets.has(s.name) && hash && c.configHash !== hash && !explained) {
        drift.push({ service: s.name, what: 'configuration', wanted: `config hash ${hash.slice(0, 12)}`, running: `config hash ${c.configHash.slice(0, 12)}` });
      }
    }
    const up = mine.filter((c) => c.configHash && c.labels['com.docker.compose.oneoff'] !== 'True').length;
    if (!s.cron && !s.job && up > s.replicas) drift.push({ service: s.name, what: 'replicas', wanted: String(s.replicas), running: String(up) });
  }
  const names = new Set(model.services.map((s) => s.name));
  for (const c of containers.filter((c) => !names.has(c.service))) {
    drift.push({ service: c.service || c.name, what: 'extra service', wanted: 'not in git', running: `container ${c.name} (${c.imageRef})` });
  }
  return drift;
}

/** Compose's config hash of each service as deploy computes it now, with no secret value (deploy/compose.ts ComposeCli.hashes). */
async function configHashes(root: string, target: ComposeTarget, model: ComposeModel, rendered: string, containers: ContainerInfo[], docker: Docker, options: ComposeStatusOptions): Promise<Map<string, string>> {
  const scratch = new SecretScratch(options.tmpDir);
  try {
    const file = scratch.write('rendered.yaml', rendered);
    const compose = new ComposeCli(docker, { root, layer: target.layer, project: target.project }, scratch.write('empty.env', ''));
    return await compose.hashes(runnable(model, file, new Map(), scratch, 'status'), containers);
  } catch {
    // Without the hashes, the other comparisons still stand.
    return new Map();
  } finally {
    scratch.remove();
  }
}

/**
 * The environment a service wants (the rendered file's `environment`) against the container's:
 * a value that differs, a variable missing, or one added that neither the file, the image nor a
 * secret key explains. A secret key's value is never compared nor shown.
 */
async function envDrift(service: string, environment: unknown, c: ContainerInfo, secretKeys: ReadonlySet<string>, docker: Docker): Promise<Drift[]> {
  if (!c.env) return [];
  const wanted = new Map<string, string | null>();
  if (environment && typeof environment === 'object' && !Array.isArray(environment)) {
    for (const [k, v] of Object.entries(environment as Record<string, unknown>)) wanted.set(k, v === null || v === undefined ? null : String(v));
  }
  const running = new Map<string, string>();
  for (const line of c.env) {
    const eq = line.indexOf('=');
    if (eq > 0) running.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const shown = (key: string, value: string | null | undefined) => (value === null || value === undefined ? '(unset)' : secretKeys.has(key) ? MASKED : JSON.stringify(value));
  const drift: Drift[] = [];
  for (const [key, value] of wanted) {
    if (secretKeys.has(key) || value === null) continue;
    if (running.get(key) !== value) drift.push({ service, what: `env ${key}`, wanted: shown(key, value), running: shown(key, running.get(key)) });
  }
  const extra = [...running.keys()].filter((k) => !wanted.has(k) && !secretKeys.has(k));
  if (extra.length > 0) {
    const image = await imageEnv(docker, c.image);
    for (const key of extra) {
      if (image.has(key) && image.get(key) === running.get(key)) continue;
      drift.push({ service, what: `env ${key}`, wanted: image.has(key) ? shown(key, image.get(key)) : '(unset)', running: shown(key, running.get(key)) });
    }
  }
  return drift;
}

async function imageEnv(docker: Docker, image: string): Promise<Map<string, string>> {
  const result = await docker.run(['image', 'inspect', '--format', '{{json .Config.Env}}', image]);
  const env = new Map<string, string>();
  if (result.code !== 0) return env;
  try {
    for (const line of (JSON.parse(result.stdout.trim()) as string[] | null) ?? []) {
      const eq = line.indexOf('=');
      if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
    }
  } catch {
    // No image environment: every extra variable is reported.
  }
  return env;
}

/**
 * The last successful backup of a project that has backups: the oldest of its volumes' last
 * successes (the project is only as safe as its least recent volume), from the movers' metric in
 * the host's volume homelab-backup-metrics (project/backup-metrics.ts), read through a container
 * of the movers' own image with no network; stale when older than twice the longest gap of the
 * schedule (cronInterval). A backup that has not succeeded yet is given the same time from when
 * its movers' containers were created (a new app, or movers recreated by a changed backup), then
 * counts as stale: an app is not reported broken the minute it is deployed.
 */
async function lastBackup(docker: Docker, model: ComposeModel, rendered: string, containers: ContainerInfo[], now: Date): Promise<LastBackup | null> {
  const movers = model.services.filter((s) => s.mover);
  if (movers.length === 0) return null;
  const volumes = backedUpVolumes(YAML.parse(rendered) as Record<string, any>, model.project);
  const schedule = movers.map((m) => m.schedule ?? '').find((s) => s !== '') ?? '';
  const interval = Math.max(...movers.map((m) => cronInterval(m.schedule ?? schedule, `${m.name} schedule`)));
  const files = volumes.map((v) => `${BACKUP_METRICS_MOUNT}/${model.project}-${v.volume}.prom`);
  const result = await docker.run(['run', '--rm', '--network', 'none', '--pull', 'never', '-v', `${BACKUP_METRICS_VOLUME}:${BACKUP_METRICS_MOUNT}:ro`, '--entrypoint', 'cat', volumes[0]?.image ?? movers[0].image, ...files]);
  const times = new Map<string, number>();
  for (const line of result.stdout.split('\n')) {
    const m = new RegExp(`^${BACKUP_METRIC}\\{[^}]*volume="([^"]*)"[^}]*\\}\\s+([0-9.eE+]+)`).exec(line.trim());
    if (m) times.set(m[1], Number(m[2]));
  }
  const each = volumes.map((v) => times.get(v.volume));
  const oldest = each.some((t) => t === undefined) ? null : Math.min(...(each as number[]));
  const at = oldest === null ? null : new Date(oldest * 1000).toISOString();
  const created = containers
    .filter((c) => movers.some((m) => m.name === c.service))
    .map((c) => Date.parse(c.created ?? '') / 1000)
    .filter((t) => Number.isFinite(t));
  const since = oldest ?? (created.length > 0 ? Math.max(...created) : null);
  const healthy = since !== null && now.getTime() / 1000 - since <= 2 * interval;
  return { at, schedule, healthy };
}

/** One drift, one line, as the table and the exit message print it. */
export function describeDrift(d: Drift): string {
  return `${d.service ? `${d.service} ` : ''}${d.what}: git renders ${d.wanted}, runs ${d.running}`;
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** A duration in the largest whole unit: 2d, 5h, 30m, 12s. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)}d`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}
