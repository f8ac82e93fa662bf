import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Cluster } from './cluster';
import { run } from './tools';
import { parseDocs } from './workspace';

/**
 * Builds an overlay of a workspace with the pinned kustomize and server-side applies its objects
 * (a server dry run, then for real) into a fresh namespace of the test cluster, as the users' CI
 * and ArgoCD would apply them into theirs. The Namespace and the ArgoCD Application are left
 * out (they are the platform's). Throws with kubectl's stderr on a refusal or a warning.
 * @example const { ns, objects } = applyOverlay(cluster, root, 'applications/kubernetes/overlays/dev/notes', 'notes-dev');
 */
export function applyOverlay(cluster: Cluster, root: string, overlay: string, prefix: string): { ns: string; objects: any[] } {
  const built = run('kubectl', ['kustomize', overlay], { cwd: root });
  if (built.status !== 0) throw new Error(built.stderr);
  const ns = cluster.namespace(prefix);
  cluster.kubectlOk(['create', 'namespace', ns]);
  const objects = parseDocs(built.stdout)
    .filter((o) => o && !['Namespace', 'Application'].includes(o.kind))
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
  const file = path.join(root, `.rendered-${ns}.json`);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  for (const dryRun of [['--dry-run=server'], []]) {
    const applied = cluster.kubectl(['apply', '--server-side', '--field-manager=homelab', ...dryRun, '-f', file]);
    if (applied.status !== 0 || /warning/i.test(applied.stderr)) throw new Error(applied.stderr);
  }
  return { ns, objects };
}
