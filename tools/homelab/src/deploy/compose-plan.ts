import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { BACKUP_PROFILE, type ComposeMetadata, CRON_PROFILE } from '../build/dist';
import { RUNS_TO_COMPLETION } from '../app/steps/compose';
import { type ContainerInfo, describeRun, describeState, isUp, JOB_KIND_LABEL, SCHEDULE_LABEL } from './docker';
import { type ComposeDatabase, DATABASE_KEY, readComposeDatabase } from './database';
import { DeployError } from './errors';
import { type VolumeMount, volumeMounts } from './volume-owner';

/** A service of a rendered Compose file, with what deploy needs to decide how to update it. */
export interface ComposeService {
  name: string;
  image: string;
  replicas: number;
  /** Mounts a named volume or a host path: two containers must not run on the same data. */
  stateful: boolean;
  /** A fixed container_name cannot have two containers at once. */
  fixedName: boolean;
  /** Seconds a healthy start may take: start_period + (interval + timeout) x (retries + 1). */
  healthSeconds: number;
  /** stop_grace_period in seconds (Docker's default 10). */
  stopGraceSeconds: number;
  /** A one-shot job (label `homelab.kind: job`) or an init container of a service (`init`): done when its container exited with 0. */
  job: boolean;
  /** An init container of a service (`homelab.kind: init`), which runs before it as a job does. */
  init: boolean;
  /**
   * A cron service (label `homelab.kind: cron`, profile cron), or a backup mover (`homelab.kind: backup`,
   * profile backup): deploy creates its container and never starts it; the app's scheduler starts
   * it on `schedule` (label `homelab.schedule`).
   */
  cron: boolean;
  /** A backup mover (docs/backup.md), one of the `cron` services. */
  mover: boolean;
  schedule?: string;
  /**
   * A digest of the inline `content` of the Compose configs it mounts (the scheduler's crontab),
   * or undefined without any. Compose's config hash leaves that content out, so a changed
   * crontab would not recreate the scheduler: deploy labels the service with this digest.
   */
  configDigest?: string;
  /** The services it starts after (`depends_on`, whatever the condition), sorted. */
  dependsOn: string[];
}

export interface ComposeModel {
  project: string;
  services: ComposeService[];
  meta: ComposeMetadata;
  /** The read-write mounts of local named volumes, whose owner deploy sets before a container is created (volume-owner.ts). */
  volumeMounts: VolumeMount[];
  /** The Compose project this app took over with its volumes (`x-homelab-adopted`, written by `nx g homelab:import`), or null. */
  adopted: string | null;
  /** The external networks its services join, by their names on the engine (deploy creates the shared ones: deploy/networks.ts). */
  networks: string[];
  /** The app's database, which deploy provisions before the app starts (`x-homelab-database`), or null. */
  database: ComposeDatabase | null;
  /** The networks of the apps it depends on (external, marked `x-homelab-app`): each must exist before it starts. */
  appNetworks: { network: string; app: string }[];
  /** The app's backups (`x-homelab-backup`), or null without any. */
  backup: ComposeBackup | null;
}

/** The mark of an external network that is another app's (docs/spec.md, "Apps that depend on apps"). */
export const APP_NETWORK_KEY = 'x-homelab-app';

/** The top-level extension `nx g homelab:import` writes into the override of the environment that takes over a running stack. */
export const ADOPTED_KEY = 'x-homelab-adopted';

/** Reads a file rendered by `build` (merged Compose with `x-homelab`). */
export function parseCompose(text: string, where: string): ComposeModel {
  let doc: Record<string, unknown>;
  try {
    doc = YAML.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DeployError(`${where} is not YAML (${(error as Error).message.split('\n')[0]}); run the build target again`);
  }
  const meta = doc?.['x-homelab'] as ComposeMetadata | undefined;
  if (!meta || typeof doc.name !== 'string') {
    throw new DeployError(`${where} was not rendered by this version of homelab (no name or x-homelab); run the build target again`);
  }
  const configs = (doc.configs ?? {}) as Record<string, { content?: unknown } | null>;
  const services = Object.entries((doc.services ?? {}) as Record<string, Record<string, any>>)
    .map(([name, s]): ComposeService => {
      const health = s.healthcheck as Record<string, unknown> | undefined;
      const hasHealth = Boolean(health) && health?.disable !== true && !(Array.isArray(health?.test) && health.test[0] === 'NONE');
      const interval = seconds(health?.interval, 30);
      const timeout = seconds(health?.timeout, 30);
      const retries = typeof health?.retries === 'number' ? health.retries : 3;
      const startPeriod = seconds(health?.start_period, 0);
      const volumes = Array.isArray(s.volumes) ? (s.volumes as Record<string, unknown>[]) : [];
      const kind = labelValue(s.labels, JOB_KIND_LABEL);
      const schedule = labelValue(s.labels, SCHEDULE_LABEL);
      for (const [k, profile] of [['cron', CRON_PROFILE], [BACKUP_PROFILE, BACKUP_PROFILE]]) {
        const inProfile = Array.isArray(s.profiles) && s.profiles.map(String).includes(profile);
        if ((kind === k) !== inProfile) {
          const fix = kind === k ? `is labelled ${JOB_KIND_LABEL}: ${k} but not in profiles: ["${profile}"], so \`docker compose up\` would start it` : `is in the ${profile} profile but not labelled ${JOB_KIND_LABEL}: ${k}, so nothing would ever start it`;
          throw new DeployError(`${where}: service ${name} ${fix}; run the build target again`);
        }
      }
      const scheduled = kind === 'cron' || kind === BACKUP_PROFILE;
      if (scheduled && !schedule?.trim()) throw new DeployError(`${where}: ${kind} service ${name} has no ${SCHEDULE_LABEL} label; run the build target again`);
      return {
        name,
        image: String(s.image ?? ''),
        replicas: typeof s.deploy?.replicas === 'number' ? s.deploy.replicas : typeof s.scale === 'number' ? s.scale : 1,
        stateful: volumes.some((v) => (typeof v === 'string' ? true : v?.type !== 'tmpfs')),
        fixedName: typeof s.container_name === 'string',
        healthSeconds: hasHealth ? startPeriod + (interval + timeout) * (retries + 1) : 0,
        stopGraceSeconds: seconds(s.stop_grace_period, 10),
        job: (RUNS_TO_COMPLETION as readonly string[]).includes(kind ?? ''),
        init: kind === 'init',
        cron: scheduled,
        mover: kind === BACKUP_PROFILE,
        ...(scheduled ? { schedule } : {}),
        ...configDigest(s.configs, configs),
        dependsOn: (Array.isArray(s.depends_on) ? (s.depends_on as unknown[]).map(String) : Object.keys(s.depends_on ?? {})).sort(),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const appNetworks = Object.entries((doc.networks ?? {}) as Record<string, Record<string, unknown> | null>)
    .filter(([, n]) => typeof n?.[APP_NETWORK_KEY] === 'string')
    .map(([key, n]) => ({ network: typeof n!.name === 'string' ? n!.name : key, app: String(n![APP_NETWORK_KEY]) }))
    .sort((a, b) => a.app.localeCompare(b.app));
  return {
    project: doc.name,
    services,
    meta,
    volumeMounts: volumeMounts(doc, doc.name),
    adopted: adoptedProject(doc[ADOPTED_KEY], where),
    networks: externalNetworks(doc.networks),
    database: readComposeDatabase(doc[DATABASE_KEY], where),
    appNetworks,
    backup: readComposeBackup(doc[BACKUP_KEY], where),
  };
}

/** The top-level extension of compose.generated.yaml with what deploy needs of the app's backups (docs/backup.md). */
export const BACKUP_KEY = 'x-homelab-backup';

/** `x-homelab-backup`: the host-path target deploy checks (null: S3), the store keys of the movers' env file. */
export interface ComposeBackup {
  targetPath: string | null;
  /** The default folder (no backup.target in homelab.yaml): deploy creates it when missing. */
  createTarget?: boolean;
  keys: { key: string; remoteKey: string; property: string }[];
}

function readComposeBackup(value: unknown, where: string): ComposeBackup | null {
  if (value === undefined || value === null) return null;
  const v = value as Partial<ComposeBackup>;
  const ok =
    (v.targetPath === null || typeof v.targetPath === 'string') &&
    Array.isArray(v.keys) &&
    v.keys.every((k) => typeof k?.key === 'string' && typeof k.remoteKey === 'string' && typeof k.property === 'string');
  if (!ok) throw new DeployError(`${where}: ${BACKUP_KEY} is not what this version of homelab renders; run the build target again`);
  return v as ComposeBackup;
}

/** The engine names of the external networks of a resolved file (`docker compose config` lists only those a service joins). */
function externalNetworks(networks: unknown): string[] {
  return Object.entries((networks ?? {}) as Record<string, { name?: unknown; external?: unknown } | null>)
    .filter(([, n]) => n?.external === true)
    .map(([key, n]) => (typeof n?.name === 'string' ? n.name : key))
    .sort();
}

function adoptedProject(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  const project = (value as { project?: unknown }).project;
  if (typeof project !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new DeployError(`${where}: ${ADOPTED_KEY}.project must name a Compose project (lower-case letters, digits, '-', '_'); fix it in the environment's compose.override.yaml`);
  }
  return project;
}

/** `{ configDigest }` of the inline configs a service mounts (short or long syntax), or `{}` when it mounts none. */
function configDigest(mounts: unknown, configs: Record<string, { content?: unknown } | null>): { configDigest?: string } {
  const used = (Array.isArray(mounts) ? mounts : [])
    .map((m) => (typeof m === 'string' ? { source: m, target: undefined } : { source: String(m?.source), target: m?.target }))
    .filter((m) => typeof configs[m.source]?.content === 'string')
    .map((m) => [m.source, m.target ?? null, configs[m.source]!.content])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return used.length === 0 ? {} : { configDigest: createHash('sha256').update(JSON.stringify(used)).digest('hex').slice(0, 16) };
}

/** A label of a Compose service, whether its labels are a map (as `config` writes them) or a `KEY=value` list. */
function labelValue(labels: unknown, key: string): string | undefined {
  if (Array.isArray(labels)) {
    const entry = labels.map(String).find((l) => l === key || l.startsWith(`${key}=`));
    return entry === undefined ? undefined : entry.slice(key.length + 1);
  }
  const value = (labels as Record<string, unknown> | undefined)?.[key];
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * The start order of a model: levels of services, each starting once every service of the
 * levels before is up. A service without `depends_on` is on the first level; any other one
 * level after the last of its dependencies (whatever the condition: deploy waits for each
 * service the way its kind asks, see compose.ts). A file without `depends_on` is one level.
 * A dependency that is not in the file, or a cycle, is an error (Compose refuses both too).
 * Cron services are on no level: deploy creates them once every level is up (cronServices).
 */
export function startLevels(model: ComposeModel, where = 'the rendered Compose file'): ComposeService[][] {
  const started = model.services.filter((s) => !s.cron);
  const byName = new Map(started.map((s) => [s.name, s]));
  for (const s of started) {
    const unknown = s.dependsOn.find((d) => !byName.has(d));
    if (unknown && model.services.some((c) => c.name === unknown)) {
      throw new DeployError(`${where}: service ${s.name} depends on ${unknown}, a cron service, which runs on its schedule and never starts at deploy; remove it from the spec's dependsOn`);
    }
    if (unknown) throw new DeployError(`${where}: service ${s.name} depends on ${unknown}, which is not a service of the file; run the build target again`);
  }
  const level = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (s: ComposeService): number => {
    const known = level.get(s.name);
    if (known !== undefined) return known;
    if (visiting.includes(s.name)) {
      throw new DeployError(`${where}: the services depend on each other in a cycle (${[...visiting.slice(visiting.indexOf(s.name)), s.name].join(' -> ')}); break it in the spec's dependsOn`);
    }
    visiting.push(s.name);
    const n = s.dependsOn.length === 0 ? 0 : 1 + Math.max(...s.dependsOn.map((d) => visit(byName.get(d)!)));
    visiting.pop();
    level.set(s.name, n);
    return n;
  };
  const levels: ComposeService[][] = [];
  for (const s of started) (levels[visit(s)] ??= []).push(s);
  return levels.filter((l) => l !== undefined);
}

/** The cron services of a model: created after the levels, started by the app's scheduler. */
export function cronServices(model: ComposeModel): ComposeService[] {
  return model.services.filter((s) => s.cron);
}

/** The start order in one line: `1. database  2. migrate (job)  3. server, worker`. */
export function describeLevels(levels: ComposeService[][]): string {
  return levels.map((l, i) => `${i + 1}. ${l.map((s) => (s.init ? `${s.name} (init)` : s.job ? `${s.name} (job)` : s.name)).join(', ')}`).join('  ');
}

/** How long `up --wait` may take for a model: the slowest service's healthy start, plus a margin. */
export function waitTimeoutSeconds(model: ComposeModel): number {
  return Math.max(30, ...model.services.map((s) => s.healthSeconds)) + 15;
}

/** A Go duration as Compose writes it (1m30s, 500ms, 10s) in seconds. */
export function seconds(value: unknown, fallback: number): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : m[2] === 'ms' ? n / 1000 : 0;
    matched += m[0];
  }
  return matched === value.trim() ? total : fallback;
}

export type ServiceAction = 'create' | 'unchanged' | 'scale' | 'rolling' | 'recreate' | 'recreate-stateful' | 'run';

export interface ServicePlan {
  service: ComposeService;
  action: ServiceAction;
  /** The containers of the service before the deploy. */
  current: ContainerInfo[];
  why: string;
}

export interface ComposePlan {
  services: ServicePlan[];
  /** Containers of services that are no longer in the file (removed by --remove-orphans). */
  orphans: ContainerInfo[];
  changed: boolean;
}

/**
 * Decides, per service, what the deploy does, the way Compose will: a container is
 * recreated when its config hash or its image ID differs from the new ones. A changed
 * stateless service with more than one replica is rolled (new containers first);
 * a changed service with volumes stops before it starts again. A job whose container exited
 * with 0 is done, not down; when anything else changes, every job runs again (the stack
 * starts level by level, jobs included), and a job whose last run failed runs again. A cron
 * service's container is created when missing or changed and otherwise left as it is, whether
 * it never ran, runs now or exited with any code: the scheduler runs it, not deploy.
 */
export function planChanges(
  model: ComposeModel,
  containers: ContainerInfo[],
  hashes: ReadonlyMap<string, string>,
  imageIds: ReadonlyMap<string, string>,
): ComposePlan {
  const services = model.services.map((service): ServicePlan => {
    const current = containers.filter((c) => c.service === service.name);
    const hash = hashes.get(service.name);
    const imageId = imageIds.get(service.image);
    const stale = current.filter((c) => c.configHash !== hash || (imageId !== undefined && c.imageLabel !== imageId));
    const up = current.filter((c) => c.running || (service.job && isUp(c)));
    if (service.cron) {
      // Never run, scaled or rolled by deploy: created (again) when missing or changed, whatever its last run did.
      if (current.length === 0) return { service, action: 'create', current, why: 'a new container' };
      if (stale.length > 0) return { service, action: 'recreate', current, why: stale.some((c) => imageId !== undefined && c.imageLabel !== imageId) ? `image ${service.image} changed` : 'configuration changed' };
      return { service, action: 'unchanged', current, why: describeRun(current[0]) };
    }
    if (current.length === 0) return { service, action: 'create', current, why: `${service.replicas} new container(s)` };
    if (stale.length === 0) {
      const failed = service.job ? current.find((c) => !isUp(c) && !c.running) : undefined;
      if (failed) return { service, action: 'run', current, why: `its last run ${describeState(failed)}` };
      if (up.length !== service.replicas) return { service, action: 'scale', current, why: `${up.length} -> ${service.replicas} running container(s)` };
      return { service, action: 'unchanged', current, why: `${current.length} container(s) up to date` };
    }
    const why = stale.some((c) => imageId !== undefined && c.imageLabel !== imageId) ? `image ${service.image} changed` : 'configuration changed';
    if (service.stateful) return { service, action: 'recreate-stateful', current, why };
    if (service.replicas > 1 && !service.fixedName && up.length > 0) return { service, action: 'rolling', current, why };
    return { service, action: 'recreate', current, why };
  });
  const names = new Set(model.services.map((s) => s.name));
  const orphans = containers.filter((c) => !names.has(c.service));
  const changed = orphans.length > 0 || services.some((s) => s.action !== 'unchanged');
  const again = (s: ServicePlan): ServicePlan => (changed && s.service.job && s.action === 'unchanged' ? { ...s, action: 'run', why: 'every deploy that changes the stack runs its jobs again' } : s);
  return { services: services.map(again), orphans, changed };
}

/**
 * The running containers a plan stops or removes: those it replaces, the surplus of a
 * scale-down, orphans. Without a recorded earlier deploy, a failed deploy could not bring
 * them back.
 */
export function displaced(plan: ComposePlan): ContainerInfo[] {
  const replacing: ServiceAction[] = ['recreate', 'recreate-stateful', 'rolling'];
  const services = plan.services.filter((s) => replacing.includes(s.action) || (s.action === 'scale' && s.current.length > s.service.replicas));
  return [...services.flatMap((s) => s.current), ...plan.orphans].filter((c) => c.running);
}

/** One line per service for the plan. */
export function describePlan(plan: ServicePlan): string {
  const s = plan.service;
  if (s.cron) {
    const runs = `runs on ${s.schedule}`;
    if (plan.action === 'unchanged') return `${s.name}: unchanged, ${runs} (cron: ${plan.why})`;
    const stops = plan.current.some((c) => c.running) ? '; its current run is stopped' : '';
    return `${s.name}: ${plan.action === 'create' ? 'create' : `recreate (${plan.why})`}: created, not started, ${runs} (cron: the scheduler starts it${stops})`;
  }
  switch (plan.action) {
    case 'create':
      return `${s.name}: create (${plan.why})`;
    case 'unchanged':
      return `${s.name}: unchanged (${plan.why})`;
    case 'scale':
      return `${s.name}: scale (${plan.why})`;
    case 'rolling':
      return `${s.name}: rolling update, no downtime (${plan.why}): start ${s.replicas} new container(s), wait until healthy, then stop the ${plan.current.length} old one(s)`;
    case 'recreate':
      return `${s.name}: recreate (${plan.why}): stop, then start`;
    case 'recreate-stateful':
      return `${s.name}: recreate (${plan.why}): it has volumes, so it stops before it starts again (a short downtime)`;
    case 'run':
      return `${s.name}: run the job again (${plan.why})`;
  }
}
