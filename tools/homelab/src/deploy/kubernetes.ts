import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { ensureRendered } from '../build/dist';
import { projectPaths } from '../project/paths';
import type { DeployContext } from './compose';
import { unifiedDiff } from './diff';
import { DeployError } from './errors';
import { InterruptedError, type RunOptions, type ToolResult } from './process';
import { deployRecordManifest, gitProvenance, provenancePaths, recordName, sha256 } from './record';
import { label, type DeployRequest } from './request';
import { type KubernetesRecord, StateDir } from './state';

/** Field manager of every server-side apply, so ownership of fields is visible in the cluster. */
export const FIELD_MANAGER = 'homelab';
/** Labels deploy adds to every object it applies: how the next deploy finds what to prune. */
export const APP_LABEL = 'homelab.dev/app';
export const ENV_LABEL = 'homelab.dev/environment';
/** How long a sync or a rollout may take before deploy gives up (a first image pull on a slow link counts too). */
export const KUBERNETES_TIMEOUT_SECONDS = 300;
/** How often a rollout that is still in progress is checked for pods that cannot start. */
export const ROLLOUT_CHECK_SECONDS = 5;
/**
 * Container states in which a pod will not become ready by waiting: the deploy fails at once
 * instead of after the timeout, as a person watching `kubectl get pods` would give up.
 */
export const FATAL_WAITING_REASONS = new Set([
  'CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
]);

/** ArgoCD's sync wave annotation: render gives each service's objects its level in the start order (no annotation: wave 0). */
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
/** The label the Job controller gives a Job's pods (Kubernetes 1.27+). */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** Kinds that have no namespace: deploy does not give them one. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'IngressClass', 'RuntimeClass',
  'CSIDriver', 'VolumeSnapshotClass', 'GatewayClass', 'ClusterIssuer', 'ClusterSecretStore', 'ClusterExternalSecret',
]);
const ROLLOUT_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** Never pruned: a claim that is no longer rendered keeps its data until down deletes data. */
const KEPT_KIND = 'core/v1/PersistentVolumeClaim';
/** Kinds a deploy never deletes on its own. */
const NEVER_PRUNED = new Set([KEPT_KIND, 'core/v1/Namespace']);

/**
 * The Kubernetes adapter. Two modes, chosen per environment in homelab.yaml:
 * - ArgoCD (`kubernetes.argocd`, the default): the cluster follows git, so deploy asks
 *   ArgoCD to sync the app's Application now and waits until it is Synced and Healthy
 *   (`argocd app sync`, then `argocd app wait --sync --health`). What is deployed is the
 *   commit ArgoCD tracks, not the working tree.
 * - direct (`kubernetes.argocd: false`): server-side apply of the rendered manifests to
 *   the environment's kube context, with every object labelled with the app and the
 *   environment, then `kubectl rollout status` of each workload, then pruning: the
 *   objects with those labels (of the kinds applied now or last time) that are no longer
 *   rendered are deleted, PersistentVolumeClaims never. (kubectl's own `--prune` refuses
 *   server-side apply.) A failure re-applies the last successful manifests and prunes
 *   back to them.
 */
export async function kubernetesDeploy(req: DeployRequest, ctx: DeployContext, cluster?: ClusterApi): Promise<void> {
  const { report } = ctx;
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'kubernetes');
  const docs = parseManifests(rendered.text, rendered.relative);
  report.step('render', `${rendered.relative}: ${docs.length} object(s)`);
  if (req.kubernetes.argocd) return argocdSync(req, ctx, docs, rendered.relative);
  return directApply(req, ctx, docs, cluster ?? new Kubectl(ctx, req.kubernetes.context));
}

async function argocdSync(req: DeployRequest, ctx: DeployContext, docs: Manifest[], relative: string): Promise<void> {
  const { report, tools } = ctx;
  const who = label(req);
  const app = req.kubernetes.argocdNamespace === 'argocd' ? req.kubernetes.argocdApp : `${req.kubernetes.argocdNamespace}/${req.kubernetes.argocdApp}`;
  report.step('argocd', `application ${app}: ArgoCD deploys the commit it tracks; push your changes first`);
  const stream: RunOptions = { onLine: (l) => report.detail(l) };
  if (req.dryRun) {
    const diff = await runForPlan(ctx, 'argocd', ['app', 'diff', app], stream);
    if (diff.code === 0) report.line('dry run: nothing was changed (the live state already matches git)');
    else if (diff.code === 1) report.line('dry run: nothing was changed (a sync would apply the differences above)');
    else printOfflinePlan(report, prepareManifests(docs, { project: req.project, env: req.env, namespace: req.kubernetes.namespace }), relative, `argocd app diff ${app}: ${diff.reason}`);
    return;
  }
  const timeout = String(KUBERNETES_TIMEOUT_SECONDS);
  report.step('sync', `argocd app sync ${app}`);
  const sync = await tools.run('argocd', ['app', 'sync', app, '--timeout', timeout], stream);
  if (sync.code !== 0) throw new DeployError(`${who}: argocd app sync ${app} failed: ${tools.tail(sync)}`);
  report.step('wait', `argocd app wait ${app} --sync --health`);
  const wait = await tools.run('argocd', ['app', 'wait', app, '--sync', '--health', '--timeout', timeout], stream);
  if (wait.code !== 0) {
    throw new DeployError(
      `${who}: ${app} did not become Synced and Healthy: ${tools.tail(wait)}; ArgoCD keeps the Application's own retry policy, roll back with git revert (or argocd app rollback when auto-sync is off)`,
    );
  }
  report.line(`deployed ${req.project} to ${req.env}: ArgoCD application ${app} is Synced and Healthy`);
}

async function directApply(req: DeployRequest, ctx: DeployContext, docs: Manifest[], kubectl: ClusterApi): Promise<void> {
  const { report } = ctx;
  const who = label(req);
  const state = new StateDir(req.root, req.env, req.project);
  const namespace = req.kubernetes.namespace;
  const prepared = prepareManifests(docs, { project: req.project, env: req.env, namespace });
  const record = state.readJson<KubernetesRecord>('kubernetes.json');
  const previous = state.read('kubernetes.yaml');
  const kinds = appliedKinds(prepared);
  // Kinds applied now or last time: a kind the app no longer renders is pruned too.
  const pruneKinds = [...new Set([...kinds, ...(record?.kinds ?? [])])].filter((k) => !NEVER_PRUNED.has(k)).sort();
  const manifest = stringifyManifests(prepared);
  const selector = appSelector(req);
  report.step('target', `namespace ${namespace}, ${kubectl.where}; objects labelled ${selector}`);

  const waves = syncWaves(prepared, 'the rendered manifests');
  if (req.dryRun) {
    let changes: boolean;
    // A Job is deleted and created again by every deploy; its template cannot change in place, so `kubectl diff` would refuse it.
    const jobs = prepared.filter((d) => d.kind === 'Job');
    try {
      changes = await kubectl.diff(stringifyManifests(prepared.filter((d) => d.kind !== 'Job')), `${who}: kubectl diff`, { onLine: (l) => report.detail(l) });
    } catch (error) {
      // A plan needs no cluster: without one it says why and lists what a deploy would apply.
      if (!(error instanceof DeployError)) throw error;
      printOfflinePlan(report, prepared, 'the rendered manifests', error.message.replace(`${who}: `, ''));
      return;
    }
    for (const j of jobs) report.step('plan', `job/${j.metadata.name}: deleted and created again (a Job runs on every deploy), then waited for until it succeeds`);
    printWaves(report, waves);
    if (previous !== null) {
      const local = unifiedDiff(previous, manifest, `last deploy (.homelab/state/${req.env}/${req.project}/kubernetes.yaml)`, 'rendered now');
      for (const line of local.replace(/\n$/, '').split('\n').filter((l) => l !== '')) report.detail(line);
    }
    const stale = pruneSelection(await kubectl.list(pruneKinds, { selector }, `${who}: kubectl get`), prepared, pruneKinds);
    report.step('prune', stale.length === 0 ? 'nothing to delete' : `would delete ${stale.map(describeRef).join(', ')}`);
    report.line(`dry run: nothing was changed (${changes ? 'an apply would change the objects above' : jobs.length > 0 ? 'the cluster already matches, and the jobs above would run again' : 'the cluster already matches'})`);
    return;
  }

  // Whether this app's deploys created the namespace: down removes only a namespace it created.
  const existed = await kubectl.namespaceExists(namespace, `${who}: kubectl get namespace ${namespace}`);
  const createdNamespace = existed ? record?.namespace?.name === namespace && record.namespace.created : true;
  const namespaceDoc = stringifyManifests([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [APP_LABEL]: req.project, [ENV_LABEL]: req.env } } }]);
  report.step('apply', `namespace ${namespace}`);
  await kubectl.apply(namespaceDoc, `${who}: kubectl apply of namespace ${namespace}`);

  try {
    await applyInWaves(req, ctx, kubectl, waves);
    await prune(req, ctx, kubectl, prepared, pruneKinds);
  } catch (error) {
    const interrupted = error instanceof InterruptedError;
    const reason = (error as Error).message.replace(`${who}: `, '');
    if (previous === null) {
      throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; no earlier deploy is recorded, so nothing was rolled back`, interrupted ? 130 : 1);
    }
    report.step('rollback', 're-applying the manifests of the last successful deploy');
    try {
      const last = parseManifests(previous, 'the last deploy');
      await applyInWaves(req, ctx, kubectl, syncWaves(last, 'the last deploy'), true);
      await prune(req, ctx, kubectl, last, pruneKinds, true);
    } catch (rollbackError) {
      throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; the rollback failed too (${(rollbackError as Error).message})`, interrupted ? 130 : 1);
    }
    throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; rolled back to the last successful deploy`, interrupted ? 130 : 1);
  }
  state.write('kubernetes.yaml', manifest);
  const deployedAt = new Date().toISOString();
  await writeDeployRecord(req, ctx, kubectl, manifest, deployedAt);
  const next: KubernetesRecord = { deployedAt, kinds, namespace: { name: namespace, created: createdNamespace } };
  state.write('kubernetes.json', `${JSON.stringify(next, null, 2)}\n`);
  const jobCount = prepared.filter((d) => d.kind === 'Job').length;
  report.line(`deployed ${req.project} to ${req.env}: ${prepared.length} object(s) applied${waves.length > 1 ? ` in ${waves.length} waves` : ''}, workloads rolled out${jobCount > 0 ? `, ${jobCount} job(s) succeeded` : ''}`);
}

/**
 * Leaves the record of this successful deploy on the cluster (deploy/record.ts): when, from which
 * commit, whether the project's files were committed, the spec's and the manifests' digests. Applied
 * on its own after the rollouts and the prune, never with the app's label, so prune never sees it.
 * A record that cannot be written does not undo a deploy that succeeded: it is said, and status
 * then shows no last deploy.
 */
async function writeDeployRecord(req: DeployRequest, ctx: DeployContext, kubectl: ClusterApi, manifest: string, at: string): Promise<void> {
  const who = label(req);
  const { commit, dirty } = await gitProvenance(ctx.tools, req.root, provenancePaths(req.layer, req.project, req.env));
  let spec: string | null = null;
  try {
    spec = fs.readFileSync(path.join(req.root, projectPaths(req.layer, req.project).spec), 'utf8');
  } catch {
    spec = null;
  }
  const record = deployRecordManifest(
    { project: req.project, env: req.env, namespace: req.kubernetes.namespace },
    { at, commit, dirty, specDigest: spec === null ? null : sha256(spec), renderedDigest: sha256(manifest) },
  );
  ctx.report.step('record', `configmap/${recordName(req.project)} in ${req.kubernetes.namespace}: deployed at ${at}${commit ? ` from ${commit.slice(0, 12)}${dirty ? ' with uncommitted changes' : ''}` : ''}`);
  try {
    await kubectl.apply(stringifyManifests([record as Manifest]), `${who}: kubectl apply of the deploy record`, { uninterruptible: true });
  } catch (error) {
    ctx.report.line(`warning: ${(error as Error).message.replace(`${who}: `, '')}; the deploy itself succeeded, but homelab status will not show it as the last deploy`);
  }
}

/**
 * A tool a dry run asks about the live state (argocd app diff). When it is missing or cannot
 * reach the cluster, the plan goes on without it: `code` is null and `reason` says why.
 */
async function runForPlan(ctx: DeployContext, command: string, args: string[], options: RunOptions): Promise<{ code: number | null; reason: string }> {
  try {
    const result = await ctx.tools.run(command, args, options);
    return { code: result.code === 0 || result.code === 1 ? result.code : null, reason: ctx.tools.tail(result, 1) };
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    return { code: null, reason: error.message };
  }
}

/** The plan of a dry run that could not compare with the cluster: one line why, then every object a deploy would apply. */
function printOfflinePlan(report: DeployContext['report'], docs: Manifest[], what: string, why: string): void {
  report.step('plan', `the cluster cannot be asked from here, so the plan is not compared with it (${why})`);
  report.step('plan', `a deploy would apply ${docs.length} object(s) of ${what}:`);
  const waves = syncWaves(docs, what);
  for (const w of waves) {
    if (waves.length > 1) report.detail(`wave ${w.wave}:`);
    for (const d of w.docs) report.detail(`+ ${d.kind} ${d.metadata.name}${d.metadata.namespace ? ` (namespace ${d.metadata.namespace})` : ''}`);
  }
  report.line('dry run: nothing was changed (a deploy would apply the objects above)');
}

/** The objects of one sync wave. */
export interface Wave {
  wave: number;
  docs: Manifest[];
}

/**
 * The objects grouped by their sync wave (`argocd.argoproj.io/sync-wave`, a whole number,
 * default 0), lowest first, each wave in the order of the manifests. Objects without the
 * annotation are one wave: the deploy of today. A value that is not a whole number is an error
 * (ArgoCD refuses it too).
 */
export function syncWaves(docs: Manifest[], where: string): Wave[] {
  const waves = new Map<number, Manifest[]>();
  for (const d of docs) {
    const raw = (d.metadata.annotations as Record<string, unknown> | undefined)?.[SYNC_WAVE];
    const wave = raw === undefined ? 0 : Number(String(raw).trim());
    if (!Number.isInteger(wave) || String(raw).trim() === '') {
      throw new DeployError(`${where}: ${d.kind} ${d.metadata.name} has ${SYNC_WAVE} ${JSON.stringify(raw)}, which is not a whole number; run the build target again`);
    }
    waves.set(wave, [...(waves.get(wave) ?? []), d]);
  }
  return [...waves.entries()].sort(([a], [b]) => a - b).map(([wave, members]) => ({ wave, docs: members }));
}

/** The plan of several waves, one line each: `wave 1: job/migrate`. */
function printWaves(report: DeployContext['report'], waves: Wave[]): void {
  if (waves.length < 2) return;
  for (const w of waves) report.step('plan', `wave ${w.wave}: ${w.docs.map((d) => `${d.kind.toLowerCase()}/${d.metadata.name}`).join(', ')}`);
}

/**
 * Applies the objects wave by wave, as ArgoCD syncs them: a wave's Jobs are deleted first
 * (foreground: their pods are gone when it returns, as ArgoCD's BeforeHookCreation does, and
 * a Job's template cannot change in place), then the wave is applied and its workloads rolled
 * out and its Jobs waited for until they succeed, before the next wave starts. One wave (no
 * annotations) is the deploy of before: one apply, then the rollouts.
 */
async function applyInWaves(req: DeployRequest, ctx: DeployContext, kubectl: ClusterApi, waves: Wave[], rollback = false): Promise<void> {
  const who = label(req);
  const stream = { onLine: (l: string) => ctx.report.detail(l), uninterruptible: rollback };
  for (const w of waves) {
    const jobs = w.docs.filter((d) => d.kind === 'Job');
    const named = waves.length > 1 ? `wave ${w.wave}: ` : '';
    if (jobs.length > 0) {
      ctx.report.step('job', `${named}deleting ${jobs.map(describeRef).join(', ')} before applying it again (it runs on every deploy)`);
      const refs = stringifyManifests(jobs.map((j) => ({ apiVersion: j.apiVersion, kind: j.kind, metadata: { name: j.metadata.name, namespace: j.metadata.namespace } })));
      await kubectl.deleteObjects(refs, `${who}: kubectl delete (jobs)`, { ...stream, foreground: true });
    }
    if (rollback) ctx.report.step('rollback', `${named}re-applying ${w.docs.length} object(s) of the last successful deploy`);
    else ctx.report.step('apply', `${named}server-side apply of ${w.docs.length} object(s)`);
    await kubectl.apply(stringifyManifests(w.docs), `${who}: ${rollback ? 'rollback apply' : 'kubectl apply'}`, stream);
    await rollouts(req, ctx, kubectl, w.docs, rollback);
    for (const j of jobs) {
      const namespace = j.metadata.namespace ?? req.kubernetes.namespace;
      ctx.report.step('job', `job/${j.metadata.name} in ${namespace}: waiting until it succeeds`);
      await kubectl.job(j.metadata.name, namespace, `${who}: job/${j.metadata.name}`, stream);
    }
  }
}

/**
 * Waits for every workload to roll out. In a rollback (`rollback`, which nothing interrupts), a
 * StatefulSet's pods that cannot start are deleted first: a StatefulSet does not replace a pod
 * that never became ready, even once its template is reverted (Kubernetes documents deleting
 * such pods as the manual step of a StatefulSet rollback), so without this the rollback would
 * wait on the broken pod until the timeout.
 */
async function rollouts(req: DeployRequest, ctx: DeployContext, kubectl: ClusterApi, docs: Manifest[], rollback = false): Promise<void> {
  for (const d of docs.filter((x) => ROLLOUT_KINDS.has(x.kind))) {
    const ref = `${d.kind.toLowerCase()}/${d.metadata.name}`;
    const namespace = d.metadata.namespace ?? req.kubernetes.namespace;
    const what = `${label(req)}: rollout of ${ref}`;
    const selector = Object.entries((d.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (rollback && d.kind === 'StatefulSet' && selector) {
      // Only once the controller has seen the reverted template does it recreate a deleted pod from it.
      await kubectl.observed(ref, namespace, `${what}: kubectl wait (observed generation)`);
      const stuck = (await kubectl.pods(namespace, selector, `${what}: kubectl get pods`, true)).filter((p) => cannotStart([p]));
      if (stuck.length > 0) {
        ctx.report.step('rollback', `deleting ${stuck.map((p) => `pod/${p.metadata.name}`).join(', ')}: a StatefulSet does not replace a pod that never became ready`);
        const input = stringifyManifests(stuck.map((p) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name, namespace } })));
        await kubectl.deleteObjects(input, `${what}: kubectl delete (stuck pods)`, { onLine: (l) => ctx.report.detail(l), uninterruptible: true });
      }
    }
    ctx.report.step('rollout', `${ref} in ${namespace}`);
    await kubectl.rollout(ref, namespace, what, { onLine: (l) => ctx.report.detail(l), uninterruptible: rollback, podSelector: selector });
  }
}

/**
 * Deletes the objects that carry the app's labels, of the given kinds, and are not in
 * `desired` (see pruneSelection). Runs after the rollouts succeeded, so an object the
 * new version replaces goes only once the new version is up.
 */
async function prune(req: DeployRequest, ctx: DeployContext, kubectl: ClusterApi, desired: Manifest[], kinds: string[], uninterruptible = false): Promise<void> {
  const who = label(req);
  const stale = pruneSelection(await kubectl.list(kinds, { selector: appSelector(req) }, `${who}: kubectl get (prune)`, uninterruptible), desired, kinds);
  if (stale.length === 0) {
    ctx.report.step('prune', `nothing to delete among ${kinds.length} kind(s)`);
    return;
  }
  ctx.report.step('prune', `deleting ${stale.map(describeRef).join(', ')}`);
  const input = stringifyManifests(stale.map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } })));
  await kubectl.deleteObjects(input, `${who}: kubectl delete (prune)`, { onLine: (l) => ctx.report.detail(l), uninterruptible });
}

/**
 * `down` without ArgoCD: deletes the objects carrying the app's labels, of the kinds
 * deployed. PersistentVolumeClaims (the data) only with `deleteData`. Then the Namespace,
 * when this app's deploy created it and nothing remains in it (a kept claim keeps it).
 */
export async function kubernetesDown(req: DeployRequest, ctx: DeployContext, options: { deleteData?: boolean; cluster?: ClusterApi } = {}): Promise<void> {
  const { report } = ctx;
  const who = label(req);
  if (req.kubernetes.argocd) {
    throw new DeployError(`${who}: ${req.env} is managed by ArgoCD; remove the app from git (or delete the Application ${req.kubernetes.argocdApp}) instead of down`, 2);
  }
  const deleteData = options.deleteData ?? false;
  const state = new StateDir(req.root, req.env, req.project);
  const record = state.readJson<KubernetesRecord>('kubernetes.json');
  // Deleting data deletes every claim of the app, also one of a volume the spec dropped since.
  const recorded = record?.kinds ?? [];
  const kinds = deleteData ? [...new Set([...recorded, KEPT_KIND])].sort() : recorded.filter((k) => k !== KEPT_KIND);
  const selector = appSelector(req);
  if (record === null || recorded.length === 0) {
    report.line(`nothing recorded as deployed for ${req.project} in ${req.env}`);
    return;
  }
  const kubectl = options.cluster ?? new Kubectl(ctx, req.kubernetes.context);
  const namespace = record.namespace?.created ? record.namespace.name : undefined;
  report.step(
    'plan',
    `${kinds.length > 0 ? `delete ${kinds.map(resourceArg).join(',')} labelled ${selector}` : 'nothing to delete'}${deleteData ? '' : ` (PersistentVolumeClaims kept; add --volumes --delete-data=${req.project} to delete them)`}` +
      (namespace ? `, then namespace ${namespace} if nothing remains in it` : ''),
  );
  if (req.dryRun) return;
  if (kinds.length > 0) await kubectl.deleteLabelled(kinds, selector, `${who}: kubectl delete`, { onLine: (l) => report.detail(l) });
  // The deploy record (deploy/record.ts) carries no app label: it goes by name, so status no longer reads a last deploy.
  const recordRef = stringifyManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: recordName(req.project), namespace: req.kubernetes.namespace } }]);
  await kubectl.deleteObjects(recordRef, `${who}: kubectl delete of the deploy record`, { onLine: (l) => report.detail(l) });
  state.remove('kubernetes.yaml');
  if (namespace) {
    const remaining = (await kubectl.list([...new Set([...recorded, KEPT_KIND])], { namespace }, `${who}: kubectl get (namespace ${namespace})`)).filter(
      (o) => !isNamespaceDefault(o),
    );
    if (remaining.length > 0) {
      const held = remaining.map(describeRef).join(', ');
      report.step('namespace', `keeping ${namespace}: it still holds ${held}`);
      // What stays: the kept claims, in the namespace this app created; a later down can delete both.
      const left: KubernetesRecord = { deployedAt: record.deployedAt, kinds: deleteData ? [] : [KEPT_KIND], namespace: record.namespace };
      state.write('kubernetes.json', `${JSON.stringify(left, null, 2)}\n`);
      report.line(`removed ${req.project} from ${req.env}; namespace ${namespace} kept, it still holds ${held}`);
      return;
    }
    report.step('namespace', `deleting ${namespace}: nothing remains in it`);
    await kubectl.deleteNamespace(namespace, `${who}: kubectl delete namespace ${namespace}`, { onLine: (l) => report.detail(l) });
  }
  state.remove('kubernetes.json');
  report.line(`removed ${req.project} from ${req.env}`);
}

/**
 * What Kubernetes itself puts in every namespace (the `default` ServiceAccount, the
 * `kube-root-ca.crt` ConfigMap) or a controller owns: it goes with the namespace, and does not
 * keep one that is otherwise empty.
 */
export function isNamespaceDefault(o: LiveObject): boolean {
  if ((o.metadata.ownerReferences ?? []).some((r) => r.controller)) return true;
  return (o.kind === 'ServiceAccount' && o.metadata.name === 'default') || (o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt');
}

/** `homelab.dev/app=<app>,homelab.dev/environment=<env>`: what every object a deploy applies carries. */
function appSelector(req: Pick<DeployRequest, 'project' | 'env'>): string {
  return `${APP_LABEL}=${req.project},${ENV_LABEL}=${req.env}`;
}

/**
 * Every kubectl command line of the direct mode, in one place, so that a test can hand
 * each to the real kubectl (its flag checks run before it contacts a server). Manifests
 * and object lists go on stdin (`-f -`), never in an argument.
 */
export const kubectlCommands = {
  /** Server-side apply of the manifests on stdin. No --prune: kubectl refuses it with --server-side; prune() deletes instead. */
  apply: () => ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
  diff: () => ['diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
  /** Prints `namespace/<name>` when it exists, nothing when it does not. */
  namespace: (name: string) => ['get', 'namespace', name, '--ignore-not-found', '-o', 'name'],
  /** The objects of some kinds, as JSON: labelled with `selector` in every namespace, or all of one namespace. */
  list: (kinds: string[], where: { selector?: string; namespace?: string }) => [
    'get',
    kinds.map(resourceArg).join(','),
    ...(where.selector ? ['-l', where.selector] : []),
    ...(where.namespace ? ['-n', where.namespace] : ['--all-namespaces']),
    '--ignore-not-found',
    '-o',
    'json',
  ],
  /** Deletes the objects listed on stdin (apiVersion, kind, name, namespace). */
  deleteObjects: (foreground = false) => ['delete', '--ignore-not-found', ...(foreground ? ['--cascade=foreground'] : []), '--wait=true', '-f', '-'],
  /** Waits up to `seconds` for a Job to succeed; exits 1 with "timed out" when it has not yet. */
  waitJob: (name: string, namespace: string, seconds: number) => ['wait', `job/${name}`, '-n', namespace, '--for=condition=Complete', `--timeout=${seconds}s`],
  /** A Job, as JSON (its conditions say whether it failed). */
  getJob: (name: string, namespace: string) => ['get', `job/${name}`, '-n', namespace, '-o', 'json'],
  deleteLabelled: (kinds: string[], selector: string) => ['delete', kinds.map(resourceArg).join(','), '-l', selector, '--all-namespaces', '--ignore-not-found', '--wait=true'],
  deleteNamespace: (name: string) => ['delete', 'namespace', name, '--ignore-not-found', '--wait=true'],
  /** Waits up to `seconds` for a workload to roll out; exits 1 with "timed out" when it has not yet. */
  rollout: (ref: string, namespace: string, seconds = KUBERNETES_TIMEOUT_SECONDS) => ['rollout', 'status', ref, '-n', namespace, `--timeout=${seconds}s`],
  generation: (ref: string, namespace: string) => ['get', ref, '-n', namespace, '-o', 'jsonpath={.metadata.generation}'],
  waitObserved: (ref: string, namespace: string, generation: string) => [
    'wait', ref, '-n', namespace, `--for=jsonpath={.status.observedGeneration}=${generation}`, '--timeout=60s',
  ],
  /** The pods of a workload (its selector), as JSON. */
  pods: (namespace: string, selector: string) => ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'],
};

/** How a call of the cluster is run: its output lines, and whether an interrupt may stop it. */
export type CallOptions = Pick<RunOptions, 'onLine' | 'uninterruptible'> & {
  /** For rollout: the label selector of the workload's pods, checked for containers that cannot start. */
  podSelector?: string;
  /** For deleteObjects: delete in the foreground (a Job goes only once its pods are gone). */
  foreground?: boolean;
};

/**
 * What the direct mode asks of a cluster, each call named by `what` in its error. Kubectl
 * is the implementation; a test can drive the adapter through another (a real API server,
 * or a stand-in where none runs).
 */
export interface ClusterApi {
  /** How the cluster is reached, for the progress line (`context kind-homelab`). */
  readonly where: string;
  namespaceExists(name: string, what: string): Promise<boolean>;
  /** Server-side apply of the manifests. */
  apply(manifest: string, what: string, options?: CallOptions): Promise<void>;
  /** Shows what an apply would change; true when it would change something. */
  diff(manifest: string, what: string, options?: CallOptions): Promise<boolean>;
  /**
   * Waits until a workload (`deployment/web`) has rolled out; fails at once when one of its pods
   * (`options.podSelector`) has a container that cannot start (FATAL_WAITING_REASONS).
   */
  rollout(ref: string, namespace: string, what: string, options?: CallOptions): Promise<void>;
  /**
   * Waits until a Job has succeeded (condition Complete); fails at once when it failed
   * (condition Failed or FailureTarget: backoffLimit reached, deadline exceeded) or when one of
   * its pods has a container that cannot start (FATAL_WAITING_REASONS).
   */
  job(name: string, namespace: string, what: string, options?: CallOptions): Promise<void>;
  /** Waits until the workload's controller has observed its latest generation (status.observedGeneration). */
  observed(ref: string, namespace: string, what: string): Promise<void>;
  /** The pods of a workload (its label selector) in a namespace. */
  pods(namespace: string, selector: string, what: string, uninterruptible?: boolean): Promise<LivePod[]>;
  /** The live objects of `kinds`: labelled with `selector` in every namespace, or all of one namespace. */
  list(kinds: string[], where: { selector?: string; namespace?: string }, what: string, uninterruptible?: boolean): Promise<LiveObject[]>;
  /** Deletes the objects of a manifest (apiVersion, kind, name, namespace of each). */
  deleteObjects(manifest: string, what: string, options?: CallOptions): Promise<void>;
  /** Deletes every object of `kinds` labelled with `selector`, in every namespace. */
  deleteLabelled(kinds: string[], selector: string, what: string, options?: CallOptions): Promise<void>;
  deleteNamespace(name: string, what: string, options?: CallOptions): Promise<void>;
}

/**
 * kubectl for one environment: the binary (`HOMELAB_KUBECTL`, default `kubectl` on PATH),
 * the kubeconfig of the deploy's environment (`KUBECONFIG`, read by kubectl itself) and the
 * environment's kube context (`--context`, from homelab.yaml).
 */
export class Kubectl implements ClusterApi {
  private readonly binary: string;

  constructor(
    private readonly ctx: Pick<DeployContext, 'tools' | 'env'>,
    private readonly context?: string,
  ) {
    this.binary = ctx.env.HOMELAB_KUBECTL || 'kubectl';
  }

  get where(): string {
    return this.context ? `context ${this.context}` : 'the current kube context';
  }

  private run(args: string[], options: RunOptions = {}): Promise<ToolResult> {
    return this.ctx.tools.run(this.binary, this.context ? ['--context', this.context, ...args] : args, options);
  }

  private async ok(args: string[], what: string, options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new DeployError(`${what} failed: ${this.ctx.tools.tail(result)}`);
    return result.stdout;
  }

  async namespaceExists(name: string, what: string): Promise<boolean> {
    return (await this.ok(kubectlCommands.namespace(name), what)).trim() !== '';
  }

  async apply(manifest: string, what: string, options: CallOptions = {}): Promise<void> {
    await this.ok(kubectlCommands.apply(), what, { ...options, input: manifest });
  }

  async diff(manifest: string, what: string, options: CallOptions = {}): Promise<boolean> {
    const result = await this.run(kubectlCommands.diff(), { ...options, input: manifest });
    if (result.code !== 0 && result.code !== 1) throw new DeployError(`${what} failed: ${this.ctx.tools.tail(result)}`);
    return result.code === 1;
  }

  async rollout(ref: string, namespace: string, what: string, options: CallOptions = {}): Promise<void> {
    const { podSelector, ...run } = options;
    if (!podSelector) {
      await this.ok(kubectlCommands.rollout(ref, namespace), what, run);
      return;
    }
    // In steps, so that a pod that cannot start ends the wait instead of the timeout.
    const deadline = Date.now() + KUBERNETES_TIMEOUT_SECONDS * 1000;
    for (;;) {
      const result = await this.run(kubectlCommands.rollout(ref, namespace, ROLLOUT_CHECK_SECONDS), run);
      if (result.code === 0) return;
      if (!/timed out/.test(result.stderr)) throw new DeployError(`${what} failed: ${this.ctx.tools.tail(result)}`);
      const stuck = cannotStart(await this.pods(namespace, podSelector, `${what}: kubectl get pods`, run.uninterruptible));
      if (stuck) throw new DeployError(`${what} failed: ${stuck}`);
      if (Date.now() > deadline) throw new DeployError(`${what} failed: not rolled out within ${KUBERNETES_TIMEOUT_SECONDS} s: ${this.ctx.tools.tail(result)}`);
    }
  }

  async observed(ref: string, namespace: string, what: string): Promise<void> {
    const generation = (await this.ok(kubectlCommands.generation(ref, namespace), what, { uninterruptible: true })).trim();
    await this.ok(kubectlCommands.waitObserved(ref, namespace, generation), what, { uninterruptible: true });
  }

  async pods(namespace: string, selector: string, what: string, uninterruptible = false): Promise<LivePod[]> {
    const out = await this.ok(kubectlCommands.pods(namespace, selector), what, { uninterruptible });
    return (JSON.parse(out || '{}') as { items?: LivePod[] }).items ?? [];
  }

  /** A kind the cluster does not serve (its CRD was removed since the last deploy) has no objects: it is left out and the listing repeated. */
  async list(kinds: string[], where: { selector?: string; namespace?: string }, what: string, uninterruptible = false): Promise<LiveObject[]> {
    let asked = kinds;
    for (let attempt = 0; asked.length > 0; attempt++) {
      const result = await this.run(kubectlCommands.list(asked, where), { uninterruptible });
      if (result.code === 0) return (JSON.parse(result.stdout || '{}') as { items?: LiveObject[] }).items ?? [];
      const unknown = new Set([...result.stderr.matchAll(/doesn't have a resource type "([^"]+)"/g)].map((m) => m[1]));
      const rest = asked.filter((k) => !unknown.has(resourceArg(k)));
      if (attempt > 0 || unknown.size === 0 || rest.length === asked.length) throw new DeployError(`${what} failed: ${this.ctx.tools.tail(result)}`);
      asked = rest;
    }
    return [];
  }

  async deleteObjects(manifest: string, what: string, options: CallOptions = {}): Promise<void> {
    const { foreground, podSelector: _, ...run } = options;
    await this.ok(kubectlCommands.deleteObjects(foreground), what, { ...run, input: manifest });
  }

  async job(name: string, namespace: string, what: string, options: CallOptions = {}): Promise<void> {
    const { podSelector: _, foreground: __, ...run } = options;
    // In steps, so that a Job that failed, or a pod that cannot start, ends the wait instead of the timeout.
    const deadline = Date.now() + KUBERNETES_TIMEOUT_SECONDS * 1000;
    for (;;) {
      const result = await this.run(kubectlCommands.waitJob(name, namespace, ROLLOUT_CHECK_SECONDS), run);
      if (result.code === 0) return;
      if (!/timed out/.test(result.stderr)) throw new DeployError(`${what} failed: ${this.ctx.tools.tail(result)}`);
      const failed = jobFailure(JSON.parse((await this.ok(kubectlCommands.getJob(name, namespace), `${what}: kubectl get job`, run)) || '{}') as LiveJob);
      if (failed) throw new DeployError(`${what} failed: ${failed}`);
      const stuck = cannotStart(await this.pods(namespace, `${JOB_NAME_LABEL}=${name}`, `${what}: kubectl get pods`, run.uninterruptible));
      if (stuck) throw new DeployError(`${what} failed: ${stuck}`);
      if (Date.now() > deadline) throw new DeployError(`${what} failed: did not succeed within ${KUBERNETES_TIMEOUT_SECONDS} s: ${this.ctx.tools.tail(result)}`);
    }
  }

  async deleteLabelled(kinds: string[], selector: string, what: string, options: CallOptions = {}): Promise<void> {
    await this.ok(kubectlCommands.deleteLabelled(kinds, selector), what, options);
  }

  async deleteNamespace(name: string, what: string, options: CallOptions = {}): Promise<void> {
    await this.ok(kubectlCommands.deleteNamespace(name), what, options);
  }
}

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** A pod as `kubectl get pods -o json` lists it: what cannotStart reads. */
export interface LivePod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
}

/**
 * The first container of the pods (not being deleted) that waits for a reason it will not get
 * out of by waiting (FATAL_WAITING_REASONS), as `pod web-0: container web is CrashLoopBackOff
 * (back-off restarting failed container)`; undefined when there is none.
 */
export function cannotStart(pods: LivePod[]): string | undefined {
  for (const pod of pods.filter((p) => !p.metadata.deletionTimestamp)) {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = c.state?.waiting;
      if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
        return `pod ${pod.metadata.name}: container ${c.name} is ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
      }
    }
  }
  return undefined;
}

/** A Job as `kubectl get job -o json` shows it: what jobFailure reads. */
export interface LiveJob {
  status?: { failed?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/**
 * Why a Job failed, in a few words (`BackoffLimitExceeded: Job has reached the specified
 * backoff limit (1 failed pod(s))`), from its Failed condition, or FailureTarget, which the
 * Job controller sets first (Kubernetes 1.31+); undefined while it has not failed.
 */
export function jobFailure(job: LiveJob): string | undefined {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True') ?? conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
  if (!failed) return undefined;
  const pods = job.status?.failed ? ` (${job.status.failed} failed pod(s))` : '';
  return `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}${pods}`;
}

/** An object as `kubectl get -o json` lists it. */
export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: { controller?: boolean }[] };
}

/** An object to delete: what `kubectl delete -f -` needs. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * What a deploy deletes: the live objects that carry the app's labels (kubectl selected
 * them), of a kind in `kinds`, that the deploy no longer renders. Never a
 * PersistentVolumeClaim (it holds data) or a Namespace, and never an object a controller
 * owns (its owner manages it, and may have copied the labels onto it). Objects are
 * compared by API group, kind, namespace and name: the version kubectl lists may differ
 * from the one applied.
 */
export function pruneSelection(live: LiveObject[], desired: Manifest[], kinds: string[]): ObjectRef[] {
  const allowed = new Set(kinds.map(groupKind));
  const identity = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => `${groupKind(`${apiVersion}/${kind}`)}|${namespace ?? ''}|${name}`;
  const wanted = new Set(desired.map((d) => identity(d.apiVersion, d.kind, d.metadata.namespace, d.metadata.name)));
  return live
    .filter((o) => allowed.has(groupKind(`${o.apiVersion}/${o.kind}`)))
    .filter((o) => !NEVER_PRUNED.has(kindKey(o as Manifest)) && o.kind !== 'Namespace')
    .filter((o) => !(o.metadata.ownerReferences ?? []).some((r) => r.controller))
    .filter((o) => !wanted.has(identity(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)))
    .map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }))
    .sort((a, b) => describeRef(a).localeCompare(describeRef(b)));
}

/** `group/Kind` of a `group/version/Kind` key or an `apiVersion/Kind` pair (`apps/StatefulSet`, `core/Service`). */
function groupKind(key: string): string {
  const parts = key.split('/');
  const kind = parts[parts.length - 1];
  const group = parts.length === 3 ? parts[0] : 'core';
  return `${group}/${kind}`;
}

function describeRef(r: { kind: string; name?: string; metadata?: { name: string; namespace?: string }; namespace?: string }): string {
  const name = r.name ?? r.metadata?.name;
  const namespace = r.namespace ?? r.metadata?.namespace;
  return `${r.kind.toLowerCase()}/${name}${namespace ? ` in ${namespace}` : ''}`;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export function parseManifests(text: string, where: string): Manifest[] {
  const docs = YAML.parseAllDocuments(text);
  const out: Manifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new DeployError(`${where} is not valid YAML (${doc.errors[0].message.split('\n')[0]}); run the build target again`);
    const value = doc.toJS() as Manifest | null;
    if (value && typeof value === 'object' && value.kind && value.metadata?.name) out.push(value);
  }
  return out;
}

/**
 * Adds the app/environment labels and, to namespaced objects without one, the
 * environment's namespace: what is applied, and what the next deploy prunes by.
 */
export function prepareManifests(docs: Manifest[], target: { project: string; env: string; namespace: string }): Manifest[] {
  return docs.map((d) => {
    const metadata = { ...d.metadata, labels: { ...(d.metadata.labels ?? {}), [APP_LABEL]: target.project, [ENV_LABEL]: target.env } };
    if (!CLUSTER_SCOPED.has(d.kind) && !metadata.namespace) metadata.namespace = target.namespace;
    return { ...d, metadata };
  });
}

/** `group/version/Kind` of every object applied, Namespaces aside, sorted: what kubernetes.json records. */
function appliedKinds(docs: Manifest[]): string[] {
  return [...new Set(docs.filter((d) => d.kind !== 'Namespace').map(kindKey))].sort();
}

export function stringifyManifests(docs: Manifest[]): string {
  return docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n');
}

/** `group/version/Kind` of an object (`core/v1/Service`, `apps/v1/StatefulSet`): how kubernetes.json names a kind. */
function kindKey(d: Manifest): string {
  const [group, version] = d.apiVersion.includes('/') ? d.apiVersion.split('/') : ['core', d.apiVersion];
  return `${group}/${version}/${d.kind}`;
}

/** `kind.group` as kubectl get and delete take it (`service`, `deployment.apps`, `externalsecret.external-secrets.io`). */
function resourceArg(key: string): string {
  const [group, , kind] = key.split('/');
  return group === 'core' ? kind.toLowerCase() : `${kind.toLowerCase()}.${group}`;
}

