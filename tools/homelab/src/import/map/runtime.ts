import type { ResourceList, ServiceSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import { HOSTNAME } from './patterns';
import type { ImportReport } from './report';
import { specCpus, specDuration, specSize } from './units';

type Runtime = Pick<ServiceSpec, 'devices' | 'gpus' | 'groupAdd' | 'shmSize' | 'extraHosts' | 'init' | 'stopGracePeriod' | 'replicas' | 'resources'>;

const DEVICE = /^\/dev\/[A-Za-z0-9_./-]{1,200}$/;
const ADDRESS = /^(([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F:]+)$/;
/** The device plugin resource of the one device whose plugin a homelab most likely runs: an Intel GPU's render node (QuickSync). */
export const DRI_RESOURCE = 'gpu.intel.com/i915';

/**
 * Devices, GPUs, groups, /dev/shm, extra hosts, init, the stop grace period, replicas and
 * resources (docs/import.md). On Kubernetes a host device reaches a container only through a
 * device plugin or privileged mode: a device of a privileged source is carried as it is (its
 * privileged opt-in covers it); `/dev/dri` gets the Intel GPU plugin's resource (warning: another
 * GPU has another); any other device of an unprivileged service is listed.
 */
export function mapRuntime(service: string, svc: ComposeService, report: ImportReport): Runtime {
  const at = `services.${service}`;
  const out: Runtime = {};
  for (const d of svc.devices) {
    const where = `${at}.devices.${d.source}`;
    if (d.source !== d.target || !DEVICE.test(d.source)) {
      report.notCarried(where, d.source !== d.target ? `mapped to ${d.target}: the spec gives a device at its own path` : 'not a device path under /dev');
      continue;
    }
    if (d.permissions !== undefined && d.permissions !== 'rwm') report.notCarried(`${where}.permissions`, 'the spec gives a device with read, write and mknod (rwm)');
    if (svc.privileged) (out.devices ??= []).push({ path: d.source });
    else if (d.source === '/dev/dri' || d.source.startsWith('/dev/dri/')) {
      (out.devices ??= []).push({ path: d.source, resource: DRI_RESOURCE });
      report.warn(`${where}: on Kubernetes the device comes from the device plugin resource ${DRI_RESOURCE} (an Intel GPU); set devices[].resource to your GPU's plugin (e.g. amd.com/gpu) if it is another`);
    } else {
      report.notCarried(where, 'Kubernetes gives a host device to an unprivileged container only through a device plugin: add devices: [{ path, resource }] with the resource of your cluster\'s plugin, or security.privileged with its reason');
    }
  }
  const reservations = svc.deploy?.resources?.reservations;
  for (const [i, device] of (reservations?.devices ?? []).entries()) {
    const where = `${at}.deploy.resources.reservations.devices[${i}]`;
    const nvidia = device.driver === 'nvidia' || (device.driver === undefined && device.capabilities.includes('gpu'));
    if (!device.capabilities.includes('gpu') || !nvidia || out.gpus) {
      report.notCarried(where, 'only one NVIDIA GPU reservation per service is modeled (gpus: { resource: nvidia.com/gpu, count })');
      continue;
    }
    if (device.device_ids !== undefined) report.notCarried(`${where}.device_ids`, 'the spec reserves GPUs by count, not by id');
    const count = device.count === 'all' || device.count === undefined ? undefined : device.count;
    if (device.count === 'all') report.warn(`${where}: count all is one GPU in the spec; set gpus.count to the number of GPUs`);
    out.gpus = { resource: 'nvidia.com/gpu', ...(count !== undefined ? { count } : {}) };
  }
  const groups = svc.group_add.filter((g) => /^[0-9]+$/.test(g)).map(Number);
  for (const g of svc.group_add.filter((g) => !/^[0-9]+$/.test(g))) {
    report.notCarried(`${at}.group_add.${g}`, 'a group name: Kubernetes adds groups by number; write the gid the host gives it (getent group ' + g + ')');
  }
  if (groups.length > 0) out.groupAdd = [...new Set(groups)];
  if (svc.shm_size !== undefined) {
    const size = specSize(svc.shm_size);
    if (size && /^[1-9][0-9]{0,8}(Ki|Mi|Gi)$/.test(size)) out.shmSize = size;
    else report.notCarried(`${at}.shm_size`, 'not a size the spec takes');
  }
  for (const [name, address] of Object.entries(svc.extra_hosts)) {
    if (HOSTNAME.test(name) && ADDRESS.test(address)) (out.extraHosts ??= {})[name] = address;
    else report.notCarried(`${at}.extra_hosts.${name}`, !ADDRESS.test(address) ? `${JSON.stringify(address)} is not an address (host-gateway is Docker's own)` : 'the spec takes fully qualified host names (with a dot)');
  }
  if (svc.init) out.init = true;
  if (svc.stop_grace_period !== undefined) {
    const grace = specDuration(svc.stop_grace_period);
    if (grace) out.stopGracePeriod = grace;
    else report.notCarried(`${at}.stop_grace_period`, 'not a duration');
  }
  if (svc.deploy?.replicas !== undefined) out.replicas = svc.deploy.replicas;
  const limits = resourceList(svc.deploy?.resources?.limits, `${at}.deploy.resources.limits`, report);
  const requests = resourceList(reservations, `${at}.deploy.resources.reservations`, report);
  if (limits || requests) out.resources = { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
  return out;
}

function resourceList(source: { cpus?: string; memory?: string } | undefined, at: string, report: ImportReport): ResourceList | undefined {
  if (!source) return undefined;
  const out: ResourceList = {};
  if (source.cpus !== undefined) {
    const cpu = specCpus(source.cpus);
    if (cpu) out.cpu = cpu;
    else report.notCarried(`${at}.cpus`, 'not a number of CPUs');
  }
  if (source.memory !== undefined) {
    const memory = specSize(source.memory);
    if (memory) out.memory = memory;
    else report.notCarried(`${at}.memory`, 'not a size');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
