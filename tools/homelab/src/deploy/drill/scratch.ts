import { JOB_KIND_LABEL, RUNS_TO_COMPLETION } from '../../app/steps/compose';
import { type BackedUpVolume, isAppService, mounts } from './movers';

/** The label of every volume the drill creates itself: teardown finds them by it. */
export const DRILL_LABEL = 'homelab.restore-drill';

/** The scratch project of a live project P: `P-drill`. */
export function scratchProject(project: string): string {
  return `${project}-drill`;
}

export interface ScratchOptions {
  /** The scratch project's name (`P-drill`). */
  project: string;
  /** Restore into tmpfs volumes of this size (e.g. `512m`) instead of disk. */
  scratchSize?: string;
}

/** A volume of the scratch project the drill creates and fills before Compose starts anything. */
export interface RestoredVolume {
  backup: BackedUpVolume;
  /** Its engine name: `P-drill_<V>` (a file volume, mounted by the app) or `P-drill_<V>-dump` (the dump, read by psql). */
  name: string;
}

export interface ScratchConfig {
  /** The scratch project's Compose file (a resolved file, as `docker compose config` reads it back). */
  doc: Record<string, any>;
  /** The volumes the drill creates and restores (external in `doc`), one per backed-up volume. */
  restored: RestoredVolume[];
  /** The database services of the dump volumes: started first, on an empty volume, to take the dump. */
  databases: { service: string; backup: BackedUpVolume }[];
  /** The app services the drill starts (no mover, cron service, scheduler or job). */
  services: string[];
  /** What the drill changed that a reader should know (a read-write bind replaced by an empty volume). */
  notes: string[];
}

/**
 * The app's resolved Compose file as the drill's scratch project `P-drill` runs it, isolated from
 * the live app: its long-running services only (no mover, cron service, scheduler, job or init
 * container); one replica each; no published port, fixed container name, host or other network
 * mode, or network of the live app: every service on one internal network (so each can bind its
 * usual ports on its own network namespace and reaches nothing else, also where the live app uses
 * host networking); a sidecar keeps the network of its service. Volumes: each file volume that is
 * backed up becomes the external scratch volume the drill restores; every other named volume
 * (a dump volume's database directory, a cache, an NFS or external volume of the live app) an
 * empty scratch volume, so nothing of the live data is mounted; a read-write bind mount an empty
 * scratch volume too (a read-only one stays). Pure: the drill writes the result to a file.
 */
export function scratchCompose(doc: Record<string, any>, backups: BackedUpVolume[], options: ScratchOptions): ScratchConfig {
  const kept = Object.entries((doc.services ?? {}) as Record<string, Record<string, any>>).filter(([name, s]) => isAppService(name, s) && !runsToCompletion(s));
  const keptNames = new Set(kept.map(([name]) => name));
  const notes: string[] = [];
  const volumes: Record<string, Record<string, unknown>> = {};
  const restoredFiles = new Map(backups.filter((b) => !b.dump).map((b) => [b.volume, b]));
  const fresh = (): Record<string, unknown> => (options.scratchSize ? tmpfsVolume(options.scratchSize) : {});
  const services: Record<string, Record<string, any>> = {};
  for (const [name, original] of kept) {
    const s: Record<string, any> = structuredClone(original);
    for (const key of ['ports', 'container_name', 'networks', 'links', 'external_links', 'extra_hosts']) delete s[key];
    const sharedWith = /^service:(.+)$/.exec(String(s.network_mode ?? ''))?.[1];
    if (!(sharedWith && keptNames.has(sharedWith))) delete s.network_mode;
    if (s.depends_on && typeof s.depends_on === 'object' && !Array.isArray(s.depends_on)) {
      s.depends_on = Object.fromEntries(Object.entries(s.depends_on).filter(([dep]) => keptNames.has(dep)));
      if (Object.keys(s.depends_on).length === 0) delete s.depends_on;
    }
    if (s.deploy && typeof s.deploy === 'object') s.deploy = { ...s.deploy, replicas: 1 };
    delete s.scale;
    s.volumes = mounts(s).map((m, i) => {
      if (m.type === 'volume' && m.source) {
        volumes[m.source] ??= restoredFiles.has(m.source) ? { name: `${options.project}_${m.source}`, external: true } : fresh();
        return m;
      }
      if (m.type === 'bind' && !m.read_only) {
        const key = `${name}-bind-${i}`;
        notes.push(`${name}: the read-write bind mount of ${m.source} at ${m.target} is an empty scratch volume in the drill (a bind mount is not backed up, and the drill never writes live paths)`);
        volumes[key] = fresh();
        const { source: _source, bind: _bind, ...rest } = m as Record<string, unknown>;
        return { ...rest, type: 'volume', source: key };
      }
      return m;
    });
    if (s.volumes.length === 0) delete s.volumes;
    services[name] = s;
  }
  const { 'x-homelab-database': _db, 'x-homelab-adopted': _adopted, ...rest } = doc;
  const out: Record<string, any> = {
    ...rest,
    name: options.project,
    services,
    networks: { default: { internal: true } },
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
  };
  if (Object.keys(volumes).length === 0) delete out.volumes;
  const meta = rest['x-homelab'];
  if (meta && typeof meta === 'object') {
    // Deploy's private env file goes to the services that read it: only those the drill starts.
    const secrets = meta.secrets && typeof meta.secrets === 'object' ? { ...meta.secrets, services: (meta.secrets.services ?? []).filter((n: string) => keptNames.has(n)) } : meta.secrets;
    out['x-homelab'] = { ...meta, project: options.project, secrets };
  }
  const restored = backups.map((b) => ({ backup: b, name: `${options.project}_${b.source}` }));
  const databases = backups.filter((b) => b.dump).flatMap((b) => b.users.filter((u) => keptNames.has(u)).map((service) => ({ service, backup: b })));
  return { doc: out, restored, databases, services: [...keptNames].sort(), notes };
}

/** A local volume in memory, of `size` (Docker's tmpfs driver options). */
export function tmpfsVolume(size: string): Record<string, unknown> {
  return { driver: 'local', driver_opts: { type: 'tmpfs', device: 'tmpfs', o: `size=${size}` } };
}

function runsToCompletion(s: Record<string, any>): boolean {
  const labels = s.labels;
  const kind = Array.isArray(labels) ? labels.map(String).find((l) => l.startsWith(`${JOB_KIND_LABEL}=`))?.split('=')[1] : labels?.[JOB_KIND_LABEL];
  return (RUNS_TO_COMPLETION as readonly string[]).includes(String(kind ?? ''));
}
