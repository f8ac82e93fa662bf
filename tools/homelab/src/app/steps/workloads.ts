import type { NormalizedApp } from '../normalized';
import { normalizeCompose } from './compose';
import type { NormalizedContainer } from './containers';
import type { ServiceOrder } from './dependencies';
import { NO_HEALTH } from './health';
import { podSpread, type TopologySpread } from './replicas';
import type { NormalizedService, ServiceWithContainers } from './services';
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

/** One container of a pod as templates/app/_partials/container.hbs renders it: the service's own, an init container or a sidecar. */
export interface PodContainer {
  name: string;
  image: string;
  entrypoint: string[] | null;
  command: string[] | null;
  workingDir: string | null;
  ports: NormalizedService['ports'];
  hasPorts: boolean;
  k8sEnv: { name: string; value: string | null; secretKey: string | null }[];
  hasK8sEnv: boolean;
  secrets: { envFrom: boolean };
  /** The Secret of the app's database (database.env) the container reads whole; null when it receives none. */
  databaseSecret: string | null;
  /** Any `envFrom`: the app's secrets or its database. */
  envFrom: boolean;
  resources: NormalizedApp['resources'];
  security: NormalizedApp['security'];
  /** The container says who it runs as (runAsNonRoot, runAsUser, runAsGroup): an init container or sidecar, whose user is its own, not the pod's. */
  containerUser: boolean;
  health: NormalizedApp['health'];
  runtime: Pick<NormalizedService['runtime'], 'shm' | 'hostDevices'>;
  volumeMounts: { name: string; mountPath: string; readOnly: boolean; subPath: string | null }[];
}

/** A service of the app's Compose file, as compose.yaml.hbs renders it: a service of the spec, or an init container or sidecar of one. */
export type ComposeServiceView = Pick<
  ServiceWorkload,
  'name' | 'image' | 'isCron' | 'schedule' | 'entrypoint' | 'command' | 'workingDir' | 'security' | 'runtime' | 'published' | 'hasPublished' | 'env' | 'hasEnv' | 'secrets' | 'health' | 'isJob' | 'replicas' | 'compose' | 'databaseEnvFile'
>;

/** A Compose volume that stands for a pod's emptyDir (a tmpfs volume the service shares with its init containers or sidecars): `<service>-<volume>`. */
export interface ScratchVolume {
  name: string;
  /** tmpfs bytes when only running containers share it; null (a local volume on disk) when an init container does, since Docker unmounts a tmpfs volume once no container runs on it. */
  tmpfsBytes: number | null;
}

/** A service as the templates render it: the step results put together for both platforms. */
export interface ServiceWorkload extends ServiceWithContainers {
  /** false: the service's container runs as its pod does (PodContainer). */
  containerUser: boolean;
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
  databaseSecret: string | null;
  envFrom: boolean;
  /** Compose: the service receives the database's password or URL through deploy's env file and reads no other secret (else the secrets' env_file serves). */
  databaseEnvFile: boolean;
  volumeMounts: PodContainer['volumeMounts'];
  podVolumes: PodVolume[];
  /** Kubernetes: the pod's init containers, in order, and its sidecars, after the service's container. */
  podInitContainers: PodContainer[];
  hasPodInitContainers: boolean;
  podSidecars: PodContainer[];
  /** Compose: the service, then its init containers and sidecars, each a service of its own. */
  composeServices: ComposeServiceView[];
  /** Compose volumes for the tmpfs volumes the pod's containers share. */
  scratchVolumes: ScratchVolume[];
  /** The component of the service this one shares a ReadWriteOnce volume with (a pod affinity to it); null when none. */
  affinity: string | null;
  /** The pod has an `affinity`: that pod affinity, or its placement's node affinity, or both under one key. */
  hasAffinity: boolean;
  /** The pod's spread over nodes when the service runs more than one replica (app/steps/replicas.ts); null otherwise. */
  spread: TopologySpread | null;
  compose: NormalizedApp['compose'] & {
    restart: string;
    /** `network_mode`: host (security.hostNetwork), `service:<service>` (a sidecar, in its service's network), or none. */
    networkMode: string | null;
    /** deploy.resources.reservations: a memory request or GPUs. */
    hasReservations: boolean;
    /** `expose`: a TCP port as its number, a UDP port of the full form as "<port>/udp". */
    expose: (number | string)[];
    hasExpose: boolean;
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
  services: ServiceWithContainers[];
  order: Map<string, ServiceOrder>;
  volumes: NormalizedVolume[];
  /** Service -> the service it is pinned to (storage.ts shareVolumes). */
  pins: Map<string, string>;
  /** The service that serves metrics, with its port and path; null when none does. */
  metrics: { service: string; port: number; path: string } | null;
  /** The app's database (app/steps/database.ts): its Secret and the services that receive it; null without one. */
  database: { secretName: string; services: string[]; hasSecretEnv: boolean } | null;
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
    const containers = [...service.initContainers, ...service.sidecars];
    const podMounts = [...service.mounts, ...containers.flatMap((c) => c.mounts)];
    const mounted = service.mounts.map((m) => volumeByName.get(m.volume)!);
    const claimed = podMounts.some((m) => volumeByName.get(m.volume)!.isClaimed);
    const kind = service.isCron ? 'CronJob' : service.isJob ? 'Job' : claimed ? 'StatefulSet' : 'Deployment';
    // A cron service runs on its schedule, outside the start order: no wave.
    const syncWave = service.isCron ? null : order.syncWave;
    const k8sEnv = [
      ...service.env.map((e) => ({ name: e.name, value: e.value, secretKey: null })),
      ...(service.secrets.envFrom ? [] : service.secrets.keys.map((key) => ({ name: key, value: null, secretKey: key }))),
    ];
    const podVolumes = [...new Set(podMounts.map((m) => m.volume))].map((name) => podVolume(volumeByName.get(name)!, podMounts));
    const pinnedTo = input.pins.get(service.name);
    const scratch = scratchVolumes(service, volumeByName);
    const composeMounts = (mounts: NormalizedService['mounts']) => mounts.flatMap((m) => composeMount(volumeByName.get(m.volume)!, m, scratch.get(m.volume)));
    const initNames = service.initContainers.map((c) => c.composeName);
    const composeDependsOn = [...order.composeDependsOn, ...initNames.map((name) => ({ service: name, condition: 'service_completed_successfully' as const, checkedOutside: false }))];
    const database = input.database?.services.includes(service.name) ? input.database : null;
    const expose = [...service.ports, ...service.sidecars.flatMap((c) => c.ports)].map((p) => (p.protocol === 'UDP' && service.component !== undefined ? `${p.port}/udp` : p.port));
    const workload: ServiceWorkload = {
      ...service,
      workload: { kind, isStatefulSet: kind === 'StatefulSet', schemaName: `${kind.toLowerCase()}-${kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps'}-v1` },
      serviceType: service.portIndex.published.length > 0 ? 'LoadBalancer' : 'ClusterIP',
      // A sidecar's ports are ports of its service's Service too.
      servicePorts: [...service.portIndex.servicePorts, ...service.sidecars.flatMap((c) => c.ports)],
      published: service.portIndex.published,
      hasPublished: service.portIndex.published.length > 0,
      isHook: service.isJob && !service.isCron,
      syncWave,
      hasAnnotations: syncWave !== null || (service.isJob && !service.isCron),
      k8sEnv,
      hasK8sEnv: k8sEnv.length > 0,
      databaseSecret: database?.secretName ?? null,
      envFrom: service.secrets.envFrom || database !== null,
      databaseEnvFile: database !== null && database.hasSecretEnv && !service.secrets.enabled,
      containerUser: false,
      volumeMounts: service.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
      podVolumes,
      podInitContainers: service.initContainers.map(podContainer),
      hasPodInitContainers: service.initContainers.length > 0,
      podSidecars: service.sidecars.map(podContainer),
      composeServices: [],
      scratchVolumes: [...scratch.values()],
      affinity: pinnedTo === undefined ? null : pinnedTo,
      hasAffinity: pinnedTo !== undefined || service.placement.nodeAffinity !== null,
      spread: podSpread(kind, service.autoscale ? service.autoscale.max : service.replicas, service.replicaSpec.spread, service.selector),
      compose: {
        ...normalizeCompose(input.app, input.where, { ...service, field: service.at.field }, {
          metrics: input.metrics?.service === service.name ? input.metrics : null,
          job: service.isJob,
          schedule: service.schedule,
        }),
        hasReservations: service.resources.requests.memory !== undefined || service.runtime.gpu !== null,
        restart: service.isJob ? 'no' : 'unless-stopped',
        networkMode: service.security.hostNetwork ? 'host' : null,
        // The shorthand always wrote a UDP port as its bare number, and keeps its bytes. A sidecar joins the service's
        // network, where Compose refuses ports of its own: they are the service's.
        expose,
        hasExpose: expose.length > 0,
        dependsOn: composeDependsOn,
        hasDependsOn: composeDependsOn.length > 0,
        mounts: composeMounts(service.mounts),
        hasMounts: service.mounts.some((m) => !volumeByName.get(m.volume)!.config),
        configs: service.mounts.filter((m) => volumeByName.get(m.volume)!.config).map((m) => ({ source: m.volume, target: m.path })),
        hasConfigs: service.mounts.some((m) => volumeByName.get(m.volume)!.config),
      },
    };
    const own = containers.map((c, i) => composeContainer(input, workload, c, composeMounts(c.mounts), i < service.initContainers.length ? service.initContainers[i - 1] : undefined, volumeByName));
    return { ...workload, composeServices: [workload, ...own] };
  });
}

/** An init container or sidecar in its pod: the service's hardened defaults, its own opt-ins and its own user. */
function podContainer(c: NormalizedContainer): PodContainer {
  const k8sEnv = [...c.env.map((e) => ({ name: e.name, value: e.value, secretKey: null })), ...c.secrets.keys.map((key) => ({ name: key, value: null, secretKey: key }))];
  return {
    name: c.name,
    image: c.image,
    entrypoint: c.entrypoint,
    command: c.command,
    workingDir: c.workingDir,
    ports: c.ports,
    hasPorts: c.hasPorts,
    k8sEnv,
    hasK8sEnv: k8sEnv.length > 0,
    secrets: { envFrom: false },
    databaseSecret: null,
    envFrom: false,
    resources: c.resources,
    security: c.security,
    containerUser: true,
    health: NO_HEALTH,
    runtime: { shm: null, hostDevices: [] },
    volumeMounts: c.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
  };
}

/**
 * An init container or sidecar as a Compose service `<service>-<name>` (Compose has no pods):
 * an init container runs once (`restart: "no"`, label `homelab.kind: init`) in the service's
 * network, the first after what the service waits for, each next one after the one before; a
 * sidecar runs in the service's network namespace (`network_mode: service:<service>`) once the
 * service has started. The pod-wide settings of Kubernetes (supplemental groups; host names,
 * which a sidecar shares with its service on Compose) come along.
 */
function composeContainer(
  input: WorkloadsInput,
  service: ServiceWorkload,
  c: NormalizedContainer,
  mounts: ComposeMount[],
  previous: NormalizedContainer | undefined,
  volumeByName: Map<string, NormalizedVolume>,
): ComposeServiceView {
  const init = c.role === 'init';
  const dependsOn = init
    ? previous
      ? [{ service: previous.composeName, condition: 'service_completed_successfully' as const, checkedOutside: false }]
      : (input.order.get(service.name)?.composeDependsOn ?? [])
    : [{ service: service.name, condition: 'service_started' as const, checkedOutside: false }];
  const { runtime } = service;
  return {
    name: c.composeName,
    image: c.image,
    isCron: false,
    schedule: null,
    entrypoint: c.entrypoint,
    command: c.command,
    workingDir: c.workingDir,
    security: c.security,
    runtime: {
      ...runtime,
      composeDevices: [],
      hasComposeDevices: false,
      hostDevices: [],
      hasHostDevices: false,
      extendedResources: {},
      gpu: null,
      shm: null,
      init: false,
      stopGracePeriod: init ? null : runtime.stopGracePeriod,
      // Docker refuses extra_hosts on a container in another's network: a sidecar reads its service's /etc/hosts.
      ...(init ? {} : { hostAliases: [], extraHosts: {}, hasExtraHosts: false }),
    },
    published: [],
    hasPublished: false,
    env: c.env,
    hasEnv: c.hasEnv,
    secrets: { enabled: c.secrets.enabled, envFrom: false, keys: c.secrets.keys },
    databaseEnvFile: false,
    health: NO_HEALTH,
    isJob: init,
    replicas: 1,
    compose: {
      ...normalizeCompose(input.app, input.where, { resources: c.resources, security: c.security, health: NO_HEALTH, field: c.at.field, component: c.composeName }, { metrics: null, job: false, init }),
      hasReservations: c.resources.requests.memory !== undefined,
      restart: init ? 'no' : 'unless-stopped',
      networkMode: init ? (service.security.hostNetwork ? 'host' : null) : `service:${service.name}`,
      expose: [],
      hasExpose: false,
      dependsOn,
      // The first init container of a service that waits for nothing waits for nothing either.
      hasDependsOn: dependsOn.length > 0,
      mounts,
      hasMounts: c.mounts.some((m) => !volumeByName.get(m.volume)!.config),
      configs: c.mounts.filter((m) => volumeByName.get(m.volume)!.config).map((m) => ({ source: m.volume, target: m.path })),
      hasConfigs: c.mounts.some((m) => volumeByName.get(m.volume)!.config),
    },
  };
}

/**
 * The tmpfs volumes that several containers of a service's pod mount: one emptyDir per pod on
 * Kubernetes, and on Compose a named volume per service, `<service>-<volume>`, that those
 * containers share. Docker mounts a tmpfs volume while a container runs on it and unmounts it
 * after the last one stops, which would drop what an init container wrote before the service
 * starts: a volume an init container shares is a local volume on disk instead.
 */
function scratchVolumes(service: ServiceWithContainers, volumeByName: Map<string, NormalizedVolume>): Map<string, ScratchVolume> {
  const users = [{ init: false, mounts: service.mounts }, ...service.initContainers.map((c) => ({ init: true, mounts: c.mounts })), ...service.sidecars.map((c) => ({ init: false, mounts: c.mounts }))];
  const scratch = new Map<string, ScratchVolume>();
  for (const volume of volumeByName.values()) {
    if (!volume.tmpfs) continue;
    const mounting = users.filter((u) => u.mounts.some((m) => m.volume === volume.name));
    if (mounting.length < 2) continue;
    scratch.set(volume.name, { name: `${service.name}-${volume.name}`, tmpfsBytes: mounting.some((u) => u.init) ? null : volume.tmpfs.bytes });
  }
  return scratch;
}

function podVolume(volume: NormalizedVolume, podMounts: NormalizedService['mounts']): PodVolume {
  const readOnly = podMounts.filter((m) => m.volume === volume.name).every((m) => m.readOnly);
  return {
    name: volume.name,
    claimName: volume.claimName,
    hostPath: volume.hostPath,
    nfs: volume.nfs ? { ...volume.nfs, readOnly } : null,
    tmpfs: volume.tmpfs ? { size: volume.tmpfs.size } : null,
    configMap: volume.config?.configMap ?? null,
  };
}

function composeMount(volume: NormalizedVolume, m: NormalizedService['mounts'][number], scratch: ScratchVolume | undefined): ComposeMount[] {
  const base = { target: m.path, readOnly: m.readOnly, subPath: null, tmpfsBytes: null };
  if (volume.config) return [];
  if (scratch) return [{ ...base, type: 'volume', source: scratch.name, subPath: m.subPath }];
  if (volume.hostPath) return [{ ...base, type: 'bind', source: m.subPath ? `${volume.hostPath.path.replace(/\/$/, '')}/${m.subPath}` : volume.hostPath.path }];
  if (volume.tmpfs) return [{ ...base, type: 'tmpfs', source: null, tmpfsBytes: volume.tmpfs.bytes }];
  return [{ ...base, type: 'volume', source: volume.composeVolume, subPath: m.subPath }];
}
