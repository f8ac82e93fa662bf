import type { InfraContext, NormalizedChart } from '../normalize';
import type { ComponentName } from '../types';

/** The Docker network every infrastructure service of a Docker host joins (created once: `docker network create homelab`). */
export const COMPOSE_NETWORK = 'homelab';

/**
 * The config files of the Compose services, built from the same data as the Kubernetes values
 * (Alertmanager routes, Loki's schema), so that both trees behave alike.
 */
export function composeConfigs(name: ComponentName, charts: NormalizedChart[], context: InfraContext, retentionDays: number): { file: string; value: unknown }[] {
  const values = (chart: string) => charts.find((c) => c.name === chart)?.values ?? {};
  if (name === 'monitoring') {
    const kps = values('kube-prometheus-stack') as { alertmanager?: { config?: unknown } };
    const scrape: unknown[] = [
      { job_name: 'prometheus', static_configs: [{ targets: ['127.0.0.1:9090'] }] },
      { job_name: 'alertmanager', static_configs: [{ targets: ['alertmanager:9093'] }] },
      {
        // Containers labelled prometheus.io/scrape=true (apps with a metrics port), reached on the shared network.
        job_name: 'compose',
        docker_sd_configs: [{ host: 'unix:///var/run/docker.sock', filters: [{ name: 'label', values: ['prometheus.io/scrape=true'] }] }],
        relabel_configs: [
          { source_labels: ['__meta_docker_network_name'], regex: COMPOSE_NETWORK, action: 'keep' },
          { source_labels: ['__meta_docker_network_ip', '__meta_docker_container_label_prometheus_io_port'], separator: ':', target_label: '__address__' },
          { source_labels: ['__meta_docker_container_label_prometheus_io_path'], regex: '(.+)', target_label: '__metrics_path__' },
          { source_labels: ['__meta_docker_container_label_homelab_app'], target_label: 'app' },
          { source_labels: ['__meta_docker_container_label_com_docker_compose_project'], target_label: 'project' },
        ],
      },
    ];
    if (context.components.has('ingress')) scrape.push({ job_name: 'traefik', static_configs: [{ targets: ['traefik:8080'] }] });
    const datasources: unknown[] = [
      { name: 'Prometheus', uid: 'prometheus', type: 'prometheus', access: 'proxy', url: 'http://prometheus:9090', isDefault: true },
      { name: 'Alertmanager', uid: 'alertmanager', type: 'alertmanager', access: 'proxy', url: 'http://alertmanager:9093', jsonData: { implementation: 'prometheus' } },
    ];
    if (context.components.has('logging')) datasources.push({ name: 'Loki', uid: 'loki', type: 'loki', access: 'proxy', url: 'http://loki:3100' });
    return [
      {
        file: 'prometheus.yml',
        value: {
          global: { scrape_interval: '30s', evaluation_interval: '30s' },
          alerting: { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] },
          scrape_configs: scrape,
        },
      },
      { file: 'alertmanager.yml', value: kps.alertmanager?.config ?? { route: { receiver: 'default' }, receivers: [{ name: 'default' }] } },
      { file: 'grafana-datasources.yaml', value: { apiVersion: 1, datasources } },
    ];
  }
  if (name === 'logging') {
    const loki = values('loki') as { loki?: { schemaConfig?: unknown } };
    return [
      {
        file: 'loki.yaml',
        value: {
          auth_enabled: false,
          server: { http_listen_port: 3100 },
          common: {
            path_prefix: '/loki',
            replication_factor: 1,
            ring: { kvstore: { store: 'inmemory' } },
            storage: { filesystem: { chunks_directory: '/loki/chunks', rules_directory: '/loki/rules' } },
          },
          schema_config: loki.loki?.schemaConfig ?? {},
          limits_config: { retention_period: `${retentionDays * 24}h` },
          compactor: { working_directory: '/loki/compactor', retention_enabled: true, delete_request_store: 'filesystem' },
        },
      },
    ];
  }
  return [];
}
