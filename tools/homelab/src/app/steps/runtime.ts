import { InputError, show } from '../../errors';
import { composeMemory } from '../../spec/quantity';
import type { ServiceSpec } from '../../spec/types';

/** What a container needs from its host besides storage: devices, GPUs, groups, /dev/shm, host names, an init process, time to stop. */
export interface Runtime {
  /** Compose `devices`: every device, as `<path>:<path>`. */
  composeDevices: string[];
  hasComposeDevices: boolean;
  /** Kubernetes: devices without a device plugin, as hostPath volumes mounted at their path (they need privileged). */
  hostDevices: { name: string; path: string }[];
  hasHostDevices: boolean;
  /** Kubernetes extended resources (device plugins, GPUs) and how many of each: resource limits. */
  extendedResources: Record<string, string>;
  /** Compose `deploy.resources.reservations.devices` for GPUs. */
  gpu: { count: number; driver: string | null } | null;
  /** Kubernetes `supplementalGroups`, Compose `group_add`. */
  groupAdd: number[];
  hasGroupAdd: boolean;
  /** /dev/shm: a memory emptyDir of this size on Kubernetes, Compose `shm_size`. */
  shm: { size: string; composeSize: string } | null;
  /** Kubernetes `hostAliases` (by address), Compose `extra_hosts`. */
  hostAliases: { ip: string; hostnames: string[] }[];
  extraHosts: Record<string, string>;
  hasExtraHosts: boolean;
  /** Compose `init`; Kubernetes `shareProcessNamespace` (the pause container is PID 1 and reaps). */
  init: boolean;
  /** Compose `stop_grace_period`, Kubernetes `terminationGracePeriodSeconds`. */
  stopGracePeriod: { compose: string; seconds: number } | null;
}

/**
 * The service's devices, GPUs, extra groups, /dev/shm size, extra host names, init process
 * and stop grace period, for both platforms. A device without a device plugin's `resource`
 * is a hostPath on Kubernetes, which gets no device-cgroup access without privileged mode:
 * such a device needs the `security.privileged` opt-in with its reason.
 */
export function normalizeRuntime(service: ServiceSpec, where: string, field: string): Runtime {
  const devices = service.devices ?? [];
  const hostDevices = devices.filter((d) => !d.resource);
  if (hostDevices.length > 0 && service.security?.privileged === undefined) {
    const i = devices.indexOf(hostDevices[0]);
    throw new InputError(
      `${where}: ${field}devices[${i}] ${show(hostDevices[0].path)} has no device plugin resource, and a hostPath device on Kubernetes needs privileged mode; add ${field}security.privileged with its reason, or the device plugin's resource (e.g. resource: gpu.intel.com/i915)`,
    );
  }
  const extendedResources: Record<string, string> = {};
  for (const d of devices) if (d.resource) extendedResources[d.resource] = String(Number(extendedResources[d.resource] ?? 0) + 1);
  if (service.gpus) extendedResources[service.gpus.resource] = String(service.gpus.count ?? 1);
  const hostAliases = new Map<string, string[]>();
  for (const [host, ip] of Object.entries(service.extraHosts ?? {})) hostAliases.set(ip, [...(hostAliases.get(ip) ?? []), host]);
  const groupAdd = service.groupAdd ?? [];
  return {
    composeDevices: devices.map((d) => `${d.path}:${d.path}`),
    hasComposeDevices: devices.length > 0,
    hostDevices: hostDevices.map((d, i) => ({ name: `device-${i}`, path: d.path })),
    hasHostDevices: hostDevices.length > 0,
    extendedResources,
    gpu: service.gpus ? { count: service.gpus.count ?? 1, driver: service.gpus.resource.startsWith('nvidia.com/') ? 'nvidia' : null } : null,
    groupAdd,
    hasGroupAdd: groupAdd.length > 0,
    shm: service.shmSize ? { size: service.shmSize, composeSize: composeMemory(service.shmSize, `${where}: ${field}shmSize`) } : null,
    hostAliases: [...hostAliases.entries()].map(([ip, hostnames]) => ({ ip, hostnames })),
    extraHosts: { ...(service.extraHosts ?? {}) },
    hasExtraHosts: hostAliases.size > 0,
    init: service.init ?? false,
    stopGracePeriod: service.stopGracePeriod ? { compose: service.stopGracePeriod, seconds: seconds(service.stopGracePeriod) } : null,
  };
}

/** Seconds of a duration such as 1h30m, 2m or 45s (the schema checks the form). */
function seconds(duration: string): number {
  const unit = { h: 3600, m: 60, s: 1 } as const;
  return [...duration.matchAll(/([0-9]+)([hms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}
