import { SCHEDULE_LABEL } from '../../app/steps/compose';
import type { ComposeService } from '../model';
import { HOSTNAME } from './patterns';
import type { ImportReport } from './report';

/** What a service's labels say: its Traefik route, its schedule, and the labels carried as they are. */
export interface ServiceLabels {
  /** The first Traefik router's host, and whether it serves TLS. */
  route?: { host: string; tls: boolean; at: string };
  /** The port Traefik sends to (`traefik.http.services.<s>.loadbalancer.server.port`). */
  httpPort?: number;
  /** homelab's own `homelab.kind` (job or cron) and `homelab.schedule`. */
  kind?: 'job' | 'cron';
  schedule?: string;
  /** Labels for other tools of the Docker host (watchtower, a dashboard, …): carried on Compose in patches.compose. */
  carried: Record<string, string>;
}

const KIND_LABEL = 'homelab.kind';
/** Router and service keys homelab's ingress renders itself (its entrypoints, TLS and network), so the source's are its. */
const TRAEFIK_RENDERED = /^traefik\.(enable|docker\.network|http\.routers\.[^.]+\.(rule|entrypoints|tls|tls\.certresolver|service)|http\.services\.[^.]+\.loadbalancer\.server\.port)$/;

/**
 * Reads a service's labels (docs/import.md, "Labels"): a Traefik router's `Host(…)` rule becomes
 * the app's ingress (what homelab's ingress renders itself, entrypoints, TLS, the service port,
 * is taken from it; middlewares and other router settings are listed); homelab's own cron labels
 * make a cron service; ofelia's are listed (its schedules have seconds and `@every`, and job-exec
 * runs in a running container, which a CronJob cannot); every other label is carried to
 * Compose as it is, through patches.compose (validate warns parity/patch: Kubernetes has none).
 */
export function readLabels(service: string, svc: ComposeService, report: ImportReport): ServiceLabels {
  const out: ServiceLabels = { carried: {} };
  const at = (key: string) => `services.${service}.labels.${key}`;
  const labels = svc.labels;
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    if (key === KIND_LABEL) {
      if (value === 'cron' || value === 'job') out.kind = value;
      else report.notCarried(at(key), `homelab's own label: ${JSON.stringify(value)} is not a kind of service it renders (job, cron)`);
    } else if (key === SCHEDULE_LABEL) {
      out.schedule = value;
    } else if (key.startsWith('homelab.')) {
      report.notCarried(at(key), "homelab's own label: homelab renders its labels from the spec");
    } else if (key.startsWith('traefik.')) {
      readTraefik(key, value, at(key), out, report);
    } else if (key.startsWith('ofelia.')) {
      report.notCarried(at(key), "an ofelia schedule: its schedules have seconds and @every, and job-exec runs in a running container, which a Kubernetes CronJob cannot; write a cron service (kind: cron, schedule) by hand");
    } else {
      out.carried[key] = value;
    }
  }
  if (out.kind === 'cron' && out.schedule === undefined) report.notCarried(at(KIND_LABEL), `a cron service without ${SCHEDULE_LABEL}: kept as a long-running service`);
  if (out.schedule !== undefined && out.kind !== 'cron') report.notCarried(at(SCHEDULE_LABEL), `a schedule without ${KIND_LABEL}: cron`);
  return out;
}

function readTraefik(key: string, value: string, at: string, out: ServiceLabels, report: ImportReport): void {
  if (!TRAEFIK_RENDERED.test(key)) {
    report.notCarried(at, "homelab renders the Traefik router from the spec's ingress (host, TLS, port); add what this sets with patches.compose, and its Kubernetes counterpart with patches.kubernetes");
    return;
  }
  const port = /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(key);
  if (port) {
    if (/^[0-9]+$/.test(value) && out.httpPort === undefined) out.httpPort = Number(value);
    else report.notCarried(at, 'a second service port (the spec routes its ingress to one port)');
    return;
  }
  const router = /^traefik\.http\.routers\.([^.]+)\.(.*)$/.exec(key);
  if (!router) return;
  const [, name, field] = router;
  if (field === 'tls' && value === 'true' && out.route?.at.includes(`.routers.${name}.`)) out.route.tls = true;
  if (field === 'tls.certresolver' && out.route?.at.includes(`.routers.${name}.`)) out.route.tls = true;
  if (field !== 'rule') return;
  const hosts = [...value.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const onlyHosts = /^\s*Host\(\s*`[^`]+`(\s*,\s*`[^`]+`)*\s*\)(\s*\|\|\s*Host\(\s*`[^`]+`(\s*,\s*`[^`]+`)*\s*\))*\s*$/.test(value);
  if (!onlyHosts || hosts.length === 0) {
    report.notCarried(at, 'a rule that is not Host(`…`): the spec routes a host name to a service; write the path rules with patches');
    return;
  }
  if (out.route) {
    report.notCarried(at, 'a second router: the spec routes one host to one service');
    return;
  }
  if (!HOSTNAME.test(hosts[0])) {
    report.notCarried(at, `${JSON.stringify(hosts[0])} is not a fully qualified lower-case host name`);
    return;
  }
  if (hosts.length > 1) report.notCarried(at, `the other hosts ${hosts.slice(1).join(', ')}: the spec routes one host (an environment can set another)`);
  out.route = { host: hosts[0], tls: false, at };
}
