import { InputError, show } from '../../errors';
import type { AutoscaleSpec, AvailabilitySpec, EnvironmentOverride, SpreadSpec } from '../../spec/types';

/**
 * Images whose data has one writer: a database or store that keeps its own files and does not
 * share them with a second copy of itself. Matched on the last segment of the image's
 * repository (`postgres`, `bitnami/postgresql`, `docker.io/library/redis`). Scaling one above one
 * replica needs `replication: <reason>` (rule replicas/stateful).
 */
export const SINGLE_WRITER_IMAGES: readonly string[] = [
  'postgres', 'postgresql', 'postgis', 'timescaledb', 'mysql', 'mariadb', 'mongo', 'mongodb', 'redis', 'valkey', 'keydb',
  'elasticsearch', 'opensearch', 'influxdb', 'etcd', 'couchdb', 'cassandra', 'rabbitmq', 'clickhouse-server',
];

/** Is the image a known single-writer database (SINGLE_WRITER_IMAGES)? */
export function isSingleWriterImage(repository: string): boolean {
  return SINGLE_WRITER_IMAGES.includes(repository.split('/').pop()!);
}

/** What the spec says of a service's replication: `availability`, `spread`, `replication` (null where not set). */
export interface ReplicaSpec {
  availability: AvailabilitySpec | null;
  spread: SpreadSpec | null;
  replication: string | null;
}

export const NO_REPLICA_SPEC: ReplicaSpec = { availability: null, spread: null, replication: null };

/** The spec's replica settings of one service, null where not set. */
export function replicaSpec(spec: { availability?: AvailabilitySpec; spread?: SpreadSpec; replication?: string }): ReplicaSpec {
  return { availability: spec.availability ?? null, spread: spec.spread ?? null, replication: spec.replication ?? null };
}

/** `topologySpreadConstraints` of a replicated pod: one per node at most (skew 1), soft or hard. */
export interface TopologySpread {
  whenUnsatisfiable: 'ScheduleAnyway' | 'DoNotSchedule';
  selector: Record<string, string>;
  /** The label that tells a rolling update's old pods from its new ones, so each ReplicaSet spreads on its own. */
  matchLabelKeys: string[];
}

/** A PodDisruptionBudget of a replicated service in one environment: named like the workload, exactly one of the two set. */
export interface DisruptionBudget {
  name: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  maxUnavailable: number | null;
  minAvailable: number | null;
}

type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob';

/** A service as the replica rules see it. */
export interface ReplicaService {
  name: string;
  /** '' for the shorthand, `services.<name>.` for a service of the full form. */
  field: string;
  kind: WorkloadKind;
  replicas: number;
  /** Its autoscaling range (app/steps/autoscale.ts); null without. With one, `replicas` is its min. */
  autoscale: { min: number; max: number } | null;
  /** Its image's repository (the single-writer table). */
  repository: string;
  /** The persistent volumes (PersistentVolumeClaims) it or its containers mount. */
  claims: string[];
  spec: ReplicaSpec;
}

/** What an environment says of one service: the shorthand's at `environments.<env>.`, the full form's at `environments.<env>.services.<svc>.`. */
export function serviceOverride(
  override: EnvironmentOverride,
  service: string,
  shorthand: boolean,
): { field: (env: string) => string; replicas?: number; autoscale?: AutoscaleSpec | false; availability?: AvailabilitySpec; spread?: SpreadSpec } {
  if (shorthand) return { field: (env) => `environments.${env}.`, replicas: override.replicas, autoscale: override.autoscale, availability: override.availability, spread: override.spread };
  const own = override.services?.[service] ?? {};
  return { field: (env) => `environments.${env}.services.${service}.`, replicas: own.replicas, autoscale: own.autoscale, availability: own.availability, spread: own.spread };
}

const longRunning = (kind: WorkloadKind) => kind === 'Deployment' || kind === 'StatefulSet';

/**
 * The rules of replicated services, each refused in one line naming the service and the fix:
 * replicas/stateful (a service that keeps data of its own, on a persistent volume or as a
 * single-writer database image, scaled above one replica without `replication: <reason>`;
 * `replication` on a service that never runs more than one), availability/blocks-drain (a budget
 * that lets no pod go: `maxUnavailable: 0`, `minAvailable` at or above the replicas of an
 * environment; an `availability` where the service runs one replica, which has nothing to budget),
 * and `spread` where there is nothing to spread.
 */
export function checkReplicas(where: string, services: ReplicaService[], environments: Record<string, EnvironmentOverride>, shorthand: boolean): void {
  for (const s of services) {
    // Per environment: the fewest replicas it runs (an autoscaler's min) and the most (its max).
    const envs = Object.entries(environments).map(([env, override]) => {
      const own = serviceOverride(override, s.name, shorthand);
      const range = own.autoscale === false ? null : (own.autoscale ?? (own.replicas === undefined ? s.autoscale : null));
      const replicas = range ? range.min : (own.replicas ?? s.replicas);
      return { env, field: own.field(env), replicas, highest: range ? range.max : replicas, own };
    });
    const setAt = [{ field: s.field, highest: s.autoscale ? s.autoscale.max : s.replicas }, ...envs.filter((e) => e.own.replicas !== undefined || e.own.autoscale)];
    const scaled = setAt.find((e) => e.highest > 1);
    const of = show(s.name);
    if (!longRunning(s.kind)) {
      for (const e of envs) {
        for (const key of ['availability', 'spread'] as const) {
          if (e.own[key] !== undefined) throw new InputError(`${where}: ${e.field}${key}: ${of} runs to completion and has no replicas; remove ${e.field}${key}`);
        }
      }
      continue;
    }
    if (!scaled) {
      for (const [key, rule, what] of [['replication', 'replicas/stateful', 'to replicate'], ['availability', 'availability/blocks-drain', 'to budget'], ['spread', undefined, 'to spread']] as const) {
        if (s.spec[key] !== null) throw new InputError(`${where}: ${s.field}${key}: ${of} runs one replica everywhere, so there is nothing ${what}; remove ${s.field}${key} or raise its replicas`, rule);
      }
    }
    if (scaled && s.spec.replication === null) {
      const claim = s.claims[0];
      const why = claim !== undefined ? `mounts the persistent volume ${show(claim)}` : isSingleWriterImage(s.repository) ? `runs ${show(s.repository)}, a database with one writer` : null;
      if (why !== null) {
        throw new InputError(
          `${where}: ${scaled.field}replicas: ${of} ${why}, so ${scaled.highest} replicas would not share one copy of its data; keep replicas: 1, or set ${s.field}replication to how it replicates its data (e.g. "redis sentinel")`,
          'replicas/stateful',
        );
      }
    }
    for (const e of envs) {
      for (const key of ['availability', 'spread'] as const) {
        if (e.own[key] !== undefined && e.highest <= 1) {
          throw new InputError(`${where}: ${e.field}${key}: ${of} runs ${e.highest} replica${e.highest === 1 ? '' : 's'} in ${show(e.env)}, so there is nothing to ${key === 'spread' ? 'spread' : 'budget'}; remove ${e.field}${key} or raise its replicas there`, key === 'availability' ? 'availability/blocks-drain' : undefined);
        }
      }
      if (e.highest <= 1) continue;
      const availability = e.own.availability ?? s.spec.availability;
      const field = `${e.own.availability !== undefined ? e.field : s.field}availability`;
      if (availability?.maxUnavailable === 0) {
        throw new InputError(`${where}: ${field}.maxUnavailable: 0 lets no pod of ${of} go, so no node it runs on can be drained; use maxUnavailable: 1`, 'availability/blocks-drain');
      }
      if (availability?.minAvailable !== undefined && availability.minAvailable >= e.replicas) {
        throw new InputError(
          `${where}: ${field}.minAvailable: ${availability.minAvailable} keeps all ${e.replicas} replicas of ${of}${e.highest !== e.replicas ? ' (its autoscale.min)' : ''} up in ${show(e.env)}, so no node it runs on can be drained; set minAvailable below ${e.replicas} or use maxUnavailable: 1`,
          'availability/blocks-drain',
        );
      }
    }
  }
}

/** The pod's spread over nodes with `replicas` of them: none for one replica or a job. */
export function podSpread(kind: WorkloadKind, replicas: number, spread: SpreadSpec | null, selector: Record<string, string>): TopologySpread | null {
  if (!longRunning(kind) || replicas <= 1) return null;
  return {
    whenUnsatisfiable: spread === 'hard' ? 'DoNotSchedule' : 'ScheduleAnyway',
    selector,
    matchLabelKeys: [kind === 'Deployment' ? 'pod-template-hash' : 'controller-revision-hash'],
  };
}

/** The budget of a service with `replicas` in an environment: none for one replica or a job; `maxUnavailable: 1` unless the spec says. */
export function disruptionBudget(
  service: { name: string; kind: WorkloadKind; selector: Record<string, string> },
  replicas: number,
  availability: AvailabilitySpec | null,
  labels: Record<string, string>,
): DisruptionBudget | null {
  if (!longRunning(service.kind) || replicas <= 1) return null;
  const minAvailable = availability?.minAvailable ?? null;
  return { name: service.name, labels: { ...labels, ...service.selector }, selector: service.selector, maxUnavailable: minAvailable === null ? (availability?.maxUnavailable ?? 1) : null, minAvailable };
}
