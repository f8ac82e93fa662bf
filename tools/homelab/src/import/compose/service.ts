/**
 * One service of a Compose file in its long form (compose-go's canonical transform), and the
 * merge of two services (`extends`) by the compose-spec merge rules.
 */
import * as path from 'node:path';
import { InputError } from '../../errors';
import type { ComposeMount, ComposePort, ComposeService } from '../model';
import { shellWords } from './shell-words';

/** An `environment:` entry before env_files are merged under it. */
export interface EnvDecl {
  /** Null: declared without a value (`- KEY`, `KEY:`), to be taken from the environment. */
  value: string | null;
  template?: string;
  variables: string[];
}

/** An `env_file:` entry, its path resolved. */
export interface EnvFileRef {
  path: string;
  required: boolean;
  /** Where it is declared (`compose.yaml: services.web.env_file`), for errors. */
  declared: string;
}

/** A service as one file declares it: long form, its environment and env_files not merged yet. */
export interface LoadedService {
  service: ComposeService;
  env: Map<string, EnvDecl>;
  envFiles: EnvFileRef[];
  extends?: { service: string; file?: string };
}

/** Where a service is read: for errors and for resolving relative paths. */
export interface ServiceContext {
  /** The file as shown in messages. */
  file: string;
  /** The folder relative paths are resolved against. */
  dir: string;
  /** The home folder `~` stands for. */
  home: string;
}

/** Keys the model has a field for (or that the reader consumes); every other key goes to `other`. */
const KNOWN = new Set([
  'image', 'build', 'command', 'entrypoint', 'working_dir', 'user', 'environment', 'env_file', 'ports', 'expose', 'volumes',
  'tmpfs', 'depends_on', 'healthcheck', 'restart', 'network_mode', 'networks', 'cap_add', 'cap_drop', 'privileged', 'read_only',
  'devices', 'group_add', 'shm_size', 'extra_hosts', 'init', 'stop_grace_period', 'labels', 'configs', 'secrets', 'deploy', 'gpus', 'extends',
]);

type Raw = Record<string, unknown>;

/** Go's fmt.Sprint of a YAML scalar, as Compose turns typed values into strings. */
export function goString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    const [mantissa, exp] = value.toExponential().split('e');
    const e = Number(exp);
    if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    return String(value);
  }
  return String(value);
}

/**
 * Reads one service of a file (already interpolated; `environment` already a map of EnvDecl)
 * into its long form.
 */
export function loadService(name: string, raw: unknown, ctx: ServiceContext): LoadedService {
  const at = (key: string) => `services.${name}${key ? `.${key}` : ''}`;
  const fail = (key: string, problem: string): never => {
    throw new InputError(`${ctx.file}: ${at(key)} ${problem}`);
  };
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('', 'is not a map; write the service as a map of keys');
  const s = raw as Raw;
  const str = (key: string): string | undefined => {
    const v = s[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object') fail(key, 'is not a single value; write one value');
    return goString(v);
  };
  const service: ComposeService = {
    environment: {},
    ports: [],
    expose: list(s.expose, at('expose'), ctx).map(goString),
    volumes: [],
    tmpfs: list(s.tmpfs, at('tmpfs'), ctx).map(goString),
    depends_on: dependsOn(s.depends_on, at('depends_on'), ctx),
    networks: {},
    cap_add: unique(list(s.cap_add, at('cap_add'), ctx).map(goString)),
    cap_drop: unique(list(s.cap_drop, at('cap_drop'), ctx).map(goString)),
    devices: list(s.devices, at('devices'), ctx).map((d, i) => device(d, `${at('devices')}[${i}]`, ctx)),
    group_add: list(s.group_add, at('group_add'), ctx).map(goString),
    extra_hosts: extraHosts(s.extra_hosts, at('extra_hosts'), ctx),
    labels: keyValues(s.labels, at('labels'), ctx),
    configs: list(s.configs, at('configs'), ctx).map((c, i) => fileMount(c, `${at('configs')}[${i}]`, ctx)),
    secrets: list(s.secrets, at('secrets'), ctx).map((c, i) => fileMount(c, `${at('secrets')}[${i}]`, ctx)),
    other: {},
  };
  const set = <K extends keyof ComposeService>(key: K, value: ComposeService[K] | undefined) => {
    if (value !== undefined) service[key] = value;
  };
  set('image', str('image'));
  if (s.build !== undefined && s.build !== null) service.build = s.build;
  set('command', words(s.command, at('command'), ctx));
  set('entrypoint', words(s.entrypoint, at('entrypoint'), ctx));
  set('working_dir', str('working_dir'));
  set('user', str('user'));
  set('restart', str('restart'));
  set('network_mode', str('network_mode'));
  set('privileged', bool(s.privileged, at('privileged'), ctx));
  set('read_only', bool(s.read_only, at('read_only'), ctx));
  set('init', bool(s.init, at('init'), ctx));
  set('shm_size', str('shm_size'));
  set('stop_grace_period', str('stop_grace_period'));
  set('healthcheck', healthcheck(s.healthcheck, at('healthcheck'), ctx));
  set('deploy', deploy(s.deploy, s.gpus, at('deploy'), ctx));
  for (const [i, p] of list(s.ports, at('ports'), ctx).entries()) service.ports.push(...ports(p, `${at('ports')}[${i}]`, ctx));
  service.ports = uniqueBy(service.ports, portKey);
  service.volumes = uniqueBy(
    list(s.volumes, at('volumes'), ctx).map((v, i) => mount(v, `${at('volumes')}[${i}]`, ctx)),
    (m) => m.target,
  );
  service.networks = networks(s.networks, at('networks'), ctx);
  for (const [key, value] of Object.entries(s)) {
    if (!KNOWN.has(key) && !key.startsWith('x-')) service.other[key] = value;
  }
  const env = s.environment instanceof Map ? (s.environment as Map<string, EnvDecl>) : new Map<string, EnvDecl>();
  return { service, env, envFiles: envFiles(s.env_file, at('env_file'), ctx), extends: extendsOf(s.extends, at('extends'), ctx) };
}

function problem(ctx: ServiceContext, where: string, text: string): InputError {
  return new InputError(`${ctx.file}: ${where} ${text}`);
}

function list(value: unknown, where: string, ctx: ServiceContext): unknown[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw problem(ctx, where, 'is not a list; write it as a list');
  return value;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Keeps the first position of each key with the last value given for it (compose-go's EnforceUnicity). */
export function uniqueBy<T>(values: T[], key: (value: T) => string): T[] {
  const out: T[] = [];
  const index = new Map<string, number>();
  for (const v of values) {
    const k = key(v);
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push(v);
    } else out[at] = v;
  }
  return out;
}

function bool(value: unknown, where: string, ctx: ServiceContext): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(text)) return true;
  if (['n', 'no', 'false', 'off'].includes(text)) return false;
  throw problem(ctx, where, 'is not true or false; write true or false');
}

function int(value: unknown, where: string, ctx: ServiceContext): number {
  const n = typeof value === 'number' ? value : /^[-+]?[0-9]+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw problem(ctx, where, 'is not a whole number; write a number');
  return n;
}

function words(value: unknown, where: string, ctx: ServiceContext): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const split = shellWords(value);
    if (!split) throw problem(ctx, where, 'has an unclosed quote or an unquoted "("; close the quote or write the command as a list');
    return split;
  }
  if (!Array.isArray(value)) throw problem(ctx, where, 'is neither a string nor a list; write a list of words');
  return value.map(goString);
}

/** `KEY=value` list or map → map (labels, driver options): Compose's Labels. */
export function keyValues(value: unknown, where: string, ctx: ServiceContext): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = goString(item);
      const eq = text.indexOf('=');
      if (eq < 0) out[text] = '';
      else out[text.slice(0, eq)] = text.slice(eq + 1);
    }
    return out;
  }
  if (typeof value !== 'object') throw problem(ctx, where, 'is neither a list nor a map; write KEY: value lines');
  for (const [k, v] of Object.entries(value as Raw)) out[k] = goString(v);
  return out;
}

function extraHosts(value: unknown, where: string, ctx: ServiceContext): Record<string, string> {
  const out: Record<string, string> = {};
  const unbracket = (ip: string) => (ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = goString(item);
      const sep = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
      if (sep < 0) throw problem(ctx, where, `entry ${JSON.stringify(text)} has no address; write name=address`);
      out[text.slice(0, sep)] = unbracket(text.slice(sep + 1));
    }
    return out;
  }
  if (typeof value !== 'object') throw problem(ctx, where, 'is neither a list nor a map; write name=address entries');
  for (const [k, v] of Object.entries(value as Raw)) out[k] = unbracket(goString(v));
  return out;
}

function dependsOn(value: unknown, where: string, ctx: ServiceContext): ComposeService['depends_on'] {
  const out: ComposeService['depends_on'] = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const name of value) out[goString(name)] = { condition: 'service_started', required: true };
    return out;
  }
  if (typeof value !== 'object') throw problem(ctx, where, 'is neither a list nor a map; write the services it waits for');
  for (const [name, spec] of Object.entries(value as Raw)) {
    const s = (spec ?? {}) as Raw;
    const condition = s.condition === undefined ? 'service_started' : goString(s.condition);
    if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
      throw problem(ctx, `${where}.${name}.condition`, `is ${JSON.stringify(condition)}; write service_started, service_healthy or service_completed_successfully`);
    }
    const entry: ComposeService['depends_on'][string] = {
      condition: condition as ComposeService['depends_on'][string]['condition'],
      required: bool(s.required, `${where}.${name}.required`, ctx) ?? true,
    };
    const restart = bool(s.restart, `${where}.${name}.restart`, ctx);
    if (restart !== undefined) entry.restart = restart;
    out[name] = entry;
  }
  return out;
}

function healthcheck(value: unknown, where: string, ctx: ServiceContext): ComposeService['healthcheck'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw problem(ctx, where, 'is not a map; write test:, interval:, …');
  const h = value as Raw;
  const out: NonNullable<ComposeService['healthcheck']> = {};
  if (typeof h.test === 'string') out.test = ['CMD-SHELL', h.test];
  else if (Array.isArray(h.test)) out.test = h.test.map(goString);
  else if (h.test !== undefined && h.test !== null) throw problem(ctx, `${where}.test`, 'is neither a string nor a list; write a command');
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval'] as const) if (h[key] !== undefined && h[key] !== null) out[key] = goString(h[key]);
  if (h.retries !== undefined && h.retries !== null) out.retries = int(h.retries, `${where}.retries`, ctx);
  const disable = bool(h.disable, `${where}.disable`, ctx);
  if (disable !== undefined) out.disable = disable;
  return out;
}

/** Docker's port syntax: `[ip:][host[-range]:]container[-range][/protocol]`; a container range gives one port each. */
function ports(value: unknown, where: string, ctx: ServiceContext): ComposePort[] {
  if (typeof value === 'number') return [{ target: value, protocol: 'tcp', mode: 'ingress' }];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const p = value as Raw;
    const port: ComposePort = { target: int(p.target, `${where}.target`, ctx), protocol: protocol(p.protocol ?? 'tcp', where, ctx), mode: 'ingress' };
    if (p.published !== undefined && p.published !== null && p.published !== '') port.published = goString(p.published);
    if (p.host_ip) port.host_ip = goString(p.host_ip);
    if (p.mode) port.mode = goString(p.mode) as ComposePort['mode'];
    if (p.name) port.name = goString(p.name);
    return [port];
  }
  if (typeof value !== 'string') throw problem(ctx, where, 'is not a port; write "host:container" or a map');
  const bad = () => problem(ctx, where, `${JSON.stringify(value)} is not a port mapping; write [ip:]host:container[/protocol]`);
  const slash = value.lastIndexOf('/');
  const spec = slash >= 0 ? value.slice(0, slash) : value;
  const proto = protocol(slash >= 0 ? value.slice(slash + 1) : 'tcp', where, ctx);
  const parts = spec.split(':');
  const container = parts[parts.length - 1];
  const host = parts.length >= 2 ? parts[parts.length - 2] : '';
  let ip = parts.length >= 3 ? parts.slice(0, parts.length - 2).join(':') : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && !/^[0-9.]+$|^[0-9a-fA-F:.]+$/.test(ip)) throw bad();
  const range = (text: string): [number, number] => {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(text);
    if (!m) throw bad();
    const [start, end] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (end < start || end > 65535) throw bad();
    return [start, end];
  };
  const [start, end] = range(container);
  const [hostStart, hostEnd] = host === '' ? [0, 0] : range(host);
  if (host !== '' && end - start !== hostEnd - hostStart && end !== start) throw bad();
  const out: ComposePort[] = [];
  for (let i = 0; i <= end - start; i++) {
    const port: ComposePort = { target: start + i, protocol: proto, mode: 'ingress' };
    if (host !== '') port.published = start === end && hostStart !== hostEnd ? `${hostStart}-${hostEnd}` : String(hostStart + i);
    if (ip !== '') port.host_ip = ip;
    out.push(port);
  }
  return out;
}

function protocol(value: unknown, where: string, ctx: ServiceContext): ComposePort['protocol'] {
  const p = goString(value).toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw problem(ctx, where, `has protocol ${JSON.stringify(p)}; write tcp, udp or sctp`);
  return p;
}

function portKey(p: ComposePort): string {
  return `${p.host_ip ?? ''}:${p.published ?? ''}:${p.target}/${p.protocol}`;
}

/** Resolves a bind source as Compose does: `~` is the home folder, a relative path is relative to the file's folder. */
export function resolveHostPath(source: string, ctx: ServiceContext): string {
  if (source === '~' || source.startsWith('~/')) return path.join(ctx.home, source.slice(1));
  return path.resolve(ctx.dir, source);
}

function isFilePath(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
}

/** Short volume syntax `[source:]target[:options]` or the long form. */
function mount(value: unknown, where: string, ctx: ServiceContext): ComposeMount {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return longMount(value as Raw, where, ctx);
  if (typeof value !== 'string' || value === '') throw problem(ctx, where, 'is not a volume; write source:target[:options]');
  const parts = value.split(':');
  if (parts.some((p) => p === '') || parts.length > 3) throw problem(ctx, where, `${JSON.stringify(value)} is not source:target[:options]; fix the colons`);
  const [source, target, options] = parts.length === 1 ? [undefined, parts[0], undefined] : parts;
  const m: ComposeMount = { type: 'volume', target };
  for (const option of (options ?? '').split(',').filter(Boolean)) {
    if (option === 'ro') m.read_only = true;
    else if (option === 'rw') m.read_only = false;
    else if (option === 'nocopy') m.volume = { ...m.volume, nocopy: true };
    else if (option === 'z' || option === 'Z') m.bind = { ...m.bind, selinux: option };
    else if (['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'].includes(option)) m.bind = { ...m.bind, propagation: option };
  }
  if (source !== undefined && isFilePath(source)) {
    m.type = 'bind';
    m.written_source = source;
    m.source = resolveHostPath(source, ctx);
    // Short syntax creates a missing host path (docker-compose v1 did).
    m.bind = { ...m.bind, create_host_path: true };
  } else if (source !== undefined) {
    m.source = source;
  }
  if (m.read_only === false) delete m.read_only;
  return m;
}

function longMount(v: Raw, where: string, ctx: ServiceContext): ComposeMount {
  const type = goString(v.type ?? 'volume') as ComposeMount['type'];
  if (!['volume', 'bind', 'tmpfs', 'npipe', 'cluster', 'image'].includes(type)) throw problem(ctx, `${where}.type`, `is ${JSON.stringify(type)}; write volume, bind or tmpfs`);
  if (v.target === undefined || v.target === null) throw problem(ctx, where, 'has no target; write target: /path/in/container');
  const m: ComposeMount = { type, target: goString(v.target) };
  if (v.source !== undefined && v.source !== null && v.source !== '') {
    const source = goString(v.source);
    if (type === 'bind') {
      m.written_source = source;
      m.source = resolveHostPath(source, ctx);
    } else m.source = source;
  }
  const ro = bool(v.read_only, `${where}.read_only`, ctx);
  if (ro) m.read_only = true;
  if (v.bind && typeof v.bind === 'object') {
    const b = v.bind as Raw;
    m.bind = {};
    if (b.propagation) m.bind.propagation = goString(b.propagation);
    const create = bool(b.create_host_path, `${where}.bind.create_host_path`, ctx);
    if (create !== undefined) m.bind.create_host_path = create;
    if (b.selinux === 'z' || b.selinux === 'Z') m.bind.selinux = b.selinux;
  }
  if (v.volume && typeof v.volume === 'object') {
    const vol = v.volume as Raw;
    m.volume = {};
    const nocopy = bool(vol.nocopy, `${where}.volume.nocopy`, ctx);
    if (nocopy !== undefined) m.volume.nocopy = nocopy;
    if (vol.subpath) m.volume.subpath = goString(vol.subpath);
  }
  if (v.tmpfs && typeof v.tmpfs === 'object') {
    const t = v.tmpfs as Raw;
    m.tmpfs = {};
    if (t.size !== undefined && t.size !== null) m.tmpfs.size = typeof t.size === 'number' ? t.size : goString(t.size);
    if (t.mode !== undefined && t.mode !== null) m.tmpfs.mode = int(t.mode, `${where}.tmpfs.mode`, ctx);
  }
  return m;
}

/** `/dev/dri`, `/dev/ttyUSB0:/dev/ttyACM0[:rwm]` or the long form; permissions default to rwm, as Compose prints. */
function device(value: unknown, where: string, ctx: ServiceContext): ComposeService['devices'][number] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const d = value as Raw;
    const source = goString(d.source);
    return { source, target: d.target ? goString(d.target) : source, permissions: d.permissions ? goString(d.permissions) : 'rwm' };
  }
  const parts = goString(value).split(':');
  if (parts[0] === '' || parts.length > 3) throw problem(ctx, where, `${JSON.stringify(goString(value))} is not a device; write /dev/host[:/dev/container[:rwm]]`);
  if (parts.length === 2 && /^[rwm]+$/.test(parts[1])) return { source: parts[0], target: parts[0], permissions: parts[1] };
  return { source: parts[0], target: parts[1] ?? parts[0], permissions: parts[2] ?? 'rwm' };
}

function fileMount(value: unknown, where: string, ctx: ServiceContext): ComposeService['configs'][number] {
  if (typeof value === 'string') return { source: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw problem(ctx, where, 'is neither a name nor a map; write the name');
  const v = value as Raw;
  const out: ComposeService['configs'][number] = { source: goString(v.source) };
  if (v.target !== undefined && v.target !== null) out.target = goString(v.target);
  if (v.uid !== undefined && v.uid !== null) out.uid = goString(v.uid);
  if (v.gid !== undefined && v.gid !== null) out.gid = goString(v.gid);
  if (v.mode !== undefined && v.mode !== null) out.mode = int(v.mode, `${where}.mode`, ctx);
  return out;
}

function networks(value: unknown, where: string, ctx: ServiceContext): ComposeService['networks'] {
  const out: ComposeService['networks'] = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const n of value) out[goString(n)] = null;
    return out;
  }
  if (typeof value !== 'object') throw problem(ctx, where, 'is neither a list nor a map; write the network names');
  for (const [name, spec] of Object.entries(value as Raw)) out[name] = spec === null ? null : (spec as ComposeService['networks'][string]);
  return out;
}

/** `deploy:` as written, with its resource fields typed; `gpus:` becomes the GPU reservation it stands for. */
function deploy(value: unknown, gpus: unknown, where: string, ctx: ServiceContext): ComposeService['deploy'] {
  if ((value === undefined || value === null) && (gpus === undefined || gpus === null)) return undefined;
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) throw problem(ctx, where, 'is not a map; write replicas:, resources:, …');
  const d: NonNullable<ComposeService['deploy']> = { ...((value ?? {}) as Raw) };
  if (d.replicas !== undefined && d.replicas !== null) d.replicas = int(d.replicas, `${where}.replicas`, ctx);
  const resources = (d.resources ?? undefined) as Raw | undefined;
  if (resources) {
    const typed: Raw = { ...resources };
    for (const kind of ['limits', 'reservations'] as const) {
      const r = resources[kind] as Raw | undefined | null;
      if (!r) continue;
      const out: Raw = { ...r };
      if (r.cpus !== undefined && r.cpus !== null) out.cpus = goString(r.cpus);
      if (r.memory !== undefined && r.memory !== null) out.memory = goString(r.memory);
      if (kind === 'reservations' && r.devices !== undefined) out.devices = list(r.devices, `${where}.resources.reservations.devices`, ctx).map((x, i) => gpuDevice(x, `${where}.resources.reservations.devices[${i}]`, ctx));
      typed[kind] = out;
    }
    d.resources = typed as NonNullable<ComposeService['deploy']>['resources'];
  }
  if (gpus !== undefined && gpus !== null) {
    const devices = gpus === 'all' ? [{ capabilities: ['gpu'], count: 'all' as const }] : list(gpus, 'gpus', ctx).map((x, i) => gpuDevice({ capabilities: ['gpu'], ...(x as Raw) }, `services.gpus[${i}]`, ctx));
    const resources = (d.resources ?? {}) as NonNullable<NonNullable<ComposeService['deploy']>['resources']>;
    const reservations = resources.reservations ?? {};
    d.resources = { ...resources, reservations: { ...reservations, devices: [...(reservations.devices ?? []), ...devices] } };
  }
  return d;
}

type GpuDevice = NonNullable<NonNullable<NonNullable<NonNullable<ComposeService['deploy']>['resources']>['reservations']>['devices']>[number];

function gpuDevice(value: unknown, where: string, ctx: ServiceContext): GpuDevice {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw problem(ctx, where, 'is not a map; write capabilities: [gpu]');
  const v = value as Raw;
  const out: GpuDevice = { capabilities: list(v.capabilities, `${where}.capabilities`, ctx).map(goString) };
  if (v.count !== undefined && v.count !== null) out.count = v.count === 'all' || v.count === -1 ? 'all' : int(v.count, `${where}.count`, ctx);
  if (v.device_ids !== undefined && v.device_ids !== null) out.device_ids = list(v.device_ids, `${where}.device_ids`, ctx).map(goString);
  if (v.driver !== undefined && v.driver !== null) out.driver = goString(v.driver);
  return out;
}

function envFiles(value: unknown, where: string, ctx: ServiceContext): EnvFileRef[] {
  return list(value, where, ctx).map((entry, i) => {
    const declared = `${ctx.file}: ${where}`;
    if (typeof entry === 'string') return { path: path.resolve(ctx.dir, entry), required: true, declared };
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw problem(ctx, `${where}[${i}]`, 'is neither a path nor a map; write path: file');
    const e = entry as Raw;
    if (typeof e.path !== 'string') throw problem(ctx, `${where}[${i}].path`, 'is missing; write path: file');
    return { path: path.resolve(ctx.dir, e.path), required: bool(e.required, `${where}[${i}].required`, ctx) ?? true, declared };
  });
}

function extendsOf(value: unknown, where: string, ctx: ServiceContext): LoadedService['extends'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { service: value };
  if (typeof value !== 'object' || Array.isArray(value) || typeof (value as Raw).service !== 'string') throw problem(ctx, where, 'names no service; write service: <name> (and file: <path>)');
  const v = value as Raw;
  return { service: v.service as string, file: v.file === undefined || v.file === null ? undefined : goString(v.file) };
}

/**
 * Merges a service over the one it extends, by the compose-spec merge rules: single values are
 * replaced, command/entrypoint/healthcheck.test replaced whole, maps (environment, labels,
 * extra_hosts, depends_on, networks, deploy, build) merged key by key, and lists appended with one
 * entry per key (ports by address, volumes and devices by target, capabilities by value).
 */
export function mergeService(base: LoadedService, over: LoadedService): LoadedService {
  const b = base.service;
  const o = over.service;
  const service: ComposeService = {
    ...b,
    ...definedOnly(o),
    environment: {},
    ports: uniqueBy([...b.ports, ...o.ports], portKey),
    expose: unique([...b.expose, ...o.expose]),
    volumes: uniqueBy([...b.volumes, ...o.volumes], (m) => m.target),
    tmpfs: unique([...b.tmpfs, ...o.tmpfs]),
    depends_on: deepMerge(b.depends_on, o.depends_on) as ComposeService['depends_on'],
    networks: deepMerge(b.networks, o.networks) as ComposeService['networks'],
    cap_add: unique([...b.cap_add, ...o.cap_add]),
    cap_drop: unique([...b.cap_drop, ...o.cap_drop]),
    devices: uniqueBy([...b.devices, ...o.devices], (d) => d.target),
    group_add: unique([...b.group_add, ...o.group_add]),
    extra_hosts: { ...b.extra_hosts, ...o.extra_hosts },
    labels: { ...b.labels, ...o.labels },
    configs: uniqueBy([...b.configs, ...o.configs], (c) => c.target ?? `/${c.source}`),
    secrets: uniqueBy([...b.secrets, ...o.secrets], (c) => c.target ?? `/run/secrets/${c.source}`),
    other: deepMerge(b.other, o.other) as Record<string, unknown>,
  };
  if (b.healthcheck || o.healthcheck) service.healthcheck = { ...b.healthcheck, ...o.healthcheck };
  if (b.deploy || o.deploy) service.deploy = deepMerge(b.deploy ?? {}, o.deploy ?? {}) as ComposeService['deploy'];
  if (b.build !== undefined && o.build !== undefined) service.build = deepMerge(asBuild(b.build), asBuild(o.build));
  return {
    service,
    env: new Map([...base.env, ...over.env]),
    envFiles: uniqueBy([...base.envFiles, ...over.envFiles], (f) => f.path),
    extends: over.extends,
  };
}

function asBuild(build: unknown): unknown {
  return typeof build === 'string' ? { context: build } : build;
}

/** The single-valued fields a service sets (an unset field does not replace the base's). */
function definedOnly(service: ComposeService): Partial<ComposeService> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(service)) if (v !== undefined) out[k] = v;
  return out as Partial<ComposeService>;
}

/** Maps merged key by key, lists appended, anything else replaced. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base;
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Raw) };
    for (const [k, v] of Object.entries(over as Raw)) out[k] = k in out && !k.startsWith('x-') ? deepMerge(out[k], v) : v;
    return out;
  }
  return over;
}
