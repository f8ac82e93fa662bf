import { InputError, show } from '../../errors';
import type { StartCondition } from '../../spec/types';
import type { NormalizedService } from './services';

/** Compose's long form of `depends_on`. */
export type ComposeCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

/** Where a service starts: its level in the dependsOn graph and how each platform renders it. */
export interface ServiceOrder {
  /** 0 without dependencies; 1 + the highest level of its dependencies. */
  level: number;
  /** `argocd.argoproj.io/sync-wave` of the service's objects; null at level 0 (no annotation: wave 0). */
  syncWave: string | null;
  /** Compose `depends_on`, in the order the spec lists them. */
  composeDependsOn: {
    service: string;
    condition: ComposeCondition;
    /** `healthy` on a service Compose cannot see healthy (probed from outside, or by TCP from the kubelet): rendered as started, deploy keeps the order. */
    checkedOutside: boolean;
  }[];
}

type Node = Pick<NormalizedService, 'name' | 'kind' | 'health' | 'dependsOn'>;

const COMPOSE_CONDITIONS: Record<StartCondition, ComposeCondition> = {
  started: 'service_started',
  healthy: 'service_healthy',
  completed: 'service_completed_successfully',
};

/**
 * The start order of an app's services (docs/spec.md, "Start order"): each service's level
 * (Kubernetes: ArgoCD sync waves) and its Compose `depends_on`. Refuses, in one line that
 * names the value and the fix: unknown service names, cycles, `completed` on a service that
 * is not a job, `started`/`healthy` on a job (a wave waits for a Job to complete, so only
 * `completed` means the same on both platforms), any condition on a cron service, and
 * `healthy` on a service without a health check.
 */
export function orderServices(services: Node[], where: string): Map<string, ServiceOrder> {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const service of services) {
    for (const [name, condition] of Object.entries(service.dependsOn)) {
      const at = `${where}: services.${service.name}.dependsOn.${name}`;
      const dep = byName.get(name);
      if (!dep) {
        throw new InputError(`${at}: ${show(name)} is not a service of the app; use one of ${services.filter((s) => s !== service).map((s) => show(s.name)).join(', ') || '(none: the app has one service)'} or remove it`);
      }
      if (dep.kind === 'cron') {
        throw new InputError(`${at}: ${show(name)} is a cron service, which runs on its schedule and never starts at deploy; remove it from dependsOn`);
      }
      if (condition === 'completed' && dep.kind !== 'job') {
        throw new InputError(`${at} is "completed", but ${show(name)} is a long-running service that never completes; use healthy or started, or make ${name} kind: job`);
      }
      if (condition !== 'completed' && dep.kind === 'job') {
        throw new InputError(`${at} is ${show(condition)}, but ${show(name)} is a job; use completed (it waits until the job exited 0)`);
      }
      if (condition === 'healthy' && !dep.health.enabled) {
        throw new InputError(`${at} is "healthy", but ${show(name)} has no health check; use started, or give services.${name}.health a check`);
      }
    }
  }

  const levels = new Map<string, number>();
  const visiting: string[] = [];
  const level = (name: string): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    const cycleAt = visiting.indexOf(name);
    if (cycleAt >= 0) {
      const cycle = [...visiting.slice(cycleAt), name];
      throw new InputError(`${where}: services.${cycle[cycle.length - 2]}.dependsOn makes a cycle (${cycle.join(' -> ')}); remove one of these dependencies`);
    }
    visiting.push(name);
    const deps = Object.keys(byName.get(name)!.dependsOn);
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(level));
    visiting.pop();
    levels.set(name, value);
    return value;
  };

  const order = new Map<string, ServiceOrder>();
  for (const service of services) {
    const n = level(service.name);
    order.set(service.name, {
      level: n,
      syncWave: n === 0 ? null : String(n),
      composeDependsOn: Object.entries(service.dependsOn).map(([name, condition]) => {
        const checkedOutside = condition === 'healthy' && !byName.get(name)!.health.composeExec;
        return { service: name, condition: checkedOutside ? 'service_started' : COMPOSE_CONDITIONS[condition], checkedOutside };
      }),
    });
  }
  return order;
}
