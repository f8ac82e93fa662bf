import type { FileHost } from '../host';
import { ARGOCD_CRDS, CATALOG, type CrdSource } from './catalog';
import { isInitialised } from '../platform/argocd';
import { listComponentNames, readComponentSpec } from './spec';
import type { ComponentName } from './types';

/**
 * The CRDs a cluster running this workspace needs, at the versions the catalog pins: ArgoCD's once
 * the platform is initialised (ArgoCD is installed by hand before the bootstrap), then each
 * component's in catalog order (the backup component only its provider's). What the users' CI job
 * installs into the cluster it creates before `homelab validate --server-dry-run`
 * (scripts/crds/install.ts): a kind whose component the workspace lacks stays uninstalled there,
 * so the dry run reports it (`server/no-crd`) as the real cluster would refuse it.
 * @example workspaceCrdSources(diskHost(root)).map((s) => s.project) // ['argo-cd', 'cert-manager', 'volsync']
 */
export function workspaceCrdSources(host: FileHost): CrdSource[] {
  const sources = isInitialised(host) ? [ARGOCD_CRDS] : [];
  for (const name of listComponentNames(host)) {
    const entry = CATALOG[name];
    const settings = readComponentSpec(host, name).settings ?? {};
    sources.push(...(entry.installedCrdSources?.(settings) ?? entry.crdSources));
  }
  return sources.filter((s, i) => sources.findIndex((o) => o.project === s.project) === i);
}

/**
 * Who installs the CRDs of a Go module of crdSources: `argocd` (by hand), the catalog
 * components whose charts bring them, or nothing (not a catalog module).
 * @example crdOwners('github.com/backube/volsync') // ['backup']
 */
export function crdOwners(module: string): ('argocd' | ComponentName)[] {
  if (module === ARGOCD_CRDS.module) return ['argocd'];
  return (Object.keys(CATALOG) as ComponentName[]).filter((name) => CATALOG[name].crdSources.some((s) => s.module === module));
}
