import type { ProjectPaths, EnvironmentPaths } from '../project/paths';
import type { BackupProvider } from '../spec/types';

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

/** Sync waves: platform, then infrastructure, then applications. */
export const SYNC_WAVES = { platform: '0', infrastructure: '10', applications: '20' } as const;

export interface NormalizedApp {
  name: string;
  title: string;
  description: string;
  layer: 'applications';
  image: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  workload: { kind: 'Deployment' | 'StatefulSet'; isStatefulSet: boolean; file: string; replicas: number };
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[];
  env: { name: string; value: string }[];
  hasEnv: boolean;
  secrets: { enabled: boolean; secretName: string; store: string; keys: { key: string; remoteKey: string; property: string | null }[] };
  volumes: {
    name: string;
    claimName: string;
    size: string;
    mountPath: string;
    backup: boolean;
    backupLabel: string;
    storageClass: string | null;
    composeVolume: string;
  }[];
  hasVolumes: boolean;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  security: { runAsUser: number; runAsGroup: number };
  health: {
    /** Any health check at all (health.probe is not none): Kubernetes probes, a Compose check. */
    enabled: boolean;
    /** Compose runs the check inside the container (health.probe exec). */
    composeExec: boolean;
    /** deploy probes the HTTP endpoint from the Docker host (health.probe outside). */
    outside: boolean;
    isHttp: boolean;
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
    port: string;
    portNumber: number;
    className: string;
    clusterIssuer: string;
    tlsSecretName: string;
    gateway: { name: string; namespace: string };
  };
  monitoring: {
    serviceMonitor: boolean;
    metricsPort: string;
    metricsPortNumber: number;
    metricsPath: string;
    alerts: boolean;
    dashboard: boolean;
    dashboardJson: string;
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
    retention: { daily: number; weekly: number; monthly: number };
    repositoryKey: string;
    veleroTtl: string;
    hasComponent: boolean;
    componentResources: string[];
    k8up: { secretName: string; endpoint: string; bucket: string; pruneSchedule: string };
    volumes: { name: string; claimName: string; resticSecret: string; composeVolume: string; mountPath: string }[];
  };
  network: {
    allowInternet: boolean;
    ingressNamespace: string;
    monitoringNamespace: string;
    fromIngressPorts: number[];
    metricsPortNumber: number;
    dependencyNamespaces: string[];
  };
  compose: {
    memoryLimit: string;
    memoryReservation: string | null;
    cpus: string | null;
    user: string;
    startPeriod: string;
    labels: Record<string, string>;
  };
  dependsOn: string[];
  environments: NormalizedEnvironment[];
  gitops: { repoURL: string; revision: string; argocdNamespace: string; project: string; syncWave: string };
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
  alertGroup: string;
  alerts: { alert: string; expr: string; for: string; severity: string; summary: string }[];
  resticSecrets: { name: string; repository: string; password: string }[];
  hasComposeOverrides: boolean;
  server: string;
  argocdAppName: string;
  composeLabels: Record<string, string>;
  hasComposeLabels: boolean;
  paths: EnvironmentPaths;
  velero: { name: string };
}

/** An infrastructure component as an app depending on it sees it: where it runs on Kubernetes. */
export interface Dependency {
  kubernetes: boolean;
  /** Its namespace; null when it does not run on Kubernetes (or, written by hand, names none). */
  namespace: string | null;
}

/** The workspace's components an app's `dependsOn` names (component/spec.ts readDependencies); a missing name is unknown. */
export type Dependencies = ReadonlyMap<string, Dependency>;
