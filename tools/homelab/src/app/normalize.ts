import { InputError, show } from '../errors';
import { COMPONENT_NAMES } from '../component/types';
import { OUTSIDE_PROBE_LABELS } from '../spec/health';
import { checkPinned, checkRepository, formatImageRef } from '../spec/image';
import { composeCpus, composeMemory, quantityBytes } from '../spec/quantity';
import type { AppSpec, BackupProvider, WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';
import { appPaths, environmentPaths, type EnvironmentPaths, type ProjectPaths } from '../project/paths';

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

/**
 * Turns a schema-valid spec and the workspace settings into everything the templates
 * need: every default and derived flag is computed here, so templates only test flags
 * and interpolate. Throws an InputError for specs that are valid YAML and valid against
 * the schema but inconsistent (a port name that does not exist, an unknown environment,
 * a dependency the workspace does not have, ...).
 */
export function normalizeApp(spec: AppSpec, workspace: WorkspaceConfig, dependencies: Dependencies): NormalizedApp {
  const where = appPaths(spec.name).spec;
  const name = spec.name;

  checkRepository(spec.image.repository, `${where}: image.repository`);
  checkPinned(spec.image, `${where}: image`);

  const ports = spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? ('TCP' as const) }));
  unique(ports.map((p) => p.name), `${where}: ports[].name`, 'give each port its own name');
  unique(ports.map((p) => `${p.port}/${p.protocol}`), `${where}: ports[].port`, 'give each port its own number');
  const httpPorts = spec.ports.filter((p) => p.http);
  if (httpPorts.length > 1) {
    throw new InputError(`${where}: ports ${show(httpPorts.map((p) => p.name).join(','))} are all marked http; mark one port http: true`);
  }
  const httpPort = httpPorts[0];
  const portByName = (ref: string | undefined, field: string, fallback: string | undefined) => {
    const wanted = ref ?? fallback;
    if (!wanted) {
      throw new InputError(`${where}: ${field} needs a port; mark one port http: true or set ${field}`);
    }
    const port = ports.find((p) => p.name === wanted);
    if (!port) {
      throw new InputError(`${where}: ${field} ${show(wanted)} is not a port of the app; use one of ${ports.map((p) => show(p.name)).join(', ')}`);
    }
    return port;
  };

  const env = Object.keys(spec.env ?? {})
    .sort()
    .map((key) => ({ name: key, value: (spec.env ?? {})[key] }));

  const secretKeys = (spec.secrets ?? []).map((s) => ({ key: s.key, remoteKey: s.remoteKey, property: s.property ?? null }));
  unique(secretKeys.map((s) => s.key), `${where}: secrets[].key`, 'list each secret key once');
  for (const s of secretKeys) {
    if (spec.env && s.key in spec.env) {
      throw new InputError(`${where}: ${show(s.key)} is both a plain env variable and a secret; keep it in secrets only`);
    }
  }

  const volumes = (spec.volumes ?? []).map((v) => ({
    name: v.name,
    claimName: `${name}-${v.name}`,
    size: v.size,
    mountPath: v.mountPath,
    backup: v.backup ?? true,
    backupLabel: String(v.backup ?? true),
    storageClass: v.storageClass ?? null,
    composeVolume: v.name,
  }));
  unique(volumes.map((v) => v.name), `${where}: volumes[].name`, 'give each volume its own name');
  unique([...volumes.map((v) => v.mountPath), '/tmp'], `${where}: volumes[].mountPath`, 'mount each volume at its own path (homelab mounts /tmp itself)');
  for (const v of volumes) {
    quantityBytes(v.size, `${where}: volumes.${v.name}.size`);
    if (v.mountPath.split('/').includes('..')) {
      throw new InputError(`${where}: volumes.${v.name}.mountPath ${show(v.mountPath)} contains ".."; use an absolute path without ".."`);
    }
  }
  const hasVolumes = volumes.length > 0;

  const replicas = spec.replicas ?? APP_DEFAULTS.replicas;
  const requests = { ...APP_DEFAULTS.requests, ...(spec.resources?.requests ?? {}) };
  const limits: Record<string, string> = { ...APP_DEFAULTS.limits, ...(spec.resources?.limits ?? {}) };
  if (quantityBytes(requests.memory, `${where}: resources.requests.memory`) > quantityBytes(limits.memory, `${where}: resources.limits.memory`)) {
    throw new InputError(`${where}: resources.requests.memory ${show(requests.memory)} exceeds resources.limits.memory ${show(limits.memory)}; raise the limit or lower the request`);
  }

  // Health: an HTTP check on the HTTP port unless a command is given; health.probe says
  // where it runs on Compose (spec/health.ts).
  const health = spec.health ?? {};
  const probe = health.probe ?? 'exec';
  const startGraceSeconds = health.startGraceSeconds ?? APP_DEFAULTS.startGraceSeconds;
  const command = health.command ?? [];
  if (probe === 'outside' && command.length > 0) {
    throw new InputError(`${where}: health.probe "outside" probes HTTP from outside the container, but health.command runs inside it; remove health.command or set health.probe: exec`);
  }
  if (probe === 'none' && (command.length > 0 || health.http)) {
    throw new InputError(`${where}: health.probe "none" turns the health check off, but health.${health.http ? 'http' : 'command'} describes one; remove it or set health.probe: exec or outside`);
  }
  const isHttp = command.length === 0;
  const healthPort =
    isHttp && probe !== 'none'
      ? portByName(health.http?.port, 'health.http.port', httpPort?.name)
      : (ports.find((p) => p.name === httpPort?.name) ?? ports[0]);
  const healthPath = health.http?.path ?? APP_DEFAULTS.healthPath;
  const healthUrl = `http://127.0.0.1:${healthPort.port}${healthPath}`;
  const probePeriod = 5;

  // Ingress: Ingress with cert-manager, or a Gateway API HTTPRoute.
  const ingressKind = workspace.ingress?.kind ?? 'ingress';
  const ingressPort = spec.ingress ? portByName(spec.ingress.port, 'ingress.port', httpPort?.name) : ports[0];
  const anyEnvHost = Object.entries(spec.environments ?? {}).find(([, o]) => o.host);
  if (!spec.ingress && anyEnvHost) {
    throw new InputError(`${where}: environments.${anyEnvHost[0]}.host is set but the app has no ingress; add ingress.host to the spec`);
  }

  // Monitoring: kube-state-metrics alerts always; a ServiceMonitor when the app exposes metrics.
  const metrics = spec.monitoring?.metrics;
  const metricsPort = metrics ? portByName(metrics.port, 'monitoring.metrics.port', httpPort?.name) : null;
  const alerts = spec.monitoring?.alerts ?? true;
  const dashboard = spec.monitoring?.dashboard ?? true;

  // Backup: every volume with backup: true (the default), with the workspace's provider.
  const provider: BackupProvider = workspace.backup?.provider ?? 'volsync';
  const backedUp = volumes.filter((v) => v.backup);
  const retention = { ...APP_DEFAULTS.retention, ...(spec.backup?.retention ?? {}) };
  if (provider === 'k8up' && backedUp.length > 0 && !workspace.backup?.s3) {
    throw new InputError(`homelab.yaml: backup.provider "k8up" needs backup.s3 (endpoint and bucket); add them or choose volsync`);
  }
  // Which backup resources live in the base component; Velero's Schedule is per environment.
  const componentResources =
    backedUp.length === 0 ? [] : provider === 'volsync' ? ['replicationsource.yaml'] : provider === 'k8up' ? ['schedule.yaml', 'externalsecret.yaml'] : [];

  const workspaceEnvs = new Map(workspace.environments.map((e) => [e.name, e]));
  const chosen = spec.environments ? Object.keys(spec.environments) : workspace.environments.map((e) => e.name);
  if (chosen.length === 0) {
    throw new InputError(`${where}: environments is empty; list at least one of ${[...workspaceEnvs.keys()].map((e) => show(e)).join(', ')}`);
  }
  for (const e of chosen) {
    if (!workspaceEnvs.has(e)) {
      throw new InputError(
        `${where}: environment ${show(e)} is not defined in homelab.yaml; use one of ${[...workspaceEnvs.keys()].map((k) => show(k)).join(', ')} or add it with nx g homelab:environment`,
      );
    }
  }
  if (hasVolumes && (replicas > 1 || Object.values(spec.environments ?? {}).some((o) => (o.replicas ?? 0) > 1))) {
    throw new InputError(`${where}: replicas above 1 with volumes; an app with volumes runs one replica (ReadWriteOnce), so set replicas: 1`);
  }

  const runAsUser = spec.securityContext?.runAsUser ?? APP_DEFAULTS.runAsUser;
  const runAsGroup = spec.securityContext?.runAsGroup ?? runAsUser;
  const host = spec.ingress?.host ?? '';
  const tls = spec.ingress?.tls ?? true;
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/part-of': 'homelab',
    'app.kubernetes.io/managed-by': 'homelab',
  };

  const composeLabels: Record<string, string> = {
    'homelab.app': name,
  };
  if (metricsPort) {
    composeLabels['prometheus.io/scrape'] = 'true';
    composeLabels['prometheus.io/port'] = String(metricsPort.port);
    composeLabels['prometheus.io/path'] = metrics?.path ?? APP_DEFAULTS.metricsPath;
  }
  if (probe === 'outside') {
    composeLabels[OUTSIDE_PROBE_LABELS.probe] = 'outside';
    composeLabels[OUTSIDE_PROBE_LABELS.port] = String(healthPort.port);
    composeLabels[OUTSIDE_PROBE_LABELS.path] = healthPath;
    composeLabels[OUTSIDE_PROBE_LABELS.startPeriod] = `${startGraceSeconds}s`;
  }
  composeLabels['logging'] = 'promtail';
  composeLabels['logging.job'] = name;
  if (backedUp.length > 0) composeLabels['docker-volume-backup.stop-during-backup'] = name;

  const environments = chosen.map((envName) =>
    normalizeEnvironment(name, workspaceEnvs.get(envName)!, spec.environments?.[envName] ?? {}, {
      replicas,
      host,
      env,
      tls,
      ingressPort: ingressPort.port,
      hasIngress: Boolean(spec.ingress),
      workloadKind: hasVolumes ? 'StatefulSet' : 'Deployment',
      alerts,
      backup: { provider, volumes: backedUp.map((v) => ({ name: v.name, resticSecret: `${v.claimName}-restic` })) },
    }),
  );

  return {
    name,
    title: name,
    description: spec.description ?? '',
    layer: 'applications',
    image: formatImageRef(spec.image),
    labels,
    selector: { 'app.kubernetes.io/name': name },
    workload: {
      kind: hasVolumes ? 'StatefulSet' : 'Deployment',
      isStatefulSet: hasVolumes,
      file: hasVolumes ? 'statefulset.yaml' : 'deployment.yaml',
      replicas,
    },
    ports,
    env,
    hasEnv: env.length > 0,
    secrets: {
      enabled: secretKeys.length > 0,
      secretName: `${name}-secrets`,
      store: workspace.secrets?.store ?? 'homelab',
      keys: secretKeys,
    },
    volumes,
    hasVolumes,
    resources: { requests, limits },
    security: { runAsUser, runAsGroup },
    health: {
      enabled: probe !== 'none',
      composeExec: probe === 'exec',
      outside: probe === 'outside',
      isHttp,
      path: healthPath,
      port: healthPort.name,
      portNumber: healthPort.port,
      command,
      startGraceSeconds,
      startupFailureThreshold: Math.max(1, Math.ceil(startGraceSeconds / probePeriod)),
      composeTest: isHttp ? ['CMD', 'wget', '-q', '--spider', healthUrl] : ['CMD', ...command],
    },
    ingress: {
      enabled: Boolean(spec.ingress),
      isIngress: Boolean(spec.ingress) && ingressKind === 'ingress',
      isHttpRoute: Boolean(spec.ingress) && ingressKind === 'httproute',
      host,
      tls,
      port: ingressPort.name,
      portNumber: ingressPort.port,
      className: workspace.ingress?.className ?? 'traefik',
      clusterIssuer: workspace.ingress?.clusterIssuer ?? 'letsencrypt',
      tlsSecretName: `${name}-tls`,
      gateway: workspace.ingress?.gateway ?? { name: 'homelab', namespace: workspace.ingress?.namespace ?? 'traefik' },
    },
    monitoring: {
      serviceMonitor: Boolean(metricsPort),
      metricsPort: metricsPort?.name ?? '',
      metricsPortNumber: metricsPort?.port ?? 0,
      metricsPath: metrics?.path ?? APP_DEFAULTS.metricsPath,
      alerts,
      dashboard,
      dashboardJson: dashboard ? grafanaDashboard(name, hasVolumes ? 'statefulset' : 'deployment') : '',
      dashboardConfigMap: `${name}-dashboard`,
      dashboardFile: `${name}.json`,
      release: workspace.monitoring?.release ?? 'kube-prometheus-stack',
      namespace: workspace.monitoring?.namespace ?? 'monitoring',
      enabled: Boolean(metricsPort) || dashboard,
    },
    backup: {
      enabled: backedUp.length > 0,
      provider,
      isVolsync: provider === 'volsync',
      isVelero: provider === 'velero',
      isK8up: provider === 'k8up',
      schedule: spec.backup?.schedule ?? workspace.backup?.schedule ?? APP_DEFAULTS.backupSchedule,
      retention,
      repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
      // Velero keeps each backup for a TTL: long enough for the longest retention asked for.
      hasComponent: componentResources.length > 0,
      componentResources,
      k8up: {
        secretName: `${name}-k8up`,
        endpoint: workspace.backup?.s3?.endpoint ?? '',
        bucket: workspace.backup?.s3?.bucket ?? '',
        pruneSchedule: '0 5 * * 0',
      },
      veleroTtl: `${24 * Math.max(retention.daily, retention.weekly * 7, retention.monthly * 31, 1)}h`,
      volumes: backedUp.map((v) => ({
        name: v.name,
        claimName: v.claimName,
        resticSecret: `${v.claimName}-restic`,
        composeVolume: v.composeVolume,
        mountPath: v.mountPath,
      })),
    },
    network: {
      allowInternet: spec.network?.allowInternet ?? false,
      ingressNamespace: workspace.ingress?.namespace ?? 'traefik',
      monitoringNamespace: workspace.monitoring?.namespace ?? 'monitoring',
      fromIngressPorts: spec.ingress ? [ingressPort.port] : [],
      metricsPortNumber: metricsPort?.port ?? 0,
      dependencyNamespaces: dependencyNamespaces(spec, dependencies),
    },
    compose: {
      memoryLimit: composeMemory(limits.memory, `${where}: resources.limits.memory`),
      memoryReservation: requests.memory ? composeMemory(requests.memory, `${where}: resources.requests.memory`) : null,
      cpus: limits.cpu ? composeCpus(limits.cpu) : null,
      user: `${runAsUser}:${runAsGroup}`,
      startPeriod: `${startGraceSeconds}s`,
      labels: composeLabels,
    },
    dependsOn: [...(spec.dependsOn ?? [])].sort(),
    environments,
    gitops: {
      repoURL: workspace.gitops.repoURL,
      revision: workspace.gitops.revision ?? 'main',
      argocdNamespace: workspace.gitops.argocdNamespace ?? 'argocd',
      project: workspace.gitops.project ?? 'applications',
      syncWave: SYNC_WAVES.applications,
    },
    paths: appPaths(name),
  };
}

function normalizeEnvironment(
  app: string,
  ws: WorkspaceEnvironment,
  override: NonNullable<AppSpec['environments']>[string],
  base: {
    replicas: number;
    host: string;
    env: { name: string; value: string }[];
    tls: boolean;
    ingressPort: number;
    hasIngress: boolean;
    workloadKind: 'Deployment' | 'StatefulSet';
    alerts: boolean;
    backup: { provider: BackupProvider; volumes: { name: string; resticSecret: string }[] };
  },
): NormalizedEnvironment {
  const suffix = ws.namespaceSuffix ?? '';
  const replicas = override.replicas ?? base.replicas;
  const host = override.host ?? base.host;
  const envOverride = Object.keys(override.env ?? {})
    .sort()
    .map((key) => ({ name: key, value: (override.env ?? {})[key] }));
  const merged = new Map(base.env.map((e) => [e.name, e.value]));
  for (const e of envOverride) merged.set(e.name, e.value);
  const env = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => ({ name, value }));
  const composeLabels: Record<string, string> = {};
  if (base.hasIngress) {
    const router = `${app}${suffix}`;
    composeLabels['traefik.enable'] = 'true';
    composeLabels[`traefik.http.routers.${router}.rule`] = `Host(\`${host}\`)`;
    composeLabels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(base.ingressPort);
    if (base.tls) composeLabels[`traefik.http.routers.${router}.tls.certresolver`] = 'letsencrypt';
  }
  const replicasChanged = replicas !== base.replicas;
  const hostChanged = host !== base.host;
  const envChanged = envOverride.length > 0;
  const namespace = `${app}${suffix}`;

  const patches: string[] = [];
  if (replicasChanged || envChanged) patches.push('workload-patch.yaml');
  if (hostChanged) patches.push('ingress-patch.yaml');

  // Alerts are per environment because a PrometheusRule's query must name its namespace.
  const kind = base.workloadKind === 'Deployment' ? 'deployment' : 'statefulset';
  const ready = kind === 'deployment' ? 'kube_deployment_status_replicas_available' : 'kube_statefulset_status_replicas_ready';
  const alerts = base.alerts
    ? [
        {
          alert: 'HomelabAppDown',
          expr: `${ready}{namespace="${namespace}", ${kind}="${app}"} < 1`,
          for: '5m',
          severity: 'critical',
          summary: `${app} has no ready replica in ${namespace}`,
        },
        {
          alert: 'HomelabAppRestarting',
          expr: `increase(kube_pod_container_status_restarts_total{namespace="${namespace}", container="${app}"}[15m]) > 3`,
          for: '0m',
          severity: 'warning',
          summary: `${app} restarted more than 3 times in 15 minutes in ${namespace}`,
        },
      ]
    : [];
  // Restic credentials are per environment so that dev and prod never share a repository path.
  // The values are External Secrets templates, resolved in the cluster, never rendered here.
  const resticSecrets =
    base.backup.provider === 'volsync'
      ? base.backup.volumes.map((v) => ({
          name: v.resticSecret,
          repository: `{{ .repository }}/${namespace}/${v.name}`,
          password: '{{ .password }}',
        }))
      : [];
  const resources: string[] = [];
  if (alerts.length > 0) resources.push('prometheusrule.yaml');
  if (resticSecrets.length > 0) resources.push('externalsecret.yaml');
  if (base.backup.provider === 'velero' && base.backup.volumes.length > 0) resources.push('schedule.yaml');

  return {
    name: ws.name,
    protected: ws.protected ?? false,
    namespace,
    composeProject: `${app}${suffix}`,
    replicas,
    replicasChanged,
    host,
    hostChanged,
    env,
    envChanged,
    hasPatches: patches.length > 0,
    patches,
    resources,
    hasResources: resources.length > 0,
    alertGroup: `${app}.${ws.name}`,
    alerts,
    resticSecrets,
    hasComposeOverrides: replicasChanged || envChanged || Object.keys(composeLabels).length > 0,
    server: ws.kubernetes?.server ?? 'https://kubernetes.default.svc',
    argocdAppName: `${app}-${ws.name}`,
    composeLabels,
    hasComposeLabels: Object.keys(composeLabels).length > 0,
    paths: environmentPaths('applications', app, ws.name),
    velero: { name: `${app}${suffix}` },
  };
}

/**
 * The namespaces an app's NetworkPolicy allows egress to: each dependency's own (ingress
 * runs in traefik, backup in its operator's namespace), never the component's name.
 * A dependency the workspace does not have is refused here, before sync writes anything.
 */
function dependencyNamespaces(spec: AppSpec, dependencies: Dependencies): string[] {
  const where = appPaths(spec.name).spec;
  const namespaces = new Set<string>();
  for (const dep of spec.dependsOn ?? []) {
    const found = dependencies.get(dep);
    if (!found) {
      const add = (COMPONENT_NAMES as readonly string[]).includes(dep)
        ? `add it with \`npx nx g homelab:infra ${dep}\``
        : `use a component of the catalog (${COMPONENT_NAMES.join(', ')}) or write infrastructure/specs/${dep}.yaml`;
      throw new InputError(`${where}: dependsOn ${show(dep)} is not an infrastructure component of this workspace (no infrastructure/specs/${dep}.yaml); ${add}, or remove it from dependsOn`);
    }
    if (found.kubernetes && found.namespace === null) {
      throw new InputError(`infrastructure/specs/${dep}.yaml names no namespace, so ${spec.name}'s NetworkPolicy cannot allow egress to it; add \`namespace: <its namespace>\` to that spec`);
    }
    if (found.namespace !== null) namespaces.add(found.namespace);
  }
  return [...namespaces].sort();
}

function unique(values: string[], field: string, fix: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new InputError(`${field} ${show(v)} appears twice; ${fix}`);
    seen.add(v);
  }
}

/** A small Grafana dashboard for one app: availability, restarts, CPU and memory (cAdvisor and kube-state-metrics). */
function grafanaDashboard(app: string, workloadKind: 'deployment' | 'statefulset'): string {
  const sel = `namespace="$namespace", container="${app}"`;
  const available =
    workloadKind === 'deployment'
      ? `kube_deployment_status_replicas_available{namespace="$namespace", deployment="${app}"}`
      : `kube_statefulset_status_replicas_ready{namespace="$namespace", statefulset="${app}"}`;
  const panel = (id: number, title: string, expr: string, unit: string) => ({
    id,
    title,
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 12, x: ((id - 1) % 2) * 12, y: Math.floor((id - 1) / 2) * 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ expr, refId: 'A' }],
  });
  const dashboard = {
    uid: `homelab-${app}`.slice(0, 40),
    title: `homelab / ${app}`,
    tags: ['homelab', app],
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus' },
        {
          name: 'namespace',
          type: 'query',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: `label_values(kube_pod_info{pod=~"${app}-.*"}, namespace)`,
          refresh: 2,
        },
      ],
    },
    panels: [
      panel(1, 'Available replicas', available, 'short'),
      panel(2, 'Restarts (1h)', `sum(increase(kube_pod_container_status_restarts_total{${sel}}[1h]))`, 'short'),
      panel(3, 'CPU', `sum(rate(container_cpu_usage_seconds_total{${sel}}[5m]))`, 'cores'),
      panel(4, 'Memory', `sum(container_memory_working_set_bytes{${sel}})`, 'bytes'),
    ],
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
