import type { Autoscale, HorizontalAutoscaler } from './steps/autoscale';
import type { AlertRule } from './steps/signals';
import type { ProjectPaths, EnvironmentPaths } from '../project/paths';
import type { BackupCopyMethod, BackupProvider } from '../spec/types';
import type { AppNetworks } from './steps/compose-networks';
import type { EnvironmentDatabase, NormalizedDatabase } from './steps/database';
import type { NormalizedPatches } from './steps/patches';
import type { PlacementPatch } from './steps/placement';
import type { ComposeBackupMover } from './steps/compose-backup';
import type { EnvironmentQuota } from './steps/quota';
import type { DisruptionBudget, TopologySpread } from './steps/replicas';
import type { VolumeBackupOptions } from './steps/storage';
import type { ComposeServiceView, ServiceWorkload } from './steps/workloads';

/*
 * The normalized app: everything the templates need, computed once by normalizeApp
 * (app/normalize.ts and its steps in app/steps/). Templates only test its flags and
 * interpolate its values.
 */

/** Defaults every app gets unless its spec says otherwise. Computed here once, never in templates. */
export const APP_DEFAULTS = {
  replicas: 1,
  requests: { cpu: '10m', memory: '64Mi' },
  limits: { memory: '256Mi' },
  healthPath: '/',
  startGraceSeconds: 30,
  runAsUser: 65532,
  backupSchedule: '0 3 * * *',
  retention: { daily: 7, weekly: 4, monthly: 3 },
  metricsPath: '/metrics',
} as const;

/** The default image of the Compose scheduler of cron services (homelab.yaml compose.scheduler.image): Alpine, busybox crond, the docker CLI. */
export const SCHEDULER_IMAGE = 'docker:27.5.1-cli';

/** Sync waves: platform, then infrastructure, then applications. */
export const SYNC_WAVES = { platform: '0', infrastructure: '10', applications: '20' } as const;

export interface NormalizedApp {
  name: string;
  title: string;
  description: string;
  layer: 'applications';
  /** The spec has `services` (the full form); the shorthand renders as it always did. */
  fullForm: boolean;
  /** The image (one service without a component label), or each service's, for the runbook. */
  image: string;
  labels: Record<string, string>;
  /** Every pod of the app (the NetworkPolicy's; the shorthand's one workload's). */
  selector: Record<string, string>;
  /** The primary service: the shorthand's one; in the full form the one behind ingress, else the first long-running one. */
  primaryService: string;
  /** The Compose scheduler of an app with cron services (none without). */
  scheduler: { name: string; image: string; labels: Record<string, string> } | null;
  /** The primary service's workload (the runbook's and the dashboard's one). */
  workload: { kind: 'Deployment' | 'StatefulSet'; isStatefulSet: boolean; file: string; replicas: number };
  /** Every service, as the workload templates render it (app/steps/workloads.ts). */
  services: ServiceWorkload[];
  /** The services of the Compose file: each service of the spec, then its init containers and sidecars (`<service>-<name>`). */
  composeServices: ComposeServiceView[];
  workloads: {
    /** deployment.yaml, statefulset.yaml, job.yaml, cronjob.yaml: those that hold a service, one kind per file. */
    files: string[];
    byFile: Record<string, ServiceWorkload[]>;
    /** Services with a Kubernetes Service: the shorthand's always, in the full form those with ports. */
    reachable: ServiceWorkload[];
    hasReachable: boolean;
    /** The kinds of workload, for the runbook. */
    summary: string;
  };
  /** The primary service's ports, env, resources, user and health. */
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[];
  env: { name: string; value: string }[];
  hasEnv: boolean;
  secrets: { enabled: boolean; secretName: string; store: string; keys: { key: string; remoteKey: string; property: string | null }[] };
  volumes: {
    name: string;
    claimName: string;
    size: string;
    readWriteMany: boolean;
    /** Where it is mounted (the full form: every mount's path). */
    mountPath: string;
    backup: boolean;
    /** The object form of `backup` (dump, stop, copyMethod), defaults filled in. */
    backupOptions: VolumeBackupOptions;
    backupLabel: string;
    storageClass: string | null;
    composeVolume: string;
  }[];
  hasVolumes: boolean;
  /** Config volumes: a ConfigMap each on Kubernetes, a Compose config each; `file`: the file beside the spec their content was read from (null for inline content). */
  configMaps: { name: string; key: string; content: string; file: string | null }[];
  hasConfigMaps: boolean;
  /**
   * Compose's top-level volumes: persistent (with the backup label), NFS and tmpfs (driver `local` with these options),
   * external claims, and the scratch volumes (`scratch`: their labels, `homelab.scratch`) a service shares with its init containers or sidecars.
   */
  composeVolumes: { name: string; backupLabel: string | null; driverOpts: { type: string; o: string; device: string } | null; external: string | null; scratch: Record<string, string> | null }[];
  hasComposeVolumes: boolean;
  composeConfigs: { name: string; content: string; file: string | null }[];
  hasComposeConfigs: boolean;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  security: {
    /** Unset when the service runs as the image's own user (security.imageUser). */
    runAsUser?: number;
    runAsGroup?: number;
    runAsNonRoot: boolean;
    /** The image's USER decides (security.imageUser): no user on either platform. */
    imageUser: boolean;
    readOnlyRootFilesystem: boolean;
    /** Kubernetes `privileged` (and the privilege escalation it implies), Compose `privileged` (without `no-new-privileges`). */
    privileged: boolean;
    /** Capabilities added to an otherwise empty set. */
    capabilities: string[];
    hasCapabilities: boolean;
    /** All capabilities dropped before the added ones; false with security.defaultCapabilities (the runtime's default set). */
    dropAllCapabilities: boolean;
    hostNetwork: boolean;
    /** Each opt-in with its reason, written beside what it allows. */
    optIns: { optIn: string; reason: string }[];
    hasOptIns: boolean;
  };
  health: {
    /** Any health check at all (health.probe is not none): Kubernetes probes, a Compose check. */
    enabled: boolean;
    /** Compose runs the check inside the container (health.probe exec). */
    composeExec: boolean;
    /** deploy probes the HTTP endpoint from the Docker host (health.probe outside). */
    outside: boolean;
    isHttp: boolean;
    /** A TCP connect from the kubelet; Compose has no check (images hold no common TCP client). */
    isTcp: boolean;
    /** health.command, run in the container on both platforms. */
    isCommand: boolean;
    path: string;
    port: string;
    portNumber: number;
    command: string[];
    startupFailureThreshold: number;
    startGraceSeconds: number;
    composeTest: string[];
  };
  ingress: {
    enabled: boolean;
    isIngress: boolean;
    isHttpRoute: boolean;
    host: string;
    tls: boolean;
    /** The Service behind the host: the shorthand's app, the full form's ingress.service. */
    service: string;
    port: string;
    portNumber: number;
    className: string;
    clusterIssuer: string;
    tlsSecretName: string;
    gateway: { name: string; namespace: string };
  };
  monitoring: {
    serviceMonitor: boolean;
    /** The selector of the Service that serves metrics. */
    selector: Record<string, string>;
    metricsPort: string;
    metricsPortNumber: number;
    metricsPath: string;
    alerts: boolean;
    dashboard: boolean;
    /** The Kubernetes dashboard (kubelet cAdvisor and kube-state-metrics series, a namespace variable). */
    dashboardJson: string;
    /** The Compose dashboard (cAdvisor's series with the Compose labels, a project variable), from the same signals. */
    composeDashboardJson: string;
    dashboardConfigMap: string;
    dashboardFile: string;
    release: string;
    namespace: string;
    enabled: boolean;
  };
  backup: {
    enabled: boolean;
    provider: BackupProvider;
    isVolsync: boolean;
    isVelero: boolean;
    isK8up: boolean;
    schedule: string;
    /** The schedule's interval in seconds (the longest gap between two runs; steps/schedule.ts), 0 when nothing is backed up. */
    intervalSeconds: number;
    retention: { daily: number; weekly: number; monthly: number };
    repositoryKey: string;
    /** homelab.yaml backup.target.s3 (or backup.s3): the repositories' bucket; null: the store's `repository` property. */
    s3: { endpoint: string; bucket: string } | null;
    /** The PostgreSQL dumps (app/steps/backup.ts backupDumps): a CronJob each, backed up with restic. */
    dumps: BackupDump[];
    hasDumps: boolean;
    /** The labels of the dump CronJobs' pods. */
    dumpLabels: Record<string, string>;
    resticImage: string;
    /** The restic half of a dump CronJob (init when missing, backup, forget, prune). */
    resticScript: string;
    veleroTtl: string;
    hasComponent: boolean;
    componentResources: string[];
    k8up: { secretName: string; endpoint: string; bucket: string; pruneSchedule: string };
    volumes: {
      name: string;
      claimName: string;
      resticSecret: string;
      /** VolSync's copyMethod: the volume's, else homelab.yaml backup.copyMethod, else Direct. */
      copyMethod: BackupCopyMethod;
      size: string;
      readWriteMany: boolean;
      storageClass: string | null;
      /** Copied by a ReplicationSource; false for a dump volume (backed up by its dump). */
      isSource: boolean;
      composeVolume: string;
      mountPath: string;
      /** The workloads that mount it, scaled down for a restore, and their Compose services. */
      workloads: { kind: string; name: string; replicas: number }[];
      composeServices: string;
      /** The runbook's Kubernetes steps: the spec fields (under environments.<env>) that stop its writers through git, and a dump's restore command. */
      kubernetesRestore: KubernetesRestore;
    }[];
    /** The runbook's steps that restore the dump of the app's database on the shared PostgreSQL; null without one. */
    databaseRestore: KubernetesRestore | null;
  };
  /**
   * Backups on Compose (app/steps/compose-backup.ts, docs/backup.md): a mover service per backed-up
   * volume writing its restic repository, the dump volumes, the repository target.
   */
  composeBackup: {
    enabled: boolean;
    /** compose.backup.image of homelab.yaml. */
    image: string;
    /** The inline config `backup-mover`: the POSIX sh mover, the same for every volume. */
    moverScript: string;
    /** A host path of the Docker host, bound at /repository (and the movers get no network). */
    isPath: boolean;
    targetPath: string | null;
    /** An S3 bucket (the movers join the project network `backup`). */
    isS3: boolean;
    /** No backup.target in homelab.yaml: the repositories stay on the Docker host's disk (validate warns). */
    defaultTarget: boolean;
    movers: ComposeBackupMover[];
    /** `<volume>-dump`: the dump volumes, mounted into the scheduler at `target`. */
    dumpVolumes: { name: string; volume: string; target: string }[];
    cacheVolume: string;
    /** The key of the shared volume homelab-backup-metrics, mounted at /metrics in each mover. */
    metricsVolume: string;
    /** restic forget's keep flags, from the spec's retention. */
    forgetOptions: string;
    /** The keys the movers read from the env file (.env.example): RESTIC_PASSWORD, and the AWS keys for S3. */
    envKeys: string[];
    /** Per file-copied volume with stop: the services stopped while it is copied, with their stop grace seconds. */
    users: Record<string, { service: string; grace: number }[]>;
    /** Per volume: the services that mount it (stopped for a restore); for a dump volume the database service (none for `database`). */
    mounters: Record<string, string[]>;
    labels: Record<string, string>;
  };
  network: {
    allowInternet: boolean;
    ingressNamespace: string;
    monitoringNamespace: string;
    fromIngressPorts: number[];
    metricsPortNumber: number;
    dependencyNamespaces: string[];
    /** The services of a full-form app reach each other inside the namespace. */
    betweenServices: boolean;
    /** The backup movers' own policy (app/steps/networking.ts backupMoverEgress). */
    mover: BackupMoverEgress;
    /** The dump CronJobs' policies (app/steps/networking.ts backupDumpEgress). */
    dump: BackupDumpEgress;
  };
  compose: {
    memoryLimit: string;
    memoryReservation: string | null;
    cpus: string | null;
    /** `uid:gid`; null when the image's USER decides (security.imageUser). */
    user: string | null;
    startPeriod: string;
    labels: Record<string, string>;
  };
  /** The Compose networks (app/steps/compose-networks.ts): the services on the environment's shared network, and whether the default network is internal. */
  composeNetworks: AppNetworks;
  dependsOn: string[];
  /** The app's database on the shared PostgreSQL (app/steps/database.ts); disabled without `database:`. */
  database: NormalizedDatabase;
  /** The spec's per-platform patches (app/steps/patches.ts), and what each touches for validate to name. */
  patches: NormalizedPatches;
  environments: NormalizedEnvironment[];
  gitops: {
    repoURL: string;
    revision: string;
    argocdNamespace: string;
    project: string;
    /** applications' wave (20), plus 1 + the highest level of the apps it depends on: after them. */
    syncWave: string;
    /** The apps it depends on, for the comment beside its wave; empty when none. */
    afterApps: string[];
  };
  paths: ProjectPaths;
}

export interface NormalizedEnvironment {
  name: string;
  protected: boolean;
  namespace: string;
  composeProject: string;
  replicas: number;
  replicasChanged: boolean;
  host: string;
  hostChanged: boolean;
  env: { name: string; value: string }[];
  envChanged: boolean;
  hasPatches: boolean;
  /** Files of the overlay's generated component: patches and per-environment resources. */
  patches: string[];
  resources: string[];
  hasResources: boolean;
  /** The HorizontalPodAutoscalers of the overlay (generated/horizontalpodautoscaler.yaml): one per service that autoscales here. */
  autoscalers: HorizontalAutoscaler[];
  /** generated/poddisruptionbudget.yaml: one budget per long-running service with more than one replica here (app/steps/replicas.ts). */
  budgets: DisruptionBudget[];
  alertGroup: string;
  /** The PrometheusRule's alerts (Kubernetes series); empty when the spec turns alerts off. */
  alerts: AlertRule[];
  /** The same alerts against the Compose series, for the Compose Prometheus's rule file of this environment. */
  composeAlerts: AlertRule[];
  resticSecrets: { name: string; repository: string; password: string }[];
  /** The Secret of libpq variables the database dump reads (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD); null without a database. */
  databaseDump: { name: string; data: { name: string; value: string }[] } | null;
  /** The app's database in this environment: its name and owner, its Secret's content, its Compose env and deploy's metadata. */
  database: EnvironmentDatabase;
  hasComposeOverrides: boolean;
  server: string;
  argocdAppName: string;
  composeLabels: Record<string, string>;
  hasComposeLabels: boolean;
  /** The environment's shared Docker network `homelab-<env>` when a service of the app joins it (declared external in compose.generated.yaml); null otherwise. */
  sharedNetwork: string | null;
  /** compose.generated.yaml declares networks: the shared one, or the networks of the apps it depends on. */
  hasNetworks: boolean;
  /** The Compose scheduler's crontab in this environment (its project names the containers): its cron services', then the backup's line; '' without either. */
  crontab: string;
  /** Backups on Compose in this environment: each mover's restic repository, the script `/homelab/backup`, its crontab line. */
  composeBackup: {
    enabled: boolean;
    movers: { service: string; repository: string }[];
    script: string;
    crontabLine: string;
    /** The runbook's restore of each volume in this environment: the commands, as the runbook prints them (`<password-file>` its one placeholder). */
    restores: { volume: string; isDump: boolean; services: string; stop: string | null; restore: string; start: string | null }[];
    /** What deploy needs (`x-homelab-backup`): the host-path target it checks, the store keys it writes into the env file. */
    deploy: { targetPath: string | null; createTarget: boolean; keys: { key: string; remoteKey: string; property: string }[] } | null;
  };
  /** What the environment changes of each service (only those it changes): the overlay's workload patch, one document each. */
  workloadPatches: {
    /** The init containers and sidecars that run the service's image, whose image changes with it (when imageChanged). */
    initImages: string[];
    hasInitImages: boolean;
    sidecarImages: string[];
    name: string;
    kind: 'Deployment' | 'StatefulSet' | 'Job' | 'CronJob';
    isJob: boolean;
    isCron: boolean;
    /** The replicas it runs here (Compose's `deploy.replicas`; an autoscaled service's min), and whether they differ from the base's. */
    replicasChanged: boolean;
    replicas: number;
    /** Its autoscaling here (app/steps/autoscale.ts environmentAutoscale); null: fixed replicas. */
    autoscale: Autoscale | null;
    /** An autoscaler sets its replicas here: the workload patch removes `spec.replicas`. */
    autoscaled: boolean;
    envChanged: boolean;
    /** The service's env with the environment's merged in, sorted. */
    env: { name: string; value: string }[];
    imageChanged: boolean;
    image: string;
    resourcesChanged: boolean;
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    compose: { memoryLimit: string; memoryReservation: string | null; cpus: string | null };
    /** kubernetes.io/hostname the pods run on; null when not pinned. */
    node: string | null;
    /** What the environment changes of the service's placement (its node as kubernetes.io/hostname included): the pod template's nodeSelector, tolerations and node affinity. */
    placement: PlacementPatch;
    /** The pod's spread over nodes where the environment raises its replicas above one or changes its spread (the base has none or another); null otherwise. */
    spread: TopologySpread | null;
    /** The base has a spread of its own, which this one replaces (`$patch: replace`). */
    spreadReplaces: boolean;
    /** Whether the environment changes a cron service's schedule, and its schedule there (the CronJob's, the crontab's); null for other kinds. */
    scheduleChanged: boolean;
    schedule: string | null;
    hasTemplate: boolean;
    hasContainer: boolean;
    /** Compose gets a change too (node pins Kubernetes pods only). */
    composeChanged: boolean;
  }[];
  /** The services of compose.generated.yaml: each with its overrides (or null) and the host's labels on the one behind it. */
  composeServices: {
    name: string;
    override: NormalizedEnvironment['workloadPatches'][number] | null;
    composeLabels: Record<string, string>;
    hasComposeLabels: boolean;
    /** Its networks in this environment (its project's default and `homelab-<env>`); null: Compose's default alone. */
    networks: string[] | null;
    /** `environment` of the service in this environment: its overrides (env changed), then the database's plain values. */
    environment: { name: string; value: string }[];
    hasEnvironment: boolean;
    /** Its networks when the app is linked to other apps: its aliases on the default network, and the networks it joins (keys of `links.networks`); null otherwise. */
    linkNetworks: { aliases: string[]; hasAliases: boolean; joins: string[] } | null;
    /** What compose.generated.yaml writes under the service's `networks`: `networks`, then the links' (aliases on the default network, the dependencies' networks); null: Compose's default alone. */
    networkList: { key: string; aliases: string[] | null; comment: string | null }[] | null;
    hasOverrides: boolean;
  }[];
  paths: EnvironmentPaths;
  velero: { name: string };
  /** The other apps it depends on, and those that depend on it, in this environment (app/steps/links.ts). */
  links: EnvironmentLinks;
  /** The namespace's ResourceQuota and LimitRange (app/steps/quota.ts); disabled with homelab.yaml `quotas: false`. */
  quota: EnvironmentQuota;
}

/**
 * An app's links to other apps in one environment (`dependsOn: [another-app]`): the overlay's
 * generated NetworkPolicy (`<app>-apps`) and the Compose networks and aliases of
 * compose.generated.yaml. Empty for an app no other app is linked to, which renders as before.
 */
export interface EnvironmentLinks {
  /** Anything at all: the NetworkPolicy file and its place in the overlay's resources. */
  enabled: boolean;
  /** `<app>-apps`, beside the base's `default-deny` and `<app>`. */
  policyName: string;
  /** Ingress and/or Egress: the directions it opens. */
  policyTypes: string[];
  /** Egress to the namespaces of the apps it depends on, sorted. */
  egress: { app: string; namespace: string }[];
  hasEgress: boolean;
  /** Ingress from the namespaces of the apps that depend on it, to its services' named ports. */
  ingress: { app: string; namespace: string }[];
  hasIngress: boolean;
  ingressPorts: { name: string; protocol: 'TCP' | 'UDP' }[];
  /** Compose: the default network of each app it depends on (`<project>_default`), joined as an external network under the key `app-<name>`. */
  networks: { key: string; name: string; app: string }[];
  hasNetworks: boolean;
}

/** Another app of the workspace, as an app linked to it sees it (app/links.ts readAppLinks). */
export interface LinkedApp {
  name: string;
  /** The environments it runs in: its spec's, else every one of homelab.yaml. */
  environments: string[];
  /** Its place in the order of apps: 0 without app dependencies, else 1 + the highest of theirs. */
  level: number;
}

/**
 * The apps an app is linked to: those its `dependsOn` names (a name that is no app's spec is
 * left out, for the component check), the apps whose `dependsOn` names it, and the cycle its
 * dependencies make back to it (null when none).
 */
export interface AppLinks {
  apps: ReadonlyMap<string, LinkedApp>;
  dependents: readonly LinkedApp[];
  cycle: string[] | null;
}

/** No other app: what an app without app dependencies, that no app depends on, sees. */
export const NO_LINKS: AppLinks = { apps: new Map(), dependents: [], cycle: null };

/** A restore on Kubernetes as the runbook writes it: the spec fields (under environments.<env>) that stop the writers through git, and a dump's restore command. */
export interface KubernetesRestore {
  stopFields: string[];
  hasStopFields: boolean;
  dumpCommand: string | null;
}

/** One PostgreSQL dump on Kubernetes: its CronJob `<app>-<volume>-dump`, the database it reads and the repository it writes. */
export interface BackupDump {
  name: string;
  /** The volume, or `database` for the app's database on the shared PostgreSQL. */
  volume: string;
  resticSecret: string;
  /** What it dumps, for the comment beside it. */
  description: string;
  /** The image the dump runs in (the database service's, for its client of the same version). */
  image: string;
  dumpScript: string;
  /** The database service's variables, as the container partial renders them (none for the shared PostgreSQL). */
  env: { hasK8sEnv: boolean; k8sEnv: { name: string; value: string | null; secretKey: string | null }[]; envFrom: boolean; secrets: { envFrom: boolean }; databaseSecret: string | null };
  /** The Secret with the libpq variables (the shared PostgreSQL's dump); null otherwise. */
  dumpSecret: string | null;
  /** Where the dump connects: the service (its pods' selector) or the shared PostgreSQL's host. */
  server: { name: string; port: number; selector: Record<string, string>; isDatabase: boolean; /** The shared PostgreSQL's namespace; null for a service of the app. */ namespace: string | null };
}

/** The dump CronJobs' pods: their egress (`<app>-backup-dump`), and an ingress policy on each database service they dump. */
export interface BackupDumpEgress {
  enabled: boolean;
  name: string;
  selector: Record<string, string>;
  /** Their repository, as VolSync's movers reach it. */
  repository: BackupMoverEgress;
  /** The app's database services: `<app>-<service>-from-backup-dump` lets the dumps in on the port. */
  services: { name: string; service: string; selector: Record<string, string>; port: number }[];
  /** The shared PostgreSQL's namespace and port; null without a database. */
  database: { namespace: string; port: number } | null;
}

/**
 * The pods a backup operator starts in the app's namespace to copy its volumes (VolSync's and
 * k8up's movers), which `default-deny` catches: DNS, and egress to their repository.
 */
export interface BackupMoverEgress {
  enabled: boolean;
  /** `<app>-backup-mover`. */
  name: string;
  /** The labels the operator puts on its mover pods. */
  selector: Record<string, string>;
  /** Where the repository is: one address (`<ip>/32`), or any (`0.0.0.0/0`) when a NetworkPolicy cannot name it. */
  cidr: string;
  /** Its TCP port; empty: any port (the repository's URL is not known here). */
  ports: number[];
  hasPorts: boolean;
  /** Why this opening, for the comment beside it. */
  reason: string;
}

/** An infrastructure component as an app depending on it sees it: where it runs on Kubernetes. */
export interface Dependency {
  kubernetes: boolean;
  /** Its namespace; null when it does not run on Kubernetes (or, written by hand, names none). */
  namespace: string | null;
}

/** The workspace's components an app's `dependsOn` names (component/spec.ts readDependencies); a missing name is unknown. */
export type Dependencies = ReadonlyMap<string, Dependency>;
