import type { PolicyException } from '../../project/exceptions';
import type { NormalizedApp } from '../normalized';
import type { PodVolume } from './workloads';

/** The policy rule each security opt-in turns off for its service (capabilities: one `policy/capabilities` per capability). */
const RULE_OF_OPT_IN: Record<string, string> = {
  runAsRoot: 'policy/run-as-non-root',
  imageUser: 'policy/run-as-non-root',
  writableRootFilesystem: 'policy/read-only-root-fs',
  privileged: 'policy/privileged',
  hostNetwork: 'policy/host-network',
};

/** Where the scheduler's exceptions are recorded: by homelab, for every app with cron services or backups on Compose (docs/deploy.md, "Cron services"; docs/backup.md). */
const SCHEDULER_BY = 'homelab for the scheduler of cron services and backups';

/** Where the backup movers' exceptions are recorded: by homelab, for every app with backed-up volumes on Compose (docs/backup.md). */
const MOVER_BY = 'homelab for the backup movers';

/**
 * The policy exceptions an app records, each for one service with its reason (docs/validate.md,
 * "Policy exceptions of an app"):
 * - a service's security opt-ins (`security.runAsRoot`, `writableRootFilesystem`, `privileged`,
 *   `hostNetwork`, `capabilities.<CAP>`) turn the matching rule off for that service only;
 * - `privileged` also covers the hostPath of each of its devices without a device plugin (the
 *   opt-in that device needs on Kubernetes);
 * - a hostPath volume with a `reason` covers the services that mount it (policy/host-path, or
 *   policy/docker-socket for the Docker socket);
 * - an init container or sidecar has its own opt-ins and host paths, for its container and its
 *   Compose service `<service>-<name>` only (the service's do not cover it); policy/probes does not
 *   apply to a sidecar, which has no health check of its own;
 * - the Compose scheduler of cron services has fixed ones: root and the Docker socket to start
 *   the app's cron containers, a writable root filesystem for its crontab, SETGID for crond, and
 *   no health check to give (policy/probes does not apply to it).
 */
export function appPolicyExceptions(app: Pick<NormalizedApp, 'services' | 'scheduler' | 'composeBackup'>): PolicyException[] {
  const out: PolicyException[] = [];
  const optIns = (service: string, field: string, security: NormalizedApp['security'], hostDevices: { path: string }[]) => {
    const by = (optIn: string) => `${field}security.${optIn} in the spec`;
    for (const { optIn, reason } of security.optIns) {
      const capability = /^capabilities\.(.+)$/.exec(optIn)?.[1];
      if (capability) out.push({ service, rule: 'policy/capabilities', reason, subject: capability, by: by(optIn) });
      // defaultCapabilities turns no rule off: policy/capabilities judges what is added, not what is kept.
      else if (RULE_OF_OPT_IN[optIn]) out.push({ service, rule: RULE_OF_OPT_IN[optIn], reason, by: by(optIn) });
      if (optIn === 'privileged') {
        for (const device of hostDevices) out.push({ service, rule: 'policy/host-path', reason, subject: device.path, by: by(optIn) });
      }
    }
  };
  const hostPaths = (service: string, volumes: PodVolume[]) => {
    for (const volume of volumes) {
      if (!volume.hostPath?.reason) continue;
      const rule = /\.sock$/.test(volume.hostPath.path) ? 'policy/docker-socket' : 'policy/host-path';
      out.push({ service, rule, reason: volume.hostPath.reason, subject: volume.hostPath.path, by: `volumes.${volume.name}.reason in the spec` });
    }
  };
  for (const service of app.services) {
    optIns(service.name, service.at.field, service.security, service.runtime.hostDevices);
    // The pod's volumes: those of its init containers and sidecars too (Kubernetes reports a pod's host paths on its service).
    hostPaths(service.name, service.podVolumes);
    // An init container or sidecar has its own opt-ins, for its container and its Compose service `<service>-<name>` only.
    for (const c of [...service.initContainers, ...service.sidecars]) {
      optIns(c.composeName, c.at.field, c.security, []);
      hostPaths(c.composeName, service.podVolumes.filter((v) => c.mounts.some((m) => m.volume === v.name)));
    }
    for (const c of service.sidecars) {
      out.push({ service: c.composeName, rule: 'policy/probes', reason: "a sidecar has no health check of its own in the spec: its pod's readiness is its service's", by: `${c.at.field.replace(/\.$/, '')} in the spec`, notApplicable: true });
    }
  }
  if (app.scheduler) {
    const service = app.scheduler.name;
    const startsContainers = "it starts the app's cron and backup containers on their schedules through the Docker socket";
    out.push(
      { service, rule: 'policy/docker-socket', reason: startsContainers, by: SCHEDULER_BY, quiet: true },
      { service, rule: 'policy/run-as-non-root', reason: startsContainers, by: SCHEDULER_BY, quiet: true },
      { service, rule: 'policy/read-only-root-fs', reason: 'Compose copies its crontab (an inline config) into the container, which a read-only root filesystem refuses', by: SCHEDULER_BY, quiet: true },
      { service, rule: 'policy/capabilities', reason: "crond sets the crontab owner's groups before it runs a line", subject: 'SETGID', by: SCHEDULER_BY, quiet: true },
      { service, rule: 'policy/probes', reason: 'busybox crond serves nothing to probe', by: SCHEDULER_BY, notApplicable: true },
    );
  }
  for (const mover of app.composeBackup.movers) {
    const service = mover.service;
    const reads = 'it reads every file of the volume, whatever user owns it, as VolSync\'s privileged mover does';
    out.push(
      { service, rule: 'policy/run-as-non-root', reason: reads, by: MOVER_BY, quiet: true },
      { service, rule: 'policy/capabilities', reason: reads, subject: 'DAC_READ_SEARCH', by: MOVER_BY, quiet: true },
      { service, rule: 'policy/read-only-root-fs', reason: 'Compose copies the mover script (an inline config) into the container, which a read-only root filesystem refuses', by: MOVER_BY, quiet: true },
      { service, rule: 'policy/probes', reason: 'it runs to completion when the scheduler starts it, and serves nothing to probe', by: MOVER_BY, notApplicable: true },
    );
    if (app.composeBackup.targetPath !== null) {
      out.push({ service, rule: 'policy/host-path', reason: 'the restic repositories of homelab.yaml backup.target.path live in this folder of the Docker host', subject: app.composeBackup.targetPath, by: MOVER_BY, quiet: true });
    }
  }
  return out;
}
