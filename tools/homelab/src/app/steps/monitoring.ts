import type { AppSpec, WorkspaceConfig } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';
import type { Ports } from './ports';

/**
 * Monitoring: kube-state-metrics alerts unless turned off, a ServiceMonitor when the app
 * exposes metrics, a Grafana dashboard unless turned off.
 */
export function normalizeMonitoring(
  spec: AppSpec,
  workspace: WorkspaceConfig,
  where: string,
  metricsService: { ports: Ports; selector: Record<string, string> },
  dashboardWorkload: { kind: NormalizedApp['workload']['kind']; name: string },
): NormalizedApp['monitoring'] {
  const metrics = spec.monitoring?.metrics;
  const ports = metricsService.ports;
  const metricsPort = metrics ? ports.byName(metrics.port, 'monitoring.metrics.port', ports.httpPort) : null;
  const dashboard = spec.monitoring?.dashboard ?? true;
  return {
    serviceMonitor: Boolean(metricsPort),
    selector: metricsService.selector,
    metricsPort: metricsPort?.name ?? '',
    metricsPortNumber: metricsPort?.port ?? 0,
    metricsPath: metrics?.path ?? APP_DEFAULTS.metricsPath,
    alerts: spec.monitoring?.alerts ?? true,
    dashboard,
    dashboardJson: dashboard ? grafanaDashboard(spec.name, dashboardWorkload.name, dashboardWorkload.kind === 'StatefulSet' ? 'statefulset' : 'deployment') : '',
    dashboardConfigMap: `${spec.name}-dashboard`,
    dashboardFile: `${spec.name}.json`,
    release: workspace.monitoring?.release ?? 'kube-prometheus-stack',
    namespace: workspace.monitoring?.namespace ?? 'monitoring',
    enabled: Boolean(metricsPort) || dashboard,
  };
}

/** A small Grafana dashboard for one app's workload: availability, restarts, CPU and memory (cAdvisor and kube-state-metrics). */
export function grafanaDashboard(app: string, workload: string, workloadKind: 'deployment' | 'statefulset'): string {
  const sel = `namespace="$namespace", container="${workload}"`;
  const available =
    workloadKind === 'deployment'
      ? `kube_deployment_status_replicas_available{namespace="$namespace", deployment="${workload}"}`
      : `kube_statefulset_status_replicas_ready{namespace="$namespace", statefulset="${workload}"}`;
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
          query: `label_values(kube_pod_info{pod=~"${workload}-.*"}, namespace)`,
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
