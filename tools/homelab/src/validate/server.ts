import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeMasker } from '../dotenv';
import { crdOwners } from '../component/crds';
import { toolEnv } from '../tool-env';
import type { ServerSummary } from './findings';
import { type Issue, isObj, type K8sObject, type Obj } from './objects';
import { lastLines } from './kustomize-compose';
import { builtinKinds } from './schemas';
import type { DocPath } from './source';

/**
 * `homelab validate --server-dry-run`: the rendered objects of every overlay sent to the cluster
 * KUBECONFIG points at, with server-side apply and `--dry-run=server`, so the real API server
 * (admission, CRD schemas and CEL rules, immutable fields against live objects) judges them and
 * nothing is stored. kubectl is `kubectl` on PATH or the binary HOMELAB_KUBECTL names, run in the
 * tools' clean environment (toolEnv: PATH, HOME, KUBECONFIG). Manifests go through stdin, never argv.
 *
 * Namespaces: a server dry run of a Namespace stores nothing, so objects in a namespace the
 * cluster does not have yet would only get NotFound. Each namespaced object is dry-run in the
 * namespace it will live in (its own `metadata.namespace`, else the ArgoCD destination of its
 * overlay) when the cluster has that namespace, which also checks the change against the live
 * objects there; otherwise in the kube context's namespace (`default` unless the context names
 * one), which exists. Nothing is created, not even a scratch namespace: the dry run needs no more
 * rights than `kubectl apply --dry-run=server`. Its field manager is `homelab-validate`, so an
 * object that ever did get stored by it could be told from what deploy (`homelab`) wrote.
 */
/** The field manager of the dry run's server-side apply (deploy's is `homelab`). */
export const DRY_RUN_FIELD_MANAGER = 'homelab-validate';

export class ClusterDryRun {
  /** What this run sent: overlays checked and objects dry-run (a kind the cluster lacks is not sent). */
  readonly sent: ServerSummary = { overlays: 0, objects: 0 };

  private constructor(
    private readonly kubectl: string,
    /** `group/Kind` (core group '') of every kind the server serves, and whether it is namespaced. */
    private readonly kinds: ReadonlyMap<string, boolean>,
    private readonly namespaces: ReadonlySet<string>,
    /** Where a namespaced object goes when the cluster lacks its own namespace: the kube context's. */
    private readonly fallbackNamespace: string,
    private readonly workspaceRoot: string,
  ) {}

  /**
   * Asks the cluster which kinds and namespaces it has. Returns the one-line reason instead when it
   * cannot be asked (no kubectl, no kubeconfig, a server that does not answer).
   */
  static connect(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): ClusterDryRun | { unreachable: string } {
    const kubectl = env.HOMELAB_KUBECTL || 'kubectl';
    const where = env.KUBECONFIG ? 'the cluster KUBECONFIG points at' : "the cluster of kubectl's default kubeconfig (KUBECONFIG is not set)";
    const resources = runKubectl(kubectl, ['api-resources', '--no-headers']);
    if (resources.error) {
      return { unreachable: `${where} cannot be asked: ${kubectl} ${resources.error}; install kubectl or set HOMELAB_KUBECTL to its path` };
    }
    // A broken aggregated API makes api-resources exit 1 after listing every other kind: use what it lists.
    const kinds = new Map<string, boolean>();
    for (const line of resources.stdout.split('\n').filter((l) => l.trim())) {
      const cols = line.trim().split(/\s+/);
      // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
      const [apiVersion, namespaced, kind] = cols.slice(-3);
      kinds.set(`${apiGroup(apiVersion)}/${kind}`, namespaced === 'true');
    }
    const namespaces = kinds.size > 0 ? runKubectl(kubectl, ['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']) : resources;
    if (kinds.size === 0 || namespaces.status !== 0) {
      // kubectl falls back to localhost:8080 when KUBECONFIG names no file: say that first.
      const missing = env.KUBECONFIG && env.KUBECONFIG.split(path.delimiter).every((f) => !fs.existsSync(f)) ? ` (KUBECONFIG=${env.KUBECONFIG} names no file that exists)` : '';
      const said = (namespaces.stderr || namespaces.stdout).trim().split('\n').pop()?.replace(/^(E\d{4} [^\]]+\] |error: )/, '') || `kubectl exited ${namespaces.status}`;
      return { unreachable: `${where}${missing} cannot be reached: ${said}; start the cluster or point KUBECONFIG at a reachable one` };
    }
    const contextNamespace = runKubectl(kubectl, ['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']).stdout.trim();
    return new ClusterDryRun(kubectl, kinds, new Set(namespaces.stdout.split(/\s+/).filter(Boolean)), contextNamespace || 'default', workspaceRoot);
  }

  /**
   * The server's verdict on the rendered objects of one overlay (`overlay`, a workspace-relative
   * folder), whose ArgoCD Application deploys into `destination`: one issue per object it refuses
   * or warns about, or whose kind it does not serve. One kubectl call for the overlay; only when
   * it fails or warns is each object sent alone, to say which one and why.
   */
  check(objects: K8sObject[], overlay: string, destination?: string): Issue[] {
    const issues: Issue[] = [];
    const mask = secretMasker(objects);
    const sendable: { t: K8sObject; obj: Obj; namespace?: string }[] = [];
    for (const t of objects) {
      const { apiVersion, kind } = t.obj;
      const namespaced = this.kinds.get(`${apiGroup(String(apiVersion))}/${kind}`);
      if (namespaced === undefined) {
        issues.push({ rule: 'server/no-crd', message: noCrdMessage(t.obj, overlay, this.workspaceRoot), target: t, path: ['kind'] });
        continue;
      }
      const obj = structuredClone(t.obj);
      let namespace: string | undefined;
      if (namespaced) {
        const wanted = typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : (destination ?? this.fallbackNamespace);
        namespace = this.namespaces.has(wanted) ? wanted : this.fallbackNamespace;
        obj.metadata = { ...obj.metadata, namespace };
      }
      sendable.push({ t, obj, namespace });
    }
    this.sent.overlays++;
    this.sent.objects += sendable.length;
    if (sendable.length === 0) return issues;
    const all = this.apply(sendable.map((s) => s.obj));
    if (all.status === 0 && !hasWarning(all.stderr)) return issues;
    for (const { t, obj, namespace } of sendable) {
      const one = this.apply([obj]);
      const what = `${t.obj.kind} ${t.obj.metadata?.name} of ${overlay}${namespace ? ` (dry run in namespace ${namespace})` : ''}`;
      if (one.status !== 0) {
        const said = mask(serverMessage(one.stderr || one.stdout));
        issues.push({ rule: 'server/rejected', message: `${what}: the API server refuses it: ${said}; fix that field in the spec or the overlay`, target: t, path: fieldPath(said) });
      } else if (hasWarning(one.stderr)) {
        const said = mask(serverMessage(one.stderr.split('\n').filter((l) => /^Warning:/.test(l)).join('\n')));
        issues.push({ rule: 'server/warning', message: `${what}: the API server accepts it with a warning: ${said}; change the field it names`, target: t, path: fieldPath(said) });
      }
    }
    return issues;
  }

  private apply(objects: Obj[]): { status: number | null; stdout: string; stderr: string } {
    const args = ['apply', '--server-side', '--dry-run=server', `--field-manager=${DRY_RUN_FIELD_MANAGER}`, '--force-conflicts', '-f', '-', '-o', 'name'];
    return runKubectl(this.kubectl, args, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  }
}

/**
 * The `server/no-crd` message: the object, its overlay, and who installs the missing CRD: ArgoCD,
 * the catalog component whose charts bring it (saying when the workspace lacks that component), or,
 * for a kind of no catalog CRD, the user.
 */
export function noCrdMessage(obj: Obj, overlay: string, workspaceRoot: string): string {
  const group = apiGroup(String(obj.apiVersion));
  const head = `${obj.kind} ${obj.metadata?.name} (${obj.apiVersion}) of ${overlay}: the cluster serves no ${obj.kind} of ${group || 'the core group'}, its CRD is not installed`;
  const source = Object.entries(builtinKinds()).find(([key]) => key.startsWith(`${group}/`) && key.endsWith(`/${obj.kind}`))?.[1];
  const owners = source ? crdOwners(source.split('@')[0]) : [];
  if (owners[0] === 'argocd') return `${head}; it comes with ArgoCD, which is installed by hand before the bootstrap (docs/infrastructure.md): install ArgoCD on the cluster first`;
  if (owners.length > 0) {
    const name = owners[0];
    const inWorkspace = fs.existsSync(path.join(workspaceRoot, 'infrastructure/specs', `${name}.yaml`));
    return `${head}; it comes with the component ${name}${inWorkspace ? '' : ', which this workspace does not have (add it with `npx nx g homelab:infra ' + name + '`)'}: install ${name}'s CRDs on the cluster first (\`npx tsx scripts/crds/install.ts\` installs every CRD the workspace's components need)`;
  }
  return `${head}; install the CRD that defines it on the cluster first (and \`homelab schemas add <crd.yaml>\` for the offline checks)`;
}

const apiGroup = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

function runKubectl(kubectl: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string; error?: string } {
  const r = spawnSync(kubectl, [...args, '--request-timeout=30s'], { input, encoding: 'utf8', env: toolEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error) return { status: null, stdout: '', stderr: '', error: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not installed' : r.error.message };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasWarning = (stderr: string) => /^Warning:/m.test(stderr);

/** kubectl's error without its "Error from server (Invalid): " preamble, on one line. */
function serverMessage(text: string): string {
  return lastLines(text).replace(/^Error from server \(\w+\): /, '').replace(/^error when [^:]*: /, '');
}

/**
 * The first field path the server names (`spec.template.spec.containers[0].image: Invalid
 * value`), as a path in the object, so the finding points at the line that renders it.
 */
export function fieldPath(message: string): DocPath {
  const m = /(?:is invalid: |^|\s)((?:metadata|spec|data|stringData|rules|webhooks|roleRef|subjects)(?:\.[A-Za-z0-9_-]+|\[\d+\])*)(?=: )/.exec(message);
  if (!m) return [];
  return [...m[1].matchAll(/([A-Za-z0-9_-]+)|\[(\d+)\]/g)].map((p) => (p[2] !== undefined ? Number(p[2]) : p[1]));
}

/** Masks the values of Secrets among the objects (as written, and base64-decoded) in what the server says back. */
function secretMasker(objects: K8sObject[]): (text: string) => string {
  const values: string[] = [];
  for (const { obj } of objects) {
    if (obj.kind !== 'Secret') continue;
    for (const [field, decode] of [['data', true], ['stringData', false]] as const) {
      if (!isObj(obj[field])) continue;
      for (const v of Object.values(obj[field])) {
        if (typeof v !== 'string') continue;
        values.push(v);
        if (decode) values.push(Buffer.from(v, 'base64').toString('utf8'));
      }
    }
  }
  return makeMasker(values);
}
