/**
 * Where an app's health check runs on Compose (`health.probe` in the app spec):
 * - `exec`: inside the container, as Compose's healthcheck (an HTTP check becomes
 *   `wget --spider`, so the image needs wget; or `health.command`). The default, and what
 *   every spec written before the field existed means.
 * - `outside`: `deploy` probes from the Docker host (a GET of the HTTP endpoint, or a TCP
 *   connect with `health.tcp`), so any image is checked, including one built FROM scratch or
 *   distroless; Compose itself sees no check.
 * - `none`: no health check on either platform.
 * Kubernetes probes HTTP and TCP from the kubelet, outside the container, in both `exec` and `outside`.
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
  /** `tcp` for a TCP connect (health.tcp); absent for HTTP, so HTTP labels stay as they always were. */
  kind: 'homelab.health.kind',
} as const;

/**
 * What deploy probes for a container: GET http://<its address>:<port><path> (`http`), or a
 * TCP connect to <its address>:<port> (`tcp`).
 */
export type OutsideProbe = { kind: 'http'; port: number; path: string; startSeconds: number } | { kind: 'tcp'; port: number; startSeconds: number };

/**
 * The outside probe a service's labels ask for, or null when its health is not probed
 * from outside. Labels that ask for one but do not make sense are an error message.
 * `startSeconds` is the time the app may take to answer after it started (health.startGraceSeconds).
 * @example outsideProbe({ 'homelab.health.probe': 'outside', 'homelab.health.port': '80', 'homelab.health.path': '/' }) // { kind: 'http', port: 80, path: '/', startSeconds: 30 }
 * @example outsideProbe({ 'homelab.health.probe': 'outside', 'homelab.health.kind': 'tcp', 'homelab.health.port': '5432' }) // { kind: 'tcp', port: 5432, startSeconds: 30 }
 */
export function outsideProbe(labels: Record<string, unknown> | null | undefined): OutsideProbe | string | null {
  if (!labels || labels[OUTSIDE_PROBE_LABELS.probe] !== 'outside') return null;
  const kind = labels[OUTSIDE_PROBE_LABELS.kind] ?? 'http';
  if (kind !== 'http' && kind !== 'tcp') return `label ${OUTSIDE_PROBE_LABELS.kind} ${JSON.stringify(kind)} is not a probe kind; set it to tcp, or remove it for HTTP`;
  const port = Number(labels[OUTSIDE_PROBE_LABELS.port]);
  const start = /^([0-9]+)s$/.exec(String(labels[OUTSIDE_PROBE_LABELS.startPeriod] ?? '30s'));
  const startSeconds = start ? Number(start[1]) : 30;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `label ${OUTSIDE_PROBE_LABELS.port} ${JSON.stringify(labels[OUTSIDE_PROBE_LABELS.port] ?? null)} is not a port; set it to the port the app answers ${kind === 'tcp' ? 'TCP' : 'HTTP'} on`;
  }
  if (kind === 'tcp') {
    if (labels[OUTSIDE_PROBE_LABELS.path] !== undefined) return `label ${OUTSIDE_PROBE_LABELS.path} is set on a TCP probe (${OUTSIDE_PROBE_LABELS.kind}: tcp), which has no path; remove one of the two labels`;
    return { kind, port, startSeconds };
  }
  const path = String(labels[OUTSIDE_PROBE_LABELS.path] ?? '/');
  if (!path.startsWith('/')) return `label ${OUTSIDE_PROBE_LABELS.path} ${JSON.stringify(path)} is not a path; set it to a path starting with /`;
  return { kind, port, path, startSeconds };
}
