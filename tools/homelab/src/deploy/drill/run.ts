import YAML from 'yaml';
import { ensureRendered } from '../../build/dist';
import { composeProjectDir } from '../../project/paths';
import { parseCompose, waitTimeoutSeconds } from '../compose-plan';
import { ComposeCli, type DeployContext, runnable, secretKeysOf } from '../compose';
import { type ContainerInfo, Docker, describeState, isUp } from '../docker';
import { DeployError } from '../errors';
import type { ToolResult } from '../process';
import type { Reporter } from '../progress';
import { label, type DeployRequest } from '../request';
import { describeSource, makeMasker, resolveSecrets, SecretScratch, sweepStaleScratch } from '../secrets';
import { shellWord } from '../../app/steps/compose-backup';
import { digestScript, dumpRowCounts, formatBytes, parseDigests, type RowCounts, type VolumeDigest } from './digest';
import { type BackedUpVolume, backedUpVolumes, SCHEDULER_SERVICE } from './movers';
import { DRILL_LABEL, type RestoredVolume, type ScratchConfig, scratchCompose, scratchProject } from './scratch';

/** The password of the restic repositories, and an s3 target's keys: what the movers read from the env file. */
const RESTIC_KEYS = ['RESTIC_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/** How long a service without a health check must keep running to count as up. */
const RUNNING_SECONDS = 3;

/** What the drill found for one volume: its summary line's facts. */
interface VolumeResult {
  volume: string;
  digest: VolumeDigest;
  restoreSeconds: number;
  rows?: { tables: number; rows: number };
}

/**
 * `restore-drill` on Compose (docs/backup.md, "restore-drill"): preflight -> a backup now
 * (the scheduler's /homelab/backup, which prints each volume's digest) -> each volume's
 * latest snapshot restored into a scratch volume of project `P-drill` -> its digest compared
 * -> dumps restored into the scratch project's database, row counts compared -> the app's
 * services started in the scratch project, isolated, and checked from inside -> the scratch
 * project torn down (unless --keep), also on failure. The live app is touched only by the
 * backup, which stops and starts it as a scheduled backup does. One summary line per volume.
 */
export async function composeRestoreDrill(req: DeployRequest, ctx: DeployContext): Promise<void> {
  const { report, tools } = ctx;
  const who = label(req);
  const started = Date.now();
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'compose');
  const doc = YAML.parse(rendered.text) as Record<string, any>;
  const model = parseCompose(rendered.text, rendered.relative);
  const backups = backedUpVolumes(doc, rendered.relative);
  if (backups.length === 0) {
    throw new DeployError(`${who}: has no backed-up volume in ${rendered.relative}, so there is nothing to drill; give a volume backup: true in the spec and run \`npx nx sync\``, 2);
  }
  const project = model.project;
  const scratchName = scratchProject(project);
  const scratch = scratchCompose(doc, backups, { project: scratchName, scratchSize: req.drill?.scratchSize });
  report.step('render', `${rendered.relative}: ${backups.length} backed-up volume(s) (${backups.map((b) => (b.dump ? `${b.volume} (dump)` : b.volume)).join(', ')}), scratch project ${scratchName}`);
  for (const note of scratch.notes) report.warn(note);

  const docker = new Docker(tools, req.settings.compose?.context);
  const versions = await docker.versions(docker.where(ctx.env));
  report.step('engine', `Docker ${versions.engine} with Compose ${versions.compose} at ${docker.where(ctx.env)}`);
  const scheduler = (await docker.containers(project)).find((c) => c.service === SCHEDULER_SERVICE && c.running);
  if (!scheduler) {
    throw new DeployError(`${who}: is not deployed in ${req.env} on this engine (no running ${project}-${SCHEDULER_SERVICE}-1, which takes the backups); deploy it first with \`npx nx run ${req.project}:deploy --env ${req.env}\`; nothing was changed`, 2);
  }

  sweepStaleScratch(ctx.tmpDir);
  const secrets = new SecretScratch(ctx.tmpDir);
  const teardown = new Teardown(docker, scratchName);
  try {
    // Secrets as deploy reads them: the repository password (x-homelab-backup: the store entry
    // backup.repositoryKey) and the app's (its services start in the scratch project).
    const keys = secretKeysOf(model);
    const { values, missing } = await resolveSecrets(keys, req.compose.secrets, { app: req.project, env: req.env, root: req.root, processEnv: ctx.env, tools });
    report.setMask(makeMasker([...values.values()]));
    if (!keys.some((k) => k.key === 'RESTIC_PASSWORD') || missing.includes('RESTIC_PASSWORD')) {
      throw new DeployError(
        `${who}: the restic repository password RESTIC_PASSWORD is missing in ${describeSource(req.compose.secrets)}; set it (store key backup.repositoryKey, property password) and retry; nothing was changed`,
        2,
      );
    }
    if (missing.length > 0) {
      throw new DeployError(`${who}: secret value(s) missing for ${missing.join(', ')} in ${describeSource(req.compose.secrets)}; set them (keys are listed in ${composeProjectDir(req.layer, req.project)}/.env.example) and retry; nothing was changed`, 2);
    }
    // `docker run --env-file` reads values literally (no quotes, no escapes, one line): the password
    // reaches the restic container as `-e RESTIC_PASSWORD`, from the docker CLI's own environment.
    const resticEnv = Object.fromEntries(RESTIC_KEYS.filter((k) => values.has(k)).map((k) => [k, values.get(k)!]));
    report.step('secrets', `${keys.length} key(s) from ${describeSource(req.compose.secrets)} -> the scratch project's private env file (mode 0600, removed when the drill ends) and restic's environment`);
    const restic = new Restic(docker, resticEnv, req.drill?.scratchSize);
    await restic.requireImage(backups[0].image, who);
    await teardown.leftovers(report);

    // Preflight: the repository answers with this password (before the backup touches the live app).
    for (const target of uniqueTargets(backups)) await restic.check(target, who);
    report.step('preflight', `${describeTarget(backups[0])} reachable, and the password opens it`);

    // A backup now, exactly as the schedule takes it.
    report.step('backup', `docker exec ${scheduler.name} sh /homelab/backup (stops and starts the services that mount a copied volume, as a scheduled backup does)`);
    const backupStarted = Date.now();
    const backup = await docker.run(['exec', scheduler.name, 'sh', '/homelab/backup'], { onLine: (l) => report.detail(l.trim()) });
    if (backup.code !== 0) throw new DeployError(`${who}: the backup failed (exit ${backup.code}): ${tools.tail(backup, 1)}; nothing was restored`);
    const digests = parseDigests(backup.stdout);
    const noDigest = backups.filter((b) => !digests.has(b.volume)).map((b) => b.volume);
    if (noDigest.length > 0) throw new DeployError(`${who}: the backup printed no digest line for ${noDigest.join(', ')}; run the build and deploy targets again (the mover prints \`homelab-backup digest <volume> …\`)`);
    const steps: Record<string, number> = { backup: (Date.now() - backupStarted) / 1000 };
    report.step('backup', `taken in ${steps.backup.toFixed(1)} s`);
    let t0 = Date.now();

    // Restore each volume's latest snapshot into a scratch volume, and compare its digest.
    const results: VolumeResult[] = [];
    for (const restored of scratch.restored) {
      teardown.volumes.push(restored.name);
      await restic.createVolume(restored.name, scratchName);
      const want = digests.get(restored.backup.volume)!;
      if (want.files === 0) {
        // An empty volume takes no snapshot (the mover skips it, as VolSync's does): the scratch volume stays empty.
        report.step('restore', `${restored.backup.volume}: empty when backed up, no snapshot to restore; ${restored.name} stays empty`);
        results.push({ volume: restored.backup.volume, digest: want, restoreSeconds: 0 });
        continue;
      }
      const t = Date.now();
      await restic.restore(restored, who);
      const restoreSeconds = (Date.now() - t) / 1000;
      const got = await restic.digest(restored, who);
      if (got.sha256 !== want.sha256) {
        throw new DeployError(
          `${who}: volume ${restored.backup.volume}: the restored files differ from the backup (backup sha256=${want.sha256.slice(0, 12)}… ${want.files} files ${want.bytes} bytes, restored sha256=${got.sha256.slice(0, 12)}… ${got.files} files ${got.bytes} bytes)`,
        );
      }
      report.step('restore', `${restored.backup.volume}: latest snapshot -> ${restored.name} in ${restoreSeconds.toFixed(1)} s, digest matches`);
      results.push({ volume: restored.backup.volume, digest: got, restoreSeconds });
    }

    steps.restore = (Date.now() - t0) / 1000;
    t0 = Date.now();
    // The scratch project: its databases first, on empty volumes, to take the dumps; then every service.
    const compose = new ComposeCli(docker, req, secrets.write('empty.env', ''));
    const file = secrets.write('scratch.compose.yaml', YAML.stringify(scratch.doc, { lineWidth: 0 }));
    const target = runnable(parseCompose(YAML.stringify(scratch.doc, { lineWidth: 0 }), 'the scratch project'), file, values, secrets, 'scratch');
    const timeout = String(waitTimeoutSeconds(target.model));
    for (const db of scratch.databases) {
      report.step('database', `${db.service}: docker compose -p ${scratchName} up -d --wait ${db.service} (an empty database directory)`);
      await compose.run(target.files, ['-p', scratchName, 'up', '-d', '--pull', 'never', '--no-deps', '--wait', '--wait-timeout', timeout, db.service], report);
      const restored = scratch.restored.find((r) => r.backup === db.backup)!;
      const result = results.find((r) => r.volume === db.backup.volume)!;
      const t = Date.now();
      result.rows = await restoreDump(docker, restic, restored, await serviceContainer(docker, scratchName, db.service, who), report, who);
      result.restoreSeconds += (Date.now() - t) / 1000;
    }
    steps.database = (Date.now() - t0) / 1000;
    t0 = Date.now();
    report.step('start', `docker compose -p ${scratchName} up -d --wait (${scratch.services.join(', ')}; one internal network, no published port)`);
    await compose.run(target.files, ['-p', scratchName, 'up', '-d', '--pull', 'never', '--wait', '--wait-timeout', timeout], report);
    await checkHealth(docker, scratchName, scratch, report, who);
    steps.start = (Date.now() - t0) / 1000;

    for (const r of results) report.line(summary(project, r));
    const breakdown = Object.entries(steps).map(([step, seconds]) => `${step} ${seconds.toFixed(1)} s`).join(', ');
    report.line(`restore-drill ${project}: passed in ${secondsSince(started)} s (${breakdown})${req.drill?.keep ? `; the scratch project ${scratchName} is kept (remove it with \`docker compose -p ${scratchName} down -v\`)` : ''}`);
  } finally {
    try {
      if (req.drill?.keep) report.step('keep', `scratch project ${scratchName} left for inspection: \`docker compose -p ${scratchName} ps\`; remove it with \`docker compose -p ${scratchName} down -v\` and \`docker volume rm ${teardown.volumes.join(' ')}\``);
      else await teardown.run(report);
    } finally {
      secrets.remove();
    }
  }
}

/** The summary line of a volume: `restore-drill files-dev data: 12.3 MiB, 42 files, restored in 1.8 s, digest matches`. */
export function summary(project: string, r: VolumeResult): string {
  const rows = r.rows ? `, ${r.rows.tables} table(s) with ${r.rows.rows} row(s) match` : '';
  return `restore-drill ${project} ${r.volume}: ${formatBytes(r.digest.bytes)}, ${r.digest.files} files, restored in ${r.restoreSeconds.toFixed(1)} s, digest matches${rows}`;
}

/** Each repository target once (the base folder of a path target, or the s3 bucket). */
function uniqueTargets(backups: BackedUpVolume[]): BackedUpVolume[] {
  const seen = new Set<string>();
  return backups.filter((b) => {
    const key = b.repositoryPath ?? b.repository.split('/').slice(0, -2).join('/');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describeTarget(b: BackedUpVolume): string {
  return b.repositoryPath ? `the backup target ${b.repositoryPath} (on the Docker host)` : `the backup target ${b.repository.split('/').slice(0, -2).join('/')}`;
}

/** The restic image, run as the movers run it: the repository's password from a private env file, never in argv. */
class Restic {
  constructor(
    private readonly docker: Docker,
    /** RESTIC_PASSWORD (and an s3 target's keys): handed down through the docker CLI's environment, never in argv. */
    private readonly env: Record<string, string>,
    private readonly scratchSize: string | undefined,
  ) {}

  /** `docker run` with the restic keys from the environment of the docker CLI. */
  private run(args: string[], timeoutMs?: number) {
    return this.docker.run(args, { env: this.env, timeoutMs });
  }

  async requireImage(image: string, who: string): Promise<void> {
    if (await this.docker.imageId(image)) return;
    throw new DeployError(`${who}: the restic image ${image} is not present on the Docker host; pull it (\`docker pull ${image}\`) or set compose.backup.image in homelab.yaml; nothing was changed`, 2);
  }

  /** `docker run` of the restic image for one repository, with `mounts` and the repository bound (a path target). */
  private args(b: BackedUpVolume, mounts: string[], command: string[], entrypoint?: string): string[] {
    const network = b.network ?? 'none';
    const repository = b.repositoryPath ? ['--mount', `type=bind,source=${b.repositoryPath},target=/repository`] : [];
    return ['run', '--rm', '--network', network, '--label', `${DRILL_LABEL}=run`, ...repository, ...mounts, ...Object.keys(this.env).flatMap((k) => ['-e', k]), '-e', `RESTIC_REPOSITORY=${b.repository}`, '-e', 'RESTIC_CACHE_DIR=/restic-cache', ...(entrypoint ? ['--entrypoint', entrypoint] : []), b.image, ...command];
  }

  /** The repository answers and the password opens it; a repository not created yet is fine (the backup initializes it). */
  async check(b: BackedUpVolume, who: string): Promise<void> {
    const result = await this.run(this.args(b, [], ['cat', 'config']), 120_000);
    if (result.code === 0 || result.code === 10) return;
    throw new DeployError(`${who}: ${resticFailure(result, b, 'cat config', this.docker, this.scratchSize)}; nothing was changed (the live app was not touched)`);
  }

  async createVolume(name: string, project: string): Promise<void> {
    const tmpfs = this.scratchSize ? ['--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', `o=size=${this.scratchSize}`] : [];
    await this.docker.ok(['volume', 'create', ...tmpfs, '--label', `${DRILL_LABEL}=${project}`, name], 'docker volume create');
  }

  /** The runbook's restore (docs/backup.md), into the scratch volume. */
  async restore(r: RestoredVolume, who: string): Promise<void> {
    const result = await this.run(this.args(r.backup, ['-v', `${r.name}:/data`], ['restore', 'latest', '--host', 'volsync', '--target', '/data', '--delete']), 3_600_000);
    if (result.code !== 0) throw new DeployError(`${who}: volume ${r.backup.volume}: ${resticFailure(result, r.backup, 'restore', this.docker, this.scratchSize, r.name)}; the live app was not touched`);
  }

  /** The digest of the restored volume, computed as the mover computes it (digest.ts). */
  async digest(r: RestoredVolume, who: string): Promise<VolumeDigest> {
    const result = await this.docker.run(['run', '--rm', '--network', 'none', '--label', `${DRILL_LABEL}=run`, '-v', `${r.name}:/data:ro`, '--entrypoint', '/bin/sh', r.backup.image, '-c', digestScript(r.backup.volume)]);
    const digest = parseDigests(result.stdout).get(r.backup.volume);
    if (result.code !== 0 || !digest) throw new DeployError(`${who}: volume ${r.backup.volume}: the digest of the restored volume failed: ${this.docker.tools.tail(result, 1)}`);
    return digest;
  }

  /** The text of a restored dump (dump.sql at the root of the dump volume). */
  async dumpText(r: RestoredVolume, who: string): Promise<string> {
    const result = await this.docker.run(['run', '--rm', '--network', 'none', '--label', `${DRILL_LABEL}=run`, '-v', `${r.name}:/dump:ro`, '--entrypoint', '/bin/cat', r.backup.image, '/dump/dump.sql']);
    if (result.code !== 0) throw new DeployError(`${who}: volume ${r.backup.volume}: the restored snapshot has no dump.sql: ${this.docker.tools.tail(result, 1)}`);
    return result.stdout;
  }
}

/**
 * One line for a failed restic call: wrong password (exit 12), no repository (exit 10), a
 * full scratch volume, a target that is missing or unreachable, else restic's own last line.
 */
export function resticFailure(result: ToolResult, b: BackedUpVolume, what: string, docker: Pick<Docker, 'tools'>, scratchSize?: string, volume?: string): string {
  const text = `${result.stderr}\n${result.stdout}`;
  if (result.code === 12 || /wrong password/i.test(text)) {
    return `wrong password for the restic repository ${b.repository}: RESTIC_PASSWORD does not open it; set the password the backups were made with (store key backup.repositoryKey; without it every backup is lost)`;
  }
  if (result.code === 10) return `no restic repository at ${b.repository}: no backup of ${b.volume} was ever taken there`;
  if (/no space left on device/i.test(text)) {
    const where = volume ? `the scratch volume ${volume}` : 'the scratch volume';
    return `${where} is full (no space left on device${scratchSize ? `, --scratch-size ${scratchSize}` : ''}); give the drill room: a larger --scratch-size, or free disk on the Docker host`;
  }
  if (b.repositoryPath && /bind source path does not exist|no such file or directory/i.test(text) && result.code === 125) {
    return `the backup target ${b.repositoryPath} does not exist on the Docker host; mount it (an NFS share?) or fix backup.target in homelab.yaml`;
  }
  if (result.code === 1 && /unable to open|repository does not exist|connection refused|no such host|timeout|permission denied/i.test(text)) {
    return `the restic repository ${b.repository} is unreachable: ${docker.tools.tail(result, 1)}; check backup.target in homelab.yaml and that the target is up`;
  }
  return `restic ${what} failed (exit ${result.code}): ${docker.tools.tail(result, 1)}`;
}

/**
 * A dump restored into the scratch database: `dump.sql` piped into psql in the database's
 * container (as the runbook does), then each table's rows counted there and compared with the
 * rows of its COPY block in the dump. Returns the tables and rows that match.
 */
async function restoreDump(docker: Docker, restic: Restic, restored: RestoredVolume, container: ContainerInfo, report: Reporter, who: string): Promise<{ tables: number; rows: number }> {
  const sql = await restic.dumpText(restored, who);
  const expected = dumpRowCounts(sql);
  const psql = 'psql -X -q -v ON_ERROR_STOP=0 -U "${POSTGRES_USER:-postgres}" -d postgres';
  const load = await docker.run(['exec', '-i', container.id, 'sh', '-c', psql], { input: sql, timeoutMs: 3_600_000 });
  if (load.code !== 0) throw new DeployError(`${who}: volume ${restored.backup.volume}: psql could not load the dump into ${container.name}: ${docker.tools.tail(load, 1)}`);
  const byDatabase = new Map<string, string[]>();
  for (const key of expected.keys()) {
    const [db, ...table] = key.split('.');
    (byDatabase.get(db) ?? byDatabase.set(db, []).get(db)!).push(table.join('.'));
  }
  const actual: RowCounts = new Map();
  for (const [db, tables] of byDatabase) {
    const query = tables.map((t) => `select ${sqlString(t)}, count(*) from ${t}`).join(' union all ');
    const result = await docker.run(['exec', container.id, 'sh', '-c', `psql -X -tA -F ' ' -U "\${POSTGRES_USER:-postgres}" -d ${shellWord(db)} -c ${shellWord(query)}`]);
    if (result.code !== 0) throw new DeployError(`${who}: volume ${restored.backup.volume}: counting the rows of database ${db} failed: ${docker.tools.tail(result, 1)}`);
    for (const line of result.stdout.split('\n')) {
      const [table, count] = line.trim().split(' ');
      if (table && count) actual.set(`${db}.${table}`, Number(count));
    }
  }
  const differ = [...expected].filter(([key, rows]) => actual.get(key) !== rows);
  if (differ.length > 0) {
    const [key, rows] = differ[0];
    throw new DeployError(`${who}: volume ${restored.backup.volume}: table ${key} has ${actual.get(key) ?? 'no'} row(s) after the restore, the dump holds ${rows}${differ.length > 1 ? ` (and ${differ.length - 1} more table(s) differ)` : ''}`);
  }
  const rows = [...expected.values()].reduce((a, b) => a + b, 0);
  report.step('database', `${restored.backup.volume}: dump loaded into ${container.name}: ${expected.size} table(s), ${rows} row(s), as in the dump`);
  return { tables: expected.size, rows };
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

async function serviceContainer(docker: Docker, project: string, service: string, who: string): Promise<ContainerInfo> {
  const c = (await docker.containers(project)).find((x) => x.service === service && x.running);
  if (!c) throw new DeployError(`${who}: the scratch database ${service} did not start in ${project}`);
  return c;
}

/**
 * Health from inside: every service's container runs, and is healthy when it has a health
 * check (`up --wait` waited for that); one without keeps running for a few seconds.
 */
async function checkHealth(docker: Docker, project: string, scratch: ScratchConfig, report: Reporter, who: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, RUNNING_SECONDS * 1000));
  const containers = await docker.containers(project);
  for (const service of scratch.services) {
    const mine = containers.filter((c) => c.service === service);
    const bad = mine.find((c) => !isUp(c) || c.restartCount > 0);
    if (mine.length === 0 || bad) {
      throw new DeployError(`${who}: on the restored data, service ${service} ${bad ? `(container ${bad.name}) ${describeState(bad)}` : 'has no container'}; see the kept project with --keep`);
    }
    report.step('health', `${service}: ${mine.map((c) => (c.health ? c.health : `running for ${RUNNING_SECONDS} s, no health check`)).join(', ')}`);
  }
}

function secondsSince(t: number): string {
  return ((Date.now() - t) / 1000).toFixed(1);
}

/** What the drill made, removed at the end whatever happened (uninterruptible). */
class Teardown {
  volumes: string[] = [];

  constructor(
    private readonly docker: Docker,
    private readonly project: string,
  ) {}

  /** A scratch project an earlier drill kept (--keep) or could not remove: removed first. */
  async leftovers(report: Reporter): Promise<void> {
    const containers = await this.docker.containers(this.project);
    const volumes = await this.labelledVolumes();
    if (containers.length === 0 && volumes.length === 0) return;
    report.step('scratch', `removing what an earlier drill left of ${this.project} (${containers.length} container(s), ${volumes.length} volume(s))`);
    await this.removeAll();
  }

  async run(report: Reporter): Promise<void> {
    const removed = await this.removeAll();
    report.step('teardown', `scratch project ${this.project} removed (${removed} volume(s))`);
  }

  private async labelledVolumes(): Promise<string[]> {
    const once = { uninterruptible: true };
    const labelled = await this.docker.ok(['volume', 'ls', '-q', '--filter', `label=${DRILL_LABEL}=${this.project}`], 'docker volume ls', once).catch(() => '');
    const compose = await this.docker.ok(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${this.project}`], 'docker volume ls', once).catch(() => '');
    return [...new Set(`${labelled}\n${compose}`.split('\n').map((l) => l.trim()).filter((l) => l !== ''))];
  }

  private async removeAll(): Promise<number> {
    const once = { uninterruptible: true };
    const ids = (await this.docker.containers(this.project, once)).map((c) => c.id);
    await this.docker.forceRemove(ids, once);
    const networks = (await this.docker.run(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${this.project}`], once)).stdout.split('\n').filter((l) => l.trim() !== '');
    if (networks.length > 0) await this.docker.run(['network', 'rm', ...networks], once);
    const volumes = [...new Set([...this.volumes, ...(await this.labelledVolumes())])];
    if (volumes.length > 0) await this.docker.run(['volume', 'rm', '-f', ...volumes], once);
    return volumes.length;
  }
}
