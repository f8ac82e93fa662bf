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

import { BACKUP_METRIC, NODE_EXPORTER_JOB } from '../../project/backup-metrics';
import type { BackupProvider } from '../../spec/types';
import { promDuration } from './schedule';

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


/** A backed-up volume as the stale-backup alert watches it. */
export interface BackupAlertVolume {
  /** The volume's name in the spec (the `volume` label of BACKUP_METRIC on Compose). */
  name: string;
  /** The VolSync ReplicationSource that copies it (Kubernetes), or null when none does. */
  replicationSource: string | null;
  /** The CronJob that dumps its database and backs the dump up (Kubernetes: `backup.dump`, `database:`), or null. */
  dumpCronJob: string | null;
}

/**
 * The volumes each platform's stale-backup alert watches (docs/backup.md, "The alert"): on
 * Kubernetes a file-copied volume by VolSync's ReplicationSource (named after its claim; none with
 * another provider), a `dump: postgres` volume by its dump CronJob `<app>-<volume>-dump`, an app's
 * database on the shared PostgreSQL by `<app>-database-dump`; on Compose each volume a mover backs
 * up (the `database` dump included), by the metric the mover writes.
 * @example backupAlertVolumes({ app: 'files', provider: 'volsync', volumes: [{ name: 'data', claimName: 'files-data', dump: false }], database: false, composeVolumes: ['data'] }).kubernetes
 * // [{ name: 'data', replicationSource: 'files-data', dumpCronJob: null }]
 */
export function backupAlertVolumes(input: {
  app: string;
  provider: BackupProvider;
  volumes: readonly { name: string; claimName: string; dump: boolean }[];
  database: boolean;
  composeVolumes: readonly string[];
}): Record<SignalPlatform, BackupAlertVolume[]> {
  const dumpJob = (volume: string) => `${input.app}-${volume}-dump`;
  return {
    kubernetes: [
      ...input.volumes.map((v) =>
        v.dump
          ? { name: v.name, replicationSource: null, dumpCronJob: dumpJob(v.name) }
          : { name: v.name, replicationSource: input.provider === 'volsync' ? v.claimName : null, dumpCronJob: null },
      ),
      ...(input.database ? [{ name: 'database', replicationSource: null, dumpCronJob: dumpJob('database') }] : []),
    ].filter((v) => v.replicationSource !== null || v.dumpCronJob !== null),
    compose: input.composeVolumes.map((name) => ({ name, replicationSource: null, dumpCronJob: null })),
  };
}

/** What the stale-backup alert of an app needs to know, in one environment. */
export interface BackupAlertTarget {
  app: string;
  env: string;
  /** The namespace (Kubernetes) or Compose project (Compose): the same string by construction. */
  scope: string;
  schedule: string;
  /** The schedule's interval in seconds (schedule.ts cronInterval). */
  intervalSeconds: number;
  /** The Compose service that runs the backups (the app's scheduler). */
  scheduler: string;
  volumes: readonly BackupAlertVolume[];
}

/**
 * The alert name of an app's stale backups.
 * @example backupAlertName('photo-library') // 'PhotoLibraryBackupStale'
 */
export function backupAlertName(app: string): string {
  return `${app
    .split(/[^a-zA-Z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('')}BackupStale`;
}

/**
 * The `<App>BackupStale` rules of an app in one environment: each fires when a volume's last
 * successful backup is older than twice the schedule's interval (docs/backup.md, "The alert").
 *
 * - Kubernetes, VolSync: its controller counts each completed sync of a ReplicationSource in
 *   `volsync_sync_duration_seconds_count` (a summary; labels obj_name, obj_namespace, role,
 *   method: internal/controller/metrics.go of VolSync v0.14.0). No completed sync within twice
 *   the interval is a stale backup. The series must have been there a window ago, so that a
 *   Prometheus with less history than the window (just installed, its data lost) does not fire.
 * - Kubernetes, a dump CronJob: kube-state-metrics' `kube_cronjob_status_last_successful_time`;
 *   one that never succeeded fires once it is older than the window (`kube_cronjob_created`).
 * - Compose: BACKUP_METRIC, which the mover writes after each successful backup; a volume with no
 *   series at all (never backed up, or the metrics volume not mounted) fires once the app's
 *   scheduler, which runs the backups, has been running for the window, while node-exporter, which
 *   serves the series, is up (a node-exporter that is down would otherwise make every app stale).
 */
export function backupAlertRules(platform: SignalPlatform, target: BackupAlertTarget): AlertRule[] {
  const window = promDuration(2 * target.intervalSeconds);
  const seconds = 2 * target.intervalSeconds;
  const alert = backupAlertName(target.app);
  const summary = (volume: string) => `${target.scope}: no successful backup of volume ${volume} for ${window} (twice the interval of its schedule ${target.schedule})`;
  const rule = (volume: string, expr: string, wait = '0m'): AlertRule => ({ alert, expr, for: wait, severity: 'warning', summary: summary(volume) });
  if (platform === 'compose') {
    return target.volumes.flatMap((v) => {
      const series = `${BACKUP_METRIC}{app="${target.app}", env="${target.env}", volume="${v.name}"}`;
      const scheduler = SERIES.compose.containers(target.scope, { kind: 'Deployment', name: target.scheduler });
      return [
        rule(v.name, `time() - ${series} > ${seconds}`),
        rule(v.name, `absent(${series}) and on () count(container_last_seen{${scheduler}}) > 0 and on () up{job="${NODE_EXPORTER_JOB}"} == 1`, window),
      ];
    });
  }
  return target.volumes.flatMap((v) => {
    const rules: AlertRule[] = [];
    if (v.replicationSource !== null) {
      const synced = `volsync_sync_duration_seconds_count{role="source", obj_namespace="${target.scope}", obj_name="${v.replicationSource}"}`;
      rules.push(rule(v.name, `increase(${synced}[${window}]) == 0 and on (obj_namespace, obj_name) present_over_time(${synced}[10m] offset ${window})`));
    }
    if (v.dumpCronJob !== null) {
      const job = `namespace="${target.scope}", cronjob="${v.dumpCronJob}"`;
      const succeeded = `kube_cronjob_status_last_successful_time{${job}}`;
      rules.push(rule(v.name, `time() - ${succeeded} > ${seconds} or (time() - kube_cronjob_created{${job}} > ${seconds} unless on (namespace, cronjob) ${succeeded})`));
    }
    return rules;
  });
}
