import { OUTSIDE_PROBE_LABELS } from '../../spec/health';
import { composeCpus, composeMemory } from '../../spec/quantity';
import type { NormalizedApp } from '../normalized';

/** The label deploy reads to tell a one-shot job (or an init container, `init`) from a long-running service (docs/spec.md, "Start order"). */
export const JOB_KIND_LABEL = 'homelab.kind';
/** The kinds of Compose service that run to completion, once per start: deploy waits until they exited 0, policy/probes does not apply. */
export const RUNS_TO_COMPLETION = ['job', 'init'] as const;
/** A Compose volume that stands for an emptyDir a pod's containers share (docs/spec.md, "Init containers and sidecars"): validate's parity leaves it out, as it does a tmpfs. */
export const SCRATCH_LABEL = 'homelab.scratch';
/** The schedule of a cron service, which deploy shows in its plan. */
export const SCHEDULE_LABEL = 'homelab.schedule';

/**
 * A Compose service's own settings: memory and CPU in Compose's notation, the user, and
 * the labels other services read (the job kind deploy waits for, Prometheus scraping, the
 * outside probe of deploy, log shipping). Backups stop a service by its Compose labels (app/steps/compose-backup.ts).
 */
export function normalizeCompose(
  app: string,
  where: string,
  service: Pick<NormalizedApp, 'resources' | 'security' | 'health'> & { field?: string; component?: string },
  roles: { metrics: { port: number; path: string } | null; job: boolean; schedule?: string | null; init?: boolean },
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
  else if (roles.init) labels[JOB_KIND_LABEL] = 'init';
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
  return {
    memoryLimit: composeMemory(limits.memory, `${where}: ${field}resources.limits.memory`),
    memoryReservation: requests.memory ? composeMemory(requests.memory, `${where}: ${field}resources.requests.memory`) : null,
    cpus: limits.cpu ? composeCpus(limits.cpu) : null,
    user: service.security.imageUser ? null : `${service.security.runAsUser}:${service.security.runAsGroup}`,
    startPeriod: `${service.health.startGraceSeconds}s`,
    labels,
  };
}
