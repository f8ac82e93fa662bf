import { cronInterval } from '../app/steps/schedule';
import { renderKubernetes } from '../build/dist';
import { APP_LABEL, cannotStart, ENV_LABEL, FIELD_MANAGER, jobFailure, Kubectl, type LiveObject, type LivePod, type Manifest, parseManifests, prepareManifests, pruneSelection, stringifyManifests } from '../deploy/kubernetes';
import { ToolRunner } from '../deploy/process';
import { type DeployProvenance, parseDeployRecord, RECORD_LABEL, sha256 } from '../deploy/record';
import { resolveRequest } from '../deploy/request';
import { DUMP_LABEL } from '../app/steps/backup';
import { InputError, show } from '../errors';
import { diskHost } from '../host';
import { projectEnvironments } from '../project/environments';
import { type Layer, specsDir } from '../project/paths';
import { parseWorkspaceConfig, WORKSPACE_FILE } from '../spec/io';
import type { WorkspaceEnvironment } from '../spec/types';
import type { Drift, Health, LastBackup, LastDeploy, ServiceStatus, StatusRow } from './types';

/**
 * The Kubernetes half of `homelab status`: one row per project (app or component) and Kubernetes
 * environment, read from the cluster of the environment (kubectl with its kubeconfig and kube
 * context, read-only: get and list, nothing else), compared with what git renders now (the
 * overlay built as build and validate build it). docs/deploy.md, "What a deploy leaves on the
 * cluster" and "How status reads a Kubernetes environment", says what is read and why.
 *
 * A Kubernetes environment is one homelab.yaml gives a `kubernetes` entry (a context, a server,
 * or `argocd`), or one where the project has Kubernetes files and no Compose files: an
 * environment with both and no `kubernetes` entry is deployed with Compose (deploy's default),
 * and the Compose reader reports it.
 */
export interface KubernetesStatusOptions {
  /** Only this environment. */
  env?: string;
  /** A project that was never deployed is not ok (`--require-deployed`). */
  requireDeployed?: boolean;
  /** Only these projects (names of apps or components). */
  projects?: string[];
  /** The environment of the kubectl calls (KUBECONFIG, HOMELAB_KUBECTL); default process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /** The time the report is read at (ISO 8601), for backup staleness; default now. */
  now?: string;
}

/** Kinds whose pods run the project's services. */
const WORKLOAD_KINDS = ['apps/v1/Deployment', 'apps/v1/StatefulSet', 'apps/v1/DaemonSet', 'batch/v1/CronJob', 'batch/v1/Job'];
const HPA_KIND = 'autoscaling/v2/HorizontalPodAutoscaler';
const POD_KIND = 'core/v1/Pod';
const APPLICATION_KIND = 'argoproj.io/v1alpha1/Application';
/** Deployment's default `progressDeadlineSeconds`: how long a StatefulSet's or DaemonSet's pod may stay not ready in a rollout before it counts as unhealthy. */
export const PROGRESS_DEADLINE_SECONDS = 600;
/** Field managers that are the cluster's own controllers (or a restart by hand), never a hand change of what git sets. */
const SYSTEM_MANAGERS = new Set(['kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-apiserver', 'kubectl-rollout', 'argocd-controller']);
/** How many rows are read at once (each is a kustomize build and a few kubectl calls). */
const CONCURRENCY = 4;

/** A live object as `kubectl get -o json` returns it, with what status reads. */
export interface Live extends LiveObject {
  metadata: LiveObject['metadata'] & {
    generation?: number;
    creationTimestamp?: string;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; operation?: string; subresource?: string; time?: string; fieldsV1?: Record<string, unknown> }[];
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** Status rows of every project × Kubernetes environment of the workspace at `root`. */
export async function kubernetesStatus(root: string, options: KubernetesStatusOptions = {}): Promise<StatusRow[]> {
  const host = diskHost(root);
  const workspace = parseWorkspaceConfig(host.read(WORKSPACE_FILE));
  if (options.env !== undefined && !workspace.environments.some((e) => e.name === options.env)) {
    throw new InputError(`--env ${show(options.env)} is not an environment of ${WORKSPACE_FILE}; use one of ${workspace.environments.map((e) => show(e.name)).join(', ')}`);
  }
  const envs = workspace.environments.filter((e) => !options.env || e.name === options.env);
  const jobs: (() => Promise<StatusRow>)[] = [];
  for (const layer of ['applications', 'infrastructure'] as const) {
    const names = host
      .list(specsDir(layer))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .filter((n) => !options.projects || options.projects.includes(n));
    for (const project of names) {
      const files = projectEnvironments(host, layer, project);
      for (const settings of envs) {
        const found = files.find((f) => f.env === settings.name);
        if (!found || !isKubernetesEnvironment(settings, found)) continue;
        jobs.push(() => projectStatus(root, layer, project, settings, options));
      }
    }
  }
  const rows = await pool(jobs, CONCURRENCY);
  const envOrder = workspace.environments.map((e) => e.name);
  return rows.sort((a, b) => a.project.localeCompare(b.project) || envOrder.indexOf(a.environment) - envOrder.indexOf(b.environment));
}

/** Whether the Kubernetes reader reports the project in this environment (see the module's comment). */
export function isKubernetesEnvironment(settings: WorkspaceEnvironment, files: { kubernetes: boolean; compose: boolean }): boolean {
  return files.kubernetes && (settings.kubernetes !== undefined || !files.compose);
}

async function pool<T>(jobs: (() => Promise<T>)[], size: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, jobs.length) }, worker));
  return out;
}

async function projectStatus(root: string, layer: Layer, project: string, settings: WorkspaceEnvironment, options: KubernetesStatusOptions): Promise<StatusRow> {
  const env = settings.name;
  const base: StatusRow = {
    project, layer, environment: env, platform: 'kubernetes', deployed: false, wantedVersion: null, runningVersion: null,
    health: 'unknown', services: [], drift: [], lastDeploy: null, lastBackup: null, problems: [], ok: false,
  };
  let wanted: Manifest[];
  let request: ReturnType<typeof resolveRequest>;
  try {
    request = resolveRequest(root, project, { layer, env, platform: 'kubernetes' });
    const { namespace } = request.kubernetes;
    wanted = prepareManifests(parseManifests(renderKubernetes(root, layer, project, env), `the overlay of ${project} in ${env}`), { project, env, namespace });
  } catch (error) {
    return { ...base, problems: [`${project} (${env}): cannot render what git wants: ${(error as Error).message}`] };
  }
  const { namespace, argocd, argocdApp, argocdNamespace, context } = request.kubernetes;
  const processEnv = options.processEnv ?? process.env;
  const kubectl = new Kubectl({ tools: new ToolRunner(processEnv), env: processEnv }, context);
  const who = `${project} (${env})`;
  let live: Live[];
  let pods: LivePod[];
  let record: DeployProvenance | null = null;
  let application: Live | null | undefined;
  try {
    const kinds = [...new Set([...wanted.filter((d) => d.kind !== 'Namespace').map(kindKey), ...WORKLOAD_KINDS, HPA_KIND])].sort();
    // Direct deploys label every object: the selector finds them in any namespace, and those git no longer renders.
    // ArgoCD applies git as it is (no homelab label): the project's namespace is read.
    const selector = `${APP_LABEL}=${project},${ENV_LABEL}=${env}`;
    // The three reads are independent: asked at once.
    const [objects, podList, extra] = await Promise.all([
      kubectl.list(kinds, argocd ? { namespace } : { selector }, `${who}: kubectl get`, true),
      kubectl.list([POD_KIND], { namespace }, `${who}: kubectl get pods`, true),
      argocd
        ? kubectl.list([APPLICATION_KIND], { namespace: argocdNamespace }, `${who}: kubectl get applications`, true)
        : kubectl.list(['core/v1/ConfigMap'], { selector: `${RECORD_LABEL}=${project},${ENV_LABEL}=${env}` }, `${who}: kubectl get (deploy record)`, true),
    ]);
    live = objects as Live[];
    pods = podList as unknown as LivePod[];
    if (argocd) application = (extra as Live[]).find((a) => a.metadata.name === argocdApp) ?? null;
    else record = parseDeployRecord((extra as Live[]).find((r) => r.metadata.namespace === namespace) ?? (extra[0] as Live | undefined));
  } catch (error) {
    return { ...base, problems: [`${who}: cannot read the cluster (${kubectl.where}): ${(error as Error).message.replace(`${who}: `, '')}`] };
  }
  const now = Date.parse(options.now ?? new Date().toISOString());
  const view = readProject({ project, env, wanted, live, pods, record, argocd: argocd ? { application, name: argocdApp, namespace: argocdNamespace } : undefined, now, renderedDigest: sha256(stringifyManifests(wanted)) });
  return finishRow({ ...base, ...view }, options.requireDeployed ?? false);
}

/** Everything one row needs, read from the cluster: pure input of readProject. */
export interface ProjectView {
  project: string;
  env: string;
  /** What git renders, as deploy applies it (labels and namespace added). */
  wanted: Manifest[];
  live: Live[];
  pods: LivePod[];
  /** The record of the last direct deploy (deploy/record.ts). */
  record: DeployProvenance | null;
  /** Where ArgoCD manages the environment: the project's Application, null when it does not exist. */
  argocd?: { application: Live | null | undefined; name: string; namespace: string };
  /** Milliseconds since the epoch. */
  now: number;
  /** sha256 of the manifests git renders now, as a deploy records it. */
  renderedDigest: string;
}

type RowView = Pick<StatusRow, 'deployed' | 'wantedVersion' | 'runningVersion' | 'health' | 'services' | 'drift' | 'lastDeploy' | 'lastBackup' | 'argocd' | 'problems'>;

/** One row from what was read: services and their health, drift, last deploy and backup, ArgoCD. Pure. */
export function readProject(v: ProjectView): RowView {
  const problems: string[] = [];
  const byId = new Map(v.live.map((o) => [identity(o), o]));
  const workloads = v.wanted.filter((d) => isWorkload(d.kind));
  const hpaTargets = new Set(
    [...v.wanted, ...v.live]
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((o) => `${(o as Live).spec?.scaleTargetRef?.kind}/${(o as Live).spec?.scaleTargetRef?.name}`),
  );
  // Deployed: a deploy's record, ArgoCD's Application, or any object of the project on the cluster.
  const deployed = v.record !== null || Boolean(v.argocd?.application) || v.live.some((o) => o.kind !== 'Namespace');

  const services: ServiceStatus[] = workloads.map((w) => {
    const found = byId.get(identity(w));
    const ref = `${w.kind}/${w.metadata.name}`;
    const wantedImage = mainImage(w);
    if (!found) return { name: ref, wantedImage, runningImage: null, health: deployed ? 'unhealthy' : 'not-deployed', state: 'missing' };
    return { name: ref, wantedImage, ...workloadHealth(found, podsOf(found, v.pods), v.now) };
  });

  // ArgoCD's objects carry no homelab label: what it would prune is its own OutOfSync, not listed here.
  const drift: Drift[] = deployed ? objectDrift(v.wanted, v.live, { hpaTargets, extras: !v.argocd }) : [];
  if (deployed && v.record && v.record.renderedDigest !== v.renderedDigest && drift.length === 0) {
    drift.push({ what: 'manifests', wanted: `${short(v.renderedDigest)} (git now)`, running: `${short(v.record.renderedDigest)} (last deploy)` });
  }

  const main = mainWorkload(workloads, v.project);
  const mainStatus = main ? services.find((s) => s.name === `${main.kind}/${main.metadata.name}`) : undefined;
  const health: Health = deployed ? worst(services.map((s) => s.health)) : 'not-deployed';

  let argocd: StatusRow['argocd'];
  if (v.argocd) {
    const app = v.argocd.application;
    const shown = v.argocd.namespace === 'argocd' ? v.argocd.name : `${v.argocd.namespace}/${v.argocd.name}`;
    if (!app) {
      argocd = null;
      problems.push(`ArgoCD application ${shown} does not exist yet: ArgoCD creates it from git (platform/argocd/applications); push the change, or sync the root application`);
    } else {
      argocd = { application: shown, sync: app.status?.sync?.status ?? 'Unknown', health: app.status?.health?.status ?? 'Unknown' };
      if (argocd.sync !== 'Synced') problems.push(`ArgoCD application ${shown} is ${argocd.sync}${app.status?.sync?.revision ? ` (revision ${String(app.status.sync.revision).slice(0, 12)})` : ''}`);
      if (argocd.health !== 'Healthy') problems.push(`ArgoCD application ${shown} is ${argocd.health}${app.status?.health?.message ? `: ${app.status.health.message}` : ''}`);
    }
  }

  if (deployed) {
    for (const s of services) if (s.health !== 'healthy') problems.push(`${s.name} is ${s.health} (${s.state})`);
    for (const d of drift) problems.push(`drift: ${d.service ? `${d.service} ` : ''}${d.what}: git renders ${d.wanted}, the cluster has ${d.running}`);
  }
  const lastBackup = backupStatus(v.wanted, v.live, v.now);
  if (deployed && lastBackup && !lastBackup.healthy) {
    problems.push(lastBackup.at ? `the last successful backup is from ${lastBackup.at}, older than twice the schedule (${lastBackup.schedule})` : `no backup has succeeded within twice the schedule (${lastBackup.schedule}) of its creation`);
  }
  return {
    deployed,
    wantedVersion: main ? imageVersion(mainImage(main)) : null,
    runningVersion: deployed && mainStatus ? imageVersion(mainStatus.runningImage) : null,
    health,
    services,
    drift,
    lastDeploy: lastDeploy(v),
    lastBackup,
    ...(v.argocd ? { argocd } : {}),
    problems,
  };
}

/** Adds `ok`, and the not-deployed line under `--require-deployed`. */
export function finishRow(row: StatusRow, requireDeployed: boolean): StatusRow {
  const problems = [...row.problems];
  if (!row.deployed && requireDeployed) problems.push(`${row.project} was never deployed to ${row.environment} (--require-deployed)`);
  // Not deployed is ok unless it is required; but an ArgoCD environment without the Application (a problem line) never is.
  const ok = row.deployed ? problems.length === 0 && row.health === 'healthy' : problems.length === 0;
  return { ...row, problems, ok };
}

function lastDeploy(v: ProjectView): LastDeploy | null {
  if (v.argocd) {
    const op = v.argocd.application?.status?.operationState;
    if (!op || op.phase !== 'Succeeded' || !op.finishedAt) return null;
    return { at: op.finishedAt, commit: op.syncResult?.revision ?? v.argocd.application?.status?.sync?.revision ?? null };
  }
  if (!v.record) return null;
  return { at: v.record.at, commit: v.record.dirty ? null : v.record.commit, ...(v.record.dirty ? { dirty: true } : {}) };
}

/** The health of one live workload and its pods, in a word and in platform words. Pure. */
export function workloadHealth(w: Live, pods: LivePod[], now: number): Pick<ServiceStatus, 'runningImage' | 'health' | 'state' | 'restarts'> {
  const spec = w.spec ?? {};
  const status = w.status ?? {};
  const restarts = pods.reduce((n, p) => n + ((p as Live).status?.containerStatuses ?? []).reduce((m: number, c: { restartCount?: number }) => m + (c.restartCount ?? 0), 0), 0);
  const template = w.kind === 'CronJob' ? spec.jobTemplate?.spec?.template : spec.template;
  const running = runningImage(w, template, pods);
  const stuck = cannotStart(pods);
  const observed = (status.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
  const done = (health: Health, state: string, image: string | null = running) => ({ runningImage: image, health, state, restarts });

  if (w.kind === 'CronJob') {
    if (spec.suspend) return done('stopped', 'suspended', null);
    const last = status.lastSuccessfulTime ? `last success ${status.lastSuccessfulTime}` : 'no successful run yet';
    if (stuck) return done('unhealthy', `${last}; ${stuck}`);
    return done('healthy', `schedule ${spec.schedule}, ${last}`, imageOf(template, w.metadata.name));
  }
  if (w.kind === 'Job') {
    const failed = jobFailure(w as never);
    if (failed) return done('unhealthy', `failed: ${failed}`);
    if ((status.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True')) return done('healthy', 'complete', imageOf(template, w.metadata.name));
    return done(stuck ? 'unhealthy' : 'starting', stuck ?? 'running');
  }
  const desired = w.kind === 'DaemonSet' ? (status.desiredNumberScheduled ?? 0) : (spec.replicas ?? 1);
  const ready = w.kind === 'DaemonSet' ? (status.numberReady ?? 0) : (status.readyReplicas ?? 0);
  const updated = w.kind === 'DaemonSet' ? (status.updatedNumberScheduled ?? 0) : (status.updatedReplicas ?? 0);
  const total = w.kind === 'DaemonSet' ? (status.currentNumberScheduled ?? 0) : (status.replicas ?? 0);
  const counts = `${ready}/${desired} ready`;
  if (desired === 0) return done('stopped', w.kind === 'DaemonSet' ? 'no node to run on' : 'scaled to 0', null);
  if (stuck) return done('unhealthy', `${counts}; ${stuck}`);
  const deadline = (status.conditions ?? []).find((c: { type: string; status: string; reason?: string }) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  if (deadline) return done('unhealthy', `${counts}; rollout past its progress deadline`);
  const rolling =
    !observed || updated < desired || total > updated || (w.kind === 'StatefulSet' && status.updateRevision && status.currentRevision && status.updateRevision !== status.currentRevision);
  if (ready >= desired && !rolling) return done('healthy', counts);
  // A pod not ready for longer than a rollout may take is not a rollout in progress any more.
  const late = pods.some((p) => !podReady(p as Live) && age(p as Live, now) > PROGRESS_DEADLINE_SECONDS);
  if (rolling && !late) return done('starting', `${counts}, rollout in progress`);
  return done('unhealthy', counts);
}

function podReady(p: Live): boolean {
  return (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

function age(o: Live, now: number): number {
  const t = Date.parse(o.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : (now - t) / 1000;
}

/** The pods of a workload: its selector's labels, in its namespace, not being deleted. */
function podsOf(w: Live, pods: LivePod[]): LivePod[] {
  const match = w.spec?.selector?.matchLabels as Record<string, string> | undefined;
  if (!match || Object.keys(match).length === 0) return [];
  return pods.filter((p) => {
    const m = (p as unknown as Live).metadata;
    return (m.namespace ?? w.metadata.namespace) === w.metadata.namespace && !p.metadata.deletionTimestamp && Object.entries(match).every(([k, val]) => m.labels?.[k] === val);
  });
}

/** The main container's image the pods run (several when a rollout is in between), else the live template's. */
function runningImage(w: Live, template: any, pods: LivePod[]): string | null {
  const name = mainContainerName(template, w.metadata.name);
  const images = [...new Set(pods.map((p) => ((p as Live).spec?.containers ?? []).find((c: { name: string }) => c.name === name)?.image).filter((i): i is string => typeof i === 'string'))].sort();
  if (images.length > 0) return images.join(', ');
  return imageOf(template, w.metadata.name);
}

function mainContainerName(template: any, workload: string): string | undefined {
  const containers: { name: string }[] = template?.spec?.containers ?? [];
  return (containers.find((c) => c.name === workload) ?? containers[0])?.name;
}

function imageOf(template: any, workload: string): string | null {
  const containers: { name: string; image?: string }[] = template?.spec?.containers ?? [];
  return (containers.find((c) => c.name === workload) ?? containers[0])?.image ?? null;
}

function templateOf(o: { kind: string; spec?: any }): any {
  return o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
}

function mainImage(w: Manifest): string | null {
  return imageOf(templateOf(w as Live), w.metadata.name);
}

/** The workload that stands for the project: the one named after it, else the first long-running one, else the first. */
function mainWorkload(workloads: Manifest[], project: string): Manifest | undefined {
  return (
    workloads.find((w) => w.metadata.name === project && !['CronJob', 'Job'].includes(w.kind)) ??
    workloads.find((w) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(w.kind)) ??
    workloads[0]
  );
}

/**
 * The version an image reference names: its digest when pinned by one, else its tag (`latest`
 * when it has none). Several images (a rollout in between) give their versions joined.
 * @example imageVersion('ghcr.io/org/app:1.2@sha256:abc') // 'sha256:abc'
 * @example imageVersion('registry.local:5000/app') // 'latest'
 */
export function imageVersion(image: string | null): string | null {
  if (!image) return null;
  if (image.includes(', ')) return image.split(', ').map((i) => imageVersion(i)).join(', ');
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : 'latest';
}

const RANK: Health[] = ['healthy', 'starting', 'stopped', 'unhealthy', 'unknown', 'not-deployed'];

/** The row's health: its worst service's (a project with no workload is healthy when deployed). */
export function worst(healths: Health[]): Health {
  const known = healths.filter((h) => h !== 'not-deployed');
  if (known.length === 0) return healths.length > 0 ? 'unhealthy' : 'healthy';
  return known.reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a));
}

/**
 * What differs between git and the cluster, for the fields git sets, object by object:
 * - a rendered object missing from the cluster; an object of the project (its labels) that git no longer renders;
 * - in each workload, per container: the image, and each environment variable (name, value or source);
 *   replicas (Deployment, StatefulSet), unless a HorizontalPodAutoscaler manages them; a CronJob's schedule and suspend;
 * - a ConfigMap's data, per key; a Secret's data by its hash only (`***` both sides);
 * - where none of those differ: a field of the object's spec or data that a field manager other
 *   than deploy's (or the cluster's controllers) changed: a hand edit of a field the list above does not cover.
 * Pure.
 */
export function objectDrift(wanted: Manifest[], live: Live[], options: { hpaTargets?: Set<string>; extras?: boolean } = {}): Drift[] {
  const hpaTargets = options.hpaTargets ?? new Set<string>();
  const out: Drift[] = [];
  const byId = new Map(live.map((o) => [identity(o), o]));
  for (const w of wanted) {
    if (w.kind === 'Namespace') continue;
    const ref = `${w.kind}/${w.metadata.name}`;
    const l = byId.get(identity(w));
    if (!l) {
      out.push({ service: ref, what: 'missing object', wanted: ref, running: '(absent)' });
      continue;
    }
    const before = out.length;
    const wl = w as unknown as Live;
    if (isWorkload(w.kind)) {
      workloadDrift(ref, wl, l, hpaTargets.has(ref), out);
    } else if (w.kind === 'ConfigMap') {
      for (const field of ['data', 'binaryData'] as const) {
        for (const key of keys(wl[field], l[field])) {
          const a = wl[field]?.[key];
          const b = l[field]?.[key];
          if (a !== b) out.push({ service: ref, what: `config ${key}`, wanted: configValue(a), running: configValue(b) });
        }
      }
    } else if (w.kind === 'Secret') {
      // Secret values never leave this function: only whether their hashes differ.
      for (const key of keys({ ...wl.data, ...(wl as { stringData?: Record<string, string> }).stringData }, l.data)) {
        const a = wl.data?.[key] ?? encode((wl as { stringData?: Record<string, string> }).stringData?.[key]);
        const b = l.data?.[key];
        if ((a === undefined) !== (b === undefined) || sha256(a ?? '') !== sha256(b ?? '')) {
          out.push({ service: ref, what: `secret ${key}`, wanted: a === undefined ? '(unset)' : '***', running: b === undefined ? '(unset)' : '***' });
        }
      }
    }
    if (out.length === before && ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'ConfigMap', 'Secret'].includes(w.kind)) {
      const edit = handEdit(l);
      if (edit) out.push({ service: ref, what: 'hand edit', wanted: `fields as ${FIELD_MANAGER} applied them`, running: edit });
    }
  }
  // What carries the project's labels but git no longer renders: what the next deploy prunes.
  if (options.extras === false) return out;
  const kinds = [...new Set(live.map(kindKey))];
  for (const extra of pruneSelection(live, wanted, kinds)) {
    out.push({ service: `${extra.kind}/${extra.name}`, what: 'extra object', wanted: '(not rendered)', running: `${extra.kind}/${extra.name}` });
  }
  return out;
}

function workloadDrift(ref: string, w: Live, l: Live, autoscaled: boolean, out: Drift[]): void {
  if (['Deployment', 'StatefulSet'].includes(w.kind) && !autoscaled) {
    const a = w.spec?.replicas ?? 1;
    const b = l.spec?.replicas ?? 1;
    if (a !== b) out.push({ service: ref, what: 'replicas', wanted: String(a), running: String(b) });
  }
  if (w.kind === 'CronJob') {
    if ((w.spec?.schedule ?? '') !== (l.spec?.schedule ?? '')) out.push({ service: ref, what: 'schedule', wanted: String(w.spec?.schedule), running: String(l.spec?.schedule) });
    if (Boolean(w.spec?.suspend) !== Boolean(l.spec?.suspend)) out.push({ service: ref, what: 'suspend', wanted: String(Boolean(w.spec?.suspend)), running: String(Boolean(l.spec?.suspend)) });
  }
  const wantedPod = templateOf(w)?.spec ?? {};
  const livePod = templateOf(l)?.spec ?? {};
  for (const list of ['initContainers', 'containers'] as const) {
    const liveByName = new Map<string, any>((livePod[list] ?? []).map((c: { name: string }) => [c.name, c]));
    const single = (wantedPod[list] ?? []).length === 1 && list === 'containers';
    for (const c of (wantedPod[list] ?? []) as { name: string; image?: string; env?: EnvVar[] }[]) {
      const lc = liveByName.get(c.name);
      const where = single || c.name === w.metadata.name ? '' : ` (container ${c.name})`;
      if (!lc) {
        out.push({ service: ref, what: `missing container ${c.name}`, wanted: c.name, running: '(absent)' });
        continue;
      }
      if (c.image !== lc.image) out.push({ service: ref, what: `image${where}`, wanted: String(c.image), running: String(lc.image) });
      out.push(...envDrift(ref, where, c.env ?? [], lc.env ?? []));
    }
  }
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

/**
 * Each variable set differently: a plain value git renders is shown on both sides (it is in git);
 * a value only the cluster has is never shown (someone may have set a password by hand); a
 * variable from a Secret or ConfigMap shows where it comes from.
 */
export function envDrift(ref: string, where: string, wanted: EnvVar[], live: EnvVar[]): Drift[] {
  const out: Drift[] = [];
  const w = new Map(wanted.map((e) => [e.name, e]));
  const l = new Map(live.map((e) => [e.name, e]));
  const shown = (e: EnvVar | undefined, plain: boolean): string => {
    if (!e) return '(unset)';
    if (e.valueFrom !== undefined) return `from ${JSON.stringify(e.valueFrom)}`;
    return plain ? JSON.stringify(e.value ?? '') : '(a value set by hand, not shown)';
  };
  for (const name of [...new Set([...w.keys(), ...l.keys()])]) {
    const a = w.get(name);
    const b = l.get(name);
    if (a && b && (a.value ?? '') === (b.value ?? '') && JSON.stringify(a.valueFrom) === JSON.stringify(b.valueFrom)) continue;
    // The cluster's value is shown only where git sets the variable to a plain value: it replaces configuration, not a secret.
    const gitHasPlain = a !== undefined && a.valueFrom === undefined;
    out.push({ service: ref, what: `env ${name}${where}`, wanted: shown(a, true), running: shown(b, gitHasPlain) });
  }
  return out;
}

/**
 * Who changed the object by hand: a field manager other than deploy's and the cluster's own
 * controllers that owns a field of its spec or data (`kubectl edit` is `kubectl-edit`, `kubectl
 * set` is `kubectl-set`, `kubectl scale` is `kubectl` on the scale subresource), as
 * `kubectl-edit at 2026-11-30T10:00:00Z: spec.template.spec.containers`; undefined when none did.
 */
export function handEdit(l: Live): string | undefined {
  for (const m of l.metadata.managedFields ?? []) {
    if (!m.manager || m.manager === FIELD_MANAGER || SYSTEM_MANAGERS.has(m.manager) || m.subresource === 'status') continue;
    const fields = m.fieldsV1 ?? {};
    const owned = m.subresource === 'scale' ? ['spec.replicas'] : ownedPaths(fields).filter((p) => p.startsWith('spec') || p.startsWith('data') || p.startsWith('binaryData'));
    if (owned.length === 0) continue;
    return `${m.manager}${m.time ? ` at ${m.time}` : ''}: ${owned.slice(0, 3).join(', ')}${owned.length > 3 ? ', …' : ''}`;
  }
  return undefined;
}

/** The top fields (three levels) a managedFields entry owns, as dotted paths. */
function ownedPaths(fields: Record<string, unknown>, prefix = '', depth = 0): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (!k.startsWith('f:')) continue;
    const p = prefix ? `${prefix}.${k.slice(2)}` : k.slice(2);
    const children = v && typeof v === 'object' ? Object.keys(v).filter((c) => c.startsWith('f:')) : [];
    if (depth >= 3 || children.length === 0) out.push(p);
    else out.push(...ownedPaths(v as Record<string, unknown>, p, depth + 1));
  }
  return [...new Set(out)];
}

/**
 * The project's backups on Kubernetes: VolSync ReplicationSources (a volume's restic copy,
 * `status.lastSyncTime` is its last successful sync) and the database dump CronJobs (pods
 * labelled homelab.dev/backup-dump, `status.lastSuccessfulTime`). The backup's time is the oldest
 * of their last successes: one volume that stopped backing up makes the project's backup stale.
 * Stale when older than twice the schedule's longest gap (cronInterval), as the stale-backup alert.
 * Null when the project renders no backup. Pure.
 */
export function backupStatus(wanted: Manifest[], live: Live[], now: number): LastBackup | null {
  const byId = new Map(live.map((o) => [identity(o), o]));
  const sources = wanted
    .map((w) => {
      const l = byId.get(identity(w));
      const created = Date.parse(l?.metadata.creationTimestamp ?? '');
      if (w.kind === 'ReplicationSource') return { schedule: (w as Live).spec?.trigger?.schedule as string | undefined, at: (l?.status?.lastSyncTime as string | undefined) ?? null, created };
      if (w.kind === 'CronJob' && templateOf(w as Live)?.metadata?.labels?.[DUMP_LABEL] !== undefined) {
        return { schedule: (w as Live).spec?.schedule as string | undefined, at: (l?.status?.lastSuccessfulTime as string | undefined) ?? null, created };
      }
      return null;
    })
    .filter((s): s is { schedule: string | undefined; at: string | null; created: number } => s !== null);
  if (sources.length === 0) return null;
  const schedule = sources.find((s) => s.schedule)?.schedule ?? '';
  const at = sources.some((s) => s.at === null) ? null : sources.map((s) => s.at as string).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  let interval: number;
  try {
    interval = Math.max(...sources.map((s) => cronInterval(s.schedule ?? '', 'backup.schedule')));
  } catch {
    return { at, schedule, healthy: false };
  }
  // A source that has not succeeded yet counts from its creation: a new backup is given twice its schedule's gap to run once.
  const since = sources.map((s) => (s.at !== null ? Date.parse(s.at) : s.created)).reduce((a, b) => Math.min(a, b), Infinity);
  return { at, schedule, healthy: Number.isFinite(since) && now - since <= 2 * interval * 1000 };
}

function isWorkload(kind: string): boolean {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job'].includes(kind);
}

/** API group, kind, namespace and name: the version kubectl lists may differ from the one rendered. */
function identity(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : 'core';
  return `${group}/${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function kindKey(d: { apiVersion: string; kind: string }): string {
  const [group, version] = d.apiVersion.includes('/') ? d.apiVersion.split('/') : ['core', d.apiVersion];
  return `${group}/${version}/${d.kind}`;
}

function keys(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}

function encode(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'utf8').toString('base64');
}

/** A ConfigMap value as a report shows it: short ones as they are, long ones by size and digest. */
function configValue(value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (value.length <= 60 && !value.includes('\n')) return JSON.stringify(value);
  return `${value.length} bytes, ${short(sha256(value))}`;
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}
