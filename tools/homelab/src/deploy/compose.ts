import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { BACKUP_PROFILE, CRON_PROFILE, ensureRendered } from '../build/dist';
import { WORKSPACE_FILE } from '../spec/io';
import { composeProjectDir, distPaths, environmentPaths, projectPaths } from '../project/paths';
import { gitProvenance, recordVolume, removeDeployRecord, sha256, writeDeployRecord } from './compose-record';
import { type ComposeModel, type ComposePlan, type ComposeService, cronServices, describeLevels, describePlan, displaced, parseCompose, planChanges, startLevels, waitTimeoutSeconds } from './compose-plan';
import { type ContainerInfo, Docker, describeRun, describeState, hasCompleted, isCron, isJob, isUp, JOB_KIND_LABEL, SCHEDULE_LABEL } from './docker';
import { unifiedDiff } from './diff';
import { ensureNetworks } from './networks';
import { ensureVolumes } from './shared-volumes';
import { engineIsLocal, probeFromOutside } from './outside-probe';
import { DeployError } from './errors';
import { InterruptedError, type ToolRunner } from './process';
import type { Reporter } from './progress';
import { label, type DeployRequest } from './request';
import { type SecretKey, SecretScratch, describeSource, formatEnvFile, makeMasker, MIN_MASKED_LENGTH, resolveSecrets, sweepStaleScratch } from './secrets';
import { type ComposeRecord, StateDir } from './state';
import { type ComposeDatabase, containerPsql, databaseEnvValues, describeDatabase, provisionDatabase } from './database';
import { prepareVolumes } from './volume-owner';

/** How long deploy waits for a job's container to exit (a migration on a big database takes a while). */
export const JOB_TIMEOUT_SECONDS = 300;

export interface DeployContext {
  tools: ToolRunner;
  report: Reporter;
  /** The environment of the deploy (secret source `env` reads it; DOCKER_HOST lives here). */
  env: NodeJS.ProcessEnv;
  /** Where the private env files go (default: the OS temp folder). */
  tmpDir?: string;
}

/** A Compose configuration ready to run: its files (rendered file + private overlays) and model. */
export interface Runnable {
  model: ComposeModel;
  files: string[];
}

/**
 * The Compose adapter: render -> engine -> secrets -> images -> plan -> apply -> verify,
 * each step printed. Nothing changes before the plan; from the first change on, any
 * failure or interrupt rolls back to what ran before (recorded in .homelab/state) and
 * the error says why and what the rollback did. The private env files are removed in
 * `finally`, whatever happens.
 */
export async function composeDeploy(req: DeployRequest, ctx: DeployContext): Promise<void> {
  const { report, tools } = ctx;
  const who = label(req);
  const started = Date.now();
  const state = new StateDir(req.root, req.env, req.project);
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'compose');
  const model = parseCompose(rendered.text, rendered.relative);
  report.step('render', `${rendered.relative}: ${model.services.length} service(s) (${model.services.map((s) => s.name).join(', ')}), compose project ${model.project}`);

  const docker = new Docker(tools, req.settings.compose?.context);
  // A plan needs the keys, never the values: a dry run reads no secret and needs no engine.
  if (req.dryRun) return composePlan(req, ctx, docker, rendered, model);
  const versions = await docker.versions(docker.where(ctx.env));
  report.step('engine', `Docker ${versions.engine} with Compose ${versions.compose} at ${docker.where(ctx.env)}`);
  await refuseWhileAdoptedRuns(docker, model, who, report);
  await refuseWithoutApps(docker, model, req, who);

  const previousText = state.read('compose.yaml');
  const previous = previousText === null ? null : safeParse(previousText, state.file('compose.yaml'));
  const record = state.readJson<ComposeRecord>('compose.json');

  sweepStaleScratch(ctx.tmpDir);
  const scratch = new SecretScratch(ctx.tmpDir);
  try {
    // Secrets: every key of the new configuration must have a value before anything changes.
    const keys = secretKeysOf(model);
    const wanted = dedupeKeys([...keys, ...(previous ? secretKeysOf(previous) : [])]);
    const { values, missing } = await resolveSecrets(wanted, req.compose.secrets, { app: req.project, env: req.env, root: req.root, processEnv: ctx.env, tools });
    // The backups' keys missing fail the backups, not the deploy (an app deployed before it had backups keeps deploying): a warning naming them.
    const backupKeys = new Set((model.backup?.keys ?? []).map((k) => k.key));
    const backupMissing = keys.filter((k) => backupKeys.has(k.key) && missing.includes(k.key));
    for (const k of backupMissing) report.warn(`secret ${k.key} has no value in ${describeSource(req.compose.secrets)}: the backups of ${req.project} fail until it has one (store key ${k.remoteKey}, property ${k.property})`);
    const missingNow = keys.filter((k) => missing.includes(k.key) && !backupKeys.has(k.key)).map((k) => k.key);
    if (missingNow.length > 0) {
      throw new DeployError(
        `${who}: secret value(s) missing for ${missingNow.join(', ')} in ${describeSource(req.compose.secrets)}; set them (keys are listed in ${composeProjectDir(req.layer, req.project)}/.env.example) and retry; nothing was changed`,
        2,
      );
    }
    // The database's URL holds the password escaped: masked as well.
    report.setMask(makeMasker([...values.values(), ...(model.database ? databaseEnvValues(model.database, values.get(model.database.password.key) ?? '').values() : [])]));
    const next = runnable(model, path.join(req.root, rendered.relative), values, scratch, 'next');
    report.step(
      'secrets',
      keys.length === 0
        ? 'no secret keys'
        : `${keys.length} key(s) from ${describeSource(req.compose.secrets)} -> private env file (mode 0600, removed when the deploy ends)`,
    );
    for (const k of keys) {
      const v = values.get(k.key) ?? '';
      if (v.length < MIN_MASKED_LENGTH) report.warn(`secret ${k.key} is shorter than ${MIN_MASKED_LENGTH} characters: it cannot be masked in output`);
    }

    const compose = new ComposeCli(docker, req, scratch.write('empty.env', ''));
    const [imageIds, before] = await Promise.all([ensureImages(model, docker, compose, next, false, report, who), runningContainers(docker, model, who)]);
    const hashes = await compose.hashes(next, before);
    const plan = planChanges(model, before, hashes, imageIds);
    for (const s of plan.services) report.step('plan', describePlan(s));
    for (const o of plan.orphans) report.step('plan', `${o.name}: remove (service ${o.service} is no longer in the file)`);
    printOrder(report, model, rendered.relative);
    if (plan.services.some((s) => s.action === 'recreate-stateful')) {
      report.warn('a service with volumes is stopped before its new container starts; it is unavailable for a moment');
    }
    const unrestorable = previous === null && !req.replaceUnrecorded ? displaced(plan) : [];
    if (unrestorable.length > 0) {
      const why = `no earlier deploy is recorded on this machine (${state.shown}), so a failed deploy could not restore the ${unrestorable.length} running container(s) it replaces (${unrestorable.map((c) => c.name).join(', ')}); copy that folder from the machine that deployed them, or pass --replace-unrecorded to replace them anyway`;
      throw new DeployError(`${who}: ${why}; nothing was changed`, 2);
    }

    await checkBackupTarget(docker, model, report, who);
    // The shared networks (homelab, homelab-<env>) outlive the project: created when missing, never rolled back.
    await ensureNetworks(docker, model.networks, report);
    // So is the volume of the backup movers' metrics (homelab-backup-metrics), which every app's movers and node-exporter share.
    await ensureVolumes(docker, model.sharedVolumes, report);
    // The app's database before the app: created, or brought up to date, on the postgres component's server.
    if (model.database) await provision(docker, model.database, values, report, who);
    // Named volumes the container user can write: owned before a container of theirs is created.
    const creating = new Set(plan.services.filter((s) => s.action !== 'unchanged').map((s) => s.service.name));
    await prepareVolumes(docker, model.project, model.volumeMounts, creating, req.compose.volumeOwnerImage, report, who);

    const created: string[] = [];
    // Services with health.probe outside: deploy is their health check (outside-probe.ts).
    const probed = new Map<string, string>();
    const local = engineIsLocal(req.settings.compose?.context, ctx.env);
    const probe = async (containers: ContainerInfo[]) => {
      for (const [id, what] of await probeFromOutside(containers, report, local, () => tools.interrupted)) probed.set(id, what);
    };
    try {
      // Nothing changed and everything is up: no Compose call at all (it would recreate nothing either).
      // Docker's own health status is in `before`; a service probed from outside is healthy only once it answers now.
      if (plan.changed || !before.every(isUp)) {
        await apply(compose, docker, next, plan, created, report, probe);
        await probe((await docker.containers(model.project)).filter((c) => !probed.has(c.id)));
      } else {
        await probe(before);
        report.step('apply', 'nothing to change: every container is up to date, running and healthy');
      }
    } catch (error) {
      const interrupted = error instanceof InterruptedError || tools.interrupted;
      report.step('failed', interrupted ? 'interrupted: rolling back' : 'the new version did not come up: rolling back');
      const reason = interrupted ? '' : ((await diagnose(docker, model.project, report)) ?? stripWho(error, who));
      const outcome = await rollback(compose, docker, { previous, previousFile: state.file('compose.yaml'), record, values, scratch, created, before, next, local }, report);
      throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; ${outcome}`, interrupted ? 130 : 1);
    }

    // The new version runs: from here on an interrupt must not stop the bookkeeping.
    const after = await docker.containers(model.project, { uninterruptible: true });
    const kept = new Set(before.map((c) => c.id));
    const fresh = after.filter((c) => !kept.has(c.id) && !isCron(c));
    const cron = after.filter((c) => !kept.has(c.id) && isCron(c));
    for (const c of after) {
      if (isCron(c)) {
        report.step('verify', `${c.name}: ${c.labels[JOB_KIND_LABEL] === 'backup' ? 'backup mover' : 'cron'}, runs on ${c.labels[SCHEDULE_LABEL]}, ${describeRun(c)}`);
        continue;
      }
      const health = c.health ?? (probed.has(c.id) ? `healthy (${probed.get(c.id)})` : undefined);
      report.step('verify', `${c.name}: ${hasCompleted(c) ? 'job completed (exited with code 0)' : c.running ? 'running' : c.status}${health ? `, ${health}` : ''}`);
    }
    const images: ComposeRecord['images'] = {};
    for (const s of model.services) images[s.name] = { ref: s.image, id: imageIds.get(s.image) ?? '' };
    state.write('compose.yaml', rendered.text);
    state.write('compose.json', `${JSON.stringify({ deployedAt: new Date().toISOString(), images } satisfies ComposeRecord, null, 2)}\n`);
    await leaveRecord(docker, req, model.project, rendered.text, tools, report);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const cronCreated = cron.length > 0 ? `, ${cron.length} cron container(s) created (the scheduler starts them)` : '';
    report.line(`deployed ${req.project} to ${req.env} in ${seconds}s: ${fresh.length} container(s) started, ${after.length - fresh.length - cron.length} unchanged${cronCreated}`);
  } finally {
    scratch.remove();
  }
}

/**
 * An app that depends on other apps joins their project networks (docs/spec.md, "Apps that
 * depend on apps"): one that does not exist means the app it belongs to is not deployed in
 * this environment on this engine, and Compose would fail half-way. Refused before any change.
 */
async function refuseWithoutApps(docker: Docker, model: ComposeModel, req: DeployRequest, who: string): Promise<void> {
  for (const { network, app } of model.appNetworks) {
    if (await docker.networkExists(network)) continue;
    throw new DeployError(
      `${who}: it depends on app ${app}, which is not deployed in ${req.env} on this Docker engine (no network ${network}); deploy ${app} first with \`npx nx run ${app}:deploy --env ${req.env}\` (\`nx run ${req.project}:deploy\` does, unless --exclude-task-dependencies); nothing was changed`,
      2,
    );
  }
}

/** `down`: removes the project's containers and networks; its volumes only with --volumes. */
/**
 * An app that took over a running stack's volumes (`x-homelab-adopted`) must not start while that
 * stack still runs: two databases on one volume corrupt it. Refused in one line, with the command
 * that stops it and keeps its volumes.
 */
async function refuseWhileAdoptedRuns(docker: Docker, model: ComposeModel, who: string, report: Reporter): Promise<void> {
  if (model.adopted === null || model.adopted === model.project) return;
  const running = (await docker.containers(model.adopted)).filter((c) => c.running);
  if (running.length > 0) {
    throw new DeployError(
      `${who}: the Compose project ${model.adopted}, whose volumes this app took over, still runs (${running.map((c) => c.name).join(', ')}); stop it first with \`docker compose -p ${model.adopted} stop\` (its volumes keep their data), then deploy again; nothing was changed`,
      2,
    );
  }
  report.step('adopt', `takes over the volumes of compose project ${model.adopted}, which is not running`);
}

export async function composeDown(req: DeployRequest, ctx: DeployContext): Promise<void> {
  const { report, tools } = ctx;
  const state = new StateDir(req.root, req.env, req.project);
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'compose');
  const model = parseCompose(rendered.text, rendered.relative);
  const docker = new Docker(tools, req.settings.compose?.context);
  const versions = await docker.versions(docker.where(ctx.env));
  report.step('engine', `Docker ${versions.engine} with Compose ${versions.compose} at ${docker.where(ctx.env)}`);
  const containers = await docker.containers(model.project);
  const done = containers.filter(hasCompleted).length;
  const cron = containers.filter(isCron).length;
  const of = [done > 0 ? `${done} of them of jobs that completed` : '', cron > 0 ? `${cron} of cron services` : ''].filter((t) => t !== '').join(', ');
  report.step('plan', `remove ${containers.length} container(s) of compose project ${model.project}${of ? ` (${of})` : ''}${req.volumes ? ' and its named volumes' : `; volumes are kept (add --volumes --delete-data=${req.project} to remove them)`}`);
  if (req.dryRun) return;
  const scratch = new SecretScratch(ctx.tmpDir);
  try {
    const compose = new ComposeCli(docker, req, scratch.write('empty.env', ''));
    // With the cron profile: `down` alone leaves the containers of services whose profile is not enabled.
    await compose.run([path.join(req.root, rendered.relative)], ['down', '--remove-orphans', ...(req.volumes ? ['--volumes'] : [])], report, { cron: true });
  } finally {
    scratch.remove();
  }
  state.remove('compose.yaml', 'compose.json');
  await removeDeployRecord(docker, model.project, { uninterruptible: true });
  report.line(`removed ${req.project} from ${req.env}${req.volumes ? ' with its volumes' : ' (volumes kept)'}`);
}

/**
 * The record of this deploy on the Docker host, for `homelab status` from any machine (compose-record.ts):
 * when, from which commit, the digests of the spec and of the rendered file. The deploy has
 * succeeded by then, so a failure to write it is a warning, not a failed deploy.
 */
async function leaveRecord(docker: Docker, req: DeployRequest, project: string, rendered: string, tools: ToolRunner, report: Reporter): Promise<void> {
  const paths = projectPaths(req.layer, req.project);
  const { composeEnv } = environmentPaths(req.layer, req.project, req.env);
  const git = await gitProvenance(tools, req.root, [paths.spec, paths.specFiles, paths.composeBase, composeEnv, WORKSPACE_FILE]);
  let spec = '';
  try {
    spec = fs.readFileSync(path.join(req.root, paths.spec), 'utf8');
  } catch {
    // A component without a spec file of its own: the digest is of nothing.
  }
  const record = { at: new Date().toISOString(), ...git, specDigest: sha256(spec), renderedDigest: sha256(rendered) };
  try {
    await writeDeployRecord(docker, project, record, { uninterruptible: true });
    report.step('record', `volume ${recordVolume(project)}: deployed ${record.at} from ${record.commit ? record.commit.slice(0, 12) : 'no commit'}${record.dirty ? ' with uncommitted changes' : ''} (what homelab status reads)`);
  } catch (error) {
    report.warn(`the record of this deploy could not be left on the Docker host (${(error as Error).message}); homelab status will not show when it was deployed`);
  }
}

/** `docker compose` for one project, with .env files of the shell kept out of it. */
export class ComposeCli {
  constructor(
    private readonly docker: Docker,
    private readonly req: Pick<DeployRequest, 'root' | 'layer' | 'project'>,
    private readonly emptyEnvFile: string,
  ) {}

  /** `cron`: with the cron and backup profiles enabled, so that the cron services and backup movers are in the project (never with `up`, which would start them). */
  private args(files: string[], args: string[], cron = false): string[] {
    const projectDir = path.join(this.req.root, composeProjectDir(this.req.layer, this.req.project));
    const profiles = cron ? ['--profile', CRON_PROFILE, '--profile', BACKUP_PROFILE] : [];
    return ['compose', '--project-directory', projectDir, '--env-file', this.emptyEnvFile, ...profiles, ...files.flatMap((f) => ['-f', f]), ...args];
  }

  /** Runs a compose command, streaming its lines as detail; throws with its stderr on failure. */
  async run(files: string[], args: string[], report: Reporter, options: { uninterruptible?: boolean; cron?: boolean; input?: string } = {}): Promise<void> {
    const result = await this.docker.run(this.args(files, args, options.cron), { onLine: (l) => report.detail(l.trim()), uninterruptible: options.uninterruptible, input: options.input });
    if (result.code !== 0) throw new DeployError(`docker compose ${args[0] === '-p' ? args[2] : args[0]} failed: ${this.docker.tools.tail(result, 2)}`);
  }

  /** The resolved configuration, as `docker compose config` prints it (with the cron and backup profiles). */
  config(next: Runnable): Promise<string> {
    return this.docker.ok(this.args(next.files, ['config'], true), 'docker compose config');
  }

  /** The resolved configuration (secret values included), as `up --no-deps` hashes it: only ever piped, never written. */
  private async resolved(next: Runnable): Promise<string> {
    return withoutDependsOn(await this.docker.ok(this.args(next.files, ['config'], true), 'docker compose config'));
  }

  /**
   * Creates the containers of the cron services, never starting them, or recreates those whose
   * configuration or image changed (Compose compares the hash); an up-to-date container is left
   * as it is, whatever its last run did. The resolved configuration is piped in without
   * `depends_on`: `create` of a service with dependencies would recreate those too (a running
   * server would be left created, stopped), and the containers carry the hash `hashes` computes.
   */
  async createCron(next: Runnable, services: string[], report: Reporter, uninterruptible = false): Promise<void> {
    if (services.length === 0) return;
    const input = await this.resolved(next);
    await this.run(['-'], ['-p', next.model.project, 'create', '--pull', 'never', ...services], report, { uninterruptible, cron: true, input });
  }

  /**
   * The config hash Compose will give each service's containers. `config --hash` of the
   * files would hash the env file's path, not its values; `up` hashes the values. So the
   * resolved configuration (secret values included) is piped, never written, into a
   * second `config --hash`. A service in another's network (`network_mode: service:<name>`, a
   * sidecar) is hashed as Compose hashes it when it creates the container: in the network of that
   * service's current container (`container:<id>`), so a sidecar is unchanged while its service's
   * container is, and changed once that container is replaced.
   */
  async hashes(next: Runnable, running: ContainerInfo[]): Promise<Map<string, string>> {
    const input = inNetworksOf(await this.resolved(next), running);
    const out = await this.docker.ok(this.args(['-'], ['-p', next.model.project, 'config', '--hash', '*'], true), 'docker compose config --hash', { input });
    const hashes = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [service, hash] = line.trim().split(/\s+/);
      if (service && hash) hashes.set(service, hash);
    }
    return hashes;
  }
}


/**
 * A resolved configuration as `up --no-deps <services>` hashes it: Compose drops the
 * `depends_on` entries of the services an `up` does not start, so the containers a stack
 * started level by level (startInOrder) carry the hash of their configuration without them.
 * A file without `depends_on` is returned as it is.
 */
export function withoutDependsOn(resolved: string): string {
  const doc = YAML.parseDocument(resolved);
  const services = doc.get('services');
  if (!YAML.isMap(services)) return resolved;
  let changed = false;
  for (const item of services.items) {
    if (YAML.isMap(item.value) && item.value.has('depends_on')) {
      item.value.delete('depends_on');
      changed = true;
    }
  }
  return changed ? doc.toString({ lineWidth: 0 }) : resolved;
}

/**
 * A resolved configuration with each `network_mode: service:<name>` as Compose writes it into the
 * container it creates: `container:<id>` of that service's container, when one runs (Compose
 * 2.26 hashes that form, seen with `config --hash` against the container's label). A service
 * whose network service has no container yet is left as it is: it is created anyway.
 */
export function inNetworksOf(resolved: string, running: ContainerInfo[]): string {
  const doc = YAML.parseDocument(resolved);
  const services = doc.get('services');
  if (!YAML.isMap(services)) return resolved;
  let changed = false;
  for (const item of services.items) {
    if (!YAML.isMap(item.value)) continue;
    const of = /^service:(.+)$/.exec(String(item.value.get('network_mode') ?? ''))?.[1];
    const container = of === undefined ? undefined : running.find((c) => c.service === of);
    if (container) {
      item.value.set('network_mode', `container:${container.id}`);
      changed = true;
    }
  }
  return changed ? doc.toString({ lineWidth: 0 }) : resolved;
}

function safeParse(text: string, where: string): ComposeModel | null {
  try {
    return parseCompose(text, where);
  } catch {
    return null;
  }
}

/** The secret keys a deploy reads: the backups' (`x-homelab-backup`: the repositories' store entry wins over .env.example's default), the app's, and its database's password (`x-homelab-database`). */
export function secretKeysOf(model: ComposeModel): SecretKey[] {
  return dedupeKeys([...(model.backup?.keys ?? []), ...model.meta.secrets.keys, ...(model.database ? [model.database.password] : [])]);
}

/**
 * The folder of homelab.yaml backup.target.path on the Docker host, which the movers bind: it must
 * exist (an NFS share mounted there), or a backup would fail at its hour. Checked through the engine,
 * which may be another host's, by binding it into a container of the movers' image.
 */
async function checkBackupTarget(docker: Docker, model: ComposeModel, report: Reporter, who: string): Promise<void> {
  const target = model.backup?.targetPath;
  const image = model.services.find((s) => s.mover)?.image;
  if (!target || !image) return;
  // homelab's own default folder is created when missing (`-v` creates a bind source); a folder homelab.yaml names must exist.
  const bind = model.backup?.createTarget ? ['-v', `${target}:/repository`] : ['--mount', `type=bind,source=${target},target=/repository`];
  const result = await docker.run(['run', '--rm', '--network', 'none', '--pull', 'never', '--entrypoint', '/bin/sh', ...bind, image, '-c', 'test -d /repository && test -w /repository']);
  if (result.code !== 0) {
    const why = /does not exist|no such file/i.test(result.stderr) ? 'does not exist' : result.code === 1 ? 'is not writable' : `cannot be checked (${docker.tools.tail(result, 1)})`;
    throw new DeployError(`${who}: the backup folder ${target} (homelab.yaml backup.target.path) ${why} on the Docker host; create it there (mkdir -p ${target}, or mount the NFS share at it) or change backup.target.path; nothing was changed`, 2);
  }
  report.step(
    'backup',
    model.backup?.createTarget
      ? `${target} (homelab's default, homelab.yaml has no backup.target): present and writable, on the Docker host's own disk; set backup.target.path to another disk or an NFS mount, or backup.target.s3 (docs/backup.md)`
      : `${target} (homelab.yaml backup.target.path): present and writable on the Docker host`,
  );
}

/** Creates or updates the app's database on the postgres component's container (docs/deploy.md, "Databases"). */
async function provision(docker: Docker, db: ComposeDatabase, values: ReadonlyMap<string, string>, report: Reporter, who: string): Promise<void> {
  const { psql, container } = await containerPsql(docker, db, who);
  await provisionDatabase(db, values.get(db.password.key) ?? '', psql, who);
  report.step('database', `${describeDatabase(db)}: created or up to date (psql in ${container}, the script on stdin)`);
}

function dedupeKeys(keys: SecretKey[]): SecretKey[] {
  const seen = new Map<string, SecretKey>();
  for (const k of keys) if (!seen.has(k.key)) seen.set(k.key, k);
  return [...seen.values()];
}

/** The label that carries a service's configDigest (see ComposeService), so a changed crontab recreates the scheduler. */
export const CONFIG_DIGEST_LABEL = 'homelab.config-digest';

/**
 * The files Compose runs a model with: the rendered file, plus a private overlay that
 * points the services reading `${HOMELAB_ENV_FILE}` at a private env file holding
 * exactly the model's keys (so the config hash, and with it "no change", depends on the
 * values and not on where the file is), and labels each service that mounts inline configs
 * with their digest (Compose's config hash leaves their content out).
 */
export function runnable(model: ComposeModel, file: string, values: ReadonlyMap<string, string>, scratch: SecretScratch, name: string, pins: Record<string, string> = {}): Runnable {
  const files = [file];
  const own = new Map(model.meta.secrets.keys.filter((k) => values.has(k.key)).map((k) => [k.key, values.get(k.key)!]));
  // The database's password and URL under the names the spec gives them (none in a dry run, which reads no value).
  const password = model.database ? values.get(model.database.password.key) : undefined;
  if (model.database && password !== undefined) for (const [k, v] of databaseEnvValues(model.database, password)) own.set(k, v);
  const services: Record<string, Record<string, unknown>> = {};
  if (model.meta.secrets.services.length > 0 && own.size > 0) {
    const envFile = scratch.write(`${name}.env`, formatEnvFile(own));
    for (const s of model.meta.secrets.services) services[s] = { env_file: [{ path: envFile, required: true }] };
  }
  for (const [s, image] of Object.entries(pins)) services[s] = { ...(services[s] ?? {}), image };
  for (const s of model.services) if (s.configDigest) services[s.name] = { ...(services[s.name] ?? {}), labels: { [CONFIG_DIGEST_LABEL]: s.configDigest } };
  if (Object.keys(services).length > 0) files.push(scratch.write(`${name}.overlay.yaml`, YAML.stringify({ services })));
  return { model, files };
}

/** Checks every image is present locally; pulls the missing ones (a clear error when that fails). */
async function ensureImages(
  model: ComposeModel,
  docker: Docker,
  compose: ComposeCli,
  next: Runnable,
  dryRun: boolean,
  report: Reporter,
  who: string,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const missing: string[] = [];
  for (const ref of [...new Set(model.services.map((s) => s.image))]) {
    const id = await docker.imageId(ref);
    if (id) ids.set(ref, id);
    else missing.push(ref);
  }
  for (const [ref, id] of ids) report.step('images', `${ref}: present locally (${id.replace('sha256:', '').slice(0, 12)})`);
  if (missing.length === 0) return ids;
  if (dryRun) {
    for (const ref of missing) report.step('images', `${ref}: not present locally; deploy would pull it`);
    return ids;
  }
  const services = model.services.filter((s) => missing.includes(s.image)).map((s) => s.name);
  report.step('images', `pulling ${missing.join(', ')} (not present locally)`);
  try {
    await compose.run(next.files, ['pull', ...services], report, { cron: true });
  } catch (error) {
    throw new DeployError(`${who}: image ${missing.join(', ')} is not present locally and could not be pulled (${(error as Error).message}); nothing was changed`);
  }
  for (const ref of missing) {
    const id = await docker.imageId(ref);
    if (!id) throw new DeployError(`${who}: image ${ref} is still missing after a pull; nothing was changed`);
    ids.set(ref, id);
  }
  return ids;
}

/**
 * Applies a plan in the start order (startInOrder), level by level: the level's changed
 * stateless services with replicas > 1 roll first (new containers beside the old ones,
 * wait until healthy, then stop the old), then its `up` converges the rest of the level and
 * recreates nothing whose configuration did not change.
 */
async function apply(
  compose: ComposeCli,
  docker: Docker,
  next: Runnable,
  plan: ComposePlan,
  created: string[],
  report: Reporter,
  probe: (containers: ContainerInfo[]) => Promise<void>,
): Promise<void> {
  const timeout = String(waitTimeoutSeconds(next.model));
  const rolling = async (level: ComposeService[]) => {
    for (const p of plan.services.filter((s) => s.action === 'rolling' && level.includes(s.service))) {
      const s = p.service;
      const oldIds = new Set(p.current.map((c) => c.id));
      const total = p.current.length + s.replicas;
      report.step('apply', `${s.name}: starting ${s.replicas} new container(s) beside the ${p.current.length} old one(s)`);
      try {
        await compose.run(next.files, ['up', '-d', '--no-recreate', '--no-deps', '--pull', 'never', '--wait', '--wait-timeout', timeout, '--scale', `${s.name}=${total}`, s.name], report);
      } finally {
        // Whatever happened, the containers this step made are the deploy's to remove on rollback.
        const now = await docker.containers(next.model.project, { uninterruptible: true });
        created.push(...now.filter((c) => c.service === s.name && !oldIds.has(c.id) && !created.includes(c.id)).map((c) => c.id));
      }
      const fresh = (await docker.containers(next.model.project)).filter((c) => c.service === s.name && !oldIds.has(c.id));
      const healthy = fresh.filter(isUp);
      if (healthy.length < s.replicas) {
        throw new DeployError(`${s.name}: ${healthy.length} of ${s.replicas} new container(s) came up`);
      }
      await probe(healthy);
      report.step('apply', `${s.name}: ${healthy.length} new container(s) healthy; stopping the ${oldIds.size} old one(s)`);
      await docker.stopAndRemove([...oldIds], s.stopGraceSeconds);
    }
  };
  await startInOrder(compose, docker, next, report, { step: 'apply', probe, beforeLevel: rolling });
}

/**
 * Starts a configuration in its start order (startLevels: `depends_on` in the rendered
 * file). A file of one level without jobs takes one `up -d --wait --remove-orphans`, as
 * always. Otherwise each level starts with `up -d --no-deps <its services>` once the level
 * before is up, and is up when: its services with a health check are healthy (`--wait`),
 * those probed from outside answer (`probe`), the others run, and its jobs' containers
 * exited with 0 (a job that exits otherwise fails the start). Compose cannot wait for an
 * outside probe or tell a job that ended from one that failed, so deploy keeps the order
 * itself rather than leaving it to `depends_on`. Orphans go with the last level's `up`.
 * Then the containers of the cron services are created, never started (ComposeCli.createCron).
 */
async function startInOrder(
  compose: ComposeCli,
  docker: Docker,
  target: Runnable,
  report: Reporter,
  options: { step: 'apply' | 'rollback'; probe: (containers: ContainerInfo[]) => Promise<void>; beforeLevel?: (level: ComposeService[]) => Promise<void>; uninterruptible?: boolean },
): Promise<void> {
  const { step, probe, uninterruptible = false } = options;
  const once = { uninterruptible };
  const timeout = String(waitTimeoutSeconds(target.model));
  const levels = startLevels(target.model);
  if (levels.length === 1 && !levels[0].some((s) => s.job)) {
    await options.beforeLevel?.(levels[0]);
    if (step === 'apply') report.step(step, `docker compose up -d --wait --wait-timeout ${timeout} --remove-orphans`);
    await compose.run(target.files, ['up', '-d', '--pull', 'never', '--wait', '--wait-timeout', timeout, '--remove-orphans'], report, { uninterruptible });
  } else {
    report.step(step, `start order: ${describeLevels(levels)}`);
    for (const [i, level] of levels.entries()) {
      await options.beforeLevel?.(level);
      const jobs = level.filter((s) => s.job).map((s) => s.name);
      const services = level.filter((s) => !s.job).map((s) => s.name);
      const orphans = i === levels.length - 1 ? ['--remove-orphans'] : [];
      const where = `level ${i + 1} of ${levels.length}`;
      const jobsStarted = Date.now();
      if (jobs.length > 0) {
        report.step(step, `${where}: docker compose up -d --no-deps ${jobs.join(' ')} (job: runs until it exits)`);
        await compose.run(target.files, ['up', '-d', '--pull', 'never', '--no-deps', ...orphans, ...jobs], report, { uninterruptible });
      }
      if (services.length > 0) {
        const args = ['--no-deps', '--wait', '--wait-timeout', timeout, ...(jobs.length > 0 ? [] : orphans)];
        report.step(step, `${where}: docker compose up -d ${args.join(' ')} ${services.join(' ')}`);
        await compose.run(target.files, ['up', '-d', '--pull', 'never', ...args, ...services], report, { uninterruptible });
        await probe((await docker.containers(target.model.project, once)).filter((c) => services.includes(c.service)));
      }
      if (jobs.length > 0) await waitForJobs(docker, target.model.project, jobs, report, once, jobsStarted);
    }
  }
  // Cron services last, once everything they may use is up: their containers are created, never started.
  const cron = cronServices(target.model).map((s) => s.name);
  if (cron.length > 0) {
    const movers = target.model.services.some((s) => s.mover) ? ` --profile ${BACKUP_PROFILE}` : '';
    report.step(step, `docker compose --profile ${CRON_PROFILE}${movers} create ${cron.join(' ')} (cron${movers ? ' and backup movers' : ''}: created, or recreated when changed, never started; the scheduler starts them)`);
    await compose.createCron(target, cron, report, uninterruptible);
  }
}

/**
 * Waits until the containers of the jobs exited, up to JOB_TIMEOUT_SECONDS. Exit code 0 is
 * done; any other exit, or a container that restarts, fails the deploy naming the job.
 */
async function waitForJobs(docker: Docker, project: string, jobs: string[], report: Reporter, once: { uninterruptible: boolean }, started: number): Promise<void> {
  for (;;) {
    const mine = (await docker.containers(project, once)).filter((c) => jobs.includes(c.service));
    const failed = mine.find((c) => c.restartCount > 0 || (!c.running && !c.restarting && !hasCompleted(c)));
    if (failed) throw new DeployError(`job ${failed.service} (container ${failed.name}) ${describeState(failed)}`);
    const running = mine.filter((c) => c.running || c.restarting);
    if (running.length === 0 && jobs.every((j) => mine.some((c) => c.service === j))) {
      const after = ((Date.now() - started) / 1000).toFixed(1);
      for (const c of mine) report.step('job', `${c.name}: completed (exited with code 0) after ${after}s`);
      return;
    }
    if (Date.now() - started > JOB_TIMEOUT_SECONDS * 1000) {
      const late = running[0] ?? mine[0];
      throw new DeployError(`job ${late?.service ?? jobs[0]} did not finish within ${JOB_TIMEOUT_SECONDS} s${late ? ` (container ${late.name} ${describeState(late)})` : ' (no container was created)'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Prints why the new version failed: each container that is not up, its state, its last
 * health probe and its last log lines (all masked). Returns a one-line reason.
 */
async function diagnose(docker: Docker, project: string, report: Reporter): Promise<string | undefined> {
  let containers: ContainerInfo[];
  try {
    containers = await docker.containers(project, { uninterruptible: true });
  } catch {
    return undefined;
  }
  // A job that failed is why the levels after it never started: it comes first.
  const bad = containers.filter((c) => !isUp(c)).sort((a, b) => Number(isJob(b)) - Number(isJob(a)));
  let firstLogs: string[] = [];
  for (const [i, c] of bad.slice(0, 3).entries()) {
    report.step('why', `${c.name} (${c.imageRef}) ${isJob(c) ? `job ${c.service} ` : ''}${describeState(c)}`);
    if (c.lastProbe) report.detail(`last health check: ${c.lastProbe.split('\n')[0]}`);
    const logs = await docker.logs(c.id, 10, { uninterruptible: true });
    if (i === 0) firstLogs = logs;
    if (logs.length > 0) report.detail('last log lines:');
    for (const line of logs) report.detail(`  ${line}`);
  }
  const first = bad[0];
  if (!first) return undefined;
  if (isJob(first)) {
    const last = firstLogs[firstLogs.length - 1];
    return `job ${first.service} (container ${first.name}) ${describeState(first)}${last ? ` (last log line: ${JSON.stringify(last.slice(0, 120))})` : ''}`;
  }
  const probe = first.lastProbe ? ` (last health check: ${JSON.stringify(first.lastProbe.split('\n')[0].slice(0, 120))})` : '';
  return `container ${first.name} ${describeState(first)}${probe}`;
}

interface RollbackInput {
  previous: ComposeModel | null;
  previousFile: string;
  record: ComposeRecord | null;
  values: ReadonlyMap<string, string>;
  scratch: SecretScratch;
  created: string[];
  /** The containers of the project before the deploy. */
  before: ContainerInfo[];
  /** The configuration that failed (its file is what `down` reads when nothing ran before). */
  next: Runnable;
  /** The engine runs on this machine: outside probes can reach its containers. */
  local: boolean;
}

/**
 * Restores what ran before: removes the containers this deploy started, then runs the
 * last deployed configuration again, with the image IDs it ran (pinned by ID where a tag
 * has moved since). No deploy recorded: only the containers this deploy started are
 * removed (volumes kept); whatever ran before is left as it is, never taken down.
 * Runs to the end even when interrupted again. Returns what it did, for the error line.
 */
async function rollback(compose: ComposeCli, docker: Docker, input: RollbackInput, report: Reporter): Promise<string> {
  const once = { uninterruptible: true };
  const project = input.next.model.project;
  try {
    await docker.forceRemove(input.created, once);
    if (!input.previous) return await removeNewContainers(compose, docker, input, report);
    const pins: Record<string, string> = {};
    for (const s of input.previous.services) {
      const recorded = input.record?.images[s.name];
      if (!recorded?.id) continue;
      const now = await docker.imageId(s.image, once);
      if (now !== recorded.id && (await docker.imageId(recorded.id, once))) pins[s.name] = recorded.id;
    }
    const target = runnable(input.previous, input.previousFile, input.values, input.scratch, 'previous', pins);
    report.step('rollback', `previous version: ${input.previous.services.map((s) => `${s.name} ${pins[s.name] ? `${s.image} (pinned to ${pins[s.name].slice(7, 19)})` : s.image}`).join(', ')}`);
    // In the previous version's start order; nothing interrupts a rollback, its outside probes included.
    const probe = async (containers: ContainerInfo[]) => void (await probeFromOutside(containers, report, input.local));
    await startInOrder(compose, docker, target, report, { step: 'rollback', probe, uninterruptible: true });
    const after = await docker.containers(project, once);
    const down = after.filter((c) => !isUp(c));
    if (down.length > 0) return `the rollback ran but ${down.map((c) => `${c.name} ${describeState(c)}`).join(', ')}`;
    return `rolled back to the previous version (${[...new Set(input.previous.services.map((s) => s.image))].join(', ')}), which is running and healthy`;
  } catch (error) {
    return `the rollback failed too (${(error as Error).message}); see \`docker compose -p ${project} ps\``;
  }
}

/** The rollback without a recorded deploy: removes what this deploy started, and nothing else. */
async function removeNewContainers(compose: ComposeCli, docker: Docker, input: RollbackInput, report: Reporter): Promise<string> {
  const once = { uninterruptible: true };
  if (input.before.length === 0) {
    report.step('rollback', 'nothing ran before: removing the new containers (volumes are kept)');
    await compose.run([input.next.files[0]], ['down', '--remove-orphans'], report, { uninterruptible: true, cron: true });
    return 'nothing ran before, so the new containers were removed (volumes kept)';
  }
  const earlier = new Set(input.before.map((c) => c.id));
  const now = await docker.containers(input.next.model.project, once);
  const fresh = now.filter((c) => !earlier.has(c.id));
  report.step('rollback', `no earlier deploy recorded: removing the ${fresh.length} new container(s); the containers that ran before are left as they are`);
  await docker.forceRemove(fresh.map((c) => c.id), once);
  const kept = now.filter((c) => earlier.has(c.id)).length;
  const replaced = input.before.length - kept;
  return `no earlier deploy is recorded, so the new containers were removed and ${kept} of the ${input.before.length} container(s) that ran before were left untouched${replaced > 0 ? ` (${replaced} had been replaced, as --replace-unrecorded allowed)` : ''}`;
}

function stripWho(error: unknown, who: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(`${who}: `) ? message.slice(who.length + 2) : message;
}

/**
 * The dry run: what a deploy would do, from the keys of the secrets and never their
 * values (none is read, so a CI job plans without production secrets). Compose's config
 * hash covers the secret values, so a service that reads them counts as changed when its
 * rendered configuration differs from the last deploy recorded here (and as unknown
 * without one); a changed value alone is not shown. When the environment's engine cannot
 * be reached from here, one line says so and the plan is the rendered file.
 */
/** The containers of the project; an engine error is an error (nothing is planned on a guess), never "none". */
function runningContainers(docker: Docker, model: ComposeModel, who: string) {
  return docker.containers(model.project).catch((error: Error) => {
    throw new DeployError(`${who}: ${error.message}; what runs now is unknown, so there is no plan and nothing was changed`);
  });
}

async function composePlan(req: DeployRequest, ctx: DeployContext, docker: Docker, rendered: { text: string; relative: string }, model: ComposeModel): Promise<void> {
  const { report } = ctx;
  const keys = secretKeysOf(model);
  const previousText = new StateDir(req.root, req.env, req.project).read('compose.yaml');
  const where = docker.where(ctx.env);
  let versions: { engine: string; compose: string };
  try {
    versions = await docker.versions(where);
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    report.step('engine', `not reachable from here, so the plan is not compared with what runs: ${error.message}`);
    printSecretKeys(report, keys);
    printOrder(report, model, rendered.relative);
    printDryRun(req, report, previousText, rendered.text, null);
    return;
  }
  report.step('engine', `Docker ${versions.engine} with Compose ${versions.compose} at ${where}`);
  printSecretKeys(report, keys);
  if (model.database) report.step('database', `${describeDatabase(model.database)}: a deploy creates or updates it first`);
  const scratch = new SecretScratch(ctx.tmpDir);
  try {
    const { plan, unknown } = await compareWithEngine(req, docker, scratch, rendered, model, previousText, report);
    for (const s of plan.services) {
      const guess = unknown.has(s.service.name) && s.why === 'configuration changed';
      report.step('plan', guess ? `${s.service.name}: recreate if its configuration changed (it reads secret values and no earlier deploy is recorded here to compare with)` : describePlan(s));
    }
    for (const o of plan.orphans) report.step('plan', `${o.name}: remove (service ${o.service} is no longer in the file)`);
    printOrder(report, model, rendered.relative);
    if (model.adopted !== null && model.adopted !== model.project) {
      const running = (await docker.containers(model.adopted)).filter((c) => c.running);
      if (running.length > 0) report.warn(`a deploy would refuse: compose project ${model.adopted}, whose volumes this app takes over, still runs (${running.map((c) => c.name).join(', ')}); stop it first with \`docker compose -p ${model.adopted} stop\``);
      else report.step('adopt', `takes over the volumes of compose project ${model.adopted}, which is not running`);
    }
    const unrestorable = previousText === null && !req.replaceUnrecorded ? displaced(plan) : [];
    if (unrestorable.length > 0) {
      report.warn(`a deploy would refuse: no earlier deploy is recorded on this machine, so a failed deploy could not restore the ${unrestorable.length} running container(s) it replaces (${unrestorable.map((c) => c.name).join(', ')}); pass --replace-unrecorded to replace them anyway`);
    }
    printDryRun(req, report, previousText, rendered.text, plan);
  } finally {
    scratch.remove();
  }
}

/** What a deploy would do compared with what runs, from the secret keys alone (see composePlan). */
export interface EngineComparison {
  plan: ComposePlan;
  /** The containers of the project now. */
  before: ContainerInfo[];
  /** Services that read secret values and run, with no earlier deploy recorded here to compare with. */
  unknown: Set<string>;
  /** With `resolve`: the configuration a deploy would run, without secret values (`docker compose config`). */
  resolved?: string;
}

/**
 * The plan of a deploy against the containers that run, read without any secret value: the
 * config hashes Compose would give each service (a service that reads secret values counts as
 * unchanged when its rendered definition is the one of the last deploy recorded here, and as
 * `unknown` without a record), the images present, the containers. Shared by `deploy --dry-run`
 * and `diff`.
 */
export async function compareWithEngine(
  req: DeployRequest,
  docker: Docker,
  scratch: SecretScratch,
  rendered: { text: string; relative: string },
  model: ComposeModel,
  previousText: string | null,
  report: Reporter,
  resolve = false,
): Promise<EngineComparison> {
  const compose = new ComposeCli(docker, req, scratch.write('empty.env', ''));
  // No secret value: the overlay holds only the config digests, as a deploy's does.
  const next = runnable(model, path.join(req.root, rendered.relative), new Map(), scratch, 'next');
  const [imageIds, before] = await Promise.all([ensureImages(model, docker, compose, next, true, report, label(req)), runningContainers(docker, model, label(req))]);
  const resolved = resolve ? await compose.config(next) : undefined;
  const hashes = await compose.hashes(next, before);
  const unknown = new Set<string>();
  for (const service of model.meta.secrets.services) {
    const running = before.find((c) => c.service === service);
    const same = previousText !== null && sameService(previousText, rendered.text, service);
    if (running && same) hashes.set(service, running.configHash);
    else if (running && previousText === null) unknown.add(service);
    else hashes.delete(service);
  }
  return { plan: planChanges(model, before, hashes, imageIds), before, unknown, ...(resolved === undefined ? {} : { resolved }) };
}

/** The start order, when there is one to keep: several levels, or jobs (see startInOrder). */
function printOrder(report: Reporter, model: ComposeModel, where: string): void {
  const levels = startLevels(model, where);
  if (levels.length > 1 || model.services.some((s) => s.job)) report.step('plan', `start order: ${describeLevels(levels)}`);
}

function printSecretKeys(report: Reporter, keys: SecretKey[]): void {
  report.step('secrets', keys.length === 0 ? 'no secret keys' : `${keys.length} key(s) (${keys.map((k) => k.key).join(', ')}); a dry run reads no value`);
}

/** The service's definition is the same in two rendered files. */
function sameService(a: string, b: string, service: string): boolean {
  const pick = (text: string) => JSON.stringify((YAML.parse(text) as { services?: Record<string, unknown> } | null)?.services?.[service] ?? null);
  try {
    return pick(a) === pick(b);
  } catch {
    return false;
  }
}

/** The diff against the last deploy recorded here and the closing line; `plan` is null when the engine was not reachable. */
function printDryRun(req: DeployRequest, report: Reporter, previousText: string | null, text: string, plan: ComposePlan | null): void {
  const relative = distPaths.compose(req.env, req.project);
  if (previousText === null) {
    report.step('diff', `no earlier deploy recorded in .homelab/state/${req.env}/${req.project}; the whole of ${relative} is new:`);
    for (const line of text.replace(/\n$/, '').split('\n')) report.detail(`+${line}`);
  } else {
    const diff = unifiedDiff(previousText, text, `last deploy (.homelab/state/${req.env}/${req.project}/compose.yaml)`, relative);
    if (diff === '') report.step('diff', `${relative} is the same as the last deploy`);
    else for (const line of diff.replace(/\n$/, '').split('\n')) report.detail(line);
  }
  const outcome = plan === null ? `a deploy would apply ${relative}; the engine was not reached, so what runs there was not compared` : plan.changed ? 'a deploy would change the services above' : 'a deploy would change nothing';
  report.line(`dry run: nothing was changed (${outcome})`);
}
