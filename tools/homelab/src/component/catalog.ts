import type { PolicyException } from '../project/exceptions';
import type { BackupProvider, WorkspaceConfig } from '../spec/types';
import type { ChartSpec, ComponentName, ComponentSettings, ComponentSpec, Platform } from './types';
import { defaultInstances } from './steps/instances';

/**
 * What `nx g homelab:infra <component>` writes into a new spec: pinned chart versions
 * and their default values, pinned Compose images, the namespace and the settings.
 * Nothing here is read again after generation: the spec is the source of truth, and
 * upgrading a component is editing its spec (or re-running the generator with --force).
 */
export interface CatalogEntry {
  description: string;
  /** Sync wave of the component's ArgoCD Application: CRD providers first (3, 5), the rest at 10. */
  syncWave: string;
  platforms: Platform[];
  /**
   * A component without a Compose form: why, and what to do about a spec that lists compose
   * anyway (normalize refuses it in one line with both).
   */
  withoutCompose?: { reason: string; fix: string };
  namespace(workspace: WorkspaceConfig, settings: ComponentSettings): string;
  charts(workspace: WorkspaceConfig, settings: ComponentSettings): ChartSpec[];
  /** A pinned Git source of CRDs the chart does not ship, when there is one. */
  crds?(settings: ComponentSettings): ComponentSpec['kubernetes']['crds'];
  images(settings: ComponentSettings): Record<string, string>;
  /** Memory limit of each Compose service (Compose notation), what Kubernetes requests give the pods. */
  memory: Record<string, string>;
  settings(options: CatalogOptions, workspace: WorkspaceConfig): ComponentSettings;
  /**
   * Where the CRDs of the pinned charts come from, beside the pins: the operator's Go module at the
   * version the chart installs. Never written into a spec (see CrdSource).
   */
  crdSources: CrdSource[];
  /**
   * The CRDs a cluster running this component has, when that is fewer than crdSources (the backup
   * component installs only its provider's); crdSources otherwise.
   */
  installedCrdSources?(settings: ComponentSettings): CrdSource[];
  /**
   * Policy rules a Compose service of this component breaks by design, each with its reason.
   * Validation (both front doors) reports such a finding as a warning that quotes the reason,
   * never as an error and never silently: docs/validate.md.
   */
  policyExceptions?: PolicyException[];
}

/**
 * The CRDs of a pinned chart: the operator's Go module at the version that chart installs (its
 * appVersion), and where in the module they are. `scripts/crds/fetch.ts` downloads them through the
 * Go module proxy into a cache outside the repository, `scripts/build-schemas.ts` turns them into
 * the bundled validation schemas, the API-server tests install them. Generation never reads it.
 * @example { project: 'cert-manager', module: 'github.com/cert-manager/cert-manager', version: 'v1.18.2', paths: ['deploy/crds'], pin: 'chart cert-manager v1.18.2' }
 */
export interface CrdSource {
  /** Folder name in the cache: crds/<project>-<version>. */
  project: string;
  module: string;
  version: string;
  /** Folders (each *.yaml/*.yml file in it) or files inside the module. */
  paths: string[];
  /** The pin these CRDs follow, for people: `chart <name> <version>` or why else this version. */
  pin: string;
  /** cert-manager ships its CRDs as Helm templates: the fetch replaces the templated labels. */
  helmTemplated?: boolean;
}

/** Generator answers a catalog entry may use. */
export interface CatalogOptions {
  email?: string;
  staging?: boolean;
}

const PROMETHEUS_COMMUNITY = 'https://prometheus-community.github.io/helm-charts';
const GRAFANA = 'https://grafana.github.io/helm-charts';

/**
 * Alerts from every app and component go to `default`, critical ones to `critical`,
 * kube-prometheus-stack's always-firing Watchdog to `null`. Add notification settings
 * (webhook, ntfy, e-mail) to the receivers in the spec: Compose's Alertmanager reads the
 * same configuration.
 */
const ALERTMANAGER_CONFIG = {
  route: {
    receiver: 'default',
    group_by: ['alertname', 'namespace', 'environment'],
    group_wait: '30s',
    group_interval: '5m',
    repeat_interval: '12h',
    routes: [
      { receiver: 'null', matchers: ['alertname = "Watchdog"'] },
      { receiver: 'critical', matchers: ['severity = "critical"'] },
    ],
  },
  receivers: [{ name: 'null' }, { name: 'default' }, { name: 'critical' }],
};

/**
 * The Compose images of the monitoring component. node-exporter and cadvisor came in after the
 * first specs were written: the Nx migration `monitoring-exporters` (tools/homelab/migrations.json)
 * adds their pins to a spec that lacks them.
 */
export const MONITORING_IMAGES = {
  prometheus: 'prom/prometheus:v3.5.0',
  alertmanager: 'prom/alertmanager:v0.28.1',
  grafana: 'grafana/grafana:12.0.2',
  'node-exporter': 'prom/node-exporter:v1.9.1',
  cadvisor: 'grafana/alloy:v1.9.2',
} as const;

/** Loki's index schema; Compose's Loki reads the same one. */
const LOKI_SCHEMA = {
  configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'loki_index_', period: '24h' } }],
};

/** The backup operator of each provider (homelab.yaml backup.provider). */
const BACKUP_CHARTS: Record<BackupProvider, ChartSpec> = {
  volsync: {
    repoURL: 'https://backube.github.io/helm-charts',
    name: 'volsync',
    version: '0.14.0',
    values: { manageCRDs: true, metrics: { disableAuth: true } },
  },
  velero: {
    repoURL: 'https://vmware-tanzu.github.io/helm-charts',
    name: 'velero',
    version: '10.0.4',
    values: {
      deployNodeAgent: true,
      snapshotsEnabled: false,
      initContainers: [
        { name: 'velero-plugin-for-aws', image: 'velero/velero-plugin-for-aws:v1.12.1', volumeMounts: [{ mountPath: '/target', name: 'plugins' }] },
      ],
    },
  },
  k8up: {
    repoURL: 'https://k8up-io.github.io/k8up',
    name: 'k8up',
    version: '4.8.4',
    values: { k8up: { enableLeaderElection: true } },
  },
};

/** The CRDs of each backup chart, beside BACKUP_CHARTS (the chart's appVersion). */
const BACKUP_CRDS: Record<BackupProvider, CrdSource> = {
  volsync: { project: 'volsync', module: 'github.com/backube/volsync', version: 'v0.14.0', paths: ['config/crd/bases'], pin: 'chart volsync 0.14.0' },
  velero: { project: 'velero', module: 'github.com/vmware-tanzu/velero', version: 'v1.16.1', paths: ['config/crd/v1/bases'], pin: 'chart velero 10.0.4 (Velero 1.16.1)' },
  // The chart ships no CRDs: the component's Application takes them from this tag (catalog `crds` below).
  k8up: { project: 'k8up', module: 'github.com/k8up-io/k8up/v2', version: 'v2.12.0', paths: ['config/crd/apiextensions.k8s.io/v1'], pin: 'chart k8up 4.8.4 (k8up 2.12.0)' },
};

/**
 * ArgoCD is installed by hand before the bootstrap (docs/infrastructure.md), so nothing pins it:
 * the bundled schemas of Application, ApplicationSet and AppProject follow this release.
 */
export const ARGOCD_CRDS: CrdSource = {
  project: 'argo-cd',
  module: 'github.com/argoproj/argo-cd/v3',
  version: 'v3.5.7',
  paths: ['manifests/crds/application-crd.yaml', 'manifests/crds/applicationset-crd.yaml', 'manifests/crds/appproject-crd.yaml'],
  pin: 'ArgoCD v3.5.7, installed by hand (not a catalog chart)',
};

const BACKUP_NAMESPACES: Record<BackupProvider, string> = { volsync: 'volsync-system', velero: 'velero', k8up: 'k8up' };

export const CATALOG: Record<ComponentName, CatalogEntry> = {
  ingress: {
    description: 'Traefik: the ingress controller (Ingress, Gateway API) on Kubernetes, the reverse proxy with Let\'s Encrypt on Compose.',
    syncWave: '10',
    platforms: ['kubernetes', 'compose'],
    namespace: (ws) => ws.ingress?.namespace ?? 'traefik',
    charts: () => [
      {
        repoURL: 'https://traefik.github.io/charts',
        name: 'traefik',
        version: '35.4.0',
        // deployment.replicas comes from settings.instances, per install (the overlay's generated/ values).
        values: {
          service: { type: 'LoadBalancer' },
          ports: { web: { redirections: { entryPoint: { to: 'websecure', scheme: 'https', permanent: true } } } },
          logs: { access: { enabled: true } },
        },
      },
    ],
    images: () => ({ traefik: 'traefik:v3.4.4' }),
    memory: { traefik: '256m' },
    settings: (o, ws) => ({ ...(o.email ? { acme: { email: o.email, staging: Boolean(o.staging) } } : {}), instances: defaultInstances(ws) }),
    // Chart 35.4.0 installs Traefik v3.4.1, which implements Gateway API v1.2.1 (its own test fixtures pin it).
    crdSources: [
      { project: 'traefik', module: 'github.com/traefik/traefik/v3', version: 'v3.4.1', paths: ['docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml'], pin: 'chart traefik 35.4.0 (Traefik v3.4.1)' },
      { project: 'gateway-api', module: 'sigs.k8s.io/gateway-api', version: 'v1.2.1', paths: ['config/crd/standard'], pin: 'Gateway API standard channel that Traefik v3.4.1 implements' },
    ],
    policyExceptions: [
      { service: 'traefik', rule: 'policy/docker-socket', reason: "Traefik's Docker provider reads the apps' traefik.* labels through it (read-only) to route them" },
      { service: 'traefik', rule: 'policy/run-as-non-root', reason: 'Traefik listens on ports 80 and 443 and reads the Docker socket, which needs root in the container' },
    ],
  },
  'cert-manager': {
    description: 'cert-manager with an ACME (Let\'s Encrypt) ClusterIssuer for the Ingresses and Gateways of every app.',
    syncWave: '5',
    platforms: ['kubernetes'],
    withoutCompose: { reason: 'Traefik does TLS there', fix: 'remove compose' },
    namespace: () => 'cert-manager',
    charts: () => [
      { repoURL: 'https://charts.jetstack.io', name: 'cert-manager', version: 'v1.18.2', values: { crds: { enabled: true, keep: true }, replicaCount: 1 } },
    ],
    images: () => ({}),
    memory: {},
    settings: (o) => ({ acme: { email: o.email ?? '', staging: Boolean(o.staging) } }),
    crdSources: [{ project: 'cert-manager', module: 'github.com/cert-manager/cert-manager', version: 'v1.18.2', paths: ['deploy/crds'], pin: 'chart cert-manager v1.18.2', helmTemplated: true }],
  },
  'external-secrets': {
    description: 'External Secrets Operator: turns ExternalSecrets into Secrets from the ClusterSecretStores under platform/secrets/stores (which it applies too).',
    syncWave: '3',
    platforms: ['kubernetes'],
    withoutCompose: { reason: "deploy reads the store's values itself there: docs/deploy.md", fix: 'remove compose' },
    namespace: () => 'external-secrets',
    charts: () => [{ repoURL: 'https://charts.external-secrets.io', name: 'external-secrets', version: '0.18.2', values: { installCRDs: true } }],
    images: () => ({}),
    memory: {},
    settings: () => ({}),
    crdSources: [{ project: 'external-secrets', module: 'github.com/external-secrets/external-secrets', version: 'v0.18.2', paths: ['config/crds/bases'], pin: 'chart external-secrets 0.18.2' }],
  },
  monitoring: {
    description: 'Prometheus, Alertmanager and Grafana: kube-prometheus-stack on Kubernetes, the same three services with their config files on Compose, with host and container metrics (node-exporter, cAdvisor).',
    syncWave: '5',
    platforms: ['kubernetes', 'compose'],
    namespace: (ws) => ws.monitoring?.namespace ?? 'monitoring',
    charts: () => [
      {
        repoURL: PROMETHEUS_COMMUNITY,
        name: 'kube-prometheus-stack',
        version: '77.7.0',
        values: {
          prometheus: {
            prometheusSpec: {
              storageSpec: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } } } },
            },
          },
          alertmanager: { config: ALERTMANAGER_CONFIG },
          grafana: { defaultDashboardsTimezone: 'browser' },
        },
      },
    ],
    // On Compose, host metrics come from node-exporter and container metrics from cAdvisor, which
    // Grafana Alloy has built in (the image logging runs too, so no image needs a registry's name).
    images: () => ({ ...MONITORING_IMAGES }),
    memory: { prometheus: '1g', alertmanager: '128m', grafana: '512m', 'node-exporter': '64m', cadvisor: '256m' },
    settings: () => ({ retentionDays: 15 }),
    crdSources: [
      { project: 'prometheus-operator', module: 'github.com/prometheus-operator/prometheus-operator', version: 'v0.85.0', paths: ['example/prometheus-operator-crd-full'], pin: 'chart kube-prometheus-stack 77.7.0 (prometheus-operator v0.85.0)' },
    ],
    policyExceptions: [
      { service: 'prometheus', rule: 'policy/docker-socket', reason: 'Prometheus finds the containers labelled prometheus.io/scrape=true through it (read-only)' },
      { service: 'prometheus', rule: 'policy/run-as-non-root', reason: 'reading the Docker socket needs root' },
      { service: 'alertmanager', rule: 'policy/run-as-non-root', reason: 'the prom/alertmanager image runs as its own user nobody (uid 65534)' },
      { service: 'grafana', rule: 'policy/run-as-non-root', reason: 'the grafana/grafana image runs as its own user grafana (uid 472)' },
      { service: 'prometheus', rule: 'policy/host-path', reason: "it loads the apps' alert rules from this repository's applications/compose/monitoring/rules, read-only" },
      { service: 'grafana', rule: 'policy/host-path', reason: "it provisions the apps' dashboards from this repository's applications/compose/monitoring/dashboards, read-only" },
      { service: 'node-exporter', rule: 'policy/host-path', reason: "it reads the host's filesystems (the host's / at /host, read-only) to report their size and use" },
      { service: 'cadvisor', rule: 'policy/docker-socket', reason: "cAdvisor reads each container's name and Compose labels through it (read-only)" },
      { service: 'cadvisor', rule: 'policy/host-path', reason: "cAdvisor reads the containers' cgroups (/sys) and Docker's own folder from the host, read-only" },
      { service: 'cadvisor', rule: 'policy/run-as-non-root', reason: "reading the containers' cgroups and Docker's folder needs root" },
      { service: 'cadvisor', rule: 'policy/probes', reason: 'the grafana/alloy image has no HTTP client to run a health check with' },
    ],
  },
  logging: {
    description: 'Loki (single binary, filesystem storage) and Grafana Alloy shipping every container\'s logs to it, on both trees.',
    syncWave: '10',
    platforms: ['kubernetes', 'compose'],
    namespace: () => 'logging',
    charts: () => [
      {
        repoURL: GRAFANA,
        name: 'loki',
        version: '6.30.1',
        values: {
          deploymentMode: 'SingleBinary',
          loki: { auth_enabled: false, commonConfig: { replication_factor: 1 }, storage: { type: 'filesystem' }, schemaConfig: LOKI_SCHEMA },
          singleBinary: { replicas: 1, persistence: { size: '10Gi' } },
          read: { replicas: 0 },
          write: { replicas: 0 },
          backend: { replicas: 0 },
          chunksCache: { enabled: false },
          resultsCache: { enabled: false },
          lokiCanary: { enabled: false },
          test: { enabled: false },
        },
      },
      { repoURL: GRAFANA, name: 'alloy', version: '1.1.2', values: { controller: { type: 'daemonset' } } },
    ],
    images: () => ({ loki: 'grafana/loki:3.5.1', alloy: 'grafana/alloy:v1.9.2' }),
    memory: { loki: '512m', alloy: '256m' },
    settings: () => ({ retentionDays: 14 }),
    // Nothing of Loki's or Alloy's CRDs is rendered or validated here.
    crdSources: [],
    policyExceptions: [
      { service: 'alloy', rule: 'policy/docker-socket', reason: "Alloy reads every container's logs through it (read-only)" },
      { service: 'alloy', rule: 'policy/run-as-non-root', reason: 'reading the Docker socket needs root' },
      { service: 'alloy', rule: 'policy/probes', reason: 'the grafana/alloy image has no HTTP client to run a health check with' },
      { service: 'loki', rule: 'policy/run-as-non-root', reason: 'the grafana/loki image runs as its own user (uid 10001)' },
      { service: 'loki', rule: 'policy/probes', reason: 'the grafana/loki image is distroless, with no HTTP client on its PATH to run a health check with' },
    ],
  },
  backup: {
    description: "The backup operator of homelab.yaml backup.provider (VolSync, Velero or k8up) on Kubernetes. On Compose each app's project backs up its own volumes (docs/backup.md).",
    syncWave: '10',
    platforms: ['kubernetes'],
    withoutCompose: {
      reason: "since homelab 0.3.0 each app's Compose project backs up its own volumes with restic: docs/backup.md",
      fix: 'run the migrations of the homelab update (docs/upgrading.md), or remove compose',
    },
    namespace: (_ws, s) => BACKUP_NAMESPACES[s.provider ?? 'volsync'],
    charts: (_ws, s) => [BACKUP_CHARTS[s.provider ?? 'volsync']],
    // k8up's chart ships no CRDs: they come from the operator's repository at the matching tag.
    crds: (s) =>
      s.provider === 'k8up' ? { repoURL: 'https://github.com/k8up-io/k8up.git', path: BACKUP_CRDS.k8up.paths[0], targetRevision: BACKUP_CRDS.k8up.version } : undefined,
    images: () => ({}),
    memory: {},
    settings: (_o, ws) => ({ provider: ws.backup?.provider ?? 'volsync', retentionDays: 7 }),
    // Every provider's CRDs: the provider is a workspace setting, the schemas cover them all.
    crdSources: Object.values(BACKUP_CRDS),
    installedCrdSources: (s) => [BACKUP_CRDS[s.provider ?? 'volsync']],
  },
  postgres: {
    description: 'PostgreSQL for the apps: the CloudNativePG operator and a Cluster on Kubernetes, a postgres service on Compose.',
    syncWave: '10',
    platforms: ['kubernetes', 'compose'],
    namespace: () => 'postgres',
    charts: () => [{ repoURL: 'https://cloudnative-pg.github.io/charts', name: 'cloudnative-pg', version: '0.27.1', values: { crds: { create: true } } }],
    images: () => ({ postgres: 'postgres:17.5' }),
    memory: { postgres: '1g' },
    settings: (_o, ws) => ({ instances: defaultInstances(ws), storage: '10Gi', imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5' }),
    crdSources: [
      { project: 'cloudnative-pg', module: 'github.com/cloudnative-pg/cloudnative-pg', version: 'v1.28.1', paths: ['config/crd/bases'], pin: 'chart cloudnative-pg 0.27.1 (CloudNativePG 1.28.1)' },
      // The ObjectStore of the Cluster's backups (an S3 target in homelab.yaml): the Barman Cloud plugin, for CloudNativePG 1.26 and later.
      { project: 'plugin-barman-cloud', module: 'github.com/cloudnative-pg/plugin-barman-cloud', version: 'v0.15.0', paths: ['config/crd/bases'], pin: 'Barman Cloud plugin v0.15.0 (CloudNativePG 1.26+)' },
    ],
    policyExceptions: [
      { service: 'postgres', rule: 'policy/run-as-non-root', reason: 'the postgres image starts as root to own its data folder, then runs the server as user postgres' },
    ],
  },
};

/**
 * The namespace a component runs in on Kubernetes: its spec's `namespace`, else the
 * catalog's, which may follow homelab.yaml (`ingress.namespace`, `monitoring.namespace`)
 * or the component's settings (the backup provider's operator).
 * @example componentNamespace('backup', { settings: { provider: 'velero' } }, workspace) // 'velero'
 */
export function componentNamespace(name: ComponentName, spec: Pick<ComponentSpec, 'namespace' | 'settings'>, workspace: WorkspaceConfig): string {
  return spec.namespace ?? CATALOG[name].namespace(workspace, spec.settings ?? {});
}

/**
 * The spec a new component starts from: everything the catalog pins, spelled out.
 * @example catalogSpec('postgres', {}, workspace).kubernetes.charts[0].version // '0.27.1'
 */
export function catalogSpec(name: ComponentName, options: CatalogOptions, workspace: WorkspaceConfig): ComponentSpec {
  const entry = CATALOG[name];
  const settings = entry.settings(options, workspace);
  const spec: ComponentSpec = {
    name,
    description: entry.description,
    platforms: [...entry.platforms],
    namespace: entry.namespace(workspace, settings),
    kubernetes: { charts: entry.charts(workspace, settings) },
  };
  const crds = entry.crds?.(settings);
  if (crds) spec.kubernetes.crds = crds;
  if (entry.platforms.includes('compose')) spec.compose = { images: entry.images(settings), memory: { ...entry.memory } };
  if (Object.keys(settings).length > 0) spec.settings = settings;
  return spec;
}

/**
 * Every CRD source: ArgoCD's, then each catalog component's, without repeats. What
 * `scripts/crds/fetch.ts` downloads and `scripts/build-schemas.ts` builds schemas from.
 */
export function crdSources(): CrdSource[] {
  const all = [ARGOCD_CRDS, ...Object.values(CATALOG).flatMap((entry) => entry.crdSources)];
  return all.filter((s, i) => all.findIndex((o) => o.project === s.project) === i);
}
