import type { BackupProvider, WorkspaceConfig } from '../spec/types';
import type { ChartSpec, ComponentName, ComponentSettings, ComponentSpec, Platform } from './types';

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
  namespace(workspace: WorkspaceConfig, settings: ComponentSettings): string;
  charts(workspace: WorkspaceConfig, settings: ComponentSettings): ChartSpec[];
  /** A pinned Git source of CRDs the chart does not ship, when there is one. */
  crds?(settings: ComponentSettings): ComponentSpec['kubernetes']['crds'];
  images(settings: ComponentSettings): Record<string, string>;
  /** Memory limit of each Compose service (Compose notation), what Kubernetes requests give the pods. */
  memory: Record<string, string>;
  settings(options: CatalogOptions, workspace: WorkspaceConfig): ComponentSettings;
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
        values: {
          deployment: { replicas: 1 },
          service: { type: 'LoadBalancer' },
          ports: { web: { redirections: { entryPoint: { to: 'websecure', scheme: 'https', permanent: true } } } },
          logs: { access: { enabled: true } },
        },
      },
    ],
    images: () => ({ traefik: 'traefik:v3.4.4' }),
    memory: { traefik: '256m' },
    settings: (o) => (o.email ? { acme: { email: o.email, staging: Boolean(o.staging) } } : {}),
  },
  'cert-manager': {
    description: 'cert-manager with an ACME (Let\'s Encrypt) ClusterIssuer for the Ingresses and Gateways of every app.',
    syncWave: '5',
    platforms: ['kubernetes'],
    namespace: () => 'cert-manager',
    charts: () => [
      { repoURL: 'https://charts.jetstack.io', name: 'cert-manager', version: 'v1.18.2', values: { crds: { enabled: true, keep: true }, replicaCount: 1 } },
    ],
    images: () => ({}),
    memory: {},
    settings: (o) => ({ acme: { email: o.email ?? '', staging: Boolean(o.staging) } }),
  },
  'external-secrets': {
    description: 'External Secrets Operator: turns ExternalSecrets into Secrets from the ClusterSecretStores under platform/secrets/stores (which it applies too).',
    syncWave: '3',
    platforms: ['kubernetes'],
    namespace: () => 'external-secrets',
    charts: () => [{ repoURL: 'https://charts.external-secrets.io', name: 'external-secrets', version: '0.18.2', values: { installCRDs: true } }],
    images: () => ({}),
    memory: {},
    settings: () => ({}),
  },
  monitoring: {
    description: 'Prometheus, Alertmanager and Grafana: kube-prometheus-stack on Kubernetes, the same three services with their config files on Compose.',
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
    images: () => ({ prometheus: 'prom/prometheus:v3.5.0', alertmanager: 'prom/alertmanager:v0.28.1', grafana: 'grafana/grafana:12.0.2' }),
    memory: { prometheus: '1g', alertmanager: '128m', grafana: '512m' },
    settings: () => ({ retentionDays: 15 }),
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
  },
  backup: {
    description: 'The backup operator of homelab.yaml backup.provider (VolSync, Velero or k8up) on Kubernetes; offen/docker-volume-backup on Compose.',
    syncWave: '10',
    platforms: ['kubernetes', 'compose'],
    namespace: (_ws, s) => BACKUP_NAMESPACES[s.provider ?? 'volsync'],
    charts: (_ws, s) => [BACKUP_CHARTS[s.provider ?? 'volsync']],
    // k8up's chart ships no CRDs: they come from the operator's repository at the matching tag.
    crds: (s) =>
      s.provider === 'k8up' ? { repoURL: 'https://github.com/k8up-io/k8up.git', path: 'config/crd/apiextensions.k8s.io/v1', targetRevision: 'v2.12.0' } : undefined,
    images: () => ({ backup: 'offen/docker-volume-backup:v2.43.4' }),
    memory: { backup: '512m' },
    settings: (_o, ws) => ({ provider: ws.backup?.provider ?? 'volsync', retentionDays: 7 }),
  },
  postgres: {
    description: 'PostgreSQL for the apps: the CloudNativePG operator and a Cluster on Kubernetes, a postgres service on Compose.',
    syncWave: '10',
    platforms: ['kubernetes', 'compose'],
    namespace: () => 'postgres',
    charts: () => [{ repoURL: 'https://cloudnative-pg.github.io/charts', name: 'cloudnative-pg', version: '0.27.1', values: { crds: { create: true } } }],
    images: () => ({ postgres: 'postgres:17.5' }),
    memory: { postgres: '1g' },
    settings: () => ({ instances: 1, storage: '10Gi', imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5' }),
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
