import { InputError, show } from '../../errors';
import { quantityBytes } from '../../spec/quantity';
import type { BackupProvider, QuotaSpec, WorkspaceConfig } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp, type NormalizedEnvironment } from '../normalized';
import type { ServiceWorkload } from './workloads';

/**
 * Namespace guardrails (docs/availability.md, "Namespace quotas and limits"): each environment's
 * namespace gets a ResourceQuota `<app>` sized for the app at its peak and a LimitRange `<app>`
 * whose defaults let pods without resources (backup movers, an operator's helper pods, a debug
 * pod) start under it.
 */

/**
 * The headroom added to the derived need when homelab.yaml says nothing (`quotas.headroom`): a
 * quarter on top of the peak is room for what homelab cannot see (a `kubectl run` debug pod, the
 * runbook's restore pods, an operator's helper pod), about one extra pod of a small app, without
 * making the quota so loose it stops nothing.
 */
export const DEFAULT_HEADROOM = 25;

/**
 * The LimitRange's container defaults: the app defaults' requests (APP_DEFAULTS), and the memory
 * limit the restic containers of homelab's own backup jobs have (BACKUP_JOB_RESOURCES), since
 * VolSync's and k8up's restic movers are the pods without resources an app namespace sees most.
 * A CPU limit is defaulted only where the quota has `limits.cpu` (every container has one), so
 * the LimitRange never adds a CPU limit to a container that chose none.
 */
export const LIMIT_RANGE_DEFAULTS = {
  defaultRequest: { cpu: APP_DEFAULTS.requests.cpu, memory: APP_DEFAULTS.requests.memory },
  default: { cpu: '500m', memory: '512Mi' },
} as const;

/** The resources of the containers of homelab's backup dump CronJobs (its dump and restic containers). */
export const BACKUP_JOB_RESOURCES = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '512Mi' } } as const;

/** VolSync's restic cache claim when a ReplicationSource or ReplicationDestination sets no cacheCapacity (VolSync 0.14). */
export const VOLSYNC_CACHE_SIZE = '1Gi';

type Resources = NormalizedApp['resources'];
type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob';

/**
 * The most pods a service has at once in an environment: its replicas, plus the one surge pod a
 * Deployment's rolling update starts before it stops an old one (maxSurge 1); a StatefulSet
 * replaces its pods one at a time, a Job runs one pod, a cron service one run at a time
 * (concurrencyPolicy Forbid). The one place every part asks for a service's peak.
 */
export function peakReplicas(service: { kind: WorkloadKind; replicas: number }): number {
  if (service.kind === 'Job' || service.kind === 'CronJob') return 1;
  if (service.replicas === 0) return 0;
  return service.replicas + (service.kind === 'Deployment' ? 1 : 0);
}

/** Millicores of a CPU quantity as the spec writes it ("250m", "0.5", "2"). */
export function cpuMillis(quantity: string, where: string): number {
  const match = /^(?:([1-9][0-9]*)m|([0-9]+)(?:\.([0-9]{1,3}))?)$/.exec(quantity);
  if (!match) throw new InputError(`${where} ${show(quantity)} is not a CPU quantity; use millicores like "250m" or cores like "0.5"`);
  if (match[1] !== undefined) return Number(match[1]);
  return Number(match[2]) * 1000 + Number((match[3] ?? '').padEnd(3, '0'));
}

/**
 * A CPU quantity as the API server writes it back: whole cores, else millicores.
 * @example formatCpu(1500) // '1500m'
 * @example formatCpu(2000) // '2'
 */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/**
 * Bytes rounded up to a whole Mi, written as the API server writes it back: the largest binary
 * unit that holds it whole.
 * @example formatBytes(1280 * 2 ** 20) // '1280Mi'
 * @example formatBytes(2 ** 31) // '2Gi'
 */
export function formatBytes(bytes: number): string {
  const mi = Math.ceil(bytes / 2 ** 20);
  if (mi === 0) return '0';
  if (mi % 2 ** 20 === 0) return `${mi / 2 ** 20}Ti`;
  if (mi % 1024 === 0) return `${mi / 1024}Gi`;
  return `${mi}Mi`;
}

/** One pod's effective resources: cpu in millicores, memory in bytes; cpuLimit null when a container has none. */
interface PodResources {
  cpu: number;
  memory: number;
  cpuLimit: number | null;
  memoryLimit: number;
}

/**
 * A pod's effective requests and limits as Kubernetes counts them for the quota: the larger of
 * its biggest init container (they run one at a time, before the others) and the sum of the
 * containers that run together (the service's and its sidecars').
 */
export function podResources(running: Resources[], init: Resources[], where: string): PodResources {
  const of = (c: Resources) => ({
    cpu: cpuMillis(c.requests.cpu ?? '0', `${where}: resources.requests.cpu`),
    memory: c.requests.memory === undefined ? 0 : quantityBytes(c.requests.memory, `${where}: resources.requests.memory`),
    cpuLimit: c.limits.cpu === undefined ? null : cpuMillis(c.limits.cpu, `${where}: resources.limits.cpu`),
    memoryLimit: quantityBytes(c.limits.memory ?? APP_DEFAULTS.limits.memory, `${where}: resources.limits.memory`),
  });
  const sum = running.map(of).reduce<PodResources>(
    (a, c) => ({ cpu: a.cpu + c.cpu, memory: a.memory + c.memory, cpuLimit: a.cpuLimit === null || c.cpuLimit === null ? null : a.cpuLimit + c.cpuLimit, memoryLimit: a.memoryLimit + c.memoryLimit }),
    { cpu: 0, memory: 0, cpuLimit: 0, memoryLimit: 0 },
  );
  return init.map(of).reduce<PodResources>(
    (a, c) => ({
      cpu: Math.max(a.cpu, c.cpu),
      memory: Math.max(a.memory, c.memory),
      cpuLimit: a.cpuLimit === null || c.cpuLimit === null ? null : Math.max(a.cpuLimit, c.cpuLimit),
      memoryLimit: Math.max(a.memoryLimit, c.memoryLimit),
    }),
    sum,
  );
}

/** What the quota counts of one environment: each thing that runs or claims storage in the namespace. */
export interface QuotaInput {
  app: string;
  where: string;
  env: string;
  /** Every service, with its kind and its replicas and resources in this environment. */
  services: { name: string; kind: WorkloadKind; replicas: number; autoscaled?: boolean; resources: Resources; sidecars: Resources[]; init: Resources[] }[];
  /** The PostgreSQL dump CronJobs (one run at a time). */
  dumps: string[];
  provider: BackupProvider;
  /** The backed-up volumes VolSync or k8up copies with a mover pod of their own. */
  movers: { volume: string; size: string; copyMethod: string }[];
  /** The claims homelab creates (their sizes), and those the spec names that exist in the namespace already (sizes unknown). */
  claims: { name: string; size: string }[];
  externalClaims: string[];
  /** The owner's budget: the app's `quota`, with the environment's `quota` over it (field: where each value was set). */
  owner: { key: QuotaKey; value: string; field: string }[];
  headroom: number;
}

export type QuotaKey = 'requests.cpu' | 'requests.memory' | 'limits.cpu' | 'limits.memory';

/** The ResourceQuota and LimitRange of one environment (NormalizedEnvironment['quota']). */
export interface EnvironmentQuota {
  enabled: boolean;
  name: string;
  /** spec.hard, in the order written: requests, limits, pods, claims, storage. */
  hard: { key: string; value: string }[];
  /** The comment lines above spec.hard: what it counts. */
  counted: string[];
  /** Why a key is left out, for the comment beside the others. */
  omitted: string[];
  limitRange: { defaultRequest: Record<string, string>; default: Record<string, string> };
  /** The owner's values the derived need (without headroom) is above: validate's quota/exceeded. */
  exceeded: { key: QuotaKey; need: string; quota: string; field: string }[];
}

export const NO_QUOTA: EnvironmentQuota = { enabled: false, name: '', hard: [], counted: [], omitted: [], limitRange: { defaultRequest: {}, default: {} }, exceeded: [] };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** homelab.yaml `quotas`: whether apps get a quota and a limit range, and the headroom over the need. */
export function quotaSettings(workspace: WorkspaceConfig): { enabled: boolean; headroom: number } {
  const quotas = workspace.quotas;
  if (quotas === false) return { enabled: false, headroom: 0 };
  return { enabled: true, headroom: quotas?.headroom ?? DEFAULT_HEADROOM };
}

/**
 * The owner's budget in one environment: `environments.<env>.quota` over the app's `quota`, key
 * by key, each with the field that set it.
 */
export function ownerQuota(app: QuotaSpec | undefined, env: QuotaSpec | undefined, envName: string): QuotaInput['owner'] {
  const owner: QuotaInput['owner'] = [];
  for (const side of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const own = env?.[side]?.[resource];
      const value = own ?? app?.[side]?.[resource];
      if (value === undefined) continue;
      owner.push({ key: `${side}.${resource}`, value, field: own !== undefined ? `environments.${envName}.quota.${side}.${resource}` : `quota.${side}.${resource}` });
    }
  }
  return owner;
}

/**
 * The ResourceQuota and LimitRange of one environment. The need: every long-running service at
 * its peak (peakReplicas) × its pod's effective resources, one pod of each job and cron service,
 * one of each dump CronJob, one mover pod per backed-up volume (all may run at once, at the
 * LimitRange's defaults); the claims: the app's own, VolSync's restic caches (the backup's and the
 * runbook's restore's) and the copy a Snapshot or Clone takes. The hard limits: the need plus the
 * headroom, or the owner's number where the spec sets one. `limits.cpu` only when every container
 * has a CPU limit (else the quota would refuse those pods), `requests.storage` only when every
 * claim's size is known.
 */
export function environmentQuota(input: QuotaInput): EnvironmentQuota {
  const { where, headroom } = input;
  const counted: string[] = [];
  let need: PodResources = { cpu: 0, memory: 0, cpuLimit: 0, memoryLimit: 0 };
  let pods = 0;
  const add = (count: number, pod: PodResources) => {
    pods += count;
    need = {
      cpu: need.cpu + count * pod.cpu,
      memory: need.memory + count * pod.memory,
      cpuLimit: need.cpuLimit === null || pod.cpuLimit === null ? null : need.cpuLimit + count * pod.cpuLimit,
      memoryLimit: need.memoryLimit + count * pod.memoryLimit,
    };
  };
  const uncapped: string[] = [];
  for (const s of input.services) {
    const count = peakReplicas(s);
    const pod = podResources([s.resources, ...s.sidecars], s.init, where);
    if (pod.cpuLimit === null) uncapped.push(s.name);
    add(count, pod);
    const replicas = s.autoscaled ? `autoscale.max ${s.replicas}` : plural(s.replicas, 'replica');
    const why = s.kind === 'Job' ? 'a job' : s.kind === 'CronJob' ? 'a cron service, one run at a time' : s.kind === 'Deployment' && count > 0 ? `${replicas} + 1 surge pod of a rolling update` : replicas;
    counted.push(`${s.name}: ${plural(count, 'pod')} (${why})`);
  }
  const job = BACKUP_JOB_RESOURCES as unknown as Resources;
  for (const dump of input.dumps) {
    const pod = podResources([job], [job], where);
    if (pod.cpuLimit === null) uncapped.push(dump);
    add(1, pod);
    counted.push(`${dump}: 1 pod (a backup dump, one run at a time)`);
  }
  const owner = new Map(input.owner.map((o) => [o.key, o]));
  // A quota with limits.cpu refuses every pod with a container without a CPU limit.
  const ownCpuLimit = owner.get('limits.cpu');
  if (ownCpuLimit && uncapped.length > 0) {
    throw new InputError(
      `${where}: ${ownCpuLimit.field} ${show(ownCpuLimit.value)}: ${uncapped.map((n) => show(n)).join(', ')} ${uncapped.length === 1 ? 'has a container' : 'have containers'} without a CPU limit, and a quota with limits.cpu refuses such pods; set resources.limits.cpu on each, or remove ${ownCpuLimit.field}`,
    );
  }
  const withCpuLimit = need.cpuLimit !== null;
  const defaults = {
    defaultRequest: { ...LIMIT_RANGE_DEFAULTS.defaultRequest },
    default: withCpuLimit ? { ...LIMIT_RANGE_DEFAULTS.default } : { memory: LIMIT_RANGE_DEFAULTS.default.memory },
  };
  const movers = input.provider === 'velero' ? [] : input.movers;
  if (movers.length > 0) {
    add(movers.length, podResources([{ requests: defaults.defaultRequest, limits: defaults.default }], [], where));
    counted.push(`${input.provider === 'volsync' ? "VolSync's" : "k8up's"} backup movers: ${plural(movers.length, 'pod')}, one per backed-up volume, at the LimitRange's defaults`);
  }

  // Claims: the app's, and VolSync's own for each backed-up volume.
  let claims = input.claims.length + input.externalClaims.length;
  let storage = input.claims.reduce((a, c) => a + quantityBytes(c.size, `${where}: volumes.${c.name}.size`), 0);
  if (input.claims.length + input.externalClaims.length > 0) counted.push(`claims: ${[...input.claims.map((c) => `${c.name} ${c.size}`), ...input.externalClaims.map((c) => `${c} (exists already)`)].join(', ')}`);
  if (input.provider === 'volsync') {
    for (const m of movers) {
      // The backup's restic cache, and the restore in place's (the runbook's ReplicationDestination).
      claims += 2;
      storage += 2 * quantityBytes(VOLSYNC_CACHE_SIZE, 'VolSync cache');
      counted.push(`${m.volume}: 2 VolSync restic caches of ${VOLSYNC_CACHE_SIZE} (backup, restore)${m.copyMethod === 'Direct' ? '' : ` and its ${m.copyMethod} copy of ${m.size}`}`);
      if (m.copyMethod !== 'Direct') {
        claims += 1;
        storage += quantityBytes(m.size, `${where}: volumes.${m.volume}.size`);
      }
    }
  }

  // The headroom, and at least room for one more pod at the LimitRange's defaults (a debug pod), unless it is 0.
  const spare = podResources([{ requests: defaults.defaultRequest, limits: defaults.default }], [], where);
  const up = (n: number, one: number) => Math.max(Math.ceil((n * (100 + headroom)) / 100), headroom === 0 ? n : n + one);
  const derived: Record<QuotaKey, { need: number; one: number; format: (n: number) => string } | null> = {
    'requests.cpu': { need: need.cpu, one: spare.cpu, format: formatCpu },
    'requests.memory': { need: need.memory, one: spare.memory, format: formatBytes },
    'limits.cpu': need.cpuLimit === null ? null : { need: need.cpuLimit, one: spare.cpuLimit ?? 0, format: formatCpu },
    'limits.memory': { need: need.memoryLimit, one: spare.memoryLimit, format: formatBytes },
  };
  const hard: EnvironmentQuota['hard'] = [];
  const exceeded: EnvironmentQuota['exceeded'] = [];
  const omitted: string[] = [];
  for (const key of Object.keys(derived) as QuotaKey[]) {
    const d = derived[key];
    const own = owner.get(key);
    if (own) {
      const quota = key.endsWith('.cpu') ? cpuMillis(own.value, `${where}: ${own.field}`) : quantityBytes(own.value, `${where}: ${own.field}`);
      const format = key.endsWith('.cpu') ? formatCpu : formatBytes;
      hard.push({ key, value: format(quota) });
      if (d && d.need > quota) exceeded.push({ key, need: format(d.need), quota: format(quota), field: own.field });
      continue;
    }
    if (!d) {
      omitted.push(`limits.cpu is left out: ${uncapped.join(', ')} ${uncapped.length === 1 ? 'has' : 'have'} no CPU limit, and a quota with limits.cpu would refuse ${uncapped.length === 1 ? 'its' : 'their'} pods`);
      continue;
    }
    hard.push({ key, value: d.format(up(d.need, d.one)) });
  }
  hard.push({ key: 'pods', value: String(up(pods, 1)) });
  hard.push({ key: 'persistentvolumeclaims', value: String(up(claims, 0)) });
  if (input.externalClaims.length > 0) {
    omitted.push(`requests.storage is left out: the size of ${input.externalClaims.join(', ')} (claims that exist already) is not in the spec`);
  } else {
    hard.push({ key: 'requests.storage', value: formatBytes(up(storage, 0)) });
  }
  counted.push(headroom === 0 ? 'no headroom (homelab.yaml quotas.headroom: 0)' : `+ ${headroom} % headroom (homelab.yaml quotas.headroom), at least one more pod at the LimitRange's defaults`);
  if (input.owner.length > 0) counted.push(`the owner's budget: ${input.owner.map((o) => `${o.key} from ${o.field}`).join(', ')}`);
  return { enabled: true, name: input.app, hard, counted, omitted, limitRange: defaults, exceeded };
}

/** The environment with its quota: the ResourceQuota and LimitRange among the overlay's generated resources. */
export function withQuota(env: NormalizedEnvironment, quota: EnvironmentQuota): NormalizedEnvironment {
  if (!quota.enabled) return env;
  const resources = [...env.resources, QUOTA_FILE, LIMIT_RANGE_FILE];
  return { ...env, quota, resources, hasResources: true };
}

export const QUOTA_FILE = 'resourcequota.yaml';
export const LIMIT_RANGE_FILE = 'limitrange.yaml';

/**
 * What the quota of one environment counts, from the normalized app: each service with the
 * environment's replicas and resources (its workload patch), its init containers and sidecars;
 * the dump CronJobs; a mover per backed-up volume that is copied (not dumped); the claims.
 */
export function quotaInput(
  app: { name: string; where: string; services: ServiceWorkload[]; backup: NormalizedApp['backup']; volumes: NormalizedApp['volumes']; externalClaims: string[] },
  env: NormalizedEnvironment,
  owner: QuotaInput['owner'],
  headroom: number,
): QuotaInput {
  return {
    app: app.name,
    where: app.where,
    env: env.name,
    services: app.services.map((w) => {
      const patch = env.workloadPatches.find((p) => p.name === w.name);
      // An autoscaled service peaks at its autoscaler's maximum (a service that autoscales in
      // an environment always has a patch there: it removes the workload's replicas).
      return {
        name: w.name,
        kind: w.workload.kind,
        replicas: patch?.autoscale ? patch.autoscale.max : (patch?.replicas ?? w.replicas),
        autoscaled: Boolean(patch?.autoscale),
        resources: patch?.resources ?? w.resources,
        sidecars: w.sidecars.map((c) => c.resources),
        init: w.initContainers.map((c) => c.resources),
      };
    }),
    dumps: app.backup.dumps.map((d) => d.name),
    provider: app.backup.provider,
    movers: app.backup.volumes.filter((v) => v.isSource).map((v) => ({ volume: v.name, size: v.size, copyMethod: v.copyMethod })),
    claims: app.volumes.map((v) => ({ name: v.name, size: v.size })),
    externalClaims: app.externalClaims,
    owner,
    headroom,
  };
}
