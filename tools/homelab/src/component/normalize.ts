import { InputError } from '../errors';
import { quantityBytes } from '../spec/quantity';
import type { WorkspaceConfig } from '../spec/types';
import { CATALOG, componentNamespace } from './catalog';
import { appPaths, componentPaths, composeMonitoringDir, type EnvironmentPaths, type ProjectPaths } from '../project/paths';
import { BACKUP_METRICS_VOLUME, NODE_EXPORTER_TEXTFILE_DIR } from '../project/backup-metrics';
import { COMPOSE_CONTAINER_LABELS } from '../app/steps/signals';
import { componentSpecPath } from './spec';
import { normalizeAcme, traefikCommand } from './steps/acme';
import { normalizeBackup } from './steps/backup';
import { postgresBarman } from './steps/barman';
import { backupS3 } from '../spec/backup-target';
import { normalizeCharts } from './steps/charts';
import { COMPOSE_NETWORK, componentNetworks, composeConfigs, fromComposeBase, GRAFANA_DASHBOARDS_DIR } from './steps/compose-configs';
import { componentEnvironments } from './steps/environments';
import { checkChartPins, composeImages } from './steps/pins';
import { baseResources, secretKeys } from './steps/resources';
import type { ComponentName, ComponentSpec } from './types';
import type { SecretStoreSpec } from '../platform/secret-store';
import { type DatabaseClaim, databaseCollisions, objectName, PASSWORD_TEMPLATE } from '../app/steps/database';
import type { HostClaim } from '../workspace/hosts';
import { gatewayListeners, type GatewayListeners, normalizeGateway, type NormalizedGateway } from './steps/gateway';
import { instancesOf, PLATFORM_PRIORITY, recordedTraefikReplicas, traefikInstallValues } from './steps/instances';

/** What else is in the workspace: components wire themselves to each other (metrics, datasources). */
export interface InfraContext {
  components: ReadonlySet<ComponentName>;
  stores: readonly SecretStoreSpec[];
  /** Every app's database in every environment (app specs' `database:`): postgres creates their roles and databases. */
  databases: readonly DatabaseClaim[];
  /** The hosts the apps claim in each environment (the Gateway's listeners). */
  claims: readonly HostClaim[];
}

export interface NormalizedChart {
  repoURL: string;
  name: string;
  version: string;
  releaseName: string;
  /** File name of its values in the base and in each overlay. */
  valuesFile: string;
  /** The spec's values with homelab's wiring on top. */
  values: Record<string, unknown>;
  /** Dotted paths homelab sets (listed in the values file's header; the spec cannot override them). */
  wired: string[];
}

export interface NormalizedComponentEnv {
  name: string;
  kubernetes: boolean;
  compose: boolean;
  server: string;
  argocdAppName: string;
  composeProject: string;
  kubernetesServes: string[];
  composeServes: string[];
  /** Each chart with the value files ArgoCD merges for this environment (base, then overlay). */
  charts: (NormalizedChart & { valueFiles: string[] })[];
  /** The app-facing services' networks `homelab-<env>` (one per environment served), declared external (component/steps/compose-configs.ts). */
  composeNetworks: {
    services: { name: string; networks: { name: string; aliases: string[]; hasAliases: boolean }[] }[];
    external: string[];
    has: boolean;
  };
  /** Monitoring on Compose: the rule folders of the environments this installation serves, bind-mounted into Prometheus. */
  prometheusRules: { source: string; target: string }[];
  hasPrometheusRules: boolean;
  /** What the installing environment's compose.generated.yaml adds to the component's services: the environments' networks, Prometheus's rule folders. */
  composeOverrides: {
    services: { name: string; networks: NormalizedComponentEnv['composeNetworks']['services'][number]['networks'] | null; ruleVolumes: { source: string; target: string }[] | null }[];
    has: boolean;
  };
  /** The Gateway of this cluster (the ingress component with ingress.kind httproute), in the overlay's generated/ component; else null. */
  gateway: GatewayListeners | null;
  /** PostgreSQL instances or Traefik replicas of this install (settings.instances; Compose runs one per Docker host). */
  instances: number;
  /** The CloudNativePG Cluster of this cluster's install, patched over the base's by the overlay's generated/ component; else null. */
  clusterPatch: { instances: number; enablePDB: boolean } | null;
  /** Chart values of this install (Traefik's replicas, PDB and spread), in the overlay's generated/ folder, merged after the base's; one entry per chart that has any. */
  installValues: { chart: string; file: string; values: Record<string, unknown> }[];
  /** The overlay's generated/ Kustomize component (the Gateway, the Cluster patch): what it lists, or null when it has nothing. */
  generated: { resources: string[]; patches: string[]; about: string } | null;
  paths: EnvironmentPaths;
}

export interface NormalizedComponent {
  name: ComponentName;
  description: string;
  layer: 'infrastructure';
  namespace: string;
  /** Labels of the component's Namespace: log shippers, node exporters and Velero's node agent mount host paths. */
  namespaceLabels: Record<string, string>;
  syncWave: string;
  isKubernetes: boolean;
  isCompose: boolean;
  labels: Record<string, string>;
  charts: NormalizedChart[];
  crds: { repoURL: string; path: string; targetRevision: string } | null;
  /** external-secrets applies the ClusterSecretStores of platform/secrets/stores right after its CRDs. */
  appliesStores: boolean;
  /** Plain resources of the Kustomize base, besides the values files. */
  resources: string[];
  secrets: { store: string; remoteKey: string; keys: string[]; hasKeys: boolean };
  acme: { enabled: boolean; email: string; server: string; issuerName: string; accountSecret: string; isHttpRoute: boolean; ingressClass: string; gateway: { name: string; namespace: string } };
  monitoring: {
    enabled: boolean;
    grafanaSecret: string;
    prometheusCommand: string[];
    /** The apps' dashboards folder, relative to the Compose base, and where Grafana reads it. */
    dashboards: { source: string; target: string };
    /** The container labels the cadvisor service keeps on its series (what the apps' dashboards and rules select by). */
    cadvisorLabels: string[];
    nodeExporterCommand: string[];
    /** The backup movers' textfiles: the external volume (its key in the Compose file and its name) and where node-exporter reads it. */
    textfile: { key: string; volume: string; target: string };
  };
  logging: { enabled: boolean; lokiPushUrl: string; composeLokiUrl: string };
  backup: {
    isVelero: boolean;
    veleroSecret: string;
    veleroCredentialsTemplate: string;
    repositoryKey: string;
    /** VolSync's metrics for the stale-backup alerts: a ServiceMonitor with the monitoring release's label, when the workspace has monitoring; null otherwise. */
    volsyncMetrics: { name: string; release: string; controller: string } | null;
  };
  postgres: {
    enabled: boolean;
    /** The base Cluster's instances: a single number of settings.instances, else 1 (each install's overlay patches its own). */
    instances: number;
    /** CloudNativePG's own PodDisruptionBudgets: off with one instance, where its primary's PDB would block every node drain. */
    enablePDB: boolean;
    /** The Cluster's pods spread across nodes, preferred so a one-node cluster still schedules them. */
    affinity: { enablePodAntiAffinity: boolean; topologyKey: string; podAntiAffinityType: string };
    priorityClassName: string;
    storage: string;
    imageName: string;
    /** The apps' roles in the Cluster's `managed.roles`, each with its password Secret (an ExternalSecret of this namespace). */
    roles: { name: string; secret: string; app: string; environment: string; remoteKey: string; property: string }[];
    hasRoles: boolean;
    /** The store's password in a role's Secret (ESO's template engine). */
    passwordTemplate: string;
    /** The apps' databases: a CloudNativePG Database object each. */
    databases: { object: string; name: string; owner: string; app: string; environment: string; extensions: string[]; hasExtensions: boolean }[];
    /** The Cluster's own backups with the Barman Cloud plugin (component/steps/barman.ts); disabled without an S3 target. */
    barman: {
      enabled: boolean;
      plugin: string;
      objectStore: string;
      secret: string;
      destinationPath: string;
      endpointURL: string;
      repositoryKey: string;
      retentionPolicy: string;
      scheduledBackupSchedule: string;
    };
  };
  gateway: NormalizedGateway;
  compose: {
    network: string;
    images: Record<string, string>;
    /** Memory limit of each service. */
    memory: Record<string, string>;
    traefikCommand: string[];
    hasAcme: boolean;
    /** Config files of the Compose base, as data: each is emitted as YAML beside compose.yaml. */
    configs: { file: string; value: unknown }[];
  };
  environments: NormalizedComponentEnv[];
  gitops: { repoURL: string; revision: string; argocdNamespace: string; project: string };
  paths: ProjectPaths;
}

export const INFRA_PROJECT = 'infrastructure';

/**
 * Turns a schema-valid component spec, the workspace settings and the rest of the
 * infrastructure into everything its templates need. Every decision (which resources,
 * which wiring, which environments install it) is taken here; templates only test flags.
 */
export function normalizeComponent(spec: ComponentSpec, workspace: WorkspaceConfig, context: InfraContext): NormalizedComponent {
  const where = componentSpecPath(spec.name);
  const entry = CATALOG[spec.name];
  const name = spec.name;
  const platforms = spec.platforms ?? entry.platforms;
  const isKubernetes = platforms.includes('kubernetes');
  const isCompose = platforms.includes('compose');
  if (isCompose && !entry.platforms.includes('compose')) {
    const why = entry.withoutCompose;
    throw new InputError(`${where}: platforms lists compose, but ${name} has no Compose form${why ? ` (${why.reason}); ${why.fix}` : '; remove compose'}`);
  }
  const settings = spec.settings ?? {};
  const namespace = componentNamespace(name, spec, workspace);

  // Each step checks its part of the spec and computes what the templates need, in this order
  // (so a spec's problems are reported in the same order as before the split).
  checkChartPins(spec, where);
  const { images, memory } = composeImages(spec, entry, isCompose, where);
  const acme = normalizeAcme(spec, workspace, where);
  const { provider, s3, retentionDays, backup } = normalizeBackup(spec, entry, workspace, where, context.components.has('monitoring'));
  if (settings.storage) quantityBytes(settings.storage, `${where}: settings.storage`);
  const charts = normalizeCharts(spec, workspace, context, { release: workspace.monitoring?.release ?? 'kube-prometheus-stack', retentionDays, isHttpRoute: acme.isHttpRoute, s3 });
  const keys = secretKeys(name, s3 !== null);
  const postgres = name === 'postgres' ? postgresDatabases(context.databases, isKubernetes) : { roles: [], databases: [] };
  const gateway = normalizeGateway(name, workspace, acme, namespace);
  const hasAcme = name === 'ingress' && acme.email !== '';
  const instances = instancesOf(spec, workspace, where, name === 'ingress' ? recordedTraefikReplicas(spec) : 1);
  const baseInstances = typeof settings.instances === 'number' ? settings.instances : 1;

  return {
    name,
    description: spec.description ?? entry.description,
    layer: 'infrastructure',
    namespace,
    namespaceLabels: ['logging', 'monitoring', 'backup'].includes(name)
      ? { 'pod-security.kubernetes.io/enforce': 'privileged' }
      : { 'pod-security.kubernetes.io/enforce': 'baseline' },
    syncWave: entry.syncWave,
    isKubernetes,
    isCompose,
    labels: { 'app.kubernetes.io/part-of': 'homelab', 'app.kubernetes.io/managed-by': 'homelab', 'homelab.dev/component': name },
    charts,
    crds: spec.kubernetes.crds ?? null,
    appliesStores: name === 'external-secrets',
    resources: baseResources(name, provider, postgres.roles.length > 0, backup.volsyncMetrics !== null, name === 'postgres' && backupS3(workspace) !== null),
    secrets: { store: workspace.secrets?.store ?? 'homelab', remoteKey: name, keys, hasKeys: keys.length > 0 },
    acme,
    monitoring: {
      enabled: name === 'monitoring',
      grafanaSecret: 'grafana-admin',
      prometheusCommand: [
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/prometheus',
        `--storage.tsdb.retention.time=${retentionDays}d`,
        // A new or changed rule file of an app is loaded without a restart (the checksum covers rule_files).
        '--enable-feature=auto-reload-config',
        '--config.auto-reload-interval=30s',
      ],
      dashboards: { source: fromComposeBase(name, `${composeMonitoringDir('applications')}/dashboards`), target: GRAFANA_DASHBOARDS_DIR },
      cadvisorLabels: Object.values(COMPOSE_CONTAINER_LABELS),
      nodeExporterCommand: ['--path.rootfs=/host', `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`],
      textfile: { key: 'backup-metrics', volume: BACKUP_METRICS_VOLUME, target: NODE_EXPORTER_TEXTFILE_DIR },
    },
    logging: { enabled: name === 'logging', lokiPushUrl: `http://loki-gateway.${namespace}.svc.cluster.local/loki/api/v1/push`, composeLokiUrl: 'http://loki:3100/loki/api/v1/push' },
    backup,
    postgres: {
      enabled: name === 'postgres',
      instances: baseInstances,
      enablePDB: baseInstances >= 2,
      affinity: { enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname', podAntiAffinityType: 'preferred' },
      priorityClassName: PLATFORM_PRIORITY.name,
      storage: settings.storage ?? '10Gi',
      imageName: settings.imageName ?? 'ghcr.io/cloudnative-pg/postgresql:17.5',
      ...postgres,
      hasRoles: postgres.roles.length > 0,
      passwordTemplate: PASSWORD_TEMPLATE,
      barman: postgresBarman(workspace, settings.retentionDays),
    },
    gateway,
    compose: {
      network: COMPOSE_NETWORK,
      images,
      memory,
      traefikCommand: traefikCommand(acme, hasAcme),
      hasAcme,
      configs: isCompose ? composeConfigs(name, charts, context, retentionDays, workspace.environments.map((e) => e.name)) : [],
    },
    environments: componentEnvironments(name, workspace, { isKubernetes, isCompose }, charts, (serves) =>
      gateway.enabled ? gatewayListeners(gateway, serves, context.claims, where) : null,
    ).map((env) => {
      const composeNetworks = componentNetworks(name, namespace, env.compose ? env.composeServes : []);
      return { ...env, composeNetworks, composeOverrides: composeOverrides(composeNetworks, env.prometheusRules), ...installOf(name, env, instances(env.name), gateway.ownNamespace) };
    }),
    gitops: {
      repoURL: workspace.gitops.repoURL,
      revision: workspace.gitops.revision ?? 'main',
      argocdNamespace: workspace.gitops.argocdNamespace ?? 'argocd',
      project: INFRA_PROJECT,
    },
    paths: componentPaths(name),
  };
}

/**
 * The apps' roles and databases the postgres component creates on Kubernetes, recomputed from
 * the app specs on every render. Two claims of one database or role on one server are refused
 * (`database/collision`), naming the app spec to change.
 */
function postgresDatabases(claims: readonly DatabaseClaim[], kubernetes: boolean): Pick<NormalizedComponent['postgres'], 'roles' | 'databases'> {
  const [collision] = databaseCollisions(claims, kubernetes);
  if (collision) throw new InputError(`${appPaths(collision.app).spec}: ${collision.message}`, 'database/collision');
  return {
    roles: claims.map((c) => ({ name: c.owner, secret: `role-${objectName(c.owner)}`, app: c.app, environment: c.environment, remoteKey: c.password.remoteKey, property: c.password.property })),
    databases: claims.map((c) => ({ object: objectName(c.name), name: c.name, owner: c.owner, app: c.app, environment: c.environment, extensions: c.extensions, hasExtensions: c.extensions.length > 0 })),
  };
}

/**
 * What one install of the component renders for its instance count: the Cluster patch (postgres)
 * or the chart values (Traefik) of the overlay's generated/ folder, and that folder's Kustomize
 * component (with the Gateway of ingress.kind httproute).
 */
function installOf(
  name: ComponentName,
  env: Pick<NormalizedComponentEnv, 'kubernetes' | 'gateway' | 'charts' | 'paths'>,
  instances: number,
  gatewayOwnNamespace: boolean,
): Pick<NormalizedComponentEnv, 'instances' | 'clusterPatch' | 'installValues' | 'generated' | 'charts'> {
  const clusterPatch = name === 'postgres' && env.kubernetes ? { instances, enablePDB: instances >= 2 } : null;
  const traefik = env.charts.find((c) => c.name === 'traefik');
  const installValues = name === 'ingress' && env.kubernetes && traefik ? [{ chart: traefik.name, file: `generated/${traefik.valuesFile}`, values: traefikInstallValues(instances) }] : [];
  // ArgoCD merges the base's values, then this install's, then the overlay's own (yours, last).
  const charts = env.charts.map((c) => {
    const own = installValues.find((v) => v.chart === c.name);
    return own ? { ...c, valueFiles: [c.valueFiles[0], `$values/${env.paths.overlay}/${own.file}`, ...c.valueFiles.slice(1)] } : c;
  });
  const resources = env.gateway ? [...(gatewayOwnNamespace ? ['namespace.yaml'] : []), 'gateway.yaml'] : [];
  const patches = clusterPatch ? ['cluster-patch.yaml'] : [];
  const about = env.gateway ? 'The Gateway of this cluster, rendered from the specs' : "The PostgreSQL Cluster's instances on this cluster, rendered from the spec";
  return { instances, clusterPatch, installValues, charts, generated: resources.length + patches.length > 0 ? { resources, patches, about } : null };
}

/** The component's services that compose.generated.yaml changes, in the order of its compose.yaml: each with its networks and rule folders (none: null). */
function composeOverrides(networks: NormalizedComponentEnv['composeNetworks'], rules: NormalizedComponentEnv['prometheusRules']): NormalizedComponentEnv['composeOverrides'] {
  const names = [...(networks.has ? networks.services.map((s) => s.name) : []), ...(rules.length > 0 ? ['prometheus'] : [])];
  const services = [...new Set(names)].map((name) => ({
    name,
    networks: networks.has ? (networks.services.find((s) => s.name === name)?.networks ?? null) : null,
    ruleVolumes: name === 'prometheus' && rules.length > 0 ? rules : null,
  }));
  return { services, has: services.length > 0 };
}

