import { InputError, show } from '../../errors';
import { checkPinned, checkRepository, formatImageRef } from '../../spec/image';
import type { AppSpec, FullAppSpec, ImageSpec, MountSpec, SecretSpec, ServiceKind, ServiceSpec, ShorthandAppSpec, StartCondition } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { type Autoscale, normalizeAutoscale, type WrittenRequests, writtenRequests } from './autoscale';
import { type ContainersStep, normalizeContainers } from './containers';
import { sortedEnv } from './env';
import { NO_HEALTH, normalizeHealth } from './health';
import { normalizePlacement, type Placement } from './placement';
import { type FieldPrefix, normalizePorts, type Port, type Ports, SHORTHAND } from './ports';
import { type ReplicaSpec, replicaSpec } from './replicas';
import { normalizeResources } from './resources';
import { normalizeRuntime, type Runtime } from './runtime';
import { normalizeSecurity } from './security';
import type { NormalizedVolume } from './storage';
import { unique } from './unique';

/** A secret key a service reads, from the app's Secret `<app>-secrets`. */
export interface SecretKey {
  key: string;
  remoteKey: string;
  property: string | null;
}

/** One service of an app with everything its templates need; the shorthand has one, named after the app. */
export interface NormalizedService {
  name: string;
  /**
   * `app.kubernetes.io/component`; undefined for the shorthand's service, whose labels and selector
   * stay as they always were, and for a full form whose one service is named like the app.
   */
  component: string | undefined;
  /** Where its fields sit in the spec ('' or `services.<name>.`) and how messages name it. */
  at: FieldPrefix;
  kind: ServiceKind;
  /** Runs to completion: a job (at each deploy) or a cron service (on its schedule). */
  isJob: boolean;
  isCron: boolean;
  /** The cron expression of a cron service; null otherwise. */
  schedule: string | null;
  selector: Record<string, string>;
  image: string;
  /** The image as the spec gives it (an environment may change its tag). */
  imageSpec: ImageSpec;
  /** Compose `entrypoint`, Kubernetes `command`; null keeps the image's. */
  entrypoint: string[] | null;
  /** Compose `command`, Kubernetes `args`; null keeps the image's. */
  command: string[] | null;
  workingDir: string | null;
  env: NormalizedApp['env'];
  hasEnv: boolean;
  /**
   * The keys the service reads. The shorthand (and a service without a component label that
   * reads every key) reads the whole Secret (`envFrom`); the full form only its own keys, an
   * `env` entry with a `secretKeyRef` each.
   */
  secrets: { enabled: boolean; envFrom: boolean; keys: string[] };
  ports: Port[];
  hasPorts: boolean;
  /** Its ports by name (ingress, metrics and health default to the HTTP one). */
  portIndex: Ports;
  health: NormalizedApp['health'];
  resources: NormalizedApp['resources'];
  replicas: number;
  /** Its autoscaling range (app/steps/autoscale.ts); null without. With one, `replicas` is its min. */
  autoscale: Autoscale | null;
  /** The requests its spec writes itself, which an autoscaler's targets need. */
  writtenRequests: WrittenRequests;
  /** `availability`, `spread` and `replication` as the spec says them (app/steps/replicas.ts). */
  replicaSpec: ReplicaSpec;
  mounts: { volume: string; path: string; readOnly: boolean; subPath: string | null }[];
  /** The start conditions the spec gives; dependencies.ts checks them and computes the order. */
  dependsOn: Record<string, StartCondition>;
  security: NormalizedApp['security'];
  /** Devices, GPUs, groups, /dev/shm, host names, init, stop grace period (none for the shorthand). */
  runtime: Runtime;
  /** The nodes its pods run on (Kubernetes only): nodeSelector, tolerations, node affinity. */
  placement: Placement;
}

/** A service with its init containers and sidecars (none for the shorthand). */
export type ServiceWithContainers = NormalizedService & ContainersStep;

export interface ServicesStep {
  services: ServiceWithContainers[];
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
 * form is one service per entry of `services`, each labelled with its component (but one
 * service named like the app, which is the shorthand written out). Ports, health,
 * resources and the user come from the same steps for both forms; secrets and mounts are
 * resolved against the app's, each refusal one line that names the field and the fix.
 */
export function normalizeServices(spec: AppSpec, volumes: NormalizedVolume[], where: string): ServicesStep {
  const appSecrets = (spec.secrets ?? []).map((s) => secretKey(s));
  unique(appSecrets.map((s) => s.key), `${where}: secrets[].key`, 'list each secret key once');
  if (!isFullForm(spec)) {
    const mounts = volumes.map((v) => ({ volume: v.name, path: v.mountPath ?? '', readOnly: false, subPath: null }));
    const service = normalizeService(spec.name, undefined, shorthandService(spec), { app: spec.name, where, at: SHORTHAND, secrets: appSecrets.map((s) => s.key), mounts, unpinnedAllowed: unpinnedAllowed(spec) });
    return { services: [{ ...service, initContainers: [], sidecars: [] }], secretKeys: appSecrets };
  }
  const secretKeys = [...appSecrets];
  // One service named like the app is the shorthand written out: no component label, so it renders the same bytes.
  const entries = Object.entries(spec.services);
  const alone = entries.length === 1 && entries[0][0] === spec.name;
  const services = entries.map(([name, svc]) => {
    const at = { field: `services.${name}.`, of: `service ${show(name)}` };
    const keys = resolveSecretKeys(svc.secrets, secretKeys, where, at.field);
    const mounts = resolveMounts(svc.mounts, volumes, where, at.field);
    const service = normalizeService(name, alone ? undefined : name, svc, { app: spec.name, where, at, secrets: keys, mounts, unpinnedAllowed: unpinnedAllowed(spec) });
    // Its init containers and sidecars may declare secret keys in place too: before the Secret is complete.
    return { ...service, ...normalizeContainers(service, svc, { where, volumes, secretKeys, unpinnedAllowed: unpinnedAllowed(spec) }) };
  });
  // A service without a component label reads the whole Secret (envFrom) when it reads every key of it, as the shorthand does.
  const all = (keys: string[]) => keys.length > 0 && secretKeys.every((k) => keys.includes(k.key));
  return { services: services.map((s) => ({ ...s, secrets: { ...s.secrets, envFrom: s.component === undefined && all(s.secrets.keys) } })), secretKeys };
}

/** The shorthand's container fields as a service's. */
function shorthandService(spec: ShorthandAppSpec): ContainerSpec {
  return { kind: 'service', image: spec.image, ports: spec.ports, env: spec.env, health: spec.health, resources: spec.resources, replicas: spec.replicas, autoscale: spec.autoscale, availability: spec.availability, spread: spec.spread, replication: spec.replication, securityContext: spec.securityContext, placement: spec.placement };
}

interface ServiceContext {
  app: string;
  where: string;
  at: FieldPrefix;
  secrets: string[];
  mounts: NormalizedService['mounts'];
  /** The app turns policy/image-tag off (with its reason): an image tagged `latest` is its recorded exception, not a refusal. */
  unpinnedAllowed: boolean;
}

/** Does the app record the exception for unpinned images (an import of a stack that runs `latest`)? */
const unpinnedAllowed = (spec: AppSpec): boolean => (spec.policy?.disable ?? []).some((d) => d.rule === 'policy/image-tag');

/** What a service and the shorthand have in common. */
type ContainerSpec = ServiceSpec & Pick<ShorthandAppSpec, 'securityContext'>;

function normalizeService(name: string, component: string | undefined, spec: ContainerSpec, ctx: ServiceContext): NormalizedService {
  const { where, at } = ctx;
  const kind: ServiceKind = spec.kind ?? 'service';
  const isJob = kind !== 'service';
  checkImage(spec.image, `${where}: ${at.field}image`, ctx.unpinnedAllowed);
  if (kind === 'cron' && spec.schedule === undefined) {
    throw new InputError(`${where}: ${at.field}kind is "cron" but the service has no schedule; add ${at.field}schedule (five cron fields, e.g. "*/5 * * * *")`);
  }
  if (kind !== 'cron' && spec.schedule !== undefined) {
    throw new InputError(`${where}: ${at.field}schedule is set on a service of kind ${show(kind)}, which does not run on a schedule; remove it or set ${at.field}kind: cron`);
  }
  if (isJob) {
    for (const key of ['ports', 'health', 'replicas', 'availability', 'spread', 'replication'] as const) {
      if (spec[key] !== undefined) {
        throw new InputError(`${where}: ${at.field}${key} is set on a service of kind ${show(kind)}, which runs to completion and is not reached, probed or scaled; remove ${at.field}${key}`);
      }
    }
  }
  const portIndex = normalizePorts(spec.ports ?? [], where, at);
  const env = sortedEnv(spec.env);
  refuseEnvSecretClash(spec.env, ctx.secrets, where, at.field ? at.of : '');
  const { replicas, resources } = normalizeResources(spec, where, at.field);
  const autoscale = normalizeAutoscale(spec, where, at.field);
  if (portIndex.published.length > 0 && spec.security?.hostNetwork !== undefined) {
    throw new InputError(`${where}: ${at.field}ports ${show(portIndex.published[0].name)} is published, but ${at.of} runs on the host network, where its ports are the host's already; remove publish`);
  }
  const runtime = normalizeRuntime(spec, where, at.field);
  return {
    name,
    component,
    at,
    kind,
    isJob,
    isCron: kind === 'cron',
    schedule: spec.schedule ?? null,
    selector: component === undefined ? { [NAME_LABEL]: ctx.app } : { [NAME_LABEL]: ctx.app, [COMPONENT_LABEL]: component },
    image: formatImageRef(spec.image),
    imageSpec: spec.image,
    entrypoint: spec.entrypoint ?? null,
    command: spec.command ?? null,
    workingDir: spec.workingDir ?? null,
    env,
    hasEnv: env.length > 0,
    // The shorthand reads the whole Secret; the full form decides once every service has declared its keys.
    secrets: { enabled: ctx.secrets.length > 0, envFrom: component === undefined && ctx.secrets.length > 0, keys: ctx.secrets },
    ports: portIndex.ports,
    hasPorts: portIndex.ports.length > 0,
    portIndex,
    health: isJob ? NO_HEALTH : normalizeHealth(spec.health, where, portIndex, at),
    // Device plugins' resources are Kubernetes limits beside memory and CPU.
    resources: { requests: resources.requests, limits: { ...resources.limits, ...runtime.extendedResources } },
    replicas: autoscale ? autoscale.min : replicas,
    autoscale,
    writtenRequests: writtenRequests(spec.resources),
    replicaSpec: replicaSpec(spec),
    mounts: ctx.mounts,
    dependsOn: { ...(spec.dependsOn ?? {}) },
    security: normalizeSecurity(spec, where, at.field),
    runtime,
    placement: normalizePlacement(spec.placement, where, at.field),
  };
}

export function checkImage(image: ImageSpec, at: string, unpinnedAllowed: boolean): void {
  checkRepository(image.repository, `${at}.repository`);
  if (!unpinnedAllowed) checkPinned(image, at);
}

/**
 * The secret keys a container reads (`secrets`): a key of the app's secrets by name, or one
 * declared in place (it joins the app's Secret); each once.
 */
export function resolveSecretKeys(secrets: (string | SecretSpec)[] | undefined, secretKeys: SecretKey[], where: string, field: string): string[] {
  const keys = (secrets ?? []).map((s, i) => {
    if (typeof s !== 'string') return declareInPlace(secretKeys, secretKey(s), `${where}: ${field}secrets[${i}]`);
    if (!secretKeys.some((k) => k.key === s)) {
      throw new InputError(`${where}: ${field}secrets[${i}] ${show(s)} is not a key of the app's secrets; declare it under secrets (with its remoteKey) or write { key: ${s}, remoteKey: ... } here`);
    }
    return s;
  });
  unique(keys, `${where}: ${field}secrets`, 'list each key once');
  return keys;
}

/** A container's mounts of the app's volumes, each at its own path (not /tmp, which homelab mounts itself). */
export function resolveMounts(mounts: MountSpec[] | undefined, volumes: NormalizedVolume[], where: string, field: string): NormalizedService['mounts'] {
  const resolved = (mounts ?? []).map((m, i) => resolveMount(m, volumes, `${where}: ${field}mounts[${i}]`));
  unique([...resolved.map((m) => m.path), '/tmp'], `${where}: ${field}mounts[].path`, 'mount each volume at its own path (homelab mounts /tmp itself)');
  return resolved;
}

/** A plain variable that is also a secret key of the container: refused, naming it. */
export function refuseEnvSecretClash(env: Record<string, string> | undefined, keys: string[], where: string, of: string): void {
  for (const key of keys) {
    if (env && key in env) throw new InputError(`${where}: ${show(key)} is both a plain env variable and a secret${of ? ` of ${of}` : ''}; keep it in secrets only`);
  }
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

function resolveMount(m: MountSpec, volumes: NormalizedVolume[], at: string): NormalizedService['mounts'][number] {
  const volume = volumes.find((v) => v.name === m.volume);
  if (!volume) {
    const known = volumes.length > 0 ? `use one of ${volumes.map((v) => show(v.name)).join(', ')} or add it` : 'add it';
    throw new InputError(`${at}.volume ${show(m.volume)} is not a volume of the app; ${known} under volumes`);
  }
  if (m.path.split('/').includes('..')) throw new InputError(`${at}.path ${show(m.path)} contains ".."; use an absolute path without ".."`);
  if (volume.config) {
    if (m.subPath !== undefined) throw new InputError(`${at}.subPath: the config volume ${show(volume.name)} is one file, mounted at ${at.replace(/^.*: /, '')}.path; remove subPath`);
    return { volume: m.volume, path: m.path, readOnly: true, subPath: volume.config.key };
  }
  return { volume: m.volume, path: m.path, readOnly: m.readOnly ?? false, subPath: m.subPath ?? null };
}
