import { InputError } from '../../errors';
import type { ShorthandAppSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';
import type { Ports } from './ports';

/** Seconds between probes: the startup probe allows the grace period in as many tries. */
const PROBE_PERIOD = 5;

/**
 * The health check: HTTP on the HTTP port unless a command is given; health.probe says where
 * it runs on Compose (spec/health.ts): in the container (exec), from the Docker host (outside)
 * or not at all (none).
 */
export function normalizeHealth(spec: ShorthandAppSpec, where: string, ports: Ports): NormalizedApp['health'] {
  const health = spec.health ?? {};
  const probe = health.probe ?? 'exec';
  const startGraceSeconds = health.startGraceSeconds ?? APP_DEFAULTS.startGraceSeconds;
  const command = health.command ?? [];
  if (probe === 'outside' && command.length > 0) {
    throw new InputError(`${where}: health.probe "outside" probes HTTP from outside the container, but health.command runs inside it; remove health.command or set health.probe: exec`);
  }
  if (probe === 'none' && (command.length > 0 || health.http)) {
    throw new InputError(`${where}: health.probe "none" turns the health check off, but health.${health.http ? 'http' : 'command'} describes one; remove it or set health.probe: exec or outside`);
  }
  const isHttp = command.length === 0;
  const healthPort =
    isHttp && probe !== 'none'
      ? ports.byName(health.http?.port, 'health.http.port', ports.httpPort)
      : (ports.ports.find((p) => p.name === ports.httpPort) ?? ports.ports[0]);
  const path = health.http?.path ?? APP_DEFAULTS.healthPath;
  const url = `http://127.0.0.1:${healthPort.port}${path}`;
  return {
    enabled: probe !== 'none',
    composeExec: probe === 'exec',
    outside: probe === 'outside',
    isHttp,
    path,
    port: healthPort.name,
    portNumber: healthPort.port,
    command,
    startGraceSeconds,
    startupFailureThreshold: Math.max(1, Math.ceil(startGraceSeconds / PROBE_PERIOD)),
    composeTest: isHttp ? ['CMD', 'wget', '-q', '--spider', url] : ['CMD', ...command],
  };
}
