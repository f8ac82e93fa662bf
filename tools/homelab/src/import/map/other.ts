import type { ResourceList, ServiceSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import type { ImportReport } from './report';
import { specCpus, specSize } from './units';

/** Keys Compose runs with that the spec has no field for and that change nothing Kubernetes must match: carried to Compose as they are (patches.compose). */
const PATCHED = new Set(['ulimits', 'sysctls', 'stop_signal', 'tty', 'stdin_open']);

/** Why each other key is listed (docs/import.md has the table). */
const LISTED: Record<string, string> = {
  container_name: 'homelab names containers after the project and service (one per environment); other services reach it by its service name',
  hostname: "the spec has no hostname: a container's is its name; services reach each other by service name",
  domainname: 'the spec has no domain name',
  logging: "homelab's logging collects every container's output; the spec has no log driver",
  security_opt: 'the spec keeps its seccomp, AppArmor and no-new-privileges settings; a looser one needs an opt-in the spec does not have',
  pid: 'the spec does not share process namespaces',
  ipc: 'the spec does not share IPC namespaces',
  userns_mode: 'the spec has no user namespace mode',
  platform: 'the image is pulled for the node it runs on',
  pull_policy: 'Compose and Kubernetes pull a missing image; a pinned tag does not change',
  dns: 'the spec uses the platform DNS (it resolves service names)',
  dns_search: 'the spec uses the platform DNS (it resolves service names)',
  dns_opt: 'the spec uses the platform DNS (it resolves service names)',
  mac_address: 'the spec has no MAC address',
  links: 'services reach each other by name on the app network already',
  external_links: 'the spec reaches other apps through their components, not containers',
  volumes_from: 'mount the same app volume in both services instead',
  runtime: 'the spec has no container runtime choice',
  cgroup_parent: 'the spec has no cgroup parent',
  cgroup: 'the spec has no cgroup namespace mode',
  oom_score_adj: 'the spec has no OOM score',
  oom_kill_disable: 'the spec has no OOM setting',
  memswap_limit: 'Kubernetes has no swap limit',
  cpu_shares: 'the spec has CPU requests and limits (resources)',
  cpu_quota: 'the spec has CPU requests and limits (resources)',
  cpu_period: 'the spec has CPU requests and limits (resources)',
  cpuset: 'the spec does not pin CPUs',
  storage_opt: 'the spec has no storage options',
  profiles: 'the spec starts every service (a cron service is started by its schedule)',
  develop: 'a development watch, not part of running the stack',
  attach: "the spec has no log attach setting",
  label_file: 'its labels are read into labels already',
};

export interface OtherKeys {
  replicas?: number;
  gpus?: ServiceSpec['gpus'];
  limits?: ResourceList;
  requests?: ResourceList;
  /** Keys carried to Compose as they are, in patches.compose. */
  patch: Record<string, unknown>;
}

/**
 * Every key of `other` (what the model has no field for) is carried or listed: the older
 * resource keys (`mem_limit`, `mem_reservation`, `cpus`, `scale`, `gpus`) to the spec's
 * fields, runtime tunables Kubernetes need not match to patches.compose, the rest listed
 * with the reason (an unknown key: the spec has no field for it).
 */
export function mapOtherKeys(service: string, svc: ComposeService, report: ImportReport, cron: boolean): OtherKeys {
  const at = (key: string) => `services.${service}.${key}`;
  const out: OtherKeys = { patch: {} };
  for (const [key, value] of Object.entries(svc.other)) {
    if (PATCHED.has(key)) out.patch[key] = value;
    else if (key === 'mem_limit' || key === 'mem_reservation') {
      const memory = specSize(value as string | number);
      if (memory === null) report.notCarried(at(key), 'not a size');
      else if (key === 'mem_limit') out.limits = { ...out.limits, memory };
      else out.requests = { ...out.requests, memory };
    } else if (key === 'cpus') {
      const cpu = specCpus(value as string | number);
      if (cpu === null) report.notCarried(at(key), 'not a number of CPUs');
      else out.limits = { ...out.limits, cpu };
    } else if (key === 'scale' && typeof value === 'number') out.replicas = value;
    else if (key === 'gpus') {
      out.gpus = { resource: 'nvidia.com/gpu' };
      if (value === 'all' || (Array.isArray(value) && value.length !== 1)) report.warn(`${at(key)}: the spec reserves one GPU (nvidia.com/gpu); set gpus.count to the number the service needs`);
    } else if (key === 'profiles' && cron) continue;
    else report.notCarried(at(key), LISTED[key] ?? 'the spec has no field for it; carry it with patches.compose (and patches.kubernetes) if the service needs it');
  }
  return out;
}
