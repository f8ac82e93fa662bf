import { InputError, show } from '../../errors';
import { checkPinned, formatImageRef } from '../../spec/image';
import type { EnvironmentOverride, ImageSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { type Autoscale, environmentAutoscale, type WrittenRequests } from './autoscale';
import { normalizeCompose } from './compose';
import { NO_PLACEMENT, type Placement, placementPatch } from './placement';
import { sortedEnv } from './env';
import { podSpread, type ReplicaSpec, serviceOverride, type TopologySpread } from './replicas';
import { normalizeResources } from './resources';

/** A service as an environment's overrides see it. */
export interface OverrideBase {
  name: string;
  kind: 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob';
  replicas: number;
  env: { name: string; value: string }[];
  imageSpec: ImageSpec;
  resources: NormalizedApp['resources'];
  security: NormalizedApp['security'];
  health: NormalizedApp['health'];
  /** A cron service's schedule; null for other kinds. */
  schedule: string | null;
  /** Its own autoscale (app/steps/autoscale.ts; default none), the requests its spec writes, and where its fields sit ('' or `services.<svc>.`). */
  autoscale?: Autoscale | null;
  writtenRequests?: WrittenRequests;
  field?: string;
  /** `app.kubernetes.io/component` of its objects; undefined for the shorthand's service. */
  component?: string;
  /** Where its pods run (steps/placement.ts); an environment's placement goes over it. None when left out. */
  placement?: Placement;
  /** Its selector labels, what the spec says of its replication, and its base pod's spread (app/steps/replicas.ts). */
  selector: Record<string, string>;
  replicaSpec: ReplicaSpec;
  spread: TopologySpread | null;
  /** Its init containers and sidecars that run its image (no image of their own): an image override reaches them. */
  containers?: { name: string; composeName: string; init: boolean }[];
}

/** What one environment changes of one service: the overlay's workload patch and compose.generated.yaml. */
export type ServiceOverride = NormalizedApp['environments'][number]['workloadPatches'][number];

/**
 * What an environment overrides of each service: the shorthand's `replicas` and `env` apply to
 * its one service (as always); the full form names the service (`services.<svc>: { image,
 * env, replicas, resources, schedule, placement }`); `node` pins every workload to a node. Only services with a
 * change are listed. Refuses a service the app does not have, replicas of a job, a
 * schedule on a service that does not run on one, and a node its placement contradicts.
 */
export function normalizeOverrides(where: string, envName: string, override: EnvironmentOverride, services: OverrideBase[], shorthand: boolean): ServiceOverride[] {
  const at = `${where}: environments.${envName}`;
  if (shorthand && override.services !== undefined) {
    throw new InputError(`${at}.services overrides services of the full form, but this spec is the shorthand; set environments.${envName}.replicas or env instead`);
  }
  for (const name of Object.keys(override.services ?? {})) {
    if (!services.some((s) => s.name === name)) {
      throw new InputError(`${at}.services.${name}: ${show(name)} is not a service of the app; use one of ${services.map((s) => show(s.name)).join(', ')}`);
    }
  }
  const result: ServiceOverride[] = [];
  for (const service of services) {
    const own = shorthand ? { replicas: override.replicas, env: override.env, autoscale: override.autoscale, placement: override.placement } : (override.services?.[service.name] ?? {});
    const replication = serviceOverride(override, service.name, shorthand);
    const field = `${at}.services.${service.name}.`;
    const autoscale = environmentAutoscale(
      { name: service.name, kind: service.kind, autoscale: service.autoscale ?? null, field: service.field ?? (shorthand ? '' : `services.${service.name}.`), requests: service.writtenRequests ?? { cpu: false, memory: false } },
      own,
      where,
      shorthand ? `environments.${envName}.` : `environments.${envName}.services.${service.name}.`,
      envName,
    );
    if ((service.kind === 'Job' || service.kind === 'CronJob') && own.replicas !== undefined) {
      throw new InputError(`${field}replicas: ${show(service.name)} runs to completion (kind ${service.kind === 'Job' ? 'job' : 'cron'}) and has no replicas; remove replicas`);
    }
    const scheduleOverride = 'schedule' in own ? own.schedule : undefined;
    if (scheduleOverride !== undefined && service.schedule === null) {
      throw new InputError(`${field}schedule: ${show(service.name)} is not a cron service, so it runs on no schedule; remove the override or set services.${service.name}.kind: cron`);
    }
    const schedule = scheduleOverride ?? service.schedule;
    const scheduleChanged = scheduleOverride !== undefined && scheduleOverride !== service.schedule;
    // An autoscaled service starts at its min (and Compose runs that many).
    const replicas = autoscale ? autoscale.min : (own.replicas ?? service.replicas);
    // The autoscaler owns the replicas: the overlay removes the workload's, so ArgoCD never resets what it chose.
    const autoscaled = autoscale !== null;
    const envOverride = sortedEnv(own.env);
    const merged = new Map(service.env.map((e) => [e.name, e.value]));
    for (const e of envOverride) merged.set(e.name, e.value);
    const env = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => ({ name, value }));
    const imageOverride = 'image' in own ? own.image : undefined;
    const imageSpec = imageOverride ? (imageOverride.digest ? { repository: service.imageSpec.repository, ...imageOverride } : { repository: service.imageSpec.repository, tag: imageOverride.tag }) : service.imageSpec;
    if (imageOverride) checkPinned(imageSpec, `${field}image`);
    const resourcesOverride = 'resources' in own ? own.resources : undefined;
    const resources = resourcesOverride
      ? normalizeResources({ resources: { requests: { ...service.resources.requests, ...resourcesOverride.requests }, limits: { ...service.resources.limits, ...resourcesOverride.limits } } }, where, field).resources
      : service.resources;
    const replicasChanged = replicas !== service.replicas;
    const envChanged = envOverride.length > 0;
    const imageChanged = imageOverride !== undefined;
    const resourcesChanged = resourcesOverride !== undefined;
    const node = override.node ?? null;
    // The shorthand's placement of an environment is the app's (environments.<env>.placement), the full form's its service's.
    const placementField = shorthand ? `environments.${envName}.` : `environments.${envName}.services.${service.name}.`;
    const placement = placementPatch(service.placement ?? NO_PLACEMENT, own.placement, node === null ? null : { name: node, field: `environments.${envName}.node` }, where, placementField);
    // The pod spreads over nodes where the environment runs several replicas (an autoscaler's max) and the base's spread is none or another.
    const envSpread = podSpread(service.kind, autoscale ? autoscale.max : replicas, replication.spread ?? service.replicaSpec.spread, service.selector);
    const spread = envSpread !== null && envSpread.whenUnsatisfiable !== service.spread?.whenUnsatisfiable ? envSpread : null;
    const hasContainer = envChanged || imageChanged || resourcesChanged;
    if (!replicasChanged && !hasContainer && !placement.changed && !scheduleChanged && !autoscaled && spread === null) continue;
    const compose = normalizeCompose('', where, { resources, security: service.security, health: service.health, field }, { metrics: null, job: false });
    const inheriting = imageChanged ? (service.containers ?? []) : [];
    result.push({
      name: service.name,
      initImages: inheriting.filter((c) => c.init).map((c) => c.name),
      hasInitImages: inheriting.some((c) => c.init),
      sidecarImages: inheriting.filter((c) => !c.init).map((c) => c.name),
      kind: service.kind,
      isJob: service.kind === 'Job' || service.kind === 'CronJob',
      isCron: service.kind === 'CronJob',
      replicasChanged,
      replicas,
      autoscale,
      autoscaled,
      envChanged,
      env,
      imageChanged,
      image: formatImageRef(imageSpec),
      resourcesChanged,
      resources,
      compose: { memoryLimit: compose.memoryLimit, memoryReservation: compose.memoryReservation, cpus: compose.cpus },
      node,
      placement,
      spread,
      spreadReplaces: spread !== null && service.spread !== null,
      scheduleChanged,
      schedule,
      hasTemplate: hasContainer || placement.changed || spread !== null,
      hasContainer,
      composeChanged: replicasChanged || hasContainer || scheduleChanged,
    });
  }
  return result;
}
