/**
 * Where an app's health check runs on Compose (`health.probe` in the app spec):
 * - `exec`: inside the container, as Compose's healthcheck (an HTTP check becomes
 *   `wget --spider`, so the image needs wget; or `health.command`). The default, and what
 *   every spec written before the field existed means.
 * - `outside`: `deploy` probes the HTTP endpoint from the Docker host, so any image that
 *   serves HTTP is checked, including one built FROM scratch; Compose itself sees no check.
 * - `none`: no health check on either platform.
 * Kubernetes probes HTTP from the kubelet, outside the container, in both `exec` and `outside`.
 */
export const HEALTH_PROBES = ['exec', 'outside', 'none'] as const;
export type HealthProbe = (typeof HEALTH_PROBES)[number];

/**
 * Labels of a Compose service whose health `deploy` probes from outside: rendered from the
 * spec, merged like any label (an environment's compose.override.yaml may move the port),
 * and read back by deploy from the running container and by validate from the merged file.
 */
export const OUTSIDE_PROBE_LABELS = {
  probe: 'homelab.health.probe',
  port: 'homelab.health.port',
  path: 'homelab.health.path',
  startPeriod: 'homelab.health.start-period',
} as const;

/** What deploy probes for a container: GET http://<its address>:<port><path>. */
export interface OutsideProbe {
  port: number;
  path: string;
  /** Seconds the app may take to answer after it started (health.startGraceSeconds). */
  startSeconds: number;
}

/**
 * The outside probe a service's labels ask for, or null when its health is not probed
 * from outside. Labels that ask for one but do not make sense are an error message.
 * @example outsideProbe({ 'homelab.health.probe': 'outside', 'homelab.health.port': '80', 'homelab.health.path': '/' }) // { port: 80, path: '/', startSeconds: 30 }
 */
export function outsideProbe(labels: Record<string, unknown> | null | undefined): OutsideProbe | string | null {
  if (!labels || labels[OUTSIDE_PROBE_LABELS.probe] !== 'outside') return null;
  const port = Number(labels[OUTSIDE_PROBE_LABELS.port]);
  const path = String(labels[OUTSIDE_PROBE_LABELS.path] ?? '/');
  const start = /^([0-9]+)s$/.exec(String(labels[OUTSIDE_PROBE_LABELS.startPeriod] ?? '30s'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `label ${OUTSIDE_PROBE_LABELS.port} ${JSON.stringify(labels[OUTSIDE_PROBE_LABELS.port] ?? null)} is not a port; set it to the port the app answers HTTP on`;
  }
  if (!path.startsWith('/')) return `label ${OUTSIDE_PROBE_LABELS.path} ${JSON.stringify(path)} is not a path; set it to a path starting with /`;
  return { port, path, startSeconds: start ? Number(start[1]) : 30 };
}
