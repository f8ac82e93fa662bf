/**
 * The signals of an app, described once for both platforms: what its Grafana dashboard shows and
 * what its alert rules watch, each written against the series the platform has.
 *
 * - Kubernetes: the kubelet's cAdvisor (`container_*`, labels `namespace`, `pod`, `container`) and
 *   kube-state-metrics (`kube_deployment_*`, `kube_statefulset_*`, `kube_pod_container_*`), both
 *   scraped by kube-prometheus-stack.
 * - Compose: cAdvisor inside the monitoring component's `cadvisor` service (Grafana Alloy's
 *   built-in exporter), whose series carry the containers' Compose labels
 *   (`container_label_com_docker_compose_project`, `container_label_com_docker_compose_service`)
 *   and homelab's `homelab.app` (`container_label_homelab_app`). Docker has no kube-state-metrics:
 *   a running container is one that cAdvisor sees, and a restart is a reset of its CPU counter
 *   (a restarted container gets a new cgroup).
 *
 * A signal or an alert is added here once, for both platforms: SIGNALS (the dashboard's panels,
 * in order) and ALERTS (each long-running service's rules in each environment).
 */

export type SignalPlatform = 'kubernetes' | 'compose';

/**
 * The container labels cAdvisor keeps on the Compose side (the allowlist of the monitoring
 * component's `cadvisor` service), each as the series label it becomes.
 */
export const COMPOSE_CONTAINER_LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  app: 'homelab.app',
} as const;

/** The label cAdvisor gives a series for a container label. @example cadvisorLabel('homelab.app') // 'container_label_homelab_app' */
export function cadvisorLabel(label: string): string {
  return `container_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

const PROJECT = cadvisorLabel(COMPOSE_CONTAINER_LABELS.project);
const SERVICE = cadvisorLabel(COMPOSE_CONTAINER_LABELS.service);
const APP = cadvisorLabel(COMPOSE_CONTAINER_LABELS.app);

/** A long-running service as the signals see it. */
export interface SignalWorkload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
}

/**
 * How one platform's series name a workload: `scope` is the namespace on Kubernetes and the
 * Compose project on Compose (the same string by construction: `<app><namespaceSuffix>`), or the
 * dashboard's variable that picks one.
 */
interface PlatformSeries {
  /** The label matchers of one workload's main container. */
  containers(scope: string, w: SignalWorkload): string;
  /** The number of ready replicas (Kubernetes) or running containers (Compose): 0 when there is none. */
  ready(scope: string, w: SignalWorkload): string;
  /** The restarts of the workload's containers over a range, per container. */
  restarts(scope: string, w: SignalWorkload, range: string): string;
  /** The dashboard's variable that picks the scope, and the query that lists its values. */
  scopeVariable(app: string, w: SignalWorkload): { name: string; query: string };
}

const SERIES: Record<SignalPlatform, PlatformSeries> = {
  kubernetes: {
    containers: (scope, w) => `namespace="${scope}", container="${w.name}"`,
    ready: (scope, w) =>
      w.kind === 'StatefulSet'
        ? `kube_statefulset_status_replicas_ready{namespace="${scope}", statefulset="${w.name}"}`
        : `kube_deployment_status_replicas_available{namespace="${scope}", deployment="${w.name}"}`,
    restarts: (scope, w, range) => `increase(kube_pod_container_status_restarts_total{${SERIES.kubernetes.containers(scope, w)}}[${range}])`,
    scopeVariable: (_app, w) => ({ name: 'namespace', query: `label_values(kube_pod_info{pod=~"${w.name}-.*"}, namespace)` }),
  },
  compose: {
    containers: (scope, w) => `${PROJECT}="${scope}", ${SERVICE}="${w.name}"`,
    // cAdvisor reports running containers only: none at all is an empty result, counted as 0.
    ready: (scope, w) => `(count(container_last_seen{${SERIES.compose.containers(scope, w)}}) or vector(0))`,
    restarts: (scope, w, range) => `resets(container_cpu_usage_seconds_total{${SERIES.compose.containers(scope, w)}}[${range}])`,
    scopeVariable: (app) => ({ name: 'project', query: `label_values(container_last_seen{${APP}="${app}"}, ${PROJECT})` }),
  },
};

/** A panel of the dashboard: one query of the primary service's series. */
interface Signal {
  title: string;
  unit: string;
  query(series: PlatformSeries, scope: string, w: SignalWorkload): string;
}

/** The dashboard's panels, in order: availability, restarts, CPU and memory (cAdvisor's names on both platforms). */
export const SIGNALS: readonly Signal[] = [
  { title: 'Available replicas', unit: 'short', query: (s, scope, w) => s.ready(scope, w) },
  { title: 'Restarts (1h)', unit: 'short', query: (s, scope, w) => `sum(${s.restarts(scope, w, '1h')})` },
  { title: 'CPU', unit: 'cores', query: (s, scope, w) => `sum(rate(container_cpu_usage_seconds_total{${s.containers(scope, w)}}[5m]))` },
  { title: 'Memory', unit: 'bytes', query: (s, scope, w) => `sum(container_memory_working_set_bytes{${s.containers(scope, w)}})` },
];

/** An alert rule of each long-running service in each environment. */
interface AlertSignal {
  alert: string;
  for: string;
  severity: 'critical' | 'warning';
  expr(series: PlatformSeries, scope: string, w: SignalWorkload): string;
  summary(scope: string, w: SignalWorkload): string;
}

/** The alerts of each long-running service: down (no ready replica) and restarting (a restart loop). */
export const ALERTS: readonly AlertSignal[] = [
  {
    alert: 'HomelabAppDown',
    for: '5m',
    severity: 'critical',
    expr: (s, scope, w) => `${s.ready(scope, w)} < 1`,
    summary: (scope, w) => `${w.name} has no ready replica in ${scope}`,
  },
  {
    alert: 'HomelabAppRestarting',
    for: '0m',
    severity: 'warning',
    expr: (s, scope, w) => `${s.restarts(scope, w, '15m')} > 3`,
    summary: (scope, w) => `${w.name} restarted more than 3 times in 15 minutes in ${scope}`,
  },
];

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: string;
  summary: string;
}

/**
 * The alert rules of an app's long-running services in one environment, on one platform: what
 * the PrometheusRule (Kubernetes) and the Prometheus rule file (Compose) hold. `scope` is the
 * environment's namespace (Kubernetes) or Compose project.
 * @example alertRules('compose', 'wiki-dev', [{ kind: 'Deployment', name: 'web' }])[0].expr
 * // '(count(container_last_seen{container_label_com_docker_compose_project="wiki-dev", container_label_com_docker_compose_service="web"}) or vector(0)) < 1'
 */
export function alertRules(platform: SignalPlatform, scope: string, workloads: readonly SignalWorkload[]): AlertRule[] {
  const series = SERIES[platform];
  return workloads.flatMap((w) =>
    ALERTS.map((a) => ({ alert: a.alert, expr: a.expr(series, scope, w), for: a.for, severity: a.severity, summary: a.summary(scope, w) })),
  );
}

/**
 * A small Grafana dashboard of an app's primary service on one platform: SIGNALS as panels, with
 * a variable that picks the namespace (Kubernetes) or Compose project (Compose), so one dashboard
 * serves every environment.
 */
export function grafanaDashboard(platform: SignalPlatform, app: string, workload: SignalWorkload): string {
  const series = SERIES[platform];
  const variable = series.scopeVariable(app, workload);
  const scope = `$${variable.name}`;
  const panel = (signal: Signal, index: number) => {
    const id = index + 1;
    return {
      id,
      title: signal.title,
      type: 'timeseries',
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      fieldConfig: { defaults: { unit: signal.unit }, overrides: [] },
      targets: [{ expr: signal.query(series, scope, workload), refId: 'A' }],
    };
  };
  const dashboard = {
    uid: `homelab-${app}`.slice(0, 40),
    title: `homelab / ${app}`,
    tags: ['homelab', app],
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus' },
        { name: variable.name, type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, query: variable.query, refresh: 2 },
      ],
    },
    panels: SIGNALS.map(panel),
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
