import { BACKUP_PROFILE, CRON_PROFILE } from '../../tool-env';
import { DeployError } from '../errors';

/** The app's scheduler service, which runs /homelab/backup (docs/backup.md, "Take a backup now"). */
export const SCHEDULER_SERVICE = 'scheduler';

/** Where a mover mounts the volume it copies, and the repository of a path target. */
const DATA_DIR = '/data';
const REPOSITORY_DIR = '/repository';

/**
 * One backed-up volume of an app as its rendered mover (`backup-<V>`) describes it: what the
 * drill restores, from where, and which services use it.
 */
export interface BackedUpVolume {
  /** The volume's name in the spec (HOMELAB_VOLUME), the name of its repository folder. */
  volume: string;
  /** The mover service, `backup-<V>`. */
  mover: string;
  /** The project volume the mover copies (mounted at /data): `V`, or `V-dump` for a dump volume. */
  source: string;
  /** A logical dump (`dump: postgres`): the snapshot holds dump.sql, which is restored into a scratch database. */
  dump: boolean;
  /** RESTIC_REPOSITORY as the mover has it (`/repository/<P>/<V>` for a path target, `s3:…` for s3). */
  repository: string;
  /** A path target: the host folder bound at /repository; null for s3. */
  repositoryPath: string | null;
  /** The restic image the mover runs (compose.backup.image). */
  image: string;
  /** The engine network of an s3 target's mover (the project network `backup`); null for a path target. */
  network: string | null;
  /** The app's services that mount `volume` (for a dump volume: the database service), sorted. */
  users: string[];
}

type Service = Record<string, any>;

/**
 * The backed-up volumes of a resolved Compose file (`docker compose config` with the backup
 * profile on, as build renders it): one per mover service of profile `backup`, in volume order.
 * A mover that is not what homelab renders is an error naming the build to run again.
 */
export function backedUpVolumes(doc: Record<string, any>, where: string): BackedUpVolume[] {
  const services = (doc.services ?? {}) as Record<string, Service>;
  const out: BackedUpVolume[] = [];
  for (const [name, s] of Object.entries(services)) {
    if (!inProfile(s, BACKUP_PROFILE)) continue;
    const env = environment(s);
    const volume = env.HOMELAB_VOLUME;
    const repository = env.RESTIC_REPOSITORY;
    const data = mounts(s).find((m) => m.target === DATA_DIR && m.type === 'volume');
    if (!volume || !repository || !data?.source) {
      throw new DeployError(`${where}: backup mover ${name} has no HOMELAB_VOLUME, RESTIC_REPOSITORY or volume at ${DATA_DIR}; run the build target again`);
    }
    const repo = mounts(s).find((m) => m.target === REPOSITORY_DIR && m.type === 'bind');
    const networks = Object.keys(s.networks ?? {});
    const network = s.network_mode === 'none' || networks.length === 0 ? null : engineNetwork(doc, networks[0]);
    const dump = data.source === `${volume}-dump`;
    out.push({
      volume,
      mover: name,
      source: data.source,
      dump,
      repository,
      repositoryPath: repo?.source ?? null,
      image: String(s.image ?? ''),
      network,
      users: usersOf(services, volume),
    });
  }
  return out.sort((a, b) => a.volume.localeCompare(b.volume));
}

/** The services that run with the app (not a mover, a cron service or the scheduler). */
export function isAppService(name: string, s: Service): boolean {
  return name !== SCHEDULER_SERVICE && !inProfile(s, BACKUP_PROFILE) && !inProfile(s, CRON_PROFILE);
}

/** The engine name of a project volume (`name:` in a resolved file, else `<project>_<key>`). */
export function engineVolume(doc: Record<string, any>, key: string): string {
  const declared = doc.volumes?.[key]?.name;
  return typeof declared === 'string' ? declared : `${doc.name}_${key}`;
}

function engineNetwork(doc: Record<string, any>, key: string): string {
  const declared = doc.networks?.[key]?.name;
  return typeof declared === 'string' ? declared : `${doc.name}_${key}`;
}

function usersOf(services: Record<string, Service>, volume: string): string[] {
  return Object.entries(services)
    .filter(([name, s]) => isAppService(name, s) && mounts(s).some((m) => m.type === 'volume' && m.source === volume))
    .map(([name]) => name)
    .sort();
}

function inProfile(s: Service, profile: string): boolean {
  return Array.isArray(s.profiles) && s.profiles.map(String).includes(profile);
}

/** A service's environment as a map, whether a map or a `KEY=value` list. */
function environment(s: Service): Record<string, string> {
  const env = s.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map(String).map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries((env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** A service's mounts in the long syntax (a resolved file writes them so). */
export function mounts(s: Service): { type?: string; source?: string; target?: string; read_only?: boolean }[] {
  return Array.isArray(s.volumes) ? s.volumes.filter((v: unknown) => v && typeof v === 'object') : [];
}
