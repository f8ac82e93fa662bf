/**
 * The Compose merge of an environment in process: the model `docker compose config` prints (as
 * validate parses it), for the files homelab renders, without a `docker` process (60-90 ms each,
 * two per app at 500 apps). It reads with the import's Compose reader (its YAML, its
 * interpolation, its merge helpers) and knows only the keys homelab renders: anything else (an
 * edited compose.override.yaml, a key it does not know, a variable to interpolate, a relative
 * path) is a fallback to `docker compose config`, with the reason. tests/validate/compose-merge.integration.test.ts
 * holds it to the real `docker compose config` on every fixture.
 */
import * as path from 'node:path';
import { substitute } from '../import/compose/interpolate';
import { uniqueBy } from '../import/compose/service';
import { parseComposeYaml } from '../import/compose/yaml';
import { composeBytes } from '../import/map/units';
import { BACKUP_PROFILE, CRON_PROFILE } from '../tool-env';
import { isObj, type Obj } from './objects';
import { perRun } from './run-memo';
import { readAhead } from './source';

export type InProcessMerge = { ok: true; doc: Obj } | { ok: false; reason: string };

/** `HOMELAB_COMPOSE_MERGE=docker`: every merge by `docker compose config` (a debugging switch; the bench compares both). */
export const forceDocker = () => process.env.HOMELAB_COMPOSE_MERGE === 'docker';

/** How many merges ran in process and how many fell back, for the bench and `HOMELAB_DEBUG`. */
export const composeMergeCounts = { inProcess: 0, fellBack: 0 };

/** The only env_file homelab renders: the homelab's secrets, absent at validate time (so Compose drops it). */
const SECRETS_ENV_FILE = '${HOMELAB_ENV_FILE:-.env}';
const TOP_LEVEL = new Set(['name', 'services', 'networks', 'volumes', 'configs']);
/** Service keys merged here; each is normalised below as Compose prints it. */
const SERVICE_KEYS = new Set([
  'image', 'restart', 'user', 'read_only', 'cap_drop', 'cap_add', 'security_opt', 'tmpfs', 'expose', 'environment', 'env_file',
  'deploy', 'volumes', 'labels', 'logging', 'command', 'entrypoint', 'profiles', 'network_mode', 'networks', 'configs', 'healthcheck',
  'init', 'privileged', 'working_dir', 'shm_size', 'stop_grace_period', 'depends_on', 'ports', 'devices', 'extra_hosts',
]);
const LISTS = new Set(['cap_drop', 'cap_add', 'security_opt', 'tmpfs', 'expose']);
const PROFILES = new Set([CRON_PROFILE, BACKUP_PROFILE]);

class Fallback extends Error {}
const refuse = (reason: string): never => {
  throw new Fallback(reason);
};

const planned = new Map<string, InProcessMerge>();

/**
 * The merge of an environment's files, as planned by a batch (plannedMerge) or merged now;
 * counted in composeMergeCounts.
 */
export function inProcessMerge(files: string[]): InProcessMerge {
  const key = files.join('\0');
  const result = planned.get(key) ?? mergeComposeInProcess(files);
  planned.delete(key);
  composeMergeCounts[result.ok ? 'inProcess' : 'fellBack']++;
  return result;
}

/** Merges ahead of a batch's renders, so only the files that fall back start a `docker compose config`; true when it merged. */
export function plannedMerge(files: string[]): boolean {
  const result = mergeComposeInProcess(files);
  planned.set(files.join('\0'), result);
  return result.ok;
}

/**
 * Merges the files (absolute, in order) as `docker compose config` does with homelab's options
 * (homelabComposeOptions: no `.env`, the cron and backup profiles), or says why it cannot.
 * @example mergeComposeInProcess(['/h/applications/compose/base/a/compose.yaml', '/h/…/dev/a/compose.generated.yaml']) // { ok: true, doc: { name: 'a-dev', services: … } }
 */
export function mergeComposeInProcess(files: string[]): InProcessMerge {
  if (forceDocker()) return { ok: false, reason: 'HOMELAB_COMPOSE_MERGE=docker' };
  try {
    const docs = files.map((file) => readOnce(file, path.basename(file) === 'compose.override.yaml'));
    return { ok: true, doc: normalise(docs) };
  } catch (error) {
    if (error instanceof Fallback) return { ok: false, reason: error.message };
    // A file the reader refuses (syntax, size): `docker compose config` says it as it does today.
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * readOne, once per file in a validate run (run-memo.ts): an app's base is merged in every
 * environment, and was parsed as many times. Each merge gets its own copy of the map; a file
 * refused once is refused again with the same reason.
 */
function readOnce(file: string, override: boolean): Obj {
  const outcome = perRun(`compose-merge-read:${override}:${file}`, (): { doc: Obj } | { error: unknown } => {
    try {
      return { doc: readOne(file, override) };
    } catch (error) {
      return { error };
    }
  });
  if ('error' in outcome) throw outcome.error;
  return structuredClone(outcome.doc);
}

/** One file: a single map, its strings interpolated with no variable set (a variable means a fallback). */
function readOne(file: string, override: boolean): Obj {
  // js-yaml first where it reads the file as the yaml package does (parseComposeYaml's fast): most of a batch's Compose planning was parsing.
  // Read ahead of the app's check, which then takes these bytes instead of reading the file again (source.ts readAhead).
  const docs = parseComposeYaml(readAhead(file), file, { fast: true });
  if (docs.length !== 1 || !isObj(docs[0])) refuse(`${file} is not one Compose map`);
  const doc = docs[0] as Obj;
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) refuse(`top-level key ${key}`);
  // The scaffold of compose.override.yaml names each service with nothing in it; anything more is the user's.
  if (override && (Object.keys(doc).some((k) => k !== 'services') || !Object.values(isObj(doc.services) ? doc.services : {}).every((s) => isObj(s) && Object.keys(s).length === 0))) {
    refuse('compose.override.yaml is not the scaffold');
  }
  for (const [name, svc] of Object.entries(isObj(doc.services) ? doc.services : {})) {
    if (!isObj(svc)) refuse(`service ${name} is not a map`);
    for (const key of Object.keys(svc)) if (!SERVICE_KEYS.has(key)) refuse(`service key ${key}`);
    if (svc.env_file !== undefined) {
      const only = Array.isArray(svc.env_file) && svc.env_file.length === 1 && isObj(svc.env_file[0]) && svc.env_file[0].path === SECRETS_ENV_FILE && svc.env_file[0].required === false;
      if (!only) refuse(`service ${name}: env_file`);
      delete svc.env_file;
    }
  }
  return interpolated(doc) as Obj;
}

/** Each string as Compose interpolates it, then printed with `$` as `$$`: unchanged when it only holds `$$`; a variable is a fallback. */
function interpolated(value: unknown): unknown {
  if (typeof value === 'string') {
    // Most strings hold no `$`: nothing to interpolate, nothing to double.
    if (!value.includes('$')) return value;
    const out = substitute(value, () => undefined, (use) => refuse(`interpolates $${use.name}`));
    return out.replace(/\$/g, '$$$$');
  }
  if (Array.isArray(value)) return value.map(interpolated);
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolated(v)]));
  return value;
}

function normalise(docs: Obj[]): Obj {
  const project = docs.reduce<string | undefined>((name, d) => (typeof d.name === 'string' ? d.name : name), undefined) ?? '';
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) refuse('no project name');
  const services: Obj = {};
  for (const d of docs) {
    for (const [name, svc] of Object.entries(isObj(d.services) ? d.services : {})) services[name] = services[name] ? mergeService(services[name], svc as Obj) : { ...(svc as Obj) };
  }
  const kept: Obj = {};
  for (const name of Object.keys(services).sort()) {
    const svc = services[name];
    const profiles: unknown[] = Array.isArray(svc.profiles) ? svc.profiles : [];
    if (profiles.some((p) => !PROFILES.has(String(p)))) continue;
    kept[name] = service(name, svc);
    // A service on no network of its own is on the project's default one.
    if (kept[name].network_mode === undefined && kept[name].networks === undefined) kept[name].networks = { default: null };
  }
  const out: Obj = { name: project, services: kept };
  const networks = topLevel(docs, 'networks');
  const usesDefault = Object.values(kept).some((s) => s.network_mode === undefined && (!isObj(s.networks) || 'default' in s.networks));
  if (usesDefault && !networks.default) networks.default = {};
  if (Object.keys(networks).length) out.networks = named(networks, project);
  const volumes = topLevel(docs, 'volumes');
  if (Object.keys(volumes).length) out.volumes = named(volumes, project);
  const configs = topLevel(docs, 'configs');
  for (const [k, c] of Object.entries(configs)) if (!isObj(c) || Object.keys(c).some((key) => key !== 'content')) refuse(`config ${k}`);
  if (Object.keys(configs).length) out.configs = named(configs, project);
  for (const d of docs) for (const [k, v] of Object.entries(d)) if (k.startsWith('x-')) out[k] = v;
  undefinedReferences(kept, networks, volumes, configs);
  return out;
}

/**
 * A service that names a network, volume, config or service that is not there: Compose refuses
 * the project, so `docker compose config` says it (render/compose), not this merge.
 */
function undefinedReferences(services: Obj, networks: Obj, volumes: Obj, configs: Obj): void {
  for (const [name, svc] of Object.entries(services)) {
    for (const n of Object.keys(isObj(svc.networks) ? svc.networks : {})) if (!(n in networks)) refuse(`service ${name}: undefined network ${n}`);
    for (const m of Array.isArray(svc.volumes) ? svc.volumes : []) if (m.type === 'volume' && !(String(m.source) in volumes)) refuse(`service ${name}: undefined volume ${m.source}`);
    for (const c of Array.isArray(svc.configs) ? svc.configs : []) if (!(String(c.source) in configs)) refuse(`service ${name}: undefined config ${c.source}`);
    for (const dep of Object.keys(isObj(svc.depends_on) ? svc.depends_on : {})) if (!(dep in services)) refuse(`service ${name}: undefined service ${dep}`);
    if (typeof svc.network_mode === 'string' && svc.network_mode.startsWith('service:') && !(svc.network_mode.slice(8) in services)) refuse(`service ${name}: network_mode ${svc.network_mode}`);
  }
}

/** A top-level section of every file, merged key by key. */
function topLevel(docs: Obj[], key: string): Obj {
  const out: Obj = {};
  for (const d of docs) {
    if (d[key] === undefined) continue;
    if (!isObj(d[key])) refuse(`top-level ${key} is not a map`);
    for (const [k, v] of Object.entries(d[key] as Obj)) {
      if (v !== null && !isObj(v)) refuse(`${key}.${k}`);
      out[k] = { ...(isObj(out[k]) ? out[k] : {}), ...(isObj(v) ? v : {}) };
    }
  }
  return out;
}

/** Networks, volumes and configs get the project's prefix as their name, unless external or named. */
function named(section: Obj, project: string): Obj {
  const out: Obj = {};
  for (const key of Object.keys(section).sort()) {
    const v = section[key] as Obj;
    for (const k of Object.keys(v)) if (!['name', 'external', 'internal', 'labels', 'content'].includes(k)) refuse(`${key}.${k}`);
    if (v.labels !== undefined && !stringMap(v.labels)) refuse(`${key}.labels`);
    out[key] = { name: v.name ?? (v.external === true ? key : `${project}_${key}`), ...v };
  }
  return out;
}

/** compose-spec merge of a later file's service over an earlier one's (the import's rules, import/compose/service.ts). */
function mergeService(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (base[k] === undefined) out[k] = v;
    else if (LISTS.has(k)) out[k] = [...new Set([...(base[k] as unknown[]), ...(v as unknown[])].map(String))];
    else if (k === 'volumes' || k === 'configs') out[k] = uniqueBy([...(base[k] as Obj[]), ...(v as Obj[])], (m) => String(m.target));
    else if (['environment', 'labels', 'deploy', 'logging'].includes(k)) out[k] = deep(base[k], v);
    else if (k === 'networks') out[k] = deep(networkMap(base[k]), networkMap(v));
    else if (k === 'ports' || k === 'devices' || k === 'extra_hosts' || k === 'depends_on') refuse(`${k} in more than one file`);
    else out[k] = v;
  }
  return out;
}

function deep(base: unknown, over: unknown): unknown {
  if (isObj(base) && isObj(over)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? deep(out[k], v) : v;
    return out;
  }
  return over;
}

const stringMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((x) => typeof x === 'string');
const sorted = (m: Obj): Obj => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));

/** One service as Compose prints it: lists of strings, sizes in bytes, CPUs as numbers, maps of strings. */
function service(name: string, svc: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(svc)) {
    if (LISTS.has(k) || k === 'command' || k === 'entrypoint' || k === 'profiles') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number')) refuse(`service ${name}: ${k}`);
      out[k] = (v as unknown[]).map(String);
    } else if (k === 'environment' || k === 'labels') {
      if (!stringMap(v)) refuse(`service ${name}: ${k}`);
      out[k] = sorted(v as Obj);
    } else if (k === 'deploy') out[k] = deploy(name, v);
    else if (k === 'volumes') out[k] = mounts(name, v);
    else if (k === 'configs') {
      if (!Array.isArray(v) || !v.every((c) => isObj(c) && Object.keys(c).every((x) => x === 'source' || x === 'target') && typeof c.target === 'string' && c.target.startsWith('/'))) refuse(`service ${name}: configs`);
      out[k] = v;
    } else if (k === 'networks') {
      const networks = networkMap(v);
      if (!Object.values(networks).every((n) => n === null || (isObj(n) && Object.keys(n).length === 0))) refuse(`service ${name}: networks`);
      out[k] = sorted(networks);
    } else if (k === 'depends_on') out[k] = dependsOn(name, v);
    else if (k === 'ports') out[k] = ports(name, v);
    else if (k === 'devices') out[k] = devices(name, v);
    else if (k === 'extra_hosts') {
      if (!Array.isArray(v) || !v.every((h) => typeof h === 'string' && /^[^=:\s]+:[^\s]+$/.test(h))) refuse(`service ${name}: extra_hosts`);
      out[k] = (v as string[]).map((h) => h.replace(':', '=')).sort();
    } else if (k === 'shm_size') {
      const bytes = composeBytes(v as string | number);
      if (bytes === null || !Number.isSafeInteger(bytes)) refuse(`service ${name}: shm_size`);
      out[k] = String(bytes);
    } else if (k === 'stop_grace_period') {
      if (!DURATION.test(String(v))) refuse(`service ${name}: stop_grace_period`);
      out[k] = v;
    } else if (k === 'init' || k === 'privileged') {
      if (v !== true) refuse(`service ${name}: ${k}`);
      out[k] = v;
    } else if (k === 'logging') {
      if (!isObj(v) || Object.keys(v).some((x) => x !== 'driver' && x !== 'options') || (v.options !== undefined && !stringMap(v.options))) refuse(`service ${name}: logging`);
      out[k] = v;
    } else if (k === 'healthcheck') out[k] = healthcheck(name, v);
    else if (k === 'read_only') {
      if (typeof v !== 'boolean') refuse(`service ${name}: read_only`);
      // Compose leaves false out.
      if (v) out[k] = v;
    } else {
      if (typeof v !== 'string') refuse(`service ${name}: ${k}`);
      out[k] = v;
    }
  }
  return out;
}

function deploy(name: string, v: unknown): Obj {
  if (!isObj(v) || Object.keys(v).some((k) => k !== 'replicas' && k !== 'resources')) return refuse(`service ${name}: deploy`);
  const out: Obj = {};
  if (v.replicas !== undefined) {
    if (!Number.isInteger(v.replicas)) refuse(`service ${name}: deploy.replicas`);
    out.replicas = v.replicas;
  }
  if (v.resources !== undefined) {
    if (!isObj(v.resources) || Object.keys(v.resources).some((k) => k !== 'limits' && k !== 'reservations')) refuse(`service ${name}: deploy.resources`);
    const resources: Obj = {};
    for (const [k, r] of Object.entries(v.resources as Obj)) {
      if (!isObj(r) || Object.keys(r).some((x) => x !== 'memory' && x !== 'cpus')) refuse(`service ${name}: deploy.resources.${k}`);
      const one: Obj = {};
      if (r.cpus !== undefined) {
        const cpus = Number(r.cpus);
        if (!/^[0-9]+(\.[0-9]+)?$/.test(String(r.cpus)) || !(cpus > 0)) refuse(`service ${name}: cpus`);
        one.cpus = cpus;
      }
      if (r.memory !== undefined) {
        const bytes = composeBytes(r.memory as string | number);
        if (bytes === null || !Number.isSafeInteger(bytes)) refuse(`service ${name}: memory`);
        one.memory = String(bytes);
      }
      resources[k] = one;
    }
    out.resources = resources;
  }
  return out;
}

/** A duration Compose prints as written: whole seconds under a minute (`90s` would print `1m30s`). */
const DURATION = /^[1-5]?[0-9]s$/;

/** A service's networks as a map (the list form names them with no settings). */
function networkMap(v: unknown): Obj {
  if (Array.isArray(v) && v.every((n) => typeof n === 'string')) return Object.fromEntries(v.map((n) => [n, null]));
  return isObj(v) ? v : refuse('networks');
}

/** depends_on in its long form, `required: true` as Compose adds it. */
function dependsOn(name: string, v: unknown): Obj {
  const long = Array.isArray(v) ? Object.fromEntries(v.map((d) => [String(d), { condition: 'service_started' }])) : v;
  if (!isObj(long)) return refuse(`service ${name}: depends_on`);
  const out: Obj = {};
  for (const [dep, d] of Object.entries(long)) {
    if (!isObj(d) || Object.keys(d).some((k) => k !== 'condition' && k !== 'required') || typeof d.condition !== 'string') refuse(`service ${name}: depends_on.${dep}`);
    out[dep] = { condition: d.condition, required: d.required ?? true };
  }
  return out;
}

/** Ports in the long syntax Compose prints: `[ip:][published:]target[/protocol]` or a long entry. */
function ports(name: string, v: unknown): Obj[] {
  if (!Array.isArray(v)) return refuse(`service ${name}: ports`);
  return v.map((p) => {
    if (typeof p === 'string' || typeof p === 'number') {
      const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(String(p));
      if (!m) return refuse(`service ${name}: port ${String(p)}`);
      return { mode: 'ingress', ...(m[1] ? { host_ip: m[1] } : {}), target: Number(m[3]), ...(m[2] ? { published: m[2] } : {}), protocol: m[4] ?? 'tcp' };
    }
    if (!isObj(p) || Object.keys(p).some((k) => !['target', 'published', 'protocol', 'host_ip', 'mode'].includes(k)) || !Number.isInteger(p.target)) return refuse(`service ${name}: a port`);
    return { mode: p.mode ?? 'ingress', ...(p.host_ip !== undefined ? { host_ip: String(p.host_ip) } : {}), target: p.target, ...(p.published !== undefined ? { published: String(p.published) } : {}), protocol: p.protocol ?? 'tcp' };
  });
}

/** Devices as `source:target[:permissions]`, printed long with `rwm` by default. */
function devices(name: string, v: unknown): Obj[] {
  if (!Array.isArray(v)) return refuse(`service ${name}: devices`);
  return v.map((d) => {
    const parts = typeof d === 'string' ? d.split(':') : [];
    if (parts.length < 1 || parts.length > 3 || !parts[0].startsWith('/')) return refuse(`service ${name}: a device`);
    return { source: parts[0], target: parts[1] ?? parts[0], permissions: parts[2] ?? 'rwm' };
  });
}

/** A test as a list, durations under a minute in seconds (which Compose prints as written), retries. */
function healthcheck(name: string, v: unknown): Obj {
  if (!isObj(v) || Object.keys(v).some((k) => !['test', 'interval', 'timeout', 'retries', 'start_period'].includes(k))) return refuse(`service ${name}: healthcheck`);
  if (!Array.isArray(v.test) || !v.test.every((t) => typeof t === 'string')) refuse(`service ${name}: healthcheck.test`);
  for (const k of ['interval', 'timeout', 'start_period']) if (v[k] !== undefined && !DURATION.test(String(v[k]))) refuse(`service ${name}: healthcheck.${k}`);
  if (v.retries !== undefined && !Number.isInteger(v.retries)) refuse(`service ${name}: healthcheck.retries`);
  return v;
}

/** Long-syntax mounts only: named volumes, and bind mounts of absolute paths. */
function mounts(name: string, v: unknown): Obj[] {
  if (!Array.isArray(v)) return refuse(`service ${name}: volumes`);
  return v.map((m) => {
    if (!isObj(m) || Object.keys(m).some((k) => !['type', 'source', 'target', 'read_only'].includes(k))) return refuse(`service ${name}: a volume`);
    if (m.type !== 'volume' && !(m.type === 'bind' && typeof m.source === 'string' && m.source.startsWith('/'))) return refuse(`service ${name}: a ${String(m.type)} mount`);
    if (m.read_only !== undefined && typeof m.read_only !== 'boolean') refuse(`service ${name}: read_only`);
    return m;
  });
}

