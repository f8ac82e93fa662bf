import type { NormalizedApp } from '../normalized';
import { normalizeCompose } from './compose';
import type { ServiceOrder } from './dependencies';
import type { NormalizedService } from './services';
import type { NormalizedVolume } from './storage';

/** A volume of a pod: exactly one of the sources is set (templates test which). */
export interface PodVolume {
  name: string;
  claimName: string | null;
  hostPath: NormalizedVolume['hostPath'];
  nfs: { server: string; path: string; readOnly: boolean } | null;
  tmpfs: { size: string } | null;
  configMap: string | null;
}

/** A mount of a Compose service, in the long syntax. */
export interface ComposeMount {
  type: 'volume' | 'bind' | 'tmpfs';
  source: string | null;
  target: string;
  readOnly: boolean;
  /** A folder inside a named volume (Compose `volume.subpath`, Docker Engine 26 or later). */
  subPath: string | null;
  /** Bytes of a tmpfs mount. */
  tmpfsBytes: number | null;
}

/** A service as the templates render it: the step results put together for both platforms. */
export interface ServiceWorkload extends NormalizedService {
  workload: { kind: 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob'; isStatefulSet: boolean; schemaName: string };
  /** An ArgoCD Sync hook: a job, run again on every sync (not a cron service, which runs on its schedule). */
  isHook: boolean;
  /** `argocd.argoproj.io/sync-wave`: the service's level in the start order; null at level 0. */
  syncWave: string | null;
  /** The Kubernetes Service: LoadBalancer when a port is published, else ClusterIP. */
  serviceType: 'ClusterIP' | 'LoadBalancer';
  servicePorts: NormalizedService['ports'];
  /** Compose `ports`: the published ones. */
  published: NormalizedService['portIndex']['published'];
  hasPublished: boolean;
  /** Metadata annotations at all: a sync wave, or the Sync hook of a Job. */
  hasAnnotations: boolean;
  /** Container `env`: plain values, then (full form) one `secretKeyRef` per secret key the service reads. */
  k8sEnv: { name: string; value: string | null; secretKey: string | null }[];
  hasK8sEnv: boolean;
  volumeMounts: { name: string; mountPath: string; readOnly: boolean; subPath: string | null }[];
  podVolumes: PodVolume[];
  /** The component of the service this one shares a ReadWriteOnce volume with (a pod affinity to it); null when none. */
  affinity: string | null;
  compose: NormalizedApp['compose'] & {
    restart: string;
    /** deploy.resources.reservations: a memory request or GPUs. */
    hasReservations: boolean;
    /** `expose`: a TCP port as its number, a UDP port of the full form as "<port>/udp". */
    expose: (number | string)[];
    labels: Record<string, string>;
    dependsOn: ServiceOrder['composeDependsOn'];
    hasDependsOn: boolean;
    mounts: ComposeMount[];
    hasMounts: boolean;
    configs: { source: string; target: string }[];
    hasConfigs: boolean;
  };
}

export interface WorkloadsInput {
  app: string;
  where: string;
  services: NormalizedService[];
  order: Map<string, ServiceOrder>;
  volumes: NormalizedVolume[];
  /** Service -> the service it is pinned to (storage.ts shareVolumes). */
  pins: Map<string, string>;
  /** The service that serves metrics, with its port and path; null when none does. */
  metrics: { service: string; port: number; path: string } | null;
}

/**
 * Puts the services, their start order and the app's volumes together into what the
 * workload templates interpolate: the workload kind (a StatefulSet where it mounts a
 * claim, as always; a Job for `kind: job`), sync wave, env with secret references, pod
 * volumes and mounts, and the Compose service's restart policy, labels, depends_on,
 * mounts and configs. Nothing here is decided in a template.
 */
export function shapeWorkloads(input: WorkloadsInput): ServiceWorkload[] {
  const volumeByName = new Map(input.volumes.map((v) => [v.name, v]));
  return input.services.map((service) => {
    const order = input.order.get(service.name) ?? { level: 0, syncWave: null, composeDependsOn: [] };
    const mounted = service.mounts.map((m) => volumeByName.get(m.volume)!);
    const claimed = mounted.some((v) => v.isClaimed);
    const kind = service.isCron ? 'CronJob' : service.isJob ? 'Job' : claimed ? 'StatefulSet' : 'Deployment';
    // A cron service runs on its schedule, outside the start order: no wave.
    const syncWave = service.isCron ? null : order.syncWave;
    const k8sEnv = [
      ...service.env.map((e) => ({ name: e.name, value: e.value, secretKey: null })),
      ...(service.secrets.envFrom ? [] : service.secrets.keys.map((key) => ({ name: key, value: null, secretKey: key }))),
    ];
    const podVolumes = [...new Set(service.mounts.map((m) => m.volume))].map((name) => podVolume(volumeByName.get(name)!, service));
    const pinnedTo = input.pins.get(service.name);
    return {
      ...service,
      workload: { kind, isStatefulSet: kind === 'StatefulSet', schemaName: `${kind.toLowerCase()}-${kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps'}-v1` },
      serviceType: service.portIndex.published.length > 0 ? 'LoadBalancer' : 'ClusterIP',
      servicePorts: service.portIndex.servicePorts,
      published: service.portIndex.published,
      hasPublished: service.portIndex.published.length > 0,
      isHook: service.isJob && !service.isCron,
      syncWave,
      hasAnnotations: syncWave !== null || (service.isJob && !service.isCron),
      k8sEnv,
      hasK8sEnv: k8sEnv.length > 0,
      volumeMounts: service.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
      podVolumes,
      affinity: pinnedTo === undefined ? null : pinnedTo,
      compose: {
        ...normalizeCompose(input.app, input.where, { ...service, field: service.at.field }, {
          metrics: input.metrics?.service === service.name ? input.metrics : null,
          backup: mounted.some((v) => v.persistent?.backup),
          job: service.isJob,
          schedule: service.schedule,
        }),
        hasReservations: service.resources.requests.memory !== undefined || service.runtime.gpu !== null,
        restart: service.isJob ? 'no' : 'unless-stopped',
        // The shorthand always wrote a UDP port as its bare number, and keeps its bytes.
        expose: service.ports.map((p) => (p.protocol === 'UDP' && service.component !== undefined ? `${p.port}/udp` : p.port)),
        dependsOn: order.composeDependsOn,
        hasDependsOn: order.composeDependsOn.length > 0,
        mounts: service.mounts.flatMap((m) => composeMount(volumeByName.get(m.volume)!, m)),
        hasMounts: service.mounts.some((m) => !volumeByName.get(m.volume)!.config),
        configs: service.mounts.filter((m) => volumeByName.get(m.volume)!.config).map((m) => ({ source: m.volume, target: m.path })),
        hasConfigs: service.mounts.some((m) => volumeByName.get(m.volume)!.config),
      },
    };
  });
}

function podVolume(volume: NormalizedVolume, service: NormalizedService): PodVolume {
  const readOnly = service.mounts.filter((m) => m.volume === volume.name).every((m) => m.readOnly);
  return {
    name: volume.name,
    claimName: volume.claimName,
    hostPath: volume.hostPath,
    nfs: volume.nfs ? { ...volume.nfs, readOnly } : null,
    tmpfs: volume.tmpfs ? { size: volume.tmpfs.size } : null,
    configMap: volume.config?.configMap ?? null,
  };
}

function composeMount(volume: NormalizedVolume, m: NormalizedService['mounts'][number]): ComposeMount[] {
  const base = { target: m.path, readOnly: m.readOnly, subPath: null, tmpfsBytes: null };
  if (volume.config) return [];
  if (volume.hostPath) return [{ ...base, type: 'bind', source: m.subPath ? `${volume.hostPath.path.replace(/\/$/, '')}/${m.subPath}` : volume.hostPath.path }];
  if (volume.tmpfs) return [{ ...base, type: 'tmpfs', source: null, tmpfsBytes: volume.tmpfs.bytes }];
  return [{ ...base, type: 'volume', source: volume.composeVolume, subPath: m.subPath }];
}
