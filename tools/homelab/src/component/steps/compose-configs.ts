import * as path from 'node:path';
import { NODE_EXPORTER_JOB } from '../../project/backup-metrics';
import { APP_FACING_SERVICES, environmentNetwork, INFRA_NETWORK } from '../../project/networks';
import { componentPaths } from '../../project/paths';
import type { InfraContext, NormalizedChart, NormalizedComponentEnv } from '../normalize';
import type { ComponentName } from '../types';

/** The Docker network every infrastructure service of a Docker host joins (deploy creates it when it is missing). */
export const COMPOSE_NETWORK = INFRA_NETWORK;

/**
 * The environments' networks an installation of the component joins (compose.generated.yaml of
 * the environment that installs it): each app-facing service (APP_FACING_SERVICES: Traefik,
 * Prometheus, PostgreSQL) joins `homelab-<env>` of every environment the installation serves.
 * PostgreSQL answers there to the name apps use on Kubernetes, the CloudNativePG service
 * `postgres-rw.<namespace>.svc` (and its `.cluster.local` form), so an app's DB_HOST is the same on
 * both platforms.
 */
export function componentNetworks(name: ComponentName, namespace: string, serves: readonly string[]): NormalizedComponentEnv['composeNetworks'] {
  const aliases = name === 'postgres' ? [`postgres-rw.${namespace}.svc`, `postgres-rw.${namespace}.svc.cluster.local`] : [];
  const external = serves.map(environmentNetwork);
  const services = (APP_FACING_SERVICES[name] ?? []).map((service) => ({
    name: service,
    networks: external.map((network) => ({ name: network, aliases, hasAliases: aliases.length > 0 })),
  }));
  return { services, external: services.length > 0 ? external : [], has: services.length > 0 && external.length > 0 };
}

/** Where the Compose Prometheus finds the apps' rule files: one folder per environment it serves. */
export const PROMETHEUS_RULES_DIR = '/etc/prometheus/rules';
/** Where the Compose Grafana finds the apps' dashboards. */
export const GRAFANA_DASHBOARDS_DIR = '/etc/grafana/dashboards/homelab';
const NODE_EXPORTER_PORT = 9100;

/**
 * A workspace folder as a component's Compose files name it: relative to its Compose base, the
 * folder Compose resolves every file's relative paths against (project/paths.ts composeProjectDir).
 * @example fromComposeBase('monitoring', 'applications/compose/monitoring/dashboards') // '../../../../applications/compose/monitoring/dashboards'
 */
export function fromComposeBase(name: ComponentName, folder: string): string {
  return path.posix.relative(componentPaths(name).composeBase, folder);
}
const ALLOY_PORT = 12345;
/** cAdvisor runs inside Grafana Alloy (cadvisor.alloy): Alloy serves an exporter's metrics under its component's path. */
const CADVISOR_METRICS_PATH = '/api/v0/component/prometheus.exporter.cadvisor.containers/metrics';

/**
 * The config files of the Compose services, built from the same data as the Kubernetes values
 * (Alertmanager routes, Loki's schema), so that both trees behave alike.
 */
export function composeConfigs(name: ComponentName, charts: NormalizedChart[], context: InfraContext, retentionDays: number, environments: readonly string[]): { file: string; value: unknown }[] {
  const values = (chart: string) => charts.find((c) => c.name === chart)?.values ?? {};
  if (name === 'monitoring') {
    const kps = values('kube-prometheus-stack') as { alertmanager?: { config?: unknown } };
    const scrape: unknown[] = [
      { job_name: 'prometheus', static_configs: [{ targets: ['127.0.0.1:9090'] }] },
      { job_name: 'alertmanager', static_configs: [{ targets: ['alertmanager:9093'] }] },
      {
        // Containers labelled prometheus.io/scrape=true (apps with a metrics port), one target per container: the address it has on its environment's network.
        job_name: 'compose',
        docker_sd_configs: [{ host: 'unix:///var/run/docker.sock', filters: [{ name: 'label', values: ['prometheus.io/scrape=true'] }] }],
        relabel_configs: [
          // Apps are scraped on their environment's network (docs/infrastructure.md, "Compose wiring"), which Prometheus joins for every environment it serves.
          { source_labels: ['__meta_docker_network_name'], regex: `${environmentNetwork('')}.+`, action: 'keep' },
          { source_labels: ['__meta_docker_network_ip', '__meta_docker_container_label_prometheus_io_port'], separator: ':', target_label: '__address__' },
          { source_labels: ['__meta_docker_container_label_prometheus_io_path'], regex: '(.+)', target_label: '__metrics_path__' },
          { source_labels: ['__meta_docker_container_label_homelab_app'], target_label: 'app' },
          { source_labels: ['__meta_docker_container_label_com_docker_compose_project'], target_label: 'project' },
        ],
      },
    ];
    // Host and container metrics: the component's own exporters, by their service names on the shared network.
    scrape.push(
      { job_name: NODE_EXPORTER_JOB, static_configs: [{ targets: [`node-exporter:${NODE_EXPORTER_PORT}`] }] },
      { job_name: 'cadvisor', metrics_path: CADVISOR_METRICS_PATH, static_configs: [{ targets: [`cadvisor:${ALLOY_PORT}`] }] },
    );
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
          // The apps' alert rules, a folder per environment: compose.generated.yaml mounts those of the environments
          // this Docker host runs, the others match nothing. (Prometheus takes a glob in the file name only.)
          rule_files: environments.map((env) => `${PROMETHEUS_RULES_DIR}/${env}/*.yaml`),
          scrape_configs: scrape,
        },
      },
      { file: 'alertmanager.yml', value: kps.alertmanager?.config ?? { route: { receiver: 'default' }, receivers: [{ name: 'default' }] } },
      { file: 'grafana-datasources.yaml', value: { apiVersion: 1, datasources } },
      {
        // The apps' dashboards (applications/compose/monitoring/dashboards), read again every 30 s.
        file: 'grafana-dashboards.yaml',
        value: {
          apiVersion: 1,
          providers: [{ name: 'homelab', folder: 'homelab', type: 'file', disableDeletion: true, allowUiUpdates: false, updateIntervalSeconds: 30, options: { path: GRAFANA_DASHBOARDS_DIR } }],
        },
      },
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
