import { InputError, show } from '../../errors';
import type { AutoscaleSpec, ResourceList, ServiceKind } from '../../spec/types';

/** A service's autoscaling in one place (docs/availability.md, "Autoscaling"): replicas from min to max, targets in percent of the requests. */
export interface Autoscale {
  min: number;
  max: number;
  /** Average CPU utilization the autoscaler keeps, in percent of the CPU request; null: not a target. */
  cpu: number | null;
  /** Average memory utilization, in percent of the memory request; null: not a target. */
  memory: number | null;
}

/** The resources whose request the spec writes for a service (not a default): what a utilization target may be measured against. */
export type WrittenRequests = { cpu: boolean; memory: boolean };

const RESOURCES = ['cpu', 'memory'] as const;

/** The requests a service's spec writes itself. */
export function writtenRequests(resources: { requests?: ResourceList } | undefined): WrittenRequests {
  return { cpu: resources?.requests?.cpu !== undefined, memory: resources?.requests?.memory !== undefined };
}

/**
 * The `autoscale` of a service, or of an environment's override of it (`field` is where it sits:
 * '', `services.<svc>.`, `environments.<env>.` or `environments.<env>.services.<svc>.`); null
 * without one. Refuses one on a job or cron service, `replicas` beside it in the same place
 * (autoscale.min is the count), max below min and a range without a target.
 */
export function normalizeAutoscale(spec: { kind?: ServiceKind; replicas?: number; autoscale?: AutoscaleSpec }, where: string, field: string): Autoscale | null {
  const { autoscale } = spec;
  if (autoscale === undefined) return null;
  const kind = spec.kind ?? 'service';
  if (kind !== 'service') {
    throw new InputError(`${where}: ${field}autoscale is set on a service of kind ${show(kind)}, which runs to completion and is not scaled; remove ${field}autoscale`);
  }
  if (spec.replicas !== undefined) {
    throw new InputError(`${where}: ${field}replicas is set beside ${field}autoscale, which sets the replicas itself; remove ${field}replicas and use autoscale.min`);
  }
  if (autoscale.max < autoscale.min) {
    throw new InputError(`${where}: ${field}autoscale.max ${autoscale.max} is below autoscale.min ${autoscale.min}; set max to at least min`);
  }
  if (autoscale.cpu === undefined && autoscale.memory === undefined) {
    throw new InputError(`${where}: ${field}autoscale has no target to scale on; set autoscale.cpu or autoscale.memory (the average utilization to keep, in percent of the request)`);
  }
  return { min: autoscale.min, max: autoscale.max, cpu: autoscale.cpu ?? null, memory: autoscale.memory ?? null };
}

/** A service as its autoscaling in an environment sees it. */
export interface AutoscaleBase {
  name: string;
  kind: 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob';
  /** Its own autoscale (services.<svc>.autoscale, or the shorthand's); null without. */
  autoscale: Autoscale | null;
  /** Where its fields sit ('' or `services.<svc>.`). */
  field: string;
  /** The requests its spec writes. */
  requests: WrittenRequests;
}

/** What an environment's override says of one service's scaling. */
export interface AutoscaleOverride {
  replicas?: number;
  autoscale?: AutoscaleSpec | false;
  resources?: { requests?: ResourceList };
}

/**
 * The autoscale of a service in one environment: the override's `autoscale` replaces the
 * service's, `autoscale: false` turns it off there (the service runs its replicas), and
 * without either the service's applies. Refuses the override's `replicas` where the service
 * autoscales (autoscale.min is the count), `false` where there is nothing to turn off, and,
 * under `autoscale/requests`, a CPU or memory target whose request neither the service nor
 * the override writes: a utilization of a default request measures nothing.
 */
export function environmentAutoscale(service: AutoscaleBase, own: AutoscaleOverride, where: string, field: string, env: string): Autoscale | null {
  if (own.autoscale === false) {
    if (service.autoscale === null) {
      throw new InputError(`${where}: ${field}autoscale is false, but ${show(service.name)} does not autoscale; remove ${field}autoscale`);
    }
    return null;
  }
  const kind = service.kind === 'Job' ? 'job' : service.kind === 'CronJob' ? 'cron' : 'service';
  const overridden = normalizeAutoscale({ kind, replicas: own.replicas, autoscale: own.autoscale }, where, field);
  const autoscale = overridden ?? service.autoscale;
  if (autoscale === null) return null;
  if (overridden === null && own.replicas !== undefined) {
    throw new InputError(
      `${where}: ${field}replicas: ${show(service.name)} autoscales (${service.field}autoscale), so the autoscaler sets its replicas; remove ${field}replicas and use autoscale.min (in ${field}autoscale), or set ${field}autoscale: false to run fixed replicas in ${env}`,
    );
  }
  const at = overridden ? field : service.field;
  for (const resource of RESOURCES) {
    if (autoscale[resource] === null || service.requests[resource] || own.resources?.requests?.[resource] !== undefined) continue;
    // The shorthand's environments override no resources.
    const writes = service.field === '' ? `resources.requests.${resource}` : `${service.field}resources.requests.${resource} (or ${field}resources.requests.${resource})`;
    throw new InputError(
      `${where}: ${at}autoscale.${resource}: ${show(service.name)} autoscales on ${resource} in ${env}, but its spec writes no ${resource} request, and a utilization of the default request measures nothing; set ${writes}`,
      'autoscale/requests',
    );
  }
  return autoscale;
}

/**
 * The lowest and the highest number of replicas of a service in an environment: its
 * autoscale's min and max where it autoscales there, else its replicas both. `inEnvironment`
 * is what the environment makes of it (its entry of `workloadPatches`), when it changes it.
 *
 * @example autoscaleRange(service, env.workloadPatches.find((p) => p.name === service.name)) // { min: 2, max: 6 }
 */
export function autoscaleRange(service: { replicas: number; autoscale: Autoscale | null }, inEnvironment?: { replicas: number; autoscale: Autoscale | null }): { min: number; max: number } {
  const { replicas, autoscale } = inEnvironment ?? service;
  return autoscale ? { min: autoscale.min, max: autoscale.max } : { min: replicas, max: replicas };
}

/**
 * The most replicas a service may run in any environment its spec lists: its replicas or
 * autoscale.max, and each override's (what a ReadWriteOnce volume and a sidecar allow is one).
 */
export function highestReplicas(service: { replicas: number; autoscale: Autoscale | null }, overrides: AutoscaleOverride[]): number {
  return Math.max(autoscaleRange(service).max, ...overrides.map((o) => Math.max(o.replicas ?? 0, o.autoscale ? o.autoscale.max : 0)));
}

/** A HorizontalPodAutoscaler of an environment's overlay (generated/horizontalpodautoscaler.yaml). */
export interface HorizontalAutoscaler {
  name: string;
  labels: Record<string, string>;
  /** The workload it scales: the service's Deployment (or StatefulSet, on a ReadWriteMany volume). */
  targetKind: 'Deployment' | 'StatefulSet';
  minReplicas: number;
  maxReplicas: number;
  metrics: { resource: 'cpu' | 'memory'; averageUtilization: number }[];
}

/** The autoscalers of an environment: one per service that autoscales there, named like its workload, with the app's labels and its component. */
export function horizontalAutoscalers(labels: Record<string, string>, services: { name: string; kind: string; component?: string; autoscale: Autoscale | null }[]): HorizontalAutoscaler[] {
  return services.flatMap((s) => {
    if (s.autoscale === null || (s.kind !== 'Deployment' && s.kind !== 'StatefulSet')) return [];
    const { autoscale } = s;
    return [
      {
        name: s.name,
        labels: s.component === undefined ? labels : { ...labels, 'app.kubernetes.io/component': s.component },
        targetKind: s.kind,
        minReplicas: autoscale.min,
        maxReplicas: autoscale.max,
        metrics: RESOURCES.flatMap((resource) => (autoscale[resource] === null ? [] : [{ resource, averageUtilization: autoscale[resource]! }])),
      },
    ];
  });
}
