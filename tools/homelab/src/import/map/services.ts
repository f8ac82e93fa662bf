import type { ServiceKind, StartCondition } from '../../spec/types';
import type { ComposeService, ComposeSource } from '../model';
import type { ServiceLabels } from './labels';
import type { ImportReport } from './report';

const CONDITIONS: Record<ComposeService['depends_on'][string]['condition'], StartCondition> = {
  service_started: 'started',
  service_healthy: 'healthy',
  service_completed_successfully: 'completed',
};

const SCHEDULE = /^\S+( \S+){4}$/;

/** The services another waits for to complete successfully: the stack's one-shot jobs (a migration). */
export function awaitedToComplete(source: ComposeSource): Set<string> {
  const out = new Set<string>();
  for (const svc of Object.values(source.services)) {
    for (const [name, dep] of Object.entries(svc.depends_on)) if (dep.condition === 'service_completed_successfully') out.add(name);
  }
  return out;
}

/**
 * A service's kind (docs/import.md): homelab's own cron labels make a cron service; a service
 * another waits for with `service_completed_successfully` is a job (Compose's default restart
 * is "no", so a one-shot migration usually has none); every other service runs all the time,
 * as `unless-stopped`: `always` and no restart policy keep it up, `no` and `on-failure` on a
 * service nothing waits to complete are listed.
 */
export function serviceKind(service: string, svc: ComposeService, labels: ServiceLabels, awaited: Set<string>, report: ImportReport): ServiceKind {
  const at = `services.${service}.restart`;
  const restart = svc.restart;
  if (labels.kind === 'cron' && labels.schedule !== undefined) {
    if (SCHEDULE.test(labels.schedule)) return 'cron';
    report.notCarried(`services.${service}.labels.homelab.schedule`, 'not five cron fields: kept as a long-running service');
  }
  const oneShot = restart === undefined || restart === 'no' || restart.startsWith('on-failure');
  if (awaited.has(service) || labels.kind === 'job') {
    if (!oneShot) report.notCarried(at, `${restart}: a job runs to completion once per deploy (others wait for it to complete)`);
    else if (restart?.startsWith('on-failure')) report.notCarried(at, `${restart}: a job runs once per deploy, a failed run fails the deploy`);
    return 'job';
  }
  if (restart === 'no' || restart?.startsWith('on-failure')) {
    report.notCarried(at, `${restart} on a service nothing waits to complete: homelab keeps long-running services up (unless-stopped); make it a job if it runs once`);
  } else if (restart !== undefined && restart !== 'always' && restart !== 'unless-stopped') {
    report.notCarried(at, `${JSON.stringify(restart)} is not a restart policy homelab knows`);
  }
  return 'service';
}

/** `depends_on` with its conditions; `required: false` and `restart: true` are listed. */
export function mapDependsOn(service: string, svc: ComposeService, report: ImportReport): Record<string, StartCondition> | undefined {
  const out: Record<string, StartCondition> = {};
  for (const [name, dep] of Object.entries(svc.depends_on)) {
    const at = `services.${service}.depends_on.${name}`;
    out[name] = CONDITIONS[dep.condition];
    if (dep.required === false) report.notCarried(`${at}.required`, 'the spec starts every dependency; an optional one is required');
    if (dep.restart === true) report.notCarried(`${at}.restart`, 'neither platform restarts a service when its dependency restarts under the spec: services retry their connections');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
