import { InputError, show } from '../../errors';
import { quantityBytes } from '../../spec/quantity';
import { appPaths } from '../../project/paths';
import type { AppSpec, AppVolumeSpec, BackupCopyMethod, DumpKind, VolumeBackupSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { isFullForm, type NormalizedService } from './services';
import { unique } from './unique';

/**
 * The persistent volumes homelab creates (PersistentVolumeClaims, backed-up Compose volumes),
 * as the templates and backups see them: claim names, sizes, where they are mounted (the
 * shorthand's mount path; in the full form every service's), backed up unless said.
 */
export function normalizeVolumes(volumes: NormalizedVolume[], services: Pick<NormalizedService, 'mounts'>[]): Pick<NormalizedApp, 'volumes' | 'hasVolumes'> {
  const persistent = volumes
    .filter((v) => v.persistent)
    .map((v) => ({
      name: v.name,
      claimName: v.claimName!,
      size: v.persistent!.size,
      readWriteMany: v.persistent!.accessMode === 'ReadWriteMany',
      mountPath: v.mountPath ?? services.flatMap((s) => s.mounts.filter((m) => m.volume === v.name).map((m) => m.path)).join(', '),
      backup: v.persistent!.backup,
      backupOptions: v.persistent!.backupOptions,
      backupLabel: v.backupLabel,
      storageClass: v.persistent!.storageClass,
      composeVolume: v.composeVolume!,
    }));
  return { volumes: persistent, hasVolumes: persistent.length > 0 };
}

/** The six kinds of app-level volume (docs/spec.md, "Storage"): the key present in the spec says which. */
export const VOLUME_KINDS = ['persistent', 'hostPath', 'nfs', 'tmpfs', 'config', 'claim'] as const;
export type VolumeKind = (typeof VOLUME_KINDS)[number];

/** One app-level volume with everything both platforms need to declare it. */
export interface NormalizedVolume {
  name: string;
  kind: VolumeKind;
  /** Data that outlives the containers on a PersistentVolumeClaim (persistent, claim): mounting one makes a workload a StatefulSet. */
  isClaimed: boolean;
  /** The claim a pod mounts: `<app>-<name>` for a persistent volume (as today), the claim's own name for `claim`; null otherwise. */
  claimName: string | null;
  /**
   * A persistent volume homelab creates (a PersistentVolumeClaim, a Compose named volume with backup labels).
   * `backup`: backed up at all; `backupOptions`: the object form's options (docs/spec.md, "Backups"), defaults filled in.
   */
  persistent: { size: string; storageClass: string | null; accessMode: 'ReadWriteOnce' | 'ReadWriteMany'; backup: boolean; backupOptions: VolumeBackupOptions } | null;
  /** A host path; `reason` is its policy exception (validate: policy/host-path), null without one. */
  hostPath: { path: string; type: string | null; reason: string | null } | null;
  nfs: { server: string; path: string } | null;
  tmpfs: { size: string; bytes: number } | null;
  /** A file rendered from the spec: a ConfigMap `<app>-<name>` with one key, Compose `configs`; `file`: the file beside the spec it was read from, or null. */
  config: { configMap: string; key: string; content: string; file: string | null } | null;
  /** The Compose volume (named, NFS or external) a service mounts; null for kinds mounted without one (bind, tmpfs, config). */
  composeVolume: string | null;
  /** The shorthand's mount path (its volumes list says where the one service mounts each); null in the full form. */
  mountPath: string | null;
  /** What the spec said for `backup` on a persistent volume (true when not given), as the backup label. */
  backupLabel: string;
}

/**
 * The app's volumes in the order the spec lists them. The shorthand's list is persistent
 * volumes with their mount path (named `<app>-<name>` on Kubernetes, as always); the full
 * form's map names volumes of six kinds that services mount (services.ts resolves mounts).
 */
export function normalizeStorage(spec: AppSpec, where: string, readSpecFile: SpecFileReader = () => null): NormalizedVolume[] {
  if (!isFullForm(spec)) {
    const volumes = (spec.volumes ?? []).map((v) => {
      quantityBytes(v.size, `${where}: volumes.${v.name}.size`);
      if (v.mountPath.split('/').includes('..')) {
        throw new InputError(`${where}: volumes.${v.name}.mountPath ${show(v.mountPath)} contains ".."; use an absolute path without ".."`);
      }
      return persistentVolume(spec.name, v.name, { size: v.size, storageClass: v.storageClass, backup: v.backup }, v.mountPath);
    });
    unique(volumes.map((v) => v.name), `${where}: volumes[].name`, 'give each volume its own name');
    unique([...volumes.map((v) => v.mountPath ?? ''), '/tmp'], `${where}: volumes[].mountPath`, 'mount each volume at its own path (homelab mounts /tmp itself)');
    return volumes;
  }
  return Object.entries(spec.volumes ?? {}).map(([name, v]) => fullFormVolume(spec.name, name, v, `${where}: volumes.${name}`, readSpecFile));
}

/** A backed-up volume's options: a PostgreSQL dump instead of its files, its services stopped while it is copied (Compose), VolSync's copy method (Kubernetes; null: homelab.yaml's). */
export interface VolumeBackupOptions {
  dump: DumpKind | null;
  stop: boolean;
  copyMethod: BackupCopyMethod | null;
}

/** Reads a workspace file (a path relative to the workspace root); null when it is missing. */
export type SpecFileReader = (file: string) => string | null;

/** The most text a config volume holds: the schema's limit of inline content, for a file too. */
const CONFIG_MAX_CHARS = 262144;

function fullFormVolume(app: string, name: string, v: AppVolumeSpec, at: string, readSpecFile: SpecFileReader): NormalizedVolume {
  if ('size' in v) {
    quantityBytes(v.size, `${at}.size`);
    return persistentVolume(app, name, v, null);
  }
  const base = { name, isClaimed: false, claimName: null, persistent: null, hostPath: null, nfs: null, tmpfs: null, config: null, composeVolume: null, mountPath: null, backupLabel: 'false' };
  if ('hostPath' in v) {
    if (v.hostPath.split('/').includes('..')) throw new InputError(`${at}.hostPath ${show(v.hostPath)} contains ".."; use an absolute path without ".."`);
    return { ...base, kind: 'hostPath', hostPath: { path: v.hostPath, type: v.type ?? null, reason: v.reason ?? null } };
  }
  if ('nfs' in v) return { ...base, kind: 'nfs', nfs: { ...v.nfs }, composeVolume: name };
  if ('tmpfs' in v) return { ...base, kind: 'tmpfs', tmpfs: { size: v.tmpfs.size, bytes: quantityBytes(v.tmpfs.size, `${at}.tmpfs.size`) } };
  if ('claim' in v) return { ...base, kind: 'claim', isClaimed: true, claimName: v.claim, composeVolume: name };
  if ('content' in v.config) return { ...base, kind: 'config', config: { configMap: `${app}-${name}`, key: name, content: v.config.content, file: null } };
  return { ...base, kind: 'config', config: { configMap: `${app}-${name}`, key: name, content: readConfigFile(app, v.config.file, `${at}.config.file`, readSpecFile), file: `${appPaths(app).specFiles}/${v.config.file}` } };
}

/**
 * The text of a config file kept beside the spec, in the folder named like the app
 * (applications/specs/<app>/<file>): both platforms get its content, so a change of the file
 * changes the rendered ConfigMap and Compose config (sync writes it, validate reports drift).
 */
function readConfigFile(app: string, file: string, at: string, readSpecFile: SpecFileReader): string {
  const folder = appPaths(app).specFiles;
  if (file.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) {
    throw new InputError(`${at} ${show(file)} must be a path inside ${folder}/ without ".", ".." or empty segments; move the file there and name it relative to that folder`);
  }
  const path = `${folder}/${file}`;
  const content = readSpecFile(path);
  if (content === null) throw new InputError(`${at} ${show(file)}: ${path} is missing; put the file there (the folder beside the spec, named like the app) or use config.content`);
  if (content.includes('\uFFFD')) throw new InputError(`${at} ${show(file)}: ${path} is not UTF-8 text, which a ConfigMap's data and a Compose config hold; convert it to UTF-8 or mount it from a hostPath volume`);
  if (content.length > CONFIG_MAX_CHARS) throw new InputError(`${at} ${show(file)}: ${path} has ${content.length} characters, more than the ${CONFIG_MAX_CHARS} a config volume holds; mount it from a hostPath or persistent volume instead`);
  return content;
}

function persistentVolume(
  app: string,
  name: string,
  v: { size: string; storageClass?: string; backup?: VolumeBackupSpec; accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' },
  mountPath: string | null,
): NormalizedVolume {
  // The object form means backed up; its options default to a file copy with the services stopped.
  const backup = v.backup === undefined ? true : v.backup !== false;
  const options = typeof v.backup === 'object' ? v.backup : {};
  const backupOptions: VolumeBackupOptions = { dump: options.dump ?? null, stop: options.stop ?? true, copyMethod: options.copyMethod ?? null };
  return {
    name,
    kind: 'persistent',
    isClaimed: true,
    claimName: `${app}-${name}`,
    persistent: { size: v.size, storageClass: v.storageClass ?? null, accessMode: v.accessMode ?? 'ReadWriteOnce', backup, backupOptions },
    hostPath: null,
    nfs: null,
    tmpfs: null,
    config: null,
    composeVolume: name,
    mountPath,
    backupLabel: String(backup),
  };
}

/** Who mounts what: a service's name, its replicas and the volumes it mounts. */
export interface VolumeUser {
  name: string;
  replicas: number;
  /** Replicas any environment asks for (an override above 1 counts like the base). */
  maxReplicas: number;
  /** It autoscales somewhere: its autoscale.max counts, and the fix names it. */
  autoscales?: boolean;
  volumes: string[];
}

/**
 * The sharing rule of persistent volumes. A ReadWriteOnce volume mounted by several
 * services of the app pins them to one node: every service after the first that mounts it
 * gets a pod affinity to that first service (the map says to which). A ReadWriteOnce
 * volume holds one replica (as the shorthand always said); ReadWriteMany lifts both.
 */
export function shareVolumes(volumes: NormalizedVolume[], users: VolumeUser[], where: string): Map<string, string> {
  const pinnedTo = new Map<string, string>();
  for (const volume of volumes) {
    if (!volume.persistent || volume.persistent.accessMode !== 'ReadWriteOnce') continue;
    const mounting = users.filter((u) => u.volumes.includes(volume.name));
    for (const user of mounting) {
      if (user.replicas > 1 || user.maxReplicas > 1) {
        throw new InputError(
          `${where}: replicas above 1 with volumes; ${user.name} mounts the ReadWriteOnce volume ${show(volume.name)}, which holds one replica, so set replicas: 1${user.autoscales ? ' and autoscale.max: 1 (or remove autoscale)' : ''} (or accessMode: ReadWriteMany on the volume)`,
          'replicas/read-write-once',
        );
      }
    }
    const [first, ...others] = mounting;
    for (const other of others) {
      const earlier = pinnedTo.get(other.name);
      if (earlier !== undefined && earlier !== first.name) {
        throw new InputError(
          `${where}: services.${other.name} shares ReadWriteOnce volumes with both ${show(earlier)} and ${show(first.name)}, which may run on different nodes; mount them from one service or set accessMode: ReadWriteMany`,
        );
      }
      pinnedTo.set(other.name, first.name);
    }
  }
  return pinnedTo;
}
