import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, show } from '../../errors';
import { BACKUP_IMAGE, type BackupTarget, backupTarget } from '../../spec/backup-target';
import type { WorkspaceConfig } from '../../spec/types';
import { BACKUP_PROFILE } from '../../tool-env';
import type { NormalizedApp, NormalizedEnvironment } from '../normalized';
import type { EnvironmentDatabase } from './database';
import type { ComposeServiceView } from './workloads';

/*
 * Backups on Compose (docs/backup.md): one restic repository per volume in VolSync's layout, written
 * by a mover service `backup-<volume>` per backed-up volume (profile backup: created by deploy, never
 * started by `up`), and one script `/homelab/backup` in the app's scheduler that takes a backup now:
 * the dumps, the services stopped while their volumes are copied, each mover, the services started.
 */

export { BACKUP_PROFILE };
/** The mover service of a volume. */
export const moverService = (volume: string): string => `backup-${volume}`;
/** The project volume a dump is written into and backed up from (`dump: postgres`, the shared database's `database`). */
export const dumpVolume = (volume: string): string => `${volume}-dump`;
/** The restic cache of the movers, one per project. */
export const BACKUP_CACHE_VOLUME = 'backup-cache';
/** The dump volume of an app's database on the shared PostgreSQL (`database:` in the spec). */
export const SHARED_DATABASE_VOLUME = 'database';
/** Where the movers see a host-path target. */
export const REPOSITORY_MOUNT = '/repository';
/** The inline Compose config of the mover script, mounted at /homelab/mover. */
export const MOVER_CONFIG = 'backup-mover';
/** The scheduler's script that takes a backup now: `docker exec <project>-scheduler-1 sh /homelab/backup`. */
export const BACKUP_SCRIPT = '/homelab/backup';
/** The store property of the repositories' password, and the variable the movers read it from. */
export const PASSWORD_KEY = 'RESTIC_PASSWORD';
export const S3_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** The mover and orchestrator scripts, kept as plain sh beside this file (app/backup/). */
const script = (file: string) => fs.readFileSync(path.join(__dirname, '..', 'backup', file), 'utf8');
/** `volume_digest DIR`: the digest the mover prints and the restore drill compares (app/backup/digest.sh). */
export const VOLUME_DIGEST_SH = script('digest.sh');
/** The mover (the inline Compose config `backup-mover`): the digest function, then VolSync's steps. */
export const MOVER_SH = `#!/bin/sh\n${VOLUME_DIGEST_SH}${script('mover.sh')}`;
const ORCHESTRATOR_SH = script('backup.sh');

/** A word quoted for sh: single quotes, a quote inside as '\''. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ComposeBackupMover {
  /** `backup-<volume>`. */
  service: string;
  volume: string;
  /** The Compose volume mounted at /data: the volume itself, or its dump volume. */
  source: string;
  isDump: boolean;
  /** A comment on what it copies. */
  comment: string;
}

export type NormalizedComposeBackup = NormalizedApp['composeBackup'];

/** A backed-up volume as the Compose backup sees it. */
interface Copied {
  name: string;
  composeVolume: string;
  dump: 'postgres' | null;
  stop: boolean;
}

/**
 * The app-wide part: the movers, the dump volumes, the repository target, the image and the env
 * keys. Refuses a mover or dump volume whose name is already the app's, a dump on a volume no
 * service or several services mount, and a database volume beside a volume named `database`.
 */
export function normalizeComposeBackup(
  app: string,
  workspace: WorkspaceConfig,
  backup: Pick<NormalizedApp['backup'], 'enabled' | 'schedule' | 'retention'>,
  volumes: (Pick<NormalizedApp['volumes'][number], 'name' | 'composeVolume' | 'backup'> & { backupOptions: { dump: 'postgres' | null; stop: boolean } })[],
  composeServices: Pick<ComposeServiceView, 'name' | 'compose' | 'runtime' | 'isJob' | 'isCron'>[],
  hasDatabase: boolean,
  takenVolumes: string[],
  where: string,
): NormalizedComposeBackup {
  const copied: Copied[] = volumes.filter((v) => v.backup).map((v) => ({ name: v.name, composeVolume: v.composeVolume, dump: v.backupOptions.dump, stop: v.backupOptions.stop }));
  const target = backupTarget(workspace);
  const none: NormalizedComposeBackup = {
    enabled: false, image: '', moverScript: '', isPath: false, targetPath: null, isS3: false, defaultTarget: false,
    movers: [], dumpVolumes: [], cacheVolume: BACKUP_CACHE_VOLUME, forgetOptions: '', envKeys: [], users: {}, mounters: {}, labels: {},
  };
  if (copied.length === 0 && !hasDatabase) return none;
  const mounting = (volume: string) => composeServices.filter((c) => c.compose.mounts.some((m) => m.type === 'volume' && m.source === volume));
  for (const v of copied.filter((c) => c.dump !== null)) {
    const users = mounting(v.composeVolume);
    if (users.length !== 1) {
      const who = users.length === 0 ? 'no service mounts it' : `${users.map((u) => show(u.name)).join(' and ')} mount it`;
      throw new InputError(`${where}: volumes.${v.name}.backup.dump ${show(v.dump)}: ${who}, and a dump runs in the one database service that owns the volume; mount it from that service alone, or drop dump`);
    }
  }
  if (hasDatabase && copied.some((v) => v.name === SHARED_DATABASE_VOLUME)) {
    throw new InputError(`${where}: volumes.${SHARED_DATABASE_VOLUME}: the name is the backup's of the app's database (database: in the spec); rename the volume`);
  }
  const dumps = [...copied.filter((v) => v.dump !== null).map((v) => v.name), ...(hasDatabase ? [SHARED_DATABASE_VOLUME] : [])];
  const movers: ComposeBackupMover[] = [
    ...copied.map((v) => ({
      service: moverService(v.name),
      volume: v.name,
      source: v.dump !== null ? dumpVolume(v.name) : v.composeVolume,
      isDump: v.dump !== null,
      comment: v.dump !== null ? `the PostgreSQL dump of ${v.name} (dump.sql), never its files` : `the files of ${v.name}`,
    })),
    ...(hasDatabase ? [{ service: moverService(SHARED_DATABASE_VOLUME), volume: SHARED_DATABASE_VOLUME, source: dumpVolume(SHARED_DATABASE_VOLUME), isDump: true, comment: "the dump of the app's database on the shared PostgreSQL (dump.sql)" }] : []),
  ];
  const serviceNames = new Set(composeServices.map((c) => c.name));
  for (const m of movers) {
    if (serviceNames.has(m.service)) throw new InputError(`${where}: services.${m.service}: the name is the Compose backup mover's of volume ${show(m.volume)}; rename the service`);
  }
  for (const name of [...dumps.map(dumpVolume), BACKUP_CACHE_VOLUME]) {
    if (takenVolumes.includes(name)) throw new InputError(`${where}: volumes.${name}: the name is a Compose volume of the app's backups (docs/backup.md); rename the volume`);
  }
  // Who is stopped while a volume is copied: the services that mount a file-copied volume with stop (default true).
  const users: Record<string, { service: string; grace: number }[]> = {};
  for (const v of copied.filter((c) => c.dump === null && c.stop)) {
    users[v.name] = mounting(v.composeVolume).map((c) => ({ service: c.name, grace: c.runtime.stopGracePeriod?.seconds ?? 10 }));
  }
  const mounters = Object.fromEntries(movers.map((m) => [m.volume, m.volume === SHARED_DATABASE_VOLUME && hasDatabase && !copied.some((c) => c.name === m.volume) ? [] : mounting(copied.find((c) => c.name === m.volume)!.composeVolume).map((c) => c.name)]));
  const { daily, weekly, monthly } = backup.retention;
  return {
    enabled: true,
    image: workspace.compose?.backup?.image ?? BACKUP_IMAGE,
    moverScript: MOVER_SH,
    isPath: target.kind === 'path',
    targetPath: target.kind === 'path' ? target.path : null,
    isS3: target.kind === 's3',
    defaultTarget: target.isDefault,
    movers,
    dumpVolumes: dumps.map((v) => ({ name: dumpVolume(v), volume: v, target: `/dumps/${v}` })),
    cacheVolume: BACKUP_CACHE_VOLUME,
    forgetOptions: `--keep-daily ${daily} --keep-weekly ${weekly} --keep-monthly ${monthly}`,
    envKeys: target.kind === 's3' ? [PASSWORD_KEY, ...S3_KEYS] : [PASSWORD_KEY],
    users,
    mounters,
    labels: { 'homelab.app': app, 'homelab.kind': BACKUP_PROFILE, 'homelab.schedule': backup.schedule, logging: 'promtail', 'logging.job': `${app}-backup` },
  };
}

/** The Compose volumes of the backup: each dump volume, then the movers' restic cache. */
export function composeBackupVolumes(backup: NormalizedComposeBackup): NormalizedApp['composeVolumes'] {
  if (!backup.enabled) return [];
  return [...backup.dumpVolumes.map((d) => d.name), backup.cacheVolume].map((name) => ({ name, backupLabel: null, driverOpts: null, external: null, scratch: null }));
}

/** The Compose config of the backup: the mover script, the same in every environment. */
export function composeBackupConfigs(backup: NormalizedComposeBackup): NormalizedApp['composeConfigs'] {
  return backup.enabled ? [{ name: MOVER_CONFIG, content: backup.moverScript, file: null }] : [];
}

/** The restic repository of a volume in a project: `<base>/<project>/<volume>`, VolSync's layout. */
export function resticRepository(target: BackupTarget, project: string, volume: string): string {
  return target.kind === 'path' ? `${REPOSITORY_MOUNT}/${project}/${volume}` : `s3:${target.endpoint}/${target.bucket}/${project}/${volume}`;
}

/**
 * One environment's part: each mover's repository (it names the project), the script
 * `/homelab/backup` and the scheduler's crontab line. Empty without backups.
 */
export function environmentComposeBackup(
  app: string,
  env: string,
  project: string,
  workspace: WorkspaceConfig,
  schedule: string,
  repositoryKey: string,
  backup: NormalizedComposeBackup,
  database: Pick<EnvironmentDatabase, 'enabled' | 'name' | 'owner' | 'compose'>,
  composeServices: Pick<ComposeServiceView, 'name' | 'compose'>[],
): NormalizedEnvironment['composeBackup'] {
  if (!backup.enabled) return NO_COMPOSE_BACKUP;
  const target = backupTarget(workspace);
  const lines: string[] = [];
  for (const m of backup.movers.filter((x) => x.isDump)) {
    if (m.volume === SHARED_DATABASE_VOLUME && database.enabled && database.compose) {
      const { project: server, service } = database.compose.server;
      lines.push(`dump ${shellWord(m.volume)} ${shellWord(server)} ${shellWord(service)} ${shellWord(`pg_dump --clean --if-exists -U ${shellWord(database.owner)} ${shellWord(database.name)}`)}`);
    } else {
      // The service that mounts the volume (normalizeComposeBackup checked there is exactly one).
      const owner = composeServices.find((c) => c.compose.mounts.some((mount) => mount.type === 'volume' && mount.source === m.volume))!;
      lines.push(`dump ${shellWord(m.volume)} "$PROJECT" ${shellWord(owner.name)} ${shellWord('pg_dumpall --clean --if-exists -U "${POSTGRES_USER:-postgres}"')}`);
    }
  }
  const stops = new Map<string, number>();
  for (const list of Object.values(backup.users)) for (const u of list) stops.set(u.service, Math.max(stops.get(u.service) ?? 0, u.grace));
  for (const [service, grace] of [...stops].sort(([a], [b]) => a.localeCompare(b))) lines.push(`stop ${shellWord(service)} ${grace}`);
  for (const m of backup.movers) lines.push(`move ${shellWord(m.volume)}`);
  lines.push('finish');
  const script = [
    '#!/bin/sh',
    `# Takes one backup of ${app} in ${env} (Compose project ${project}) now; the scheduler runs it on "${schedule}",`,
    `# \`docker exec ${project}-scheduler-1 sh ${BACKUP_SCRIPT}\` runs it by hand (docs/backup.md).`,
    `APP=${shellWord(app)}`,
    `PROJECT=${shellWord(project)}`,
    ORCHESTRATOR_SH.trimEnd(),
    ...lines,
    '',
  ].join('\n');
  // The runbook's restore (docs/backup.md, "Restore on Compose"): restic of the movers' image, run once, as written.
  const restic = (repository: string, mountData: string | null) =>
    [
      'docker run --rm',
      ...(target.kind === 'path' ? ['--network none'] : []),
      ...(mountData ? [`-v ${mountData}:/data`] : []),
      ...(target.kind === 'path' ? [`-v ${target.path}:${REPOSITORY_MOUNT}`] : []),
      `--env-file ${PASSWORD_FILE}`,
      `-e RESTIC_REPOSITORY=${repository}`,
      backup.image,
    ].join(' ');
  const restores = backup.movers.map((m) => {
    const repository = resticRepository(target, project, m.volume);
    const users = backup.mounters[m.volume];
    if (m.isDump) {
      const psql =
        m.volume === SHARED_DATABASE_VOLUME && database.compose
          ? `docker exec -i $(docker ps -q --filter label=com.docker.compose.project=${database.compose.server.project} --filter label=com.docker.compose.service=${database.compose.server.service}) psql -X -q -U ${database.owner} -d ${database.name}`
          : `docker exec -i ${project}-${users[0]}-1 sh -c 'psql -X -q -U "\${POSTGRES_USER:-postgres}" -d postgres'`;
      return { volume: m.volume, isDump: true, services: users.join(' '), stop: null, restore: `${restic(repository, null)} dump --host volsync latest dump.sql | ${psql}`, start: null };
    }
    return {
      volume: m.volume,
      isDump: false,
      services: users.join(' '),
      stop: users.length > 0 ? `docker compose -p ${project} stop ${users.join(' ')}` : null,
      restore: `${restic(repository, `${project}_${m.source}`)} restore latest --host volsync --target /data --delete`,
      start: users.length > 0 ? `docker compose -p ${project} start ${users.join(' ')}` : null,
    };
  });
  return {
    enabled: true,
    restores,
    movers: backup.movers.map((m) => ({ service: m.service, repository: resticRepository(target, project, m.volume) })),
    script,
    crontabLine: `${schedule} sh ${BACKUP_SCRIPT}\n`,
    // The password (and S3 keys) from the store entry homelab.yaml backup.repositoryKey names, as the ExternalSecrets read them on Kubernetes.
    deploy: { targetPath: backup.targetPath, createTarget: backup.defaultTarget, keys: backup.envKeys.map((key) => ({ key, remoteKey: repositoryKey, property: key === PASSWORD_KEY ? 'password' : key })) },
  };
}

/** An environment without backups on Compose. */
export const NO_COMPOSE_BACKUP: NormalizedEnvironment['composeBackup'] = { enabled: false, movers: [], script: '', crontabLine: '', restores: [], deploy: null };

/** The one placeholder of the runbook's restore commands: a file holding RESTIC_PASSWORD (and the AWS keys of an S3 target). */
export const PASSWORD_FILE = '<password-file>';

/** The environment with its backup part, the backup's line at the end of the scheduler's crontab. */
export function withComposeBackup(env: NormalizedEnvironment, part: NormalizedEnvironment['composeBackup']): NormalizedEnvironment {
  return part.enabled ? { ...env, composeBackup: part, crontab: `${env.crontab}${part.crontabLine}` } : env;
}
