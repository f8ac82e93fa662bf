import { InputError, show } from '../../errors';
import type { HealthProbe } from '../../spec/health';
import { checkPinned, checkRepository, formatImageRef } from '../../spec/image';
import { composeCpus, composeMemory, quantityBytes } from '../../spec/quantity';
import type { AppSpec, FullAppSpec, HealthSpec, ImageSpec, PortSpec, ResourceList, SecretSpec, ServiceKind, ServiceSpec, StartCondition } from '../../spec/types';
import { APP_DEFAULTS } from '../normalized';
import { unique } from './unique';
import type { NormalizedVolume } from './storage';

export interface ServicePort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface ServiceHealth {
  /** Any health check at all (health.probe is not none): Kubernetes probes, a Compose check. */
  enabled: boolean;
  /** Compose runs the check inside the container (health.probe exec, with http or command). */
  composeExec: boolean;
  /** deploy probes the HTTP endpoint from the Docker host (health.probe outside). */
  outside: boolean;
  isHttp: boolean;
  /** A TCP connect from the kubelet; Compose has no check (an image holds no common TCP client). */
  isTcp: boolean;
  /** health.command, run in the container on both platforms. */
  isCommand: boolean;
  path: string;
  port: string;
  portNumber: number;
  command: string[];
  startGraceSeconds: number;
  startupFailureThreshold: number;
  composeTest: string[];
}

/** A secret key a service reads, from the app's Secret `<app>-secrets`. */
export interface SecretKey {
  key: string;
  remoteKey: string;
  property: string | null;
}

/** One service of an app with everything its templates need; the shorthand has one, named after the app. */
export interface NormalizedService {
  name: string;
  /** `app.kubernetes.io/component`; undefined for the shorthand's service, whose labels and selector stay as they always were. */
  component: string | undefined;
  kind: ServiceKind;
  isJob: boolean;
  selector: Record<string, string>;
  image: string;
  /** Compose `entrypoint`, Kubernetes `command`; null keeps the image's. */
  entrypoint: string[] | null;
  /** Compose `command`, Kubernetes `args`; null keeps the image's. */
  command: string[] | null;
  workingDir: string | null;
  env: { name: string; value: string }[];
  hasEnv: boolean;
  /**
   * The keys the service reads. The shorthand reads the whole Secret (`envFrom`), the full
   * form only its own keys (an `env` entry with a `secretKeyRef` each).
   */
  secrets: { enabled: boolean; envFrom: boolean; keys: string[] };
  ports: ServicePort[];
  hasPorts: boolean;
  /** The port marked http: true, if any (ingress, metrics and health default to it). */
  httpPort: ServicePort | null;
  health: ServiceHealth;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  replicas: number;
  mounts: { volume: string; path: string; readOnly: boolean; subPath: string | null }[];
  hasMounts: boolean;
  /** The start conditions the spec gives; dependencies.ts checks them and computes the order. */
  dependsOn: Record<string, StartCondition>;
  security: { runAsUser: number; runAsGroup: number };
  compose: { memoryLimit: string; memoryReservation: string | null; cpus: string | null; user: string; startPeriod: string };
}

export interface ServicesStep {
  services: NormalizedService[];
  /** The app's Secret: its declared keys, then keys services declare in place, each once. */
  secretKeys: SecretKey[];
}

/** The full form (`services`) rather than the shorthand (one service at the top). */
export function isFullForm(spec: AppSpec): spec is FullAppSpec {
  return 'services' in spec && spec.services !== undefined;
}

const COMPONENT_LABEL = 'app.kubernetes.io/component';
const NAME_LABEL = 'app.kubernetes.io/name';

/**
 * The app's services. The shorthand is one service named after the app, without a
 * component label, so its names, labels and selector are what they always were; the full
 * form is one service per entry of `services`, each labelled with its component. Image
 * references, ports, health, secrets, resources and mounts are checked here, each refusal
 * one line that names the field and the fix.
 */
export function normalizeServices(spec: AppSpec, volumes: NormalizedVolume[], where: string): ServicesStep {
  const appSecrets = (spec.secrets ?? []).map((s) => secretKey(s));
  unique(appSecrets.map((s) => s.key), `${where}: secrets[].key`, 'list each secret key once');
  if (!isFullForm(spec)) {
    const mounts = volumes.map((v) => ({ volume: v.name, path: v.mountPath ?? '', readOnly: false, subPath: null }));
    const service = normalizeService(spec.name, undefined, { ...spec, kind: 'service', dependsOn: undefined }, { app: spec.name, where, field: '', of: 'the app', secrets: appSecrets.map((s) => s.key), mounts });
    return { services: [service], secretKeys: appSecrets };
  }
  const secretKeys = [...appSecrets];
  const services = Object.entries(spec.services).map(([name, svc]) => {
    const field = `services.${name}.`;
    const keys = (svc.secrets ?? []).map((s, i) => {
      if (typeof s !== 'string') return declareInPlace(secretKeys, secretKey(s), `${where}: ${field}secrets[${i}]`);
      if (!secretKeys.some((k) => k.key === s)) {
        throw new InputError(
          `${where}: ${field}secrets[${i}] ${show(s)} is not a key of the app's secrets; declare it under secrets (with its remoteKey) or write { key: ${s}, remoteKey: ... } here`,
        );
      }
      return s;
    });
    unique(keys, `${where}: ${field}secrets`, 'list each key once');
    const mounts = (svc.mounts ?? []).map((m, i) => resolveMount(m, volumes, `${where}: ${field}mounts[${i}]`));
    unique([...mounts.map((m) => m.path), '/tmp'], `${where}: ${field}mounts[].path`, 'mount each volume at its own path (homelab mounts /tmp itself)');
    return normalizeService(name, name, svc, { app: spec.name, where, field, of: `service ${show(name)}`, secrets: keys, mounts });
  });
  return { services, secretKeys };
}

interface ServiceContext {
  app: string;
  where: string;
  /** Where the service's fields sit in the spec: '' for the shorthand, `services.<name>.` in the full form. */
  field: string;
  /** How messages name the owner of the ports: "the app" or `service "<name>"`. */
  of: string;
  secrets: string[];
  mounts: NormalizedService['mounts'];
}

/** What a service and the shorthand have in common. */
type ContainerSpec = Pick<ServiceSpec, 'kind' | 'image' | 'entrypoint' | 'command' | 'workingDir' | 'env' | 'ports' | 'health' | 'resources' | 'replicas' | 'dependsOn' | 'security'> & {
  securityContext?: { runAsUser?: number; runAsGroup?: number };
};

function normalizeService(name: string, component: string | undefined, spec: ContainerSpec, ctx: ServiceContext): NormalizedService {
  const { where, field } = ctx;
  const kind: ServiceKind = spec.kind ?? 'service';
  const isJob = kind !== 'service';
  checkImage(spec.image, `${where}: ${field}image`);
  if (isJob) {
    for (const key of ['ports', 'health', 'replicas'] as const) {
      if (spec[key] !== undefined) {
        throw new InputError(`${where}: ${field}${key} is set on a service of kind ${show(kind)}, which runs to completion and is not reached, probed or scaled; remove ${field}${key}`);
      }
    }
  }

  const ports = (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? ('TCP' as const) }));
  unique(ports.map((p) => p.name), `${where}: ${field}ports[].name`, 'give each port its own name');
  unique(ports.map((p) => `${p.port}/${p.protocol}`), `${where}: ${field}ports[].port`, 'give each port its own number');
  const httpPorts = (spec.ports ?? []).filter((p: PortSpec) => p.http);
  if (httpPorts.length > 1) {
    throw new InputError(`${where}: ${field}ports ${show(httpPorts.map((p) => p.name).join(','))} are all marked http; mark one port http: true`);
  }
  const httpPort = ports.find((p) => p.name === httpPorts[0]?.name) ?? null;

  const env = Object.keys(spec.env ?? {})
    .sort()
    .map((key) => ({ name: key, value: (spec.env ?? {})[key] }));
  for (const key of ctx.secrets) {
    if (spec.env && key in spec.env) {
      throw new InputError(`${where}: ${show(key)} is both a plain env variable and a secret${field ? ` of ${ctx.of}` : ''}; keep it in secrets only`);
    }
  }

  const replicas = spec.replicas ?? APP_DEFAULTS.replicas;
  const requests = { ...APP_DEFAULTS.requests, ...(spec.resources?.requests ?? {}) } as Record<string, string>;
  const limits = { ...APP_DEFAULTS.limits, ...(spec.resources?.limits ?? {}) } as Record<string, string>;
  const requestsField = `${where}: ${field}resources.requests.memory`;
  const limitsField = `${where}: ${field}resources.limits.memory`;
  if (quantityBytes(requests.memory, requestsField) > quantityBytes(limits.memory, limitsField)) {
    throw new InputError(`${requestsField} ${show(requests.memory)} exceeds ${field}resources.limits.memory ${show(limits.memory)}; raise the limit or lower the request`);
  }

  const health = isJob ? NO_HEALTH : serviceHealth(spec.health, ports, httpPort, ctx, component === undefined);
  const user = spec.security?.user;
  const runAsUser = spec.securityContext?.runAsUser ?? user?.uid ?? APP_DEFAULTS.runAsUser;
  const runAsGroup = spec.securityContext?.runAsGroup ?? user?.gid ?? runAsUser;

  return {
    name,
    component,
    kind,
    isJob,
    selector: component === undefined ? { [NAME_LABEL]: ctx.app } : { [NAME_LABEL]: ctx.app, [COMPONENT_LABEL]: component },
    image: formatImageRef(spec.image),
    entrypoint: spec.entrypoint ?? null,
    command: spec.command ?? null,
    workingDir: spec.workingDir ?? null,
    env,
    hasEnv: env.length > 0,
    secrets: { enabled: ctx.secrets.length > 0, envFrom: component === undefined && ctx.secrets.length > 0, keys: ctx.secrets },
    ports,
    hasPorts: ports.length > 0,
    httpPort,
    health,
    resources: { requests, limits },
    replicas,
    mounts: ctx.mounts,
    hasMounts: ctx.mounts.length > 0,
    dependsOn: { ...(spec.dependsOn ?? {}) },
    security: { runAsUser, runAsGroup },
    compose: {
      memoryLimit: composeMemory(limits.memory, limitsField),
      memoryReservation: requests.memory ? composeMemory(requests.memory, requestsField) : null,
      cpus: limits.cpu ? composeCpus(limits.cpu) : null,
      user: `${runAsUser}:${runAsGroup}`,
      startPeriod: `${health.startGraceSeconds}s`,
    },
  };
}

const PROBE_PERIOD_SECONDS = 5;

const NO_HEALTH: ServiceHealth = {
  enabled: false,
  composeExec: false,
  outside: false,
  isHttp: false,
  isTcp: false,
  isCommand: false,
  path: APP_DEFAULTS.healthPath,
  port: '',
  portNumber: 0,
  command: [],
  startGraceSeconds: APP_DEFAULTS.startGraceSeconds,
  startupFailureThreshold: Math.ceil(APP_DEFAULTS.startGraceSeconds / PROBE_PERIOD_SECONDS),
  composeTest: [],
};

/**
 * Health: an HTTP check on the HTTP port unless a command or a TCP port is given;
 * health.probe says where it runs on Compose (spec/health.ts). The shorthand needs an
 * HTTP port for its default check (as always); a service of the full form without one and
 * without `health` has no check.
 */
function serviceHealth(spec: HealthSpec | undefined, ports: ServicePort[], httpPort: ServicePort | null, ctx: ServiceContext, shorthand: boolean): ServiceHealth {
  const { where, field } = ctx;
  const health = spec ?? {};
  const given = health.probe !== undefined || health.http !== undefined || health.command !== undefined || health.tcp !== undefined;
  if (!shorthand && !given && !httpPort) return NO_HEALTH;
  const probe: HealthProbe = health.probe ?? 'exec';
  const startGraceSeconds = health.startGraceSeconds ?? APP_DEFAULTS.startGraceSeconds;
  const command = health.command ?? [];
  if (probe === 'outside' && (command.length > 0 || health.tcp)) {
    throw new InputError(
      `${where}: ${field}health.probe "outside" probes HTTP from outside the container, but ${field}health.${health.tcp ? 'tcp' : 'command'} is not an HTTP check; remove it or set ${field}health.probe: exec`,
    );
  }
  if (probe === 'none' && (command.length > 0 || health.http || health.tcp)) {
    throw new InputError(
      `${where}: ${field}health.probe "none" turns the health check off, but ${field}health.${health.http ? 'http' : health.tcp ? 'tcp' : 'command'} describes one; remove it or set ${field}health.probe: exec or outside`,
    );
  }
  if (health.tcp && health.probe === 'exec') {
    throw new InputError(`${where}: ${field}health.tcp cannot run inside the container on Compose (images hold no common TCP client); remove ${field}health.probe or use ${field}health.command`);
  }
  const isTcp = Boolean(health.tcp);
  const isCommand = command.length > 0;
  const isHttp = !isTcp && !isCommand;
  const healthPort =
    probe === 'none'
      ? (httpPort ?? ports[0] ?? { name: '', port: 0 })
      : isTcp
        ? portByName(ports, health.tcp?.port, `${field}health.tcp.port`, undefined, where, ctx.of)
        : isHttp
          ? portByName(ports, health.http?.port, `${field}health.http.port`, httpPort?.name, where, ctx.of)
          : (httpPort ?? ports[0] ?? { name: '', port: 0 });
  const path = health.http?.path ?? APP_DEFAULTS.healthPath;
  return {
    enabled: probe !== 'none',
    composeExec: probe === 'exec' && !isTcp,
    outside: probe === 'outside',
    isHttp,
    isTcp,
    isCommand,
    path,
    port: healthPort.name,
    portNumber: healthPort.port,
    command,
    startGraceSeconds,
    startupFailureThreshold: Math.max(1, Math.ceil(startGraceSeconds / PROBE_PERIOD_SECONDS)),
    composeTest: isCommand ? ['CMD', ...command] : isHttp ? ['CMD', 'wget', '-q', '--spider', `http://127.0.0.1:${healthPort.port}${path}`] : [],
  };
}

/**
 * The port a field names (ingress.port, health.http.port, …), or the fallback (the HTTP
 * port) when it names none; refused when there is none or it is not a port of the owner.
 */
export function portByName(ports: ServicePort[], ref: string | undefined, field: string, fallback: string | undefined, where: string, of = 'the app'): ServicePort {
  const wanted = ref ?? fallback;
  if (!wanted) {
    throw new InputError(`${where}: ${field} needs a port; mark one port http: true or set ${field}`);
  }
  const port = ports.find((p) => p.name === wanted);
  if (!port) {
    const choices = ports.length > 0 ? `use one of ${ports.map((p) => show(p.name)).join(', ')}` : 'add the port to its ports';
    throw new InputError(`${where}: ${field} ${show(wanted)} is not a port of ${of}; ${choices}`);
  }
  return port;
}

function checkImage(image: ImageSpec, at: string): void {
  checkRepository(image.repository, `${at}.repository`);
  checkPinned(image, at);
}

function secretKey(s: SecretSpec): SecretKey {
  return { key: s.key, remoteKey: s.remoteKey, property: s.property ?? null };
}

/** A key a service declares in place joins the app's Secret; declared twice, it must say the same. */
function declareInPlace(keys: SecretKey[], key: SecretKey, at: string): string {
  const known = keys.find((k) => k.key === key.key);
  if (!known) keys.push(key);
  else if (known.remoteKey !== key.remoteKey || known.property !== key.property) {
    throw new InputError(`${at} declares ${show(key.key)} again with another remoteKey or property; declare it once (under secrets) and list it here by name`);
  }
  return key.key;
}

function resolveMount(m: NonNullable<ServiceSpec['mounts']>[number], volumes: NormalizedVolume[], at: string): NormalizedService['mounts'][number] {
  const volume = volumes.find((v) => v.name === m.volume);
  if (!volume) {
    const known = volumes.length > 0 ? `use one of ${volumes.map((v) => show(v.name)).join(', ')} or add it` : 'add it';
    throw new InputError(`${at}.volume ${show(m.volume)} is not a volume of the app; ${known} under volumes`);
  }
  if (m.path.split('/').includes('..')) throw new InputError(`${at}.path ${show(m.path)} contains ".."; use an absolute path without ".."`);
  if (volume.config) {
    if (m.subPath !== undefined) throw new InputError(`${at}.subPath: the config volume ${show(volume.name)} is one file mounted at ${at.replace(/^.*: /, '')}.path; remove subPath`);
    return { volume: m.volume, path: m.path, readOnly: true, subPath: volume.config.key };
  }
  return { volume: m.volume, path: m.path, readOnly: m.readOnly ?? false, subPath: m.subPath ?? null };
}
