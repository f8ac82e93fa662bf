import { type FileHost, listFilesRecursive } from '../host';
import { ownedFiles } from './owned';
import { composeMonitoringDir, environmentPaths, type Layer, projectPaths } from './paths';

/** A project whose spec is gone while files it owned remain: its ArgoCD Application keeps it deployed. */
export interface Orphan {
  layer: Layer;
  name: string;
  /** The spec-owned files that remain (what `homelab:remove` deletes), sorted. */
  owned: string[];
  /** The user's files that remain in its folders (overlays, compose.override.yaml, .env), sorted. */
  user: string[];
}

const LAYERS: Layer[] = ['applications', 'infrastructure'];

/**
 * Every project that has spec-owned files but no spec. A file is spec-owned by where it is
 * (docs/layout: a project's two bases, the generated parts of its environments, its ArgoCD
 * Application, its runbook), so a project is found by its folders even once its spec is gone.
 * The user's files alone (an overlay's kustomization.yaml, a compose.override.yaml) left by
 * `homelab:remove` are not an orphan: nothing of them is rendered or deployed by ArgoCD.
 */
export function findOrphans(host: FileHost): Orphan[] {
  const hasSpec = (layer: Layer, name: string) => host.isFile(projectPaths(layer, name).spec);
  const orphans: Orphan[] = [];
  for (const layer of LAYERS) {
    for (const name of namesIn(host, layer)) {
      if (hasSpec(layer, name)) continue;
      // An ArgoCD Application named like a project of the other layer is that project's.
      const other: Layer = layer === 'applications' ? 'infrastructure' : 'applications';
      const owned = ownedFiles(host, { layer, name }).filter((f) => !(f.startsWith('platform/') && hasSpec(other, name)));
      if (owned.length === 0) continue;
      orphans.push({ layer, name, owned, user: userFiles(host, layer, name, owned) });
    }
  }
  // An ArgoCD Application of no project at all (its folders gone too): the app layer's, as nx g homelab:app made it.
  for (const env of argoEnvironments(host)) {
    for (const file of host.list(`platform/argocd/applications/${env}`)) {
      const name = /^([^/]+)\.yaml$/.exec(file)?.[1];
      if (!name || LAYERS.some((layer) => hasSpec(layer, name)) || orphans.some((o) => o.name === name)) continue;
      orphans.push({ layer: 'applications', name, owned: ownedFiles(host, { layer: 'applications', name }), user: [] });
    }
  }
  return orphans.sort((a, b) => (a.layer === b.layer ? a.name.localeCompare(b.name) : a.layer.localeCompare(b.layer)));
}

/** One line for an orphan: what remains, why it matters, and the two ways out. */
export function describeOrphan(orphan: Orphan): string {
  const spec = projectPaths(orphan.layer, orphan.name).spec;
  const kind = orphan.layer === 'applications' ? 'app' : 'component';
  const argo = orphan.owned.filter((f) => f.startsWith('platform/argocd/applications/'));
  const deployed = argo.length > 0 ? `; its ArgoCD Application (${argo.join(', ')}) keeps it deployed` : '';
  return `${kind} ${orphan.name} has no spec (${spec}) but ${orphan.owned.length} file(s) it rendered remain${deployed}; restore the spec from git, or remove the ${kind} with \`npx nx g homelab:remove ${orphan.name}\``;
}

/** The names that have a folder or file in the places a project of the layer renders to (its ArgoCD Applications aside: both layers share that folder). */
function namesIn(host: FileHost, layer: Layer): string[] {
  const names = new Set<string>([...host.list(`${layer}/kubernetes/base`), ...host.list(`${layer}/compose/base`)]);
  for (const env of host.list(`${layer}/kubernetes/overlays`)) for (const name of host.list(`${layer}/kubernetes/overlays/${env}`)) names.add(name);
  for (const env of host.list(`${layer}/compose/environments`)) for (const name of host.list(`${layer}/compose/environments/${env}`)) names.add(name);
  for (const file of host.list(`${layer}/runbooks`)) if (file.endsWith('.md')) names.add(file.slice(0, -3));
  const monitoring = composeMonitoringDir(layer);
  for (const file of host.list(`${monitoring}/dashboards`)) if (file.endsWith('.json')) names.add(file.slice(0, -5));
  for (const env of host.list(`${monitoring}/rules`)) for (const file of host.list(`${monitoring}/rules/${env}`)) if (file.endsWith('.yaml')) names.add(file.slice(0, -5));
  return [...names].sort();
}

/** The environment folders under platform/argocd/applications (platform.yaml beside them is the platform's). */
function argoEnvironments(host: FileHost): string[] {
  return host.list('platform/argocd/applications').filter((entry) => !host.isFile(`platform/argocd/applications/${entry}`));
}

/** The user's files in a project's folders: what the overlays and Compose environments hold besides what the spec rendered. */
export function userFiles(host: FileHost, layer: Layer, name: string, owned: string[] = ownedFiles(host, { layer, name })): string[] {
  const mine = new Set(owned);
  const paths = projectPaths(layer, name);
  const folders = [paths.k8sBase, paths.composeBase];
  for (const env of host.list(`${layer}/kubernetes/overlays`)) folders.push(environmentPaths(layer, name, env).overlay);
  for (const env of host.list(`${layer}/compose/environments`)) folders.push(environmentPaths(layer, name, env).composeEnv);
  return folders.flatMap((dir) => listFilesRecursive(host, dir)).filter((f) => !mine.has(f)).sort();
}
