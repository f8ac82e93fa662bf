import * as path from 'node:path';
import { InputError, show } from '../../errors';
import type { AppVolumeSpec, ServiceSpec } from '../../spec/types';
import type { ComposeMount, ComposeService, ComposeSource } from '../model';
import { ABSOLUTE_PATH as ABSOLUTE } from './patterns';
import { refusePlaceholder } from './placeholders';
import type { ImportReport } from './report';
import { specSize } from './units';

/** What the file system says a host path is; the import's caller asks the machine that holds the stack (map/ itself reads no file). */
export type PathKind = 'file' | 'directory' | 'socket' | 'missing';
export type StatPath = (absolute: string) => PathKind | undefined;

/** A file a config volume keeps beside the spec: the caller copies `source` (as the reader names it) to `applications/specs/<app>/<file>`. */
export interface ConfigFileCopy {
  source: string;
  file: string;
}

/** Compose volumes have no size: the size an imported named volume gets, with a warning line to set it. */
export const DEFAULT_VOLUME_SIZE = '10Gi';
/** The size an imported tmpfs without one gets (Compose's is unbounded, half the host's memory), with a warning line. */
export const DEFAULT_TMPFS_SIZE = '64Mi';

const VOLUME_NAME = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
const CLAIM = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CONFIG_FILE = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$/;
/** Host files that are files (a bind of one is `type: File`) when the caller cannot look. */
const KNOWN_FILES = new Set(['/etc/localtime', '/etc/timezone', '/etc/hosts', '/etc/machine-id', '/etc/resolv.conf', '/etc/passwd', '/etc/group']);

type Mount = NonNullable<ServiceSpec['mounts']>[number];

/**
 * The app's volumes and each service's mounts (docs/import.md, "Storage"). One app volume per
 * source: a named volume, a host path or a config shared by several services is one volume
 * they all mount. Named volumes get a size (warning: Compose's have none), external ones are
 * claims, NFS ones `nfs`, local bind volumes and bind mounts `hostPath` with the reason
 * `imported: the source binds <path>` (a relative bind keeps the absolute path Compose resolves
 * it to, so the imported stack uses the same data), tmpfs mounts `tmpfs`, config files `config`.
 */
export class StorageMapper {
  readonly volumes: Record<string, AppVolumeSpec> = {};
  readonly files: ConfigFileCopy[] = [];
  /** Each persistent app volume made from a named volume of the source: app volume → the source's volume key (what adopting a running stack renames). */
  readonly fromNamed: Record<string, string> = {};
  private readonly byKey = new Map<string, string>();

  constructor(
    private readonly source: ComposeSource,
    private readonly report: ImportReport,
    private readonly stat: StatPath | undefined,
  ) {}

  /** The mounts of one service, its volumes added to the app's. */
  mountsOf(service: string, svc: ComposeService): Mount[] {
    const mounts: Mount[] = [];
    const push = (at: string, mount: Mount | null) => {
      if (!mount) return;
      if (!ABSOLUTE.test(mount.path)) return this.report.notCarried(at, `the mount path ${show(mount.path)} is not an absolute path the spec takes (letters, digits, _ . / @ + -)`);
      if (mount.path === '/tmp') return this.report.notCarried(at, 'homelab mounts its own tmpfs at /tmp in every service (the root filesystem is read-only by default); move the mount elsewhere if the service needs this one');
      if (mounts.some((m) => m.path === mount.path)) return this.report.notCarried(at, `a second mount at ${mount.path}`);
      mounts.push(mount);
    };
    for (const m of svc.volumes) {
      const at = `services.${service}.volumes.${m.target}`;
      push(at, this.mount(service, m, at));
    }
    for (const written of svc.tmpfs) {
      const [target, ...options] = written.split(':');
      const at = `services.${service}.tmpfs.${target}`;
      const size = /(?:^|,)size=([^,]+)/.exec(options.join(':'))?.[1];
      if (/(?:^|,)mode=/.test(options.join(':'))) this.report.notCarried(`${at}.mode`, 'the spec has no mode for a tmpfs');
      push(at, target === '/tmp' ? this.tmpAtTmp(at) : this.tmpfs(service, target, size, at));
    }
    for (const c of svc.configs) push(`services.${service}.configs.${c.source}`, this.config(service, c));
    for (const s of svc.secrets) {
      this.report.notCarried(
        `services.${service}.secrets.${s.source}`,
        "a Compose secret is a file under /run/secrets, the spec's secrets are environment variables; give the image the value as an environment variable if it reads one, or mount the file with patches (its content stays out of git)",
      );
    }
    return mounts;
  }

  /** Top-level volumes no service mounts. */
  reportUnused(): void {
    for (const name of Object.keys(this.source.volumes)) {
      if (!this.byKey.has(`volume:${name}`)) this.report.note(`volumes.${name} is not mounted by any service; not in the spec`);
    }
  }

  private mount(service: string, m: ComposeMount, at: string): Mount | null {
    if (m.type === 'tmpfs') return m.target === '/tmp' ? this.tmpAtTmp(at) : this.tmpfs(service, m.target, m.tmpfs?.size, at, m.tmpfs?.mode);
    if (m.type === 'bind') return this.bind(m, at);
    if (m.type !== 'volume') {
      this.report.notCarried(at, `a mount of type ${m.type}: the spec mounts volumes, host paths, tmpfs and config files`);
      return null;
    }
    if (m.volume?.nocopy) this.report.notCarried(`${at}.nocopy`, "the spec's Compose volume copies the image's files into a new volume, as Compose does by default");
    const name = m.source === undefined ? this.anonymous(service, m.target) : this.named(m.source, at);
    if (name === null) return null;
    return { volume: name, path: m.target, ...(m.read_only ? { readOnly: true } : {}), ...(m.volume?.subpath ? { subPath: m.volume.subpath } : {}) };
  }

  /** A volume the source names: a claim when external, NFS or a host path by its driver options, else a new persistent volume. */
  private named(source: string, at: string): string | null {
    const key = `volume:${source}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known === '' ? null : known;
    const top = this.source.volumes[source] ?? {};
    const where = `volumes.${source}`;
    let volume: AppVolumeSpec | null;
    if (top.external) {
      const claim = top.name ?? source;
      volume = CLAIM.test(claim) ? { claim } : null;
      if (!volume) this.report.notCarried(where, `the external volume ${show(claim)} is not a name a Kubernetes claim can have (lower-case letters, digits, - and .); rename it and import again`);
    } else if (top.driver !== undefined && top.driver !== 'local') {
      volume = null;
      this.report.notCarried(where, `the volume driver ${show(top.driver)}: the spec's volumes are local, NFS, host paths or claims`);
    } else {
      volume = this.fromDriverOptions(source, top.driver_opts ?? {}, where);
    }
    if (volume === null) {
      this.report.notCarried(at, `its volume ${source} is not carried over`);
      this.byKey.set(key, '');
      return null;
    }
    if (top.labels && Object.keys(top.labels).length > 0) this.report.notCarried(`${where}.labels`, 'the spec labels the volumes it renders itself');
    const name = this.add(key, source, volume);
    if ('size' in volume) this.fromNamed[name] = source;
    if (name !== source) this.report.note(`${where} is the app volume ${name} (volume names in the spec are lower-case letters, digits and -)`);
    return name;
  }

  private fromDriverOptions(source: string, opts: Record<string, string>, where: string): AppVolumeSpec | null {
    const type = opts.type;
    if (type === undefined && Object.keys(opts).length === 0) {
      this.report.warn(`${where} has no size in Compose: it is ${DEFAULT_VOLUME_SIZE} in the spec; set volumes.${source}.size to what it needs`);
      return { size: DEFAULT_VOLUME_SIZE };
    }
    const options = Object.fromEntries((opts.o ?? '').split(',').filter(Boolean).map((o) => [o.split('=')[0], o.split('=').slice(1).join('=')]));
    if ((type === 'nfs' || type === 'nfs4') && options.addr && /^:\//.test(opts.device ?? '')) {
      const server = options.addr;
      const nfsPath = opts.device.slice(1);
      if (/^[A-Za-z0-9.:-]{1,253}$/.test(server) && ABSOLUTE.test(nfsPath)) {
        const extra = Object.keys(options).filter((o) => o !== 'addr' && o !== 'nfsvers' && o !== 'vers');
        if (extra.length > 0) this.report.notCarried(`${where}.driver_opts.o`, `the NFS options ${extra.join(', ')}: the spec mounts NFS with its own (nfsvers=4)`);
        return { nfs: { server, path: nfsPath } };
      }
    }
    if (type === 'none' && 'bind' in options && opts.device !== undefined) return this.hostPath(opts.device, opts.device, where);
    this.report.notCarried(`${where}.driver_opts`, 'driver options other than an NFS share or a local bind: the spec has no field for them');
    return null;
  }

  private anonymous(service: string, target: string): string {
    const name = this.add(`anonymous:${service}:${target}`, `${service}-${path.posix.basename(target)}`, { size: DEFAULT_VOLUME_SIZE });
    this.report.warn(`services.${service}.volumes.${target} is an anonymous volume in the source: it is the app volume ${name} of ${DEFAULT_VOLUME_SIZE} in the spec; set its size`);
    return name;
  }

  private bind(m: ComposeMount, at: string): Mount | null {
    const hostPath = m.source ?? '';
    refusePlaceholder(m.written_source ?? hostPath, `${at} (its source)`);
    if (m.bind?.selinux) this.report.notCarried(`${at}.selinux`, `:${m.bind.selinux}: SELinux relabeling is not modeled; on an SELinux host label the folder once (chcon -Rt container_file_t)`);
    if (m.bind?.propagation) this.report.notCarried(`${at}.propagation`, 'the spec has no mount propagation');
    if (m.bind?.create_host_path === false) this.report.notCarried(`${at}.create_host_path`, 'the spec lets Compose create a missing host folder, as it does by default');
    const key = `bind:${hostPath}`;
    const name = this.byKey.get(key) ?? this.add(key, this.baseName(hostPath), this.hostPath(hostPath, m.written_source ?? hostPath, at));
    return { volume: name, path: m.target, ...(m.read_only ? { readOnly: true } : {}) };
  }

  private hostPath(hostPath: string, written: string, at: string): AppVolumeSpec {
    if (!ABSOLUTE.test(hostPath)) {
      throw new InputError(`${at}: the host path ${show(hostPath)} has characters a spec's host path cannot hold (letters, digits, _ . / @ + - only); rename the folder (or bind it through a link of such a name) and import again`);
    }
    const kind = this.stat?.(hostPath) ?? (KNOWN_FILES.has(hostPath) ? 'file' : /\.sock$/.test(hostPath) ? 'socket' : undefined);
    const type = kind === 'file' ? 'File' : kind === 'socket' ? 'Socket' : undefined;
    const socket = /(^|\/)docker\.sock$/.test(hostPath);
    const reason = socket ? `imported: the source binds the Docker socket ${written} (root on the host)` : `imported: the source binds ${written}`;
    return { hostPath, ...(type ? { type } : {}), reason: reason.length > 300 ? `${reason.slice(0, 297)}...` : reason };
  }

  private tmpfs(service: string, target: string, size: string | number | undefined, at: string, mode?: number): Mount {
    if (mode !== undefined) this.report.notCarried(`${at}.mode`, 'the spec has no mode for a tmpfs');
    let specSizeOf = size === undefined ? null : specSize(size);
    if (specSizeOf === null) {
      specSizeOf = DEFAULT_TMPFS_SIZE;
      this.report.warn(`${at} has ${size === undefined ? 'no size' : `a size the spec cannot hold (${show(String(size))})`}: it is ${DEFAULT_TMPFS_SIZE} in the spec; set its size`);
    }
    const name = this.add(`tmpfs:${service}:${target}`, `${service}-${path.posix.basename(target) || 'tmpfs'}`, { tmpfs: { size: specSizeOf } });
    return { volume: name, path: target };
  }

  private tmpAtTmp(at: string): null {
    this.report.note(`${at}: homelab mounts a tmpfs at /tmp in every service itself`);
    return null;
  }

  private config(service: string, c: ComposeService['configs'][number]): Mount | null {
    const at = `services.${service}.configs.${c.source}`;
    const top = this.source.configs[c.source];
    for (const field of ['mode', 'uid', 'gid'] as const) {
      if (c[field] !== undefined) this.report.notCarried(`${at}.${field}`, 'the spec mounts a config file read-only with the default owner and mode');
    }
    const target = c.target ?? `/${c.source}`;
    let volume: AppVolumeSpec | null = null;
    let file: ConfigFileCopy | null = null;
    if (top?.content !== undefined) volume = { config: { content: top.content } };
    else if (top?.file !== undefined) {
      const base = path.posix.basename(top.file);
      file = { source: top.file, file: this.files.some((f) => f.file === base && f.source !== top.file) ? `${c.source}-${base}` : base };
      if (CONFIG_FILE.test(file.file)) volume = { config: { file: file.file } };
    }
    if (!volume) {
      this.report.notCarried(at, top?.external ? 'an external config: the spec keeps a config file beside the spec or inline' : top?.environment !== undefined ? 'a config made from an environment variable: the spec keeps a config file beside the spec or inline' : 'a config the spec cannot hold');
      return null;
    }
    const key = `config:${c.source}`;
    const name = this.byKey.get(key) ?? this.add(key, c.source, volume);
    if (file && !this.files.some((f) => f.source === file!.source)) this.files.push(file);
    return { volume: name, path: target.startsWith('/') ? target : `/${target}` };
  }

  private baseName(hostPath: string): string {
    return path.posix.basename(hostPath).replace(/\.sock$/, '-sock') || 'host';
  }

  /** Adds an app volume under a valid, unused name made from `wanted`. */
  private add(key: string, wanted: string, volume: AppVolumeSpec): string {
    let base = wanted.toLowerCase().replace(/[^-a-z0-9]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 28).replace(/-+$/, '') || 'volume';
    if (!VOLUME_NAME.test(base)) base = 'volume';
    let name = base;
    for (let i = 2; name in this.volumes; i++) name = `${base}-${i}`;
    this.volumes[name] = volume;
    this.byKey.set(key, name);
    return name;
  }
}
