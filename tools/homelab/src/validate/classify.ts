import * as path from 'node:path';

/**
 * What a file is to validation. One function decides it for both front doors (the Nx target's
 * per-project checks and `homelab validate`), so they never read the same file two ways.
 *
 * - `kubernetes`: Kubernetes manifests (a `kustomization.yaml` without `kind` is a Kustomization)
 * - `compose`: a Compose file (`compose*.yaml`, `docker-compose*.yaml`)
 * - `compose-config`: a file a Compose stack mounts (prometheus.yml, loki.yaml, …), or a config file kept
 *   beside an app spec (applications/specs/<app>/…, mounted on both platforms): YAML syntax only
 * - `helm-values`: a Helm values file of a component (its ArgoCD Application passes it to the chart): YAML syntax only
 * - `app-spec`, `infra-spec`, `store-spec`, `workspace`: homelab's own specs, each against its schema
 * - `custom-schema`: a JSON schema under schemas/custom (it must compile)
 * - `skip`: not YAML (a runbook, an env file, a .pem): only searched for private keys
 */
export type FileKind = 'kubernetes' | 'compose' | 'compose-config' | 'helm-values' | 'app-spec' | 'infra-spec' | 'store-spec' | 'workspace' | 'custom-schema' | 'skip';

const COMPOSE_FILE = /^(docker-)?compose([.-][^/]*)?\.ya?ml$/;
const YAML_OR_JSON = /\.(ya?ml|json)$/;

/**
 * The homelab content of a workspace: what a walk inside it covers, and what the Nx projects
 * (apps, components and `platform`) validate. Everything else (package.json, tsconfig*.json,
 * tools/, generators/) belongs to the tool, not to the homelab.
 */
const CONTENT = /^(homelab\.yaml$|applications\/|infrastructure\/|platform\/|schemas\/custom\/)/;

/** Is a workspace-relative path homelab content (see CONTENT)? */
export function isHomelabContent(rel: string): boolean {
  return CONTENT.test(rel);
}

/**
 * What a file is. Inside a workspace, `rel` is its workspace-relative path and its place in the
 * layout decides; a file outside the homelab content (or outside any workspace) is classified
 * by its name alone, as any folder of manifests would be.
 * @example classify('infrastructure/kubernetes/overlays/prod/logging/values-alloy.yaml', true) // 'helm-values'
 * @example classify('deploy/values.yaml', false) // 'kubernetes'
 */
export function classify(rel: string, inWorkspace: boolean): FileKind {
  const base = path.posix.basename(rel);
  if (!YAML_OR_JSON.test(base)) return 'skip';
  if (!inWorkspace || !isHomelabContent(rel)) return COMPOSE_FILE.test(base) ? 'compose' : 'kubernetes';
  if (rel === 'homelab.yaml') return 'workspace';
  if (rel.startsWith('schemas/custom/')) return base.endsWith('.json') ? 'custom-schema' : 'skip';
  if (/^applications\/specs\/[^/]+\.yaml$/.test(rel)) return 'app-spec';
  // A config file of a `config: { file }` volume, kept beside its spec: the app mounts it, so it is no manifest.
  if (/^applications\/specs\/[^/]+\//.test(rel)) return 'compose-config';
  if (/^infrastructure\/specs\/[^/]+\.yaml$/.test(rel)) return 'infra-spec';
  if (/^platform\/secrets\/specs\/[^/]+\.yaml$/.test(rel)) return 'store-spec';
  if (/^(applications|infrastructure)\/compose\//.test(rel)) return COMPOSE_FILE.test(base) ? 'compose' : 'compose-config';
  // An install's own values (Traefik's replicas) sit in its overlay's generated/ folder.
  if (/^infrastructure\/kubernetes\/(base|overlays\/[^/]+)\/[^/]+\/(generated\/)?values[^/]*\.ya?ml$/.test(rel)) return 'helm-values';
  return 'kubernetes';
}

/**
 * The Nx project (layer `platform`) that owns what no app or component owns: homelab.yaml,
 * the ArgoCD bootstrap, the secret stores and their specs, the platform Application and
 * schemas/custom. Named like the platform's ArgoCD Application.
 */
export const PLATFORM_PROJECT = 'homelab-platform';

/** An app or component: the Nx project a file belongs to. */
export interface ProjectRef {
  layer: 'applications' | 'infrastructure';
  name: string;
}

/**
 * The app or component a workspace-relative path belongs to, by the layout alone (whether its
 * spec exists is the caller's question): its spec, its files in every tree, its ArgoCD
 * Applications and its runbook. ArgoCD Applications name no layer: `layerOf` says which one
 * has a spec of that name.
 */
export function projectOfPath(rel: string, layerOf: (name: string) => ProjectRef['layer'] | null = () => 'applications'): ProjectRef | null {
  const m =
    /^(applications|infrastructure)\/(?:specs\/([^/]+)\.yaml$|kubernetes\/base\/([^/]+)\/|kubernetes\/overlays\/[^/]+\/([^/]+)\/|compose\/base\/([^/]+)\/|compose\/environments\/[^/]+\/([^/]+)\/|compose\/monitoring\/(?:dashboards|rules\/[^/]+)\/([^/]+)\.(?:json|yaml)$|runbooks\/([^/]+)\.md$)/.exec(rel);
  if (m) return { layer: m[1] as ProjectRef['layer'], name: (m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6] ?? m[7] ?? m[8])! };
  const argo = /^platform\/argocd\/applications\/[^/]+\/([^/]+)\.yaml$/.exec(rel);
  if (!argo) return null;
  const layer = layerOf(argo[1]);
  return layer ? { layer, name: argo[1] } : null;
}
