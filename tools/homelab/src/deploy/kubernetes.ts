import YAML from 'yaml';
import { ensureRendered } from '../build/render';
import type { DeployContext } from './compose';
import { unifiedDiff } from './diff';
import { DeployError } from './errors';
import { InterruptedError, type RunOptions } from './process';
import { label, type DeployRequest } from './request';
import { type KubernetesRecord, StateDir } from './state';

/** Field manager of every server-side apply, so ownership of fields is visible in the cluster. */
export const FIELD_MANAGER = 'homelab';
/** Labels deploy adds to every object it applies: the prune selector of the next apply. */
export const APP_LABEL = 'homelab.dev/app';
export const ENV_LABEL = 'homelab.dev/environment';
/** How long a sync or a rollout may take before deploy gives up. */
export const KUBERNETES_TIMEOUT_SECONDS = 300;

/** Kinds that have no namespace: deploy does not give them one. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'IngressClass', 'RuntimeClass',
  'CSIDriver', 'VolumeSnapshotClass', 'GatewayClass', 'ClusterIssuer', 'ClusterSecretStore', 'ClusterExternalSecret',
]);
const ROLLOUT_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** Never pruned: a claim that is no longer rendered keeps its data until `down --volumes`. */
const KEPT_KIND = 'core/v1/PersistentVolumeClaim';

/**
 * The Kubernetes adapter. Two modes, chosen per environment in homelab.yaml:
 * - ArgoCD (`kubernetes.argocd`, the default): the cluster follows git, so deploy asks
 *   ArgoCD to sync the app's Application now and waits until it is Synced and Healthy
 *   (`argocd app sync`, then `argocd app wait --sync --health`). What is deployed is the
 *   commit ArgoCD tracks, not the working tree.
 * - direct (`kubernetes.argocd: false`): server-side apply of the rendered manifests to
 *   the environment's kube context, with every object labelled with the app and the
 *   environment, pruning the objects with those labels that are no longer rendered (of
 *   the kinds applied now or last time), then `kubectl rollout status` of each workload.
 *   A failed rollout re-applies the last successful manifests.
 */
export async function kubernetesDeploy(req: DeployRequest, ctx: DeployContext): Promise<void> {
  const { report } = ctx;
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'kubernetes');
  const docs = parseManifests(rendered.text, rendered.relative);
  report.step('render', `${rendered.relative}: ${docs.length} object(s)`);
  if (req.kubernetes.argocd) return argocdSync(req, ctx, docs, rendered.relative);
  return directApply(req, ctx, docs);
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
    else printOfflinePlan(report, prepare(docs, req), relative, `argocd app diff ${app}: ${diff.reason}`);
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

async function directApply(req: DeployRequest, ctx: DeployContext, docs: Manifest[]): Promise<void> {
  const { report, tools } = ctx;
  const who = label(req);
  const state = new StateDir(req.root, req.env, req.project);
  const kube = (args: string[]) => (req.kubernetes.context ? ['--context', req.kubernetes.context, ...args] : args);
  const prepared = prepare(docs, req);
  const record = state.readJson<KubernetesRecord>('kubernetes.json');
  const previous = state.read('kubernetes.yaml');
  const kinds = [...new Set(prepared.filter((d) => d.kind !== 'Namespace').map(kindKey))].sort();
  // Volumes hold data: a PersistentVolumeClaim is never pruned (down --volumes deletes it).
  const allowlist = [...new Set([...kinds, ...(record?.kinds ?? [])])].filter((k) => k !== KEPT_KIND).sort();
  const manifest = stringifyManifests(prepared);
  const selector = `${APP_LABEL}=${req.project},${ENV_LABEL}=${req.env}`;
  report.step('target', `namespace ${req.kubernetes.namespace}, ${req.kubernetes.context ? `context ${req.kubernetes.context}` : 'the current kube context'}; prune selector ${selector}`);

  if (req.dryRun) {
    const diff = await runForPlan(ctx, 'kubectl', kube(['diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-']), { input: manifest, onLine: (l) => report.detail(l) });
    if (diff.code !== 0 && diff.code !== 1) {
      printOfflinePlan(report, prepared, 'the rendered manifests', `kubectl diff: ${diff.reason}`);
      return;
    }
    if (previous !== null) {
      const local = unifiedDiff(previous, manifest, `last deploy (.homelab/state/${req.env}/${req.project}/kubernetes.yaml)`, 'rendered now');
      for (const line of local.replace(/\n$/, '').split('\n').filter((l) => l !== '')) report.detail(line);
    }
    report.line(`dry run: nothing was changed (${diff.code === 1 ? 'an apply would change the objects above' : 'the cluster already matches'})`);
    return;
  }

  const namespaceDoc = stringifyManifests([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.kubernetes.namespace, labels: { [ENV_LABEL]: req.env } } }]);
  report.step('apply', `namespace ${req.kubernetes.namespace}`);
  await tools.ok('kubectl', kube(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-']), `${who}: kubectl apply of namespace ${req.kubernetes.namespace}`, { input: namespaceDoc });

  const apply = (input: string, prune: string[]) =>
    tools.ok(
      'kubectl',
      kube(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--prune', '-l', selector, ...prune.map((k) => `--prune-allowlist=${k}`), '-f', '-']),
      `${who}: kubectl apply`,
      { input, onLine: (l) => report.detail(l), uninterruptible: false },
    );
  try {
    report.step('apply', `server-side apply of ${prepared.length} object(s), pruning ${allowlist.length} kind(s) by ${selector}`);
    await apply(manifest, allowlist);
    await rollouts(req, ctx, prepared, kube);
  } catch (error) {
    const interrupted = error instanceof InterruptedError;
    const reason = (error as Error).message.replace(`${who}: `, '');
    if (previous === null) {
      throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; no earlier deploy is recorded, so nothing was rolled back`, interrupted ? 130 : 1);
    }
    report.step('rollback', 're-applying the manifests of the last successful deploy');
    try {
      await tools.ok('kubectl', kube(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--prune', '-l', selector, ...allowlist.map((k) => `--prune-allowlist=${k}`), '-f', '-']), `${who}: rollback apply`, {
        input: previous,
        uninterruptible: true,
        onLine: (l) => report.detail(l),
      });
      await rollouts(req, ctx, parseManifests(previous, 'the last deploy'), kube, true);
    } catch (rollbackError) {
      throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; the rollback failed too (${(rollbackError as Error).message})`, interrupted ? 130 : 1);
    }
    throw new DeployError(`${who}: ${interrupted ? 'deploy interrupted' : `deploy failed: ${reason}`}; rolled back to the last successful deploy`, interrupted ? 130 : 1);
  }
  state.write('kubernetes.yaml', manifest);
  state.write('kubernetes.json', `${JSON.stringify({ deployedAt: new Date().toISOString(), kinds } satisfies KubernetesRecord, null, 2)}\n`);
  report.line(`deployed ${req.project} to ${req.env}: ${prepared.length} object(s) applied, workloads rolled out`);
}

/**
 * A tool a dry run asks about the live state (argocd app diff, kubectl diff). When it is
 * missing or cannot reach the cluster, the plan goes on without it: `code` is null and
 * `reason` says why.
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
  for (const d of docs) report.detail(`+ ${d.kind} ${d.metadata.name}${d.metadata.namespace ? ` (namespace ${d.metadata.namespace})` : ''}`);
  report.line('dry run: nothing was changed (a deploy would apply the objects above)');
}

async function rollouts(req: DeployRequest, ctx: DeployContext, docs: Manifest[], kube: (a: string[]) => string[], uninterruptible = false): Promise<void> {
  for (const d of docs.filter((x) => ROLLOUT_KINDS.has(x.kind))) {
    const ref = `${d.kind.toLowerCase()}/${d.metadata.name}`;
    ctx.report.step('rollout', `${ref} in ${d.metadata.namespace}`);
    await ctx.tools.ok(
      'kubectl',
      kube(['rollout', 'status', ref, '-n', d.metadata.namespace ?? req.kubernetes.namespace, `--timeout=${KUBERNETES_TIMEOUT_SECONDS}s`]),
      `${label(req)}: rollout of ${ref}`,
      { onLine: (l) => ctx.report.detail(l), uninterruptible },
    );
  }
}

/** `down` without ArgoCD: deletes the objects carrying the app's labels (PVCs only with --volumes). */
export async function kubernetesDown(req: DeployRequest, ctx: DeployContext): Promise<void> {
  const { report, tools } = ctx;
  const who = label(req);
  if (req.kubernetes.argocd) {
    throw new DeployError(`${who}: ${req.env} is managed by ArgoCD; remove the app from git (or delete the Application ${req.kubernetes.argocdApp}) instead of down`, 2);
  }
  const state = new StateDir(req.root, req.env, req.project);
  const record = state.readJson<KubernetesRecord>('kubernetes.json');
  const kinds = (record?.kinds ?? []).filter((k) => req.volumes || k !== KEPT_KIND);
  const selector = `${APP_LABEL}=${req.project},${ENV_LABEL}=${req.env}`;
  if (kinds.length === 0) {
    report.line(`nothing recorded as deployed for ${req.project} in ${req.env}`);
    return;
  }
  const resources = kinds.map(resourceArg).join(',');
  report.step('plan', `delete ${resources} labelled ${selector}${req.volumes ? '' : ' (PersistentVolumeClaims kept; add --volumes to delete them)'}`);
  if (req.dryRun) return;
  const kube = req.kubernetes.context ? ['--context', req.kubernetes.context] : [];
  await tools.ok('kubectl', [...kube, 'delete', resources, '-l', selector, '--all-namespaces', '--ignore-not-found', '--wait=true'], `${who}: kubectl delete`, {
    onLine: (l) => report.detail(l),
  });
  state.remove('kubernetes.yaml', 'kubernetes.json');
  report.line(`removed ${req.project} from ${req.env}`);
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

function parseManifests(text: string, where: string): Manifest[] {
  const docs = YAML.parseAllDocuments(text);
  const out: Manifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new DeployError(`${where} is not valid YAML (${doc.errors[0].message.split('\n')[0]}); run the build target again`);
    const value = doc.toJS() as Manifest | null;
    if (value && typeof value === 'object' && value.kind && value.metadata?.name) out.push(value);
  }
  return out;
}

/** Adds the app/environment labels and, to namespaced objects without one, the environment's namespace. */
function prepare(docs: Manifest[], req: DeployRequest): Manifest[] {
  return docs.map((d) => {
    const metadata = { ...d.metadata, labels: { ...(d.metadata.labels ?? {}), [APP_LABEL]: req.project, [ENV_LABEL]: req.env } };
    if (!CLUSTER_SCOPED.has(d.kind) && !metadata.namespace) metadata.namespace = req.kubernetes.namespace;
    return { ...d, metadata };
  });
}

function stringifyManifests(docs: Manifest[]): string {
  return docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n');
}

/** `group/version/Kind` as --prune-allowlist takes it (`core/v1/Service`). */
function kindKey(d: Manifest): string {
  const [group, version] = d.apiVersion.includes('/') ? d.apiVersion.split('/') : ['core', d.apiVersion];
  return `${group}/${version}/${d.kind}`;
}

/** `kind.group` as kubectl delete takes it (`service`, `deployment.apps`, `externalsecret.external-secrets.io`). */
function resourceArg(key: string): string {
  const [group, , kind] = key.split('/');
  return group === 'core' ? kind.toLowerCase() : `${kind.toLowerCase()}.${group}`;
}

