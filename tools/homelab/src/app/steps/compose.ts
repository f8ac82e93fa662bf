import { OUTSIDE_PROBE_LABELS } from '../../spec/health';
import { composeCpus, composeMemory } from '../../spec/quantity';
import type { AppSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';

/**
 * The Compose service's own settings: memory and CPU in Compose's notation, the user, and
 * the labels other services read (Prometheus scraping, the outside probe of deploy, log
 * shipping, docker-volume-backup).
 */
export function normalizeCompose(
  spec: AppSpec,
  where: string,
  app: Pick<NormalizedApp, 'resources' | 'security' | 'health' | 'monitoring' | 'backup'>,
): NormalizedApp['compose'] {
  const { requests, limits } = app.resources;
  const labels: Record<string, string> = {
    'homelab.app': spec.name,
  };
  if (app.monitoring.serviceMonitor) {
    labels['prometheus.io/scrape'] = 'true';
    labels['prometheus.io/port'] = String(app.monitoring.metricsPortNumber);
    labels['prometheus.io/path'] = app.monitoring.metricsPath;
  }
  if (app.health.outside) {
    labels[OUTSIDE_PROBE_LABELS.probe] = 'outside';
    labels[OUTSIDE_PROBE_LABELS.port] = String(app.health.portNumber);
    labels[OUTSIDE_PROBE_LABELS.path] = app.health.path;
    labels[OUTSIDE_PROBE_LABELS.startPeriod] = `${app.health.startGraceSeconds}s`;
  }
  labels['logging'] = 'promtail';
  labels['logging.job'] = spec.name;
  if (app.backup.enabled) labels['docker-volume-backup.stop-during-backup'] = spec.name;
  return {
    memoryLimit: composeMemory(limits.memory, `${where}: resources.limits.memory`),
    memoryReservation: requests.memory ? composeMemory(requests.memory, `${where}: resources.requests.memory`) : null,
    cpus: limits.cpu ? composeCpus(limits.cpu) : null,
    user: `${app.security.runAsUser}:${app.security.runAsGroup}`,
    startPeriod: `${app.health.startGraceSeconds}s`,
    labels,
  };
}
