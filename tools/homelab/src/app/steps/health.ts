import { InputError } from '../../errors';
import type { HealthSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';
import { type FieldPrefix, type Ports, SHORTHAND } from './ports';

/** Seconds between probes: the startup probe allows the grace period in as many tries. */
const PROBE_PERIOD = 5;

/** No health check: a job, or a service of the full form without an HTTP port and without `health`. */
export const NO_HEALTH: NormalizedApp['health'] = {
  enabled: false,
  composeExec: false,
  outside: false,
  isHttp: false,
  isTcp: false,
  isCommand: false,
  path: APP_DEFAULTS.healthPath,
  port: '',
  portNumber: 0,
  command: [],
  startGraceSeconds: APP_DEFAULTS.startGraceSeconds,
  startupFailureThreshold: Math.ceil(APP_DEFAULTS.startGraceSeconds / PROBE_PERIOD),
  composeTest: [],
};

/**
 * The health check: HTTP on the HTTP port unless a command or a TCP port is given;
 * health.probe says where it runs on Compose (spec/health.ts): in the container (exec),
 * from the Docker host (outside) or not at all (none). Images hold no common TCP client,
 * so a TCP check runs from the kubelet and, with `probe: outside`, from deploy; a TCP
 * check without `probe` has no check on Compose, as it always had. The shorthand needs an
 * HTTP port for its default check (as always); a service of the full form without one
 * and without `health` (a database, a worker) has no check.
 */
export function normalizeHealth(spec: HealthSpec | undefined, where: string, ports: Ports, at: FieldPrefix = SHORTHAND): NormalizedApp['health'] {
  const health = spec ?? {};
  const f = at.field;
  if (at.field !== '' && spec === undefined && !ports.httpPort) return NO_HEALTH;
  const probe = health.probe ?? 'exec';
  const startGraceSeconds = health.startGraceSeconds ?? APP_DEFAULTS.startGraceSeconds;
  const command = health.command ?? [];
  if (probe === 'outside' && command.length > 0) {
    throw new InputError(`${where}: ${f}health.probe "outside" probes HTTP or TCP from outside the container, but ${f}health.command runs inside it; remove ${f}health.command or set ${f}health.probe: exec`);
  }
  if (probe === 'none' && (command.length > 0 || health.http || health.tcp)) {
    throw new InputError(
      `${where}: ${f}health.probe "none" turns the health check off, but ${f}health.${health.http ? 'http' : health.tcp ? 'tcp' : 'command'} describes one; remove it or set ${f}health.probe: exec or outside`,
    );
  }
  if (health.tcp && health.probe === 'exec') {
    throw new InputError(`${where}: ${f}health.tcp cannot run inside the container on Compose (images hold no common TCP client); set ${f}health.probe: outside (deploy connects from the Docker host) or use ${f}health.command`);
  }
  const isTcp = Boolean(health.tcp);
  const isCommand = command.length > 0;
  const isHttp = !isTcp && !isCommand;
  const fallback = ports.ports.find((p) => p.name === ports.httpPort) ?? ports.ports[0] ?? { name: '', port: 0 };
  const healthPort =
    probe === 'none'
      ? fallback
      : isTcp
        ? ports.byName(health.tcp?.port, `${f}health.tcp.port`, undefined)
        : isHttp
          ? ports.byName(health.http?.port, `${f}health.http.port`, ports.httpPort)
          : fallback;
  const path = health.http?.path ?? APP_DEFAULTS.healthPath;
  const url = `http://127.0.0.1:${healthPort.port}${path}`;
  return {
    enabled: probe !== 'none',
    composeExec: probe === 'exec' && !isTcp,
    outside: probe === 'outside',
    isHttp,
    isTcp,
    isCommand,
    path,
    port: healthPort.name,
    portNumber: healthPort.port,
    command,
    startGraceSeconds,
    startupFailureThreshold: Math.max(1, Math.ceil(startGraceSeconds / PROBE_PERIOD)),
    composeTest: isCommand ? ['CMD', ...command] : isHttp ? ['CMD', 'wget', '-q', '--spider', url] : [],
  };
}
