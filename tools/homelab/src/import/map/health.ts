import type { HealthSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import type { ImportReport } from './report';
import { durationSeconds } from './units';

/** What homelab's Compose healthcheck runs with (templates/app/applications/compose/base/__name__/compose.yaml.hbs): a source value that differs is listed. */
const RENDERED = { interval: 10, timeout: 5, retries: 3 } as const;

/**
 * The health check as the source runs it: `CMD` → `health.command`, `CMD-SHELL` → `[sh, -c, …]`,
 * `NONE`/`disable` → `probe: none`; `start_period` → startGraceSeconds. Interval, timeout and
 * retries are homelab's on both platforms: a source value that differs is listed. A long-running
 * service without a check gets `probe: none` (no check is added that the source did not run:
 * the image may hold no wget), and the app's policy/probes exception names it (`unprobed`).
 * @returns the spec's health, or undefined for a job (which has none).
 */
export function mapHealth(service: string, svc: ComposeService, report: ImportReport, longRunning: boolean, unprobed: string[]): HealthSpec | undefined {
  const at = `services.${service}.healthcheck`;
  const check = svc.healthcheck;
  if (!longRunning) {
    if (check?.test && check.test[0] !== 'NONE' && !check.disable) report.notCarried(at, 'a job or cron service has no health check in the spec: it runs to completion');
    return undefined;
  }
  const test = check?.test ?? [];
  if (check === undefined || check.disable || test[0] === 'NONE' || test.length === 0) {
    unprobed.push(service);
    return { probe: 'none' };
  }
  let command: string[];
  if (test[0] === 'CMD' && test.length > 1) command = test.slice(1);
  else if (test[0] === 'CMD-SHELL' && test.length === 2) command = ['sh', '-c', test[1]];
  else {
    report.notCarried(`${at}.test`, 'a test that is neither CMD nor CMD-SHELL');
    unprobed.push(service);
    return { probe: 'none' };
  }
  for (const field of ['interval', 'timeout'] as const) {
    const value = check[field];
    if (value !== undefined && durationSeconds(value) !== RENDERED[field]) report.notCarried(`${at}.${field}`, `homelab checks every service with ${field} ${RENDERED[field]}s on both platforms`);
  }
  if (check.retries !== undefined && check.retries !== RENDERED.retries) report.notCarried(`${at}.retries`, `homelab checks every service with ${RENDERED.retries} retries on both platforms`);
  if (check.start_interval !== undefined) report.notCarried(`${at}.start_interval`, 'homelab has no start interval');
  const health: HealthSpec = { command };
  if (check.start_period !== undefined) {
    const seconds = durationSeconds(check.start_period);
    if (seconds === null || seconds > 3600) report.notCarried(`${at}.start_period`, 'not a duration of at most an hour');
    else health.startGraceSeconds = Math.ceil(seconds);
  }
  return health;
}

/** The port an HTTP health check fetches on localhost (`wget … http://localhost:8080/…`, `curl -f http://127.0.0.1:3000/health`), if it is one. */
export function httpCheckPort(svc: ComposeService): number | undefined {
  const text = (svc.healthcheck?.test ?? []).join(' ');
  if (!/\b(wget|curl)\b/.test(text)) return undefined;
  const match = /https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::([0-9]+))?/.exec(text);
  if (!match) return undefined;
  return match[1] ? Number(match[1]) : /https:/.test(match[0]) ? 443 : 80;
}
