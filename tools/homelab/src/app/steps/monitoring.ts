import type { AppSpec, WorkspaceConfig } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';
import type { Ports } from './ports';
import { grafanaDashboard } from './signals';

/**
 * Monitoring: alerts unless turned off, a ServiceMonitor when the app exposes metrics, a
 * Grafana dashboard unless turned off, on both platforms from one description of the app's
 * signals (steps/signals.ts): the Kubernetes dashboard is a ConfigMap in the app's base, the
 * Compose one a file the Compose Grafana provisions (applications/compose/monitoring/dashboards/).
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
    dashboardJson: dashboard ? grafanaDashboard('kubernetes', spec.name, dashboardWorkload) : '',
    composeDashboardJson: dashboard ? grafanaDashboard('compose', spec.name, dashboardWorkload) : '',
    dashboardConfigMap: `${spec.name}-dashboard`,
    dashboardFile: `${spec.name}.json`,
    release: workspace.monitoring?.release ?? 'kube-prometheus-stack',
    namespace: workspace.monitoring?.namespace ?? 'monitoring',
    enabled: Boolean(metricsPort) || dashboard,
  };
}
