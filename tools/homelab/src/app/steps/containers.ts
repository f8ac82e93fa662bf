import { InputError, show } from '../../errors';
import { formatImageRef } from '../../spec/image';
import type { AppSpec, ContainerSpec, ImageSpec, ServiceSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { sortedEnv } from './env';
import { type FieldPrefix, normalizePorts, type Port } from './ports';
import { normalizeResources } from './resources';
import { normalizeSecurity } from './security';
import { checkImage, type NormalizedService, refuseEnvSecretClash, resolveMounts, resolveSecretKeys, type SecretKey } from './services';
import type { NormalizedVolume } from './storage';
import { unique } from './unique';

/** An init container or a sidecar of a service (docs/spec.md, "Init containers and sidecars"). */
export interface NormalizedContainer {
  role: 'init' | 'sidecar';
  /** Its container name in the service's pod. */
  name: string;
  /** The service whose pod it runs in. */
  service: string;
  /** Its Compose service, `<service>-<name>`: also the name its policy exceptions cover on both platforms. */
  composeName: string;
  /** Where its fields sit in the spec (`services.<svc>.initContainers[<i>].`, `services.<svc>.sidecars.<name>.`) and how messages name it. */
  at: FieldPrefix;
  image: string;
  imageSpec: ImageSpec;
  /** It runs the service's image (no image of its own): an environment's image override of the service reaches it too. */
  inheritsImage: boolean;
  entrypoint: string[] | null;
  command: string[] | null;
  workingDir: string | null;
  env: NormalizedApp['env'];
  hasEnv: boolean;
  /** The keys it reads, one `secretKeyRef` each on Kubernetes (never the whole Secret). */
  secrets: { enabled: boolean; envFrom: false; keys: string[] };
  /** A sidecar's ports: container ports of the sidecar, ports of the service's Service and the service's Compose `expose`. */
  ports: Port[];
  hasPorts: boolean;
  resources: NormalizedApp['resources'];
  mounts: NormalizedService['mounts'];
  security: NormalizedApp['security'];
}

export interface ContainersStep {
  /** Run in order, each to completion, before the service. */
  initContainers: NormalizedContainer[];
  /** Run beside the service, in its network. */
  sidecars: NormalizedContainer[];
}

interface ContainersContext {
  where: string;
  volumes: NormalizedVolume[];
  /** The app's Secret so far: a key declared in place joins it. */
  secretKeys: SecretKey[];
  /** The app turns policy/image-tag off with its reason (an imported stack): an image tagged latest is allowed. */
  unpinnedAllowed: boolean;
}

/**
 * A service's init containers and sidecars: the same fields and meaning as a service's (image,
 * entrypoint, command, workingDir, env, secrets, mounts, resources, security opt-ins, and a
 * sidecar's ports), the image defaulting to the service's. Refuses, in one line naming the value
 * and the fix: init containers on a cron service, sidecars on a job or cron service (a sidecar
 * keeps a Job from completing), a container named like the service or like another of its
 * containers, and a sidecar port that clashes with a port of the pod (one network namespace).
 */
export function normalizeContainers(service: NormalizedService, spec: ServiceSpec, ctx: ContainersContext): ContainersStep {
  const { where } = ctx;
  const field = service.at.field;
  const inits = spec.initContainers ?? [];
  const sidecars = Object.entries(spec.sidecars ?? {});
  if (inits.length > 0 && service.isCron) {
    throw new InputError(`${where}: ${field}initContainers is set on a cron service, which has no start to run them before; put the step in ${field}command, or make it a service of kind job`);
  }
  if (sidecars.length > 0 && service.isJob) {
    throw new InputError(`${where}: ${field}sidecars is set on a service of kind ${show(service.kind)}, whose run a sidecar would keep from completing; remove ${field}sidecars or make ${service.name} kind: service`);
  }
  const names = [service.name];
  const check = (name: string, at: string) => {
    const clash = names.includes(name);
    if (clash) {
      const what = name === service.name ? `the service's own container name ${show(service.name)}` : `the name of another init container or sidecar of ${show(service.name)}`;
      throw new InputError(`${where}: ${at} ${show(name)} is ${what}; rename the container (the names of a pod's containers are unique)`);
    }
    names.push(name);
  };
  const initContainers = inits.map((c, i) => {
    const at = `${field}initContainers[${i}].`;
    check(c.name, `${at}name`);
    return normalizeContainer('init', c.name, c, service, { field: at, of: `init container ${show(c.name)} of ${service.at.of}` }, ctx);
  });
  const podPorts = [...service.ports];
  const normalizedSidecars = sidecars.map(([name, c]) => {
    const at = `${field}sidecars.${name}.`;
    check(name, `${field}sidecars`);
    const sidecar = normalizeContainer('sidecar', name, c, service, { field: at, of: `sidecar ${show(name)} of ${service.at.of}` }, ctx);
    for (const [i, port] of (c.ports ?? []).entries()) {
      if (port.publish !== undefined || port.http !== undefined) {
        const key = port.publish !== undefined ? 'publish' : 'http';
        throw new InputError(`${where}: ${at}ports[${i}].${key} is set on a sidecar's port, which is reached inside the app only; remove ${key} (publish or probe a port of the service itself)`);
      }
    }
    podPorts.push(...sidecar.ports);
    return sidecar;
  });
  // One network namespace: every port of the pod (the service's and its sidecars') once by name and by number.
  unique(podPorts.map((p) => p.name), `${where}: ${field}sidecars[].ports[].name`, `give each port of ${service.name}'s pod (the service's and its sidecars') its own name`);
  unique(podPorts.map((p) => `${p.port}/${p.protocol}`), `${where}: ${field}sidecars[].ports[].port`, `give each port of ${service.name}'s pod its own number: its containers share one network`);
  return { initContainers, sidecars: normalizedSidecars };
}

function normalizeContainer(role: NormalizedContainer['role'], name: string, spec: ContainerSpec & { ports?: ServiceSpec['ports'] }, service: NormalizedService, at: FieldPrefix, ctx: ContainersContext): NormalizedContainer {
  const { where } = ctx;
  if (spec.image) checkImage(spec.image, `${where}: ${at.field}image`, ctx.unpinnedAllowed);
  const imageSpec = spec.image ?? service.imageSpec;
  const keys = resolveSecretKeys(spec.secrets, ctx.secretKeys, where, at.field);
  refuseEnvSecretClash(spec.env, keys, where, at.of);
  const env = sortedEnv(spec.env);
  const ports = normalizePorts((spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), where, at).ports;
  return {
    role,
    name,
    service: service.name,
    composeName: `${service.name}-${name}`,
    at,
    image: formatImageRef(imageSpec),
    imageSpec,
    inheritsImage: spec.image === undefined,
    entrypoint: spec.entrypoint ?? null,
    command: spec.command ?? null,
    workingDir: spec.workingDir ?? null,
    env,
    hasEnv: env.length > 0,
    secrets: { enabled: keys.length > 0, envFrom: false, keys },
    ports,
    hasPorts: ports.length > 0,
    resources: normalizeResources({ resources: spec.resources }, where, at.field).resources,
    mounts: resolveMounts(spec.mounts, ctx.volumes, where, at.field),
    security: normalizeSecurity(spec, where, at.field),
  };
}

/**
 * What only the whole app can tell about its init containers and sidecars: each Compose service
 * `<service>-<name>` is free (no other service or container of the app, nor the scheduler, has
 * that name), and a service with sidecars runs one replica in the spec and in every environment
 * (on Compose a sidecar joins the network of one container, `network_mode: service:<service>`).
 */
export function checkContainers(spec: AppSpec, services: (NormalizedService & ContainersStep)[], taken: string[], where: string): void {
  const names = new Map<string, string>(services.map((s) => [s.name, `the service ${show(s.name)}`]));
  for (const name of taken) names.set(name, `homelab's ${show(name)}`);
  for (const service of services) {
    for (const c of [...service.initContainers, ...service.sidecars]) {
      const other = names.get(c.composeName);
      if (other !== undefined) {
        throw new InputError(`${where}: ${c.at.field.replace(/\.$/, '')} runs on Compose as the service ${show(c.composeName)}, which is already ${other}; rename the ${c.role === 'init' ? 'init container' : 'sidecar'} or that service`);
      }
      names.set(c.composeName, `the Compose service of ${c.at.of}`);
    }
    if (service.sidecars.length === 0) continue;
    const overrides = Object.entries(spec.environments ?? {}).flatMap(([env, o]) => {
      const own = o.services?.[service.name];
      const field = `environments.${env}.services.${service.name}.`;
      return [[`${field}replicas`, own?.replicas ?? 1] as const, [`${field}autoscale.max`, own?.autoscale ? own.autoscale.max : 1] as const];
    });
    // An autoscaled service's replicas are its autoscale.min: its max is what counts.
    const own = service.autoscale ? ([`${service.at.field}autoscale.max`, service.autoscale.max] as const) : ([`${service.at.field}replicas`, service.replicas] as const);
    const counts = [own, ...overrides];
    for (const [field, replicas] of counts) {
      if (replicas > 1) {
        throw new InputError(
          `${where}: ${field} is ${replicas}, but ${service.at.of} has sidecars, which on Compose join the network of one container; use replicas 1, or make the sidecar a service of its own`,
        );
      }
    }
  }
}
