import { OUTSIDE_PROBE_LABELS } from '../../spec/health';
import { composeCpus, composeMemory } from '../../spec/quantity';
import type { NormalizedApp } from '../normalized';

/** The label deploy reads to tell a one-shot job from a long-running service (docs/spec.md, "Start order"). */
export const JOB_KIND_LABEL = 'homelab.kind';
/** The schedule of a cron service, which deploy shows in its plan. */
export const SCHEDULE_LABEL = 'homelab.schedule';

/**
 * A Compose service's own settings: memory and CPU in Compose's notation, the user, and
 * the labels other services read (the job kind deploy waits for, Prometheus scraping, the
 * outside probe of deploy, log shipping, docker-volume-backup).
 */
export function normalizeCompose(
  app: string,
  where: string,
  service: Pick<NormalizedApp, 'resources' | 'security' | 'health'> & { field?: string; component?: string },
  roles: { metrics: { port: number; path: string } | null; backup: boolean; job: boolean; schedule?: string | null },
): NormalizedApp['compose'] {
  const { requests, limits } = service.resources;
  const field = service.field ?? '';
  const labels: Record<string, string> = {
    'homelab.app': app,
  };
  if (roles.schedule) {
    labels[JOB_KIND_LABEL] = 'cron';
    labels[SCHEDULE_LABEL] = roles.schedule;
  } else if (roles.job) labels[JOB_KIND_LABEL] = 'job';
  if (roles.metrics) {
    labels['prometheus.io/scrape'] = 'true';
    labels['prometheus.io/port'] = String(roles.metrics.port);
    labels['prometheus.io/path'] = roles.metrics.path;
  }
  if (service.health.outside) {
    labels[OUTSIDE_PROBE_LABELS.probe] = 'outside';
    // A TCP probe says so and has no path; an HTTP probe's labels are those it always had.
    if (service.health.isTcp) labels[OUTSIDE_PROBE_LABELS.kind] = 'tcp';
    labels[OUTSIDE_PROBE_LABELS.port] = String(service.health.portNumber);
    if (!service.health.isTcp) labels[OUTSIDE_PROBE_LABELS.path] = service.health.path;
    labels[OUTSIDE_PROBE_LABELS.startPeriod] = `${service.health.startGraceSeconds}s`;
  }
  labels['logging'] = 'promtail';
  // One log job per service: the app's name for the shorthand's one, `<app>-<service>` in the full form.
  labels['logging.job'] = service.component === undefined ? app : `${app}-${service.component}`;
  if (roles.backup) labels['docker-volume-backup.stop-during-backup'] = app;
  return {
    memoryLimit: composeMemory(limits.memory, `${where}: ${field}resources.limits.memory`),
    memoryReservation: requests.memory ? composeMemory(requests.memory, `${where}: ${field}resources.requests.memory`) : null,
    cpus: limits.cpu ? composeCpus(limits.cpu) : null,
    user: service.security.imageUser ? null : `${service.security.runAsUser}:${service.security.runAsGroup}`,
    startPeriod: `${service.health.startGraceSeconds}s`,
    labels,
  };
}
