import { InputError, show } from '../../errors';
import { appPaths } from '../../project/paths';
import { BACKUP_IMAGE, backupS3 } from '../../spec/backup-target';
import type { AppSpec, BackupCopyMethod, BackupProvider, WorkspaceConfig } from '../../spec/types';
import { APP_DEFAULTS, type KubernetesRestore, type NormalizedApp } from '../normalized';
import type { NormalizedDatabase } from './database';
import { cronInterval } from './schedule';
import type { ServiceWorkload } from './workloads';

/** Backup: every volume with backup: true (the default), with the workspace's provider. */
export function normalizeBackup(
  spec: AppSpec,
  workspace: WorkspaceConfig,
  volumes: NormalizedApp['volumes'],
  /** The workloads that mount a volume (scaled down for a restore); the app's one when not given. */
  users: (volume: string) => { kind: string; name: string; replicas: number }[],
  /** The app's services and its database on the shared PostgreSQL: what the dumps read (Compose backs the database's dump up on the same schedule). */
  dumped: { workloads: ServiceWorkload[]; database: NormalizedDatabase; postgresNamespace: string } = { workloads: [], database: { enabled: false } as NormalizedDatabase, postgresNamespace: 'postgres' },
): NormalizedApp['backup'] {
  const provider: BackupProvider = workspace.backup?.provider ?? 'volsync';
  const backedUp = volumes.filter((v) => v.backup);
  const retention = { ...APP_DEFAULTS.retention, ...(spec.backup?.retention ?? {}) };
  const s3 = backupS3(workspace);
  if (provider === 'k8up' && backedUp.length > 0 && !s3) {
    throw new InputError(`homelab.yaml: backup.provider "k8up" needs backup.s3 (endpoint and bucket); add them or choose volsync`);
  }
  // Which backup resources live in the base component; Velero's Schedule is per environment.
  // A dump volume is backed up by its dump, never by copying its files: no ReplicationSource.
  const sources = backedUp.filter((v) => v.backupOptions.dump === null);
  const dumps = backupDumps(spec.name, backedUp, dumped);
  const database = dumps.find((d) => d.server.isDatabase);
  const componentResources = [
    ...(sources.length === 0 ? [] : provider === 'volsync' ? ['replicationsource.yaml'] : provider === 'k8up' ? ['schedule.yaml', 'externalsecret.yaml'] : []),
    ...(dumps.length > 0 ? ['cronjob.yaml'] : []),
  ];
  const copyMethod = workspace.backup?.copyMethod ?? DEFAULT_COPY_METHOD;
  const schedule = spec.backup?.schedule ?? workspace.backup?.schedule ?? APP_DEFAULTS.backupSchedule;
  const scheduleAt = spec.backup?.schedule !== undefined ? `${appPaths(spec.name).spec}: backup.schedule` : 'homelab.yaml: backup.schedule';
  return {
    enabled: backedUp.length > 0,
    provider,
    isVolsync: provider === 'volsync',
    isVelero: provider === 'velero',
    isK8up: provider === 'k8up',
    schedule,
    // The stale-backup alert fires after twice this (steps/signals.ts backupAlertRules); 0 when nothing is backed up.
    intervalSeconds: backedUp.length > 0 || dumped.database.enabled ? cronInterval(schedule, scheduleAt) : 0,
    retention,
    repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
    s3: backupS3(workspace),
    dumps,
    hasDumps: dumps.length > 0,
    dumpLabels: { 'app.kubernetes.io/part-of': 'homelab', [DUMP_LABEL]: spec.name },
    resticImage: RESTIC_IMAGE,
    resticScript: resticBackupScript(retention),
    hasComponent: componentResources.length > 0,
    componentResources,
    k8up: {
      secretName: `${spec.name}-k8up`,
      endpoint: s3?.endpoint ?? '',
      bucket: s3?.bucket ?? '',
      pruneSchedule: '0 5 * * 0',
    },
    // Velero keeps each backup for a TTL: long enough for the longest retention asked for.
    veleroTtl: `${24 * Math.max(retention.daily, retention.weekly * 7, retention.monthly * 31, 1)}h`,
    volumes: backedUp.map((v) => ({
      name: v.name,
      claimName: v.claimName,
      resticSecret: `${v.claimName}-restic`,
      copyMethod: v.backupOptions.copyMethod ?? copyMethod,
      size: v.size,
      readWriteMany: v.readWriteMany,
      storageClass: v.storageClass,
      isSource: v.backupOptions.dump === null,
      composeVolume: v.composeVolume,
      mountPath: v.mountPath,
      workloads: users(v.name),
      composeServices: users(v.name)
        .map((w) => w.name)
        .join(' '),
      kubernetesRestore: kubernetesRestore(spec, v.name, dumps.find((d) => d.volume === v.name) ?? null, dumped.workloads, users),
    })),
    databaseRestore: database ? kubernetesRestore(spec, database.volume, database, dumped.workloads, users, dumped.database.services) : null,
  };
}

/**
 * The Kubernetes half of a volume's runbook entry (templates/app/applications/runbooks): the spec
 * fields that stop what writes to it, through git, since ArgoCD's selfHeal undoes a `kubectl
 * scale` (docs/backup.md, "Restore on Kubernetes"); for a dump volume the services that use the
 * database (its own service keeps running to take the dump in), and the command that restores it.
 */
function kubernetesRestore(
  spec: AppSpec,
  volume: string,
  dump: NormalizedApp['backup']['dumps'][number] | null,
  workloads: ServiceWorkload[],
  users: (volume: string) => { kind: string; name: string; replicas: number }[],
  databaseServices?: string[],
): KubernetesRestore {
  // One service (the shorthand, or a full form of one): the app-wide field, as the shorthand writes it.
  const perService = 'services' in spec && spec.services !== undefined && Object.keys(spec.services).length > 1;
  const longRunning = (kind: string) => kind === 'Deployment' || kind === 'StatefulSet';
  // The shared database's writers are the services that receive it; an own database's, the app's other services.
  const usesDump = (name: string) => (dump?.server.isDatabase ? (databaseServices ?? []).includes(name) : name !== dump?.server.name);
  const writers = dump
    ? workloads.filter((w) => longRunning(w.workload.kind) && usesDump(w.name)).map((w) => w.name)
    : users(volume)
        .filter((w) => longRunning(w.kind))
        .map((w) => w.name);
  const stopFields = writers.map((name) => (perService ? `services.${name}.replicas: 0` : 'replicas: 0'));
  return { stopFields, hasStopFields: stopFields.length > 0, dumpCommand: dump ? restoreDumpCommand(spec.name, dump) : null };
}

/**
 * The command line that restores a dump's latest snapshot on Kubernetes: a pod of the restic
 * image prints `dump.sql` (`restic dump latest dump.sql`, its repository from the same Secret
 * as the CronJob's, the dump pods' label for their NetworkPolicy), piped into `psql` in the
 * database service's container, or, for the shared PostgreSQL, in a pod with the dump's libpq
 * Secret. `<ns>` is the environment's namespace, as elsewhere in the runbook.
 */
export function restoreDumpCommand(app: string, dump: NormalizedApp['backup']['dumps'][number]): string {
  // restic's image runs restic (its ENTRYPOINT) with the args; psql is the command of the database's image.
  const pod = (name: string, image: string, run: { args: string[] } | { command: string[] }, secret: string, stdin: boolean) => {
    const container = {
      name,
      image,
      ...run,
      ...(stdin ? { stdin: true, stdinOnce: true } : {}),
      envFrom: [{ secretRef: { name: secret } }],
    };
    const overrides = JSON.stringify({ apiVersion: 'v1', spec: { containers: [container] } });
    return `kubectl -n <ns> run ${name} -q --rm ${stdin ? '-i' : '--attach'} --restart=Never --image=${image} --labels=${DUMP_LABEL}=${app} --overrides='${overrides}'`;
  };
  const print = pod(`${app}-${dump.volume}-restore`, RESTIC_IMAGE, { args: ['dump', 'latest', 'dump.sql', '--host', 'volsync', '--no-cache'] }, dump.resticSecret, false);
  if (dump.server.isDatabase) return `${print} | ${pod(`${app}-${dump.volume}-psql`, dump.image, { command: ['psql', '-q'] }, dump.dumpSecret!, true)}`;
  return `${print} | kubectl -n <ns> exec -i statefulset/${dump.server.name} -- sh -c 'psql -q -U "\${POSTGRES_USER:-postgres}" -d postgres'`;
}

/** The restic image of the Kubernetes jobs homelab renders (dumps, the drill's check): the restic VolSync 0.14's mover runs, with /bin/sh. */
export const RESTIC_IMAGE = BACKUP_IMAGE;

/**
 * How VolSync copies a volume when neither the volume nor homelab.yaml says: Direct, the live
 * volume, which works on every storage (k3s local-path and hostPath have no CSI snapshots, so
 * Snapshot and Clone never start a mover there).
 */
export const DEFAULT_COPY_METHOD: BackupCopyMethod = 'Direct';

/**
 * One volume's restic repository on Kubernetes, VolSync's layout `<base>/<namespace>/<volume>`
 * (the Compose side writes the same with its project): `s3:<endpoint>/<bucket>/…` with an S3
 * target, else the store's `repository` property as an External Secrets template, resolved in
 * the cluster.
 * @example resticRepository(null, 'files-dev', 'data') // '{{ .repository }}/files-dev/data'
 */
export function resticRepository(s3: { endpoint: string; bucket: string } | null, namespace: string, volume: string): string {
  const base = s3 ? `s3:${s3.endpoint.replace(/\/+$/, '')}/${s3.bucket}` : '{{ .repository }}';
  return `${base}/${namespace}/${volume}`;
}

/** The label of the dump CronJobs' pods: what their NetworkPolicy selects (never the app's own labels, which its Services select). */
export const DUMP_LABEL = 'homelab.dev/backup-dump';

/** The volume name of an app's database on the shared PostgreSQL, in its repository's path and its CronJob's name. */
export const DATABASE_DUMP_VOLUME = 'database';

/**
 * The PostgreSQL dumps of an app on Kubernetes (docs/backup.md, "Kubernetes"): a CronJob
 * `<app>-<volume>-dump` for each volume with `backup: { dump: postgres }` (pg_dumpall, as the
 * service that mounts it, with its env, against its Service) and one `<app>-database-dump` for
 * its database on the shared PostgreSQL (pg_dump with the libpq variables of the Secret
 * `<app>-database-dump`, rendered per environment). Each writes the dump into an emptyDir, then
 * backs it up with restic to `<base>/<namespace>/<volume>`, the layout of every other volume.
 */
export function backupDumps(
  app: string,
  backedUp: NormalizedApp['volumes'],
  { workloads, database, postgresNamespace }: { workloads: ServiceWorkload[]; database: NormalizedDatabase; postgresNamespace: string },
): NormalizedApp['backup']['dumps'] {
  const where = appPaths(app).spec;
  const none = { hasK8sEnv: false, k8sEnv: [], envFrom: false, secrets: { envFrom: false }, databaseSecret: null };
  const dumps: NormalizedApp['backup']['dumps'] = backedUp
    .filter((v) => v.backupOptions.dump === 'postgres')
    .map((v) => {
      const server = workloads.find((w) => !w.isJob && w.mounts.some((m) => m.volume === v.name));
      if (!server) {
        throw new InputError(`${where}: volumes.${v.name}.backup.dump "postgres": no service mounts it, and a dump runs in the one database service that owns the volume; mount it from that service alone, or drop dump`);
      }
      const port = server.servicePorts.find((p) => p.port === 5432) ?? server.servicePorts.find((p) => p.protocol === 'TCP');
      if (!port) {
        throw new InputError(`${where}: volumes.${v.name}.backup.dump postgres: service ${show(server.name)} has no TCP port the dump could connect to; give it its PostgreSQL port (5432)`);
      }
      // The service's own variables (POSTGRES_USER, POSTGRES_PASSWORD), as the official image reads them.
      const script = [
        'set -eu',
        'export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"',
        `pg_dumpall --clean --if-exists -h ${server.name} -p ${port.port} -U "\${POSTGRES_USER:-postgres}" > /data/dump.sql.tmp`,
        'mv /data/dump.sql.tmp /data/dump.sql',
      ].join('\n');
      return {
        name: `${app}-${v.name}-dump`,
        volume: v.name,
        resticSecret: `${v.claimName}-restic`,
        description: `${v.name}: pg_dumpall of ${server.name} on port ${port.port}, as its own user`,
        image: server.image,
        dumpScript: script,
        env: { hasK8sEnv: server.hasK8sEnv, k8sEnv: server.k8sEnv, envFrom: server.envFrom, secrets: { envFrom: server.secrets.envFrom }, databaseSecret: server.databaseSecret },
        dumpSecret: null,
        server: { name: server.name, port: port.port, selector: server.selector, isDatabase: false, namespace: null },
      };
    });
  if (database.enabled) {
    dumps.push({
      name: `${app}-${DATABASE_DUMP_VOLUME}-dump`,
      volume: DATABASE_DUMP_VOLUME,
      resticSecret: `${app}-${DATABASE_DUMP_VOLUME}-restic`,
      description: `the app's database on the shared PostgreSQL (${database.host}): pg_dump as its owner`,
      image: DUMP_POSTGRES_IMAGE,
      // PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD come from the Secret <app>-database-dump.
      dumpScript: ['set -eu', 'pg_dump --clean --if-exists > /data/dump.sql.tmp', 'mv /data/dump.sql.tmp /data/dump.sql'].join('\n'),
      env: none,
      dumpSecret: `${app}-${DATABASE_DUMP_VOLUME}-dump`,
      server: { name: database.host, port: database.port, selector: {}, isDatabase: true, namespace: postgresNamespace },
    });
  }
  return dumps;
}

/** The PostgreSQL client of the dump of an app's database on the shared PostgreSQL: the server's major version (the postgres component's image). */
export const DUMP_POSTGRES_IMAGE = 'ghcr.io/cloudnative-pg/postgresql:17.5';

/**
 * The restic half of a dump CronJob: what VolSync's restic mover does (mover-restic/entry.sh of
 * VolSync 0.14), on /data: init the repository when `restic cat config` says there is none
 * (exit 10), back up with `--host volsync`, forget by the app's retention and prune. Any other
 * failure of `cat config` (a wrong password, an unreachable repository) stops it with restic's
 * own message. The repository and password come from the environment (the Secret), never argv.
 */
export function resticBackupScript(retention: { daily: number; weekly: number; monthly: number }): string {
  return [
    'set -u',
    'err=$(restic cat config 2>&1 >/dev/null); rc=$?',
    'if [ "$rc" -eq 10 ]; then restic init || exit $?; elif [ "$rc" -ne 0 ]; then echo "$err" >&2; exit "$rc"; fi',
    'cd /data && restic backup --host volsync --exclude=lost+found . || exit $?',
    `restic forget --host volsync --keep-daily ${retention.daily} --keep-weekly ${retention.weekly} --keep-monthly ${retention.monthly} || exit $?`,
    'restic prune',
  ].join('\n');
}
