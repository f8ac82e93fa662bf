import type { HealthProbe } from './health';

/** The app spec as written in applications/specs/<name>.yaml (see schemas/app.schema.json). */
export interface AppSpec {
  name: string;
  description?: string;
  image: { repository: string; tag?: string; digest?: string };
  ports: PortSpec[];
  env?: Record<string, string>;
  secrets?: SecretSpec[];
  volumes?: VolumeSpec[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  health?: { http?: { path: string; port?: string }; command?: string[]; startGraceSeconds?: number; probe?: HealthProbe };
  ingress?: { host: string; tls?: boolean; port?: string };
  replicas?: number;
  monitoring?: { metrics?: { port?: string; path?: string }; alerts?: boolean; dashboard?: boolean };
  backup?: { schedule?: string; retention?: { daily?: number; weekly?: number; monthly?: number } };
  network?: { allowInternet?: boolean };
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  dependsOn?: string[];
  environments?: Record<string, EnvironmentOverride>;
  /** Policy rules of `homelab validate` turned off for this app, each with its reason. */
  policy?: { disable?: { rule: string; reason: string }[] };
}

export interface PortSpec {
  name: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
  http?: boolean;
}

export interface SecretSpec {
  key: string;
  remoteKey: string;
  property?: string;
}

export interface VolumeSpec {
  name: string;
  size: string;
  mountPath: string;
  backup?: boolean;
  storageClass?: string;
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface EnvironmentOverride {
  replicas?: number;
  host?: string;
  env?: Record<string, string>;
}

/** homelab.yaml at the workspace root (see schemas/workspace.schema.json). */
export interface WorkspaceConfig {
  environments: WorkspaceEnvironment[];
  gitops: { repoURL: string; revision?: string; argocdNamespace?: string; project?: string };
  secrets?: { store?: string };
  backup?: { provider?: BackupProvider; schedule?: string; repositoryKey?: string; s3?: { endpoint: string; bucket: string } };
  ingress?: {
    kind?: 'ingress' | 'httproute';
    className?: string;
    clusterIssuer?: string;
    namespace?: string;
    gateway?: { name: string; namespace: string };
  };
  monitoring?: { namespace?: string; release?: string };
}

export type BackupProvider = 'volsync' | 'velero' | 'k8up';

export interface WorkspaceEnvironment {
  name: string;
  protected?: boolean;
  namespaceSuffix?: string;
  kubernetes?: { server?: string; context?: string; argocd?: boolean };
  compose?: { context?: string };
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
