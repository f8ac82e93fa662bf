import { InputError, show } from '../errors';
import { checkPinned, formatImageRef, parseImageRef } from '../spec/image';
import { quantityBytes } from '../spec/quantity';
import type { WorkspaceConfig } from '../spec/types';
import { CATALOG, componentNamespace } from './catalog';
import { componentPaths, environmentPaths, type EnvironmentPaths, type ProjectPaths } from '../project/paths';
import { componentSpecPath } from './spec';
import { environmentTargets } from '../workspace/targets';
import { normalizeCharts } from './steps/charts';
import { COMPOSE_NETWORK, composeConfigs } from './steps/compose-configs';
import type { ComponentName, ComponentSpec } from './types';
import type { SecretStoreSpec } from '../platform/secret-store';

/** What else is in the workspace: components wire themselves to each other (metrics, datasources). */
export interface InfraContext {
  components: ReadonlySet<ComponentName>;
  stores: readonly SecretStoreSpec[];
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
  monitoring: { enabled: boolean; grafanaSecret: string; prometheusCommand: string[] };
  logging: { enabled: boolean; lokiPushUrl: string; composeLokiUrl: string };
  backup: {
    isVelero: boolean;
    veleroSecret: string;
    veleroCredentialsTemplate: string;
    repositoryKey: string;
    schedule: string;
    retentionDays: number;
    retentionDaysText: string;
    /** offen/docker-volume-backup takes the endpoint's host and scheme apart. */
    compose: { hasS3: boolean; endpoint: string; proto: string; bucket: string };
  };
  postgres: { enabled: boolean; instances: number; storage: string; imageName: string };
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
    throw new InputError(`${where}: platforms lists compose, but ${name} has no Compose form (Traefik does TLS there); remove compose`);
  }
  const settings = spec.settings ?? {};
  const namespace = componentNamespace(name, spec, workspace);
  const release = workspace.monitoring?.release ?? 'kube-prometheus-stack';
  const store = workspace.secrets?.store ?? 'homelab';

  for (const chart of spec.kubernetes.charts) {
    if (!/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(chart.version)) {
      throw new InputError(`${where}: chart ${show(chart.name)} version ${show(chart.version)} is not exact; pin one version such as 1.2.3`);
    }
  }
  const images: Record<string, string> = {};
  for (const [service, ref] of Object.entries(spec.compose?.images ?? {})) {
    const image = parseImageRef(ref, `${where}: compose.images.${service}`);
    checkPinned(image, `${where}: compose.images.${service}`);
    images[service] = formatImageRef(image);
  }
  const memory: Record<string, string> = { ...entry.memory, ...(spec.compose?.memory ?? {}) };
  if (isCompose) {
    for (const service of Object.keys(entry.images(settings))) {
      if (!images[service]) throw new InputError(`${where}: compose.images misses ${show(service)}; add a pinned image for it`);
    }
    for (const service of Object.keys(memory)) {
      if (!images[service]) throw new InputError(`${where}: compose.memory names ${show(service)}, which is no service of ${name}; use one of ${Object.keys(images).map((i) => show(i)).join(', ')}`);
    }
  }

  const acmeEmail = settings.acme?.email ?? '';
  if (name === 'cert-manager' && acmeEmail === '') {
    throw new InputError(`${where}: settings.acme.email is required for the ACME ClusterIssuer; pass --email you@example.org`);
  }
  const acmeServer = settings.acme?.staging
    ? 'https://acme-staging-v02.api.letsencrypt.org/directory'
    : 'https://acme-v02.api.letsencrypt.org/directory';
  const isHttpRoute = (workspace.ingress?.kind ?? 'ingress') === 'httproute';
  const gateway = workspace.ingress?.gateway ?? { name: 'homelab', namespace: workspace.ingress?.namespace ?? 'traefik' };

  const provider = settings.provider ?? 'volsync';
  if (name === 'backup' && provider !== (workspace.backup?.provider ?? 'volsync')) {
    throw new InputError(
      `${where}: settings.provider ${show(provider)} differs from homelab.yaml backup.provider ${show(workspace.backup?.provider ?? 'volsync')}; re-run nx g homelab:infra backup --force to switch operators`,
    );
  }
  const s3 = workspace.backup?.s3 ?? null;
  if (name === 'backup' && provider === 'velero' && !s3) {
    throw new InputError(`homelab.yaml: backup.provider "velero" needs backup.s3 (endpoint and bucket) for Velero's storage location; add them`);
  }
  const retentionDays = settings.retentionDays ?? entry.settings({}, workspace).retentionDays ?? 7;
  if (settings.storage) quantityBytes(settings.storage, `${where}: settings.storage`);

  const lokiPushUrl = `http://loki-gateway.${namespace}.svc.cluster.local/loki/api/v1/push`;

  const charts = normalizeCharts(spec, workspace, context, { release, retentionDays, isHttpRoute, s3 });

  const resources = ['namespace.yaml'];
  if (name === 'cert-manager') resources.push('clusterissuer.yaml');
  if (name === 'monitoring' || (name === 'backup' && provider === 'velero')) resources.push('externalsecret.yaml');
  if (name === 'postgres') resources.push('cluster.yaml');

  const secretKeys =
    name === 'monitoring'
      ? ['GF_SECURITY_ADMIN_USER', 'GF_SECURITY_ADMIN_PASSWORD']
      : name === 'postgres'
        ? ['POSTGRES_PASSWORD']
        : name === 'backup' && s3
          ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
          : [];

  const hasAcme = name === 'ingress' && acmeEmail !== '';
  const traefikCommand = [
    '--providers.docker=true',
    '--providers.docker.exposedByDefault=false',
    `--providers.docker.network=${COMPOSE_NETWORK}`,
    '--entrypoints.web.address=:80',
    '--entrypoints.web.http.redirections.entrypoint.to=websecure',
    '--entrypoints.web.http.redirections.entrypoint.scheme=https',
    '--entrypoints.websecure.address=:443',
    '--ping=true',
    '--metrics.prometheus=true',
    '--accesslog=true',
    // Apps' routers ask for the resolver "letsencrypt" (see their compose.generated.yaml).
    ...(hasAcme
      ? [
          `--certificatesresolvers.letsencrypt.acme.email=${acmeEmail}`,
          '--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json',
          '--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web',
          `--certificatesresolvers.letsencrypt.acme.caserver=${acmeServer}`,
        ]
      : []),
  ];

  const environments: NormalizedComponentEnv[] = [];
  for (const target of environmentTargets(workspace)) {
    const k8s = isKubernetes && target.installsKubernetes;
    const compose = isCompose && target.installsCompose;
    if (!k8s && !compose) continue;
    const paths = environmentPaths('infrastructure', name, target.env.name);
    environments.push({
      name: target.env.name,
      kubernetes: k8s,
      compose,
      server: target.server,
      argocdAppName: `${name}-${target.env.name}`,
      composeProject: `${name}${target.env.namespaceSuffix ?? ''}`,
      kubernetesServes: target.kubernetesServes,
      composeServes: target.composeServes,
      charts: charts.map((c) => ({
        ...c,
        valueFiles: [`$values/${componentPaths(name).k8sBase}/${c.valuesFile}`, `$values/${paths.overlay}/${c.valuesFile}`],
      })),
      paths,
    });
  }

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
    resources,
    secrets: { store, remoteKey: name, keys: secretKeys, hasKeys: secretKeys.length > 0 },
    acme: {
      enabled: name === 'cert-manager',
      email: acmeEmail,
      server: acmeServer,
      issuerName: workspace.ingress?.clusterIssuer ?? 'letsencrypt',
      accountSecret: `${workspace.ingress?.clusterIssuer ?? 'letsencrypt'}-account-key`,
      isHttpRoute,
      ingressClass: workspace.ingress?.className ?? 'traefik',
      gateway,
    },
    monitoring: {
      enabled: name === 'monitoring',
      grafanaSecret: 'grafana-admin',
      prometheusCommand: [
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/prometheus',
        `--storage.tsdb.retention.time=${retentionDays}d`,
      ],
    },
    logging: { enabled: name === 'logging', lokiPushUrl, composeLokiUrl: 'http://loki:3100/loki/api/v1/push' },
    backup: {
      isVelero: name === 'backup' && provider === 'velero',
      veleroSecret: 'velero-credentials',
      // External Secrets template: resolved in the cluster from the store, never here.
      veleroCredentialsTemplate: '[default]\naws_access_key_id={{ .AWS_ACCESS_KEY_ID }}\naws_secret_access_key={{ .AWS_SECRET_ACCESS_KEY }}\n',
      repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
      schedule: workspace.backup?.schedule ?? '0 3 * * *',
      retentionDays,
      retentionDaysText: String(retentionDays),
      compose: {
        hasS3: s3 !== null,
        endpoint: (s3?.endpoint ?? '').replace(/^[a-z]+:\/\//, '').replace(/\/+$/, ''),
        proto: /^http:\/\//.test(s3?.endpoint ?? '') ? 'http' : 'https',
        bucket: s3?.bucket ?? '',
      },
    },
    postgres: {
      enabled: name === 'postgres',
      instances: settings.instances ?? 1,
      storage: settings.storage ?? '10Gi',
      imageName: settings.imageName ?? 'ghcr.io/cloudnative-pg/postgresql:17.5',
    },
    compose: { network: COMPOSE_NETWORK, images, memory, traefikCommand, hasAcme, configs: isCompose ? composeConfigs(name, charts, context, retentionDays) : [] },
    environments,
    gitops: {
      repoURL: workspace.gitops.repoURL,
      revision: workspace.gitops.revision ?? 'main',
      argocdNamespace: workspace.gitops.argocdNamespace ?? 'argocd',
      project: INFRA_PROJECT,
    },
    paths: componentPaths(name),
  };
}
