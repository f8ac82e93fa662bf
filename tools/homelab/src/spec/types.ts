import type { HealthProbe } from './health';

/**
 * The app spec as written in applications/specs/<name>.yaml (see schemas/app.schema.json):
 * the shorthand (one service named after the app: image, ports, … at the top) or the full
 * form (`services`, `volumes` as a map). The schema allows exactly one of them.
 */
export type AppSpec = ShorthandAppSpec | FullAppSpec;

/** What both forms have. */
interface AppSpecBase {
  name: string;
  description?: string;
  secrets?: SecretSpec[];
  ingress?: { host: string; tls?: boolean; port?: string; service?: string };
  monitoring?: { metrics?: { port?: string; path?: string; service?: string }; alerts?: boolean; dashboard?: boolean };
  backup?: { schedule?: string; retention?: { daily?: number; weekly?: number; monthly?: number } };
  network?: { allowInternet?: boolean };
  dependsOn?: string[];
  /** The app's own database and role on the shared PostgreSQL (docs/spec.md, "Database"). */
  database?: DatabaseSpec;
  environments?: Record<string, EnvironmentOverride>;
  /** Policy rules of `homelab validate` turned off for this app, each with its reason. */
  policy?: { disable?: { rule: string; reason: string }[] };
  patches?: PlatformPatches;
  /** The owner's budget of the app's namespace in every environment (docs/availability.md): the ResourceQuota's numbers instead of the derived ones. */
  quota?: QuotaSpec;
}

/** An owner's budget: the ResourceQuota's requests and limits of CPU and memory. */
export interface QuotaSpec {
  requests?: ResourceList;
  limits?: ResourceList;
}

/** The full form: the app's services, and its volumes that services mount. */
export interface FullAppSpec extends AppSpecBase {
  services: Record<string, ServiceSpec>;
  volumes?: Record<string, AppVolumeSpec>;
  image?: never;
  ports?: never;
}

export type ServiceKind = 'service' | 'job' | 'cron';
export type StartCondition = 'started' | 'healthy' | 'completed';

/** One service of the full form. */
export interface ServiceSpec {
  kind?: ServiceKind;
  schedule?: string;
  image: ImageSpec;
  entrypoint?: string[];
  command?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  /** Keys of the app's secrets, or a key read under another name. */
  secrets?: (string | SecretSpec)[];
  ports?: PortSpec[];
  health?: HealthSpec;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  replicas?: number;
  /** Replicas between min and max on CPU and/or memory utilization (docs/availability.md, "Autoscaling"). */
  autoscale?: AutoscaleSpec;
  /** The PodDisruptionBudget of a replicated service (docs/availability.md). */
  availability?: AvailabilitySpec;
  spread?: SpreadSpec;
  /** How a stateful service with more than one replica keeps its data consistent: its reason to scale. */
  replication?: string;
  mounts?: MountSpec[];
  dependsOn?: Record<string, StartCondition>;
  devices?: { path: string; resource?: string }[];
  gpus?: { resource: string; count?: number };
  groupAdd?: number[];
  shmSize?: string;
  extraHosts?: Record<string, string>;
  init?: boolean;
  stopGracePeriod?: string;
  /** Opt-ins, each given as its reason. */
  security?: ContainerSecurity & { hostNetwork?: string };
  /** Run in order, each to completion, before the service starts (docs/spec.md, "Init containers and sidecars"). */
  initContainers?: InitContainerSpec[];
  /** Run beside the service for its whole life, sharing its network, keyed by name. */
  sidecars?: Record<string, SidecarSpec>;
  /** The nodes its pods may run on (Kubernetes; docs/availability.md, "Placement"). */
  placement?: PlacementSpec;
}

/**
 * Where a service's pods run on Kubernetes: node labels they need, taints they tolerate, and a
 * node affinity. A Docker host is one machine, so Compose has nothing to place.
 */
export interface PlacementSpec {
  /** Node labels the pods need, e.g. `kubernetes.io/arch: arm64`. */
  nodeSelector?: Record<string, string>;
  tolerations?: TolerationSpec[];
  /** A Kubernetes NodeAffinity. */
  affinity?: NodeAffinitySpec;
}

/** A Kubernetes Toleration. */
export interface TolerationSpec {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** A Kubernetes NodeAffinity. */
export interface NodeAffinitySpec {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTermSpec[] };
  preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTermSpec }[];
}

/** A Kubernetes NodeSelectorTerm: its requirements are ANDed. */
export interface NodeSelectorTermSpec {
  matchExpressions?: NodeSelectorRequirementSpec[];
  matchFields?: NodeSelectorRequirementSpec[];
}

export interface NodeSelectorRequirementSpec {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

/** A container's security opt-ins, each given as its reason (a service's also has hostNetwork, which is its pod's). */
export interface ContainerSecurity {
  user?: { uid: number; gid?: number };
  runAsRoot?: string;
  /** Run as the user the image names (its USER, often root), as Compose does by default. */
  imageUser?: string;
  /** Keep the container runtime's default capabilities instead of dropping all. */
  defaultCapabilities?: string;
  writableRootFilesystem?: string;
  privileged?: string;
  capabilities?: Record<string, string>;
}

/** A further container of a service: its image defaults to the service's. */
export interface ContainerSpec {
  image?: ImageSpec;
  entrypoint?: string[];
  command?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  secrets?: (string | SecretSpec)[];
  mounts?: MountSpec[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  security?: ContainerSecurity;
}

/** One of a service's init containers, run in the order listed. */
export interface InitContainerSpec extends ContainerSpec {
  name: string;
}

/** A sidecar: beside the service, in its network, with ports of its own. */
export interface SidecarSpec extends ContainerSpec {
  ports?: PortSpec[];
}

export type MountSpec = { volume: string; path: string; readOnly?: boolean; subPath?: string };


/** An app-level volume of the full form: exactly one kind. */
export type AppVolumeSpec =
  | { size: string; storageClass?: string; backup?: VolumeBackupSpec; accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' }
  | { hostPath: string; type?: 'Directory' | 'File' | 'DirectoryOrCreate' | 'Socket' | 'CharDevice'; /** The policy exception for the host path, with its reason. */ reason?: string }
  | { nfs: { server: string; path: string } }
  | { tmpfs: { size: string } }
  | { config: { content: string } | { file: string } }
  | { claim: string };

export interface PlatformPatches {
  kubernetes?: { target: { kind: string; name?: string }; patch: Record<string, unknown> }[];
  compose?: Record<string, unknown>;
}

export interface ImageSpec {
  repository: string;
  tag?: string;
  digest?: string;
}

export interface HealthSpec {
  http?: { path: string; port?: string };
  tcp?: { port: string };
  command?: string[];
  startGraceSeconds?: number;
  probe?: HealthProbe;
}

/** The shorthand: today's single-service spec. */
export interface ShorthandAppSpec extends AppSpecBase {
  services?: never;
  image: ImageSpec;
  ports: PortSpec[];
  env?: Record<string, string>;
  volumes?: VolumeSpec[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  health?: HealthSpec;
  replicas?: number;
  autoscale?: AutoscaleSpec;
  availability?: AvailabilitySpec;
  spread?: SpreadSpec;
  replication?: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  placement?: PlacementSpec;
}

/** `availability`: one of the two (docs/availability.md, "Replicated services"). */
export type AvailabilitySpec = { maxUnavailable: number; minAvailable?: never } | { minAvailable: number; maxUnavailable?: never };
/** `spread`: ScheduleAnyway (soft) or DoNotSchedule (hard) across nodes. */
export type SpreadSpec = 'soft' | 'hard';

export interface PortSpec {
  name: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
  http?: boolean;
  /** Published outside the app: Compose `ports` on the Docker host, a LoadBalancer Service on Kubernetes. */
  publish?: { port?: number; address?: string };
}

export interface SecretSpec {
  key: string;
  remoteKey: string;
  property?: string;
}

/**
 * `volumes.<v>.backup`: true/false, or the options of a backed-up volume (docs/spec.md, "Backups"):
 * `dump: postgres` (a PostgreSQL data directory, backed up as a dump, never by copying its files),
 * `stop` (Compose: stop the services that mount it while it is copied; default true),
 * `copyMethod` (Kubernetes: how VolSync reads the volume; default homelab.yaml backup.copyMethod).
 */
export type VolumeBackupSpec = boolean | { dump?: DumpKind; stop?: boolean; copyMethod?: BackupCopyMethod };
export type DumpKind = 'postgres';
export type BackupCopyMethod = 'Direct' | 'Clone' | 'Snapshot';

export interface VolumeSpec {
  name: string;
  size: string;
  mountPath: string;
  backup?: VolumeBackupSpec;
  storageClass?: string;
}

/** `database:` of an app: its database and role per environment on the shared PostgreSQL, and how the app receives them. */
export interface DatabaseSpec {
  /** The database's name in every environment (default: the app's namespace there, `-` as `_`). */
  name?: string;
  /** The role that owns it and the app logs in as (default: the database's name). */
  owner?: string;
  extensions?: string[];
  /** Where the role's password is kept: the key deploy reads it under (default DATABASE_PASSWORD), the store entry (default the app) and property (default the key). */
  password?: { key?: string; remoteKey?: string; property?: string };
  /** The services that receive the connection (full form; default: every service). */
  services?: string[];
  /** The names of the variables the connection reaches the app as. */
  env: DatabaseEnvNames;
}

export interface DatabaseEnvNames {
  host?: string;
  port?: string;
  name?: string;
  user?: string;
  password?: string;
  url?: string;
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface EnvironmentOverride {
  replicas?: number;
  /** The shorthand's autoscale in this environment: replaces the app's; false turns it off here. */
  autoscale?: AutoscaleSpec | false;
  availability?: AvailabilitySpec;
  spread?: SpreadSpec;
  host?: string;
  env?: Record<string, string>;
  /** The Kubernetes node the app runs on in this environment (host paths, devices). */
  node?: string;
  /** The shorthand's placement in this environment, over the spec's (docs/availability.md, "Placement"). */
  placement?: PlacementSpec;
  /** The app's database in this environment (default: `database.name`/`owner`, else derived from the namespace). */
  database?: { name?: string; owner?: string };
  /** The owner's budget in this environment, over the app's `quota` key by key. */
  quota?: QuotaSpec;
  services?: Record<string, ServiceOverrideSpec>;
}

/** `environments.<env>.services.<svc>`: what an environment changes of one service of the full form. */
export interface ServiceOverrideSpec {
  image?: { tag?: string; digest?: string };
  env?: Record<string, string>;
  replicas?: number;
  autoscale?: AutoscaleSpec | false;
  availability?: AvailabilitySpec;
  spread?: SpreadSpec;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  schedule?: string;
  placement?: PlacementSpec;
}

/** `autoscale`: a HorizontalPodAutoscaler's range and its targets, in percent of the requests. */
export interface AutoscaleSpec {
  min: number;
  max: number;
  cpu?: number;
  memory?: number;
}

/** homelab.yaml at the workspace root (see schemas/workspace.schema.json). */
export interface WorkspaceConfig {
  environments: WorkspaceEnvironment[];
  gitops: { repoURL: string; revision?: string; argocdNamespace?: string; project?: string };
  secrets?: { store?: string };
  backup?: {
    provider?: BackupProvider;
    schedule?: string;
    repositoryKey?: string;
    /** The older form of `target.s3`, still accepted. */
    s3?: { endpoint: string; bucket: string };
    /** Where the restic repositories live (docs/backup.md): a host path of the Docker host, or an S3 bucket. */
    target?: { path?: string; s3?: { endpoint: string; bucket: string } };
    /** How VolSync reads a volume on Kubernetes (default Direct). */
    copyMethod?: BackupCopyMethod;
  };
  ingress?: {
    kind?: 'ingress' | 'httproute';
    className?: string;
    clusterIssuer?: string;
    namespace?: string;
    gateway?: { name: string; namespace: string };
  };
  monitoring?: { namespace?: string; release?: string };
  /** The scheduler of apps with cron services on Compose (docs/spec.md, "Cron"); the image deploy sets new volumes' owner with (docs/deploy.md, "Volume ownership"). */
  /** Each app namespace's ResourceQuota and LimitRange (docs/availability.md): the headroom over the derived need (default 25 %), or false for none. */
  quotas?: false | { headroom?: number };
  compose?: { scheduler?: { image?: string }; volumeOwner?: { image?: string }; /** The image of the backup movers (default restic/restic:0.18.0). */ backup?: { image?: string } };
  /** The users' CI workflow: the lowest severity of a known vulnerability that fails the image scan (default high; workspace/images.ts). */
  ci?: { scan?: { severity?: ScanSeverity } };
}

/** A severity of the image scan (the scanner's `severity-cutoff` values; workspace/images.ts lists them lowest first). */
export type ScanSeverity = 'negligible' | 'low' | 'medium' | 'high' | 'critical';

export type BackupProvider = 'volsync' | 'velero' | 'k8up';

export interface WorkspaceEnvironment {
  name: string;
  protected?: boolean;
  namespaceSuffix?: string;
  kubernetes?: { server?: string; context?: string; argocd?: boolean };
  compose?: { context?: string };
  /** The hosts of apps in this environment, from each spec's ingress.host (docs/spec.md, "Hosts"); default `{host}` when protected, else `{label}.{env}.{domain}`. */
  hostPattern?: string;
  /** Where `deploy` reads secret values for Compose in this environment (default: environment variables). */
  secrets?: SecretSourceConfig;
}

/** A secret source: environment variables, a dotenv file outside git, or a secret-manager CLI run once per key. */
export interface SecretSourceConfig {
  source: 'env' | 'file' | 'command';
  /** source file: path template ({app}, {env}; ~ is the home folder). */
  path?: string;
  /** source command: argv template ({app}, {env}, {key}, {remoteKey}, {property}); prints the value. */
  command?: string[];
}
