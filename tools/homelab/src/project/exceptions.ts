/**
 * A policy rule one service of a project is allowed to break, and why: the exceptions the
 * catalog records for a component's Compose services (component/catalog.ts), and those an app's
 * spec records with its opt-ins (app/steps/exceptions.ts). Validation reports such a finding as a
 * warning that quotes the reason, never as an error and never silently (docs/validate.md).
 * @example { service: 'alloy', rule: 'policy/docker-socket', reason: 'Alloy reads every container\'s logs through it' }
 */
export interface PolicyException {
  /** The service: a Compose service, and on Kubernetes its container and pod. */
  service: string;
  rule: string;
  reason: string;
  /**
   * What the exception covers when the rule can be broken several ways: a host path (and the
   * paths below it), a capability. Unset: every finding of the rule on the service.
   */
  subject?: string;
  /** Where it is recorded, as a finding names it (`services.dns.security.runAsRoot in the spec`); unset: the catalog. */
  by?: string;
  /** The rule does not apply to the service at all (the scheduler has nothing to probe): its findings are not reported. */
  notApplicable?: boolean;
  /**
   * Recorded by homelab for a service it adds to an app itself (the Compose scheduler, the backup
   * movers): the same for every app and listed in docs/validate.md, so its findings are not
   * reported on each validate; a user's opt-ins and the catalog's stay visible as warnings.
   */
  quiet?: boolean;
}

/** The exception that allows a finding of `rule` on `service` (about `subject`, when the rule names one), or undefined. */
export function findException(exceptions: readonly PolicyException[], service: string, rule: string, subject?: string): PolicyException | undefined {
  return exceptions.find(
    (e) => e.service === service && e.rule === rule && (e.subject === undefined || (subject !== undefined && (subject === e.subject || subject.startsWith(`${e.subject.replace(/\/$/, '')}/`)))),
  );
}
