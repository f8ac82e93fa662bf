import type { WorkspaceConfig } from '../../spec/types';
import type { InfraContext, NormalizedChart } from '../normalize';
import type { ChartSpec, ComponentName, ComponentSpec } from '../types';
import { PLATFORM_PRIORITY } from './instances';

/**
 * Each chart of the component with its values: the spec's, with homelab's wiring on top
 * (from homelab.yaml and the other components of the workspace: ServiceMonitors when
 * monitoring is there, Loki as a Grafana datasource when logging is, ...).
 */
export function normalizeCharts(
  spec: ComponentSpec,
  workspace: WorkspaceConfig,
  context: InfraContext,
  { release, retentionDays, isHttpRoute, s3 }: { release: string; retentionDays: number; isHttpRoute: boolean; s3: { endpoint: string; bucket: string } | null },
): NormalizedChart[] {
  // Wiring: what homelab sets in each chart's values, from homelab.yaml and the other components.
  const has = (c: ComponentName) => context.components.has(c);
  const serviceMonitor = has('monitoring');
  // The shared components' pods win over the apps' under pressure (the PriorityClass of platform/priority-classes),
  // in the charts whose value names were checked: Traefik's, cert-manager's and CloudNativePG's operator.
  const priorityClassName = PLATFORM_PRIORITY.name;
  const wiring: Record<string, Record<string, unknown>> = {
    traefik: {
      priorityClassName,
      ingressClass: { enabled: true, isDefaultClass: true, name: workspace.ingress?.className ?? 'traefik' },
      providers: { kubernetesIngress: { enabled: true }, kubernetesGateway: { enabled: isHttpRoute } },
      // The Gateway is homelab's (the ingress component's overlay, generated/gateway.yaml), on the chart's GatewayClass.
      ...(isHttpRoute ? { gateway: { enabled: false }, gatewayClass: { enabled: true, name: workspace.ingress?.className ?? 'traefik' } } : {}),
      ...(serviceMonitor ? { metrics: { prometheus: { serviceMonitor: { enabled: true, additionalLabels: { release } } } } } : {}),
    },
    'cert-manager': {
      global: { priorityClassName },
      ...(serviceMonitor ? { prometheus: { servicemonitor: { enabled: true, labels: { release } } } } : {}),
      // Certificates for the Gateway's HTTPS listeners, and HTTP-01 challenges through it.
      ...(isHttpRoute ? { config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true } } : {}),
    },
    'external-secrets': {
      ...(serviceMonitor ? { serviceMonitor: { enabled: true, additionalLabels: { release } } } : {}),
      // The Bitwarden provider talks to ESO's bitwarden-sdk-server.
      ...(context.stores.some((s) => s.provider === 'bitwarden') ? { 'bitwarden-sdk-server': { enabled: true } } : {}),
    },
    'kube-prometheus-stack': {
      prometheus: {
        prometheusSpec: {
          // Apps' ServiceMonitors, PodMonitors and PrometheusRules carry release: <homelab.yaml monitoring.release>.
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          ruleSelectorNilUsesHelmValues: false,
          serviceMonitorSelector: { matchLabels: { release } },
          podMonitorSelector: { matchLabels: { release } },
          ruleSelector: { matchLabels: { release } },
          serviceMonitorNamespaceSelector: {},
          podMonitorNamespaceSelector: {},
          ruleNamespaceSelector: {},
          retention: `${retentionDays}d`,
        },
      },
      grafana: {
        admin: { existingSecret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' },
        // Apps' dashboards are ConfigMaps labelled grafana_dashboard, in their own namespaces.
        sidecar: { dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' } },
        ...(has('logging')
          ? { additionalDataSources: [{ name: 'Loki', type: 'loki', access: 'proxy', url: `http://loki-gateway.logging.svc.cluster.local` }] }
          : {}),
      },
    },
    loki: {
      loki: {
        limits_config: { retention_period: `${retentionDays * 24}h` },
        compactor: { retention_enabled: true, delete_request_store: 'filesystem' },
      },
      ...(serviceMonitor ? { monitoring: { serviceMonitor: { enabled: true, labels: { release } } } } : {}),
    },
    alloy: { alloy: { configMap: { create: false, name: 'alloy-config', key: 'config.alloy' }, mounts: { varlog: true } } },
    velero: {
      credentials: { useSecret: true, existingSecret: 'velero-credentials' },
      configuration: {
        backupStorageLocation: [
          { name: 'default', provider: 'aws', default: true, bucket: s3?.bucket ?? '', config: { region: 'us-east-1', s3ForcePathStyle: true, s3Url: s3?.endpoint ?? '' } },
        ],
        volumeSnapshotLocation: [],
      },
      ...(serviceMonitor ? { metrics: { serviceMonitor: { enabled: true, additionalLabels: { release } } } } : {}),
    },
    k8up: serviceMonitor ? { metrics: { serviceMonitor: { enabled: true, additionalLabels: { release } } } } : {},
    'cloudnative-pg': { priorityClassName, ...(serviceMonitor ? { monitoring: { podMonitorEnabled: true, podMonitorAdditionalLabels: { release } } } : {}) },
  };

  const charts: NormalizedChart[] = spec.kubernetes.charts.map((chart: ChartSpec, i) => {
    const wired = wiring[chart.name] ?? {};
    return {
      repoURL: chart.repoURL,
      name: chart.name,
      version: chart.version,
      // kube-prometheus-stack labels its own monitors with its release name: keep it the one apps use.
      releaseName: chart.name === 'kube-prometheus-stack' ? release : (chart.releaseName ?? chart.name),
      valuesFile: i === 0 ? 'values.yaml' : `values-${chart.name}.yaml`,
      values: deepMerge(chart.values ?? {}, wired),
      wired: leafPaths(wired),
    };
  });
  return charts;
}

/** Merges b into a: objects merge key by key, anything else (arrays too) is replaced by b's. */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Dotted paths of the leaves of an object (an empty object or an array is a leaf). */
export function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, v]) =>
    isPlainObject(v) && Object.keys(v).length > 0 ? leafPaths(v, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
