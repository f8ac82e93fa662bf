import { InputError } from '../errors';
import type { FileHost } from '../host';
import { tidy } from '../render/app';
import { assertParsesBack, renderTemplate, type Owner, type RenderedFile } from '../render/engine';
import { SYNC_WAVES } from '../app/normalized';
import type { WorkspaceConfig } from '../spec/types';
import { INFRA_PROJECT, type NormalizedComponent } from '../component/normalize';
import { PLATFORM_PRIORITY } from '../component/steps/instances';
import { STORES_DIR } from './secret-store';
import { IN_CLUSTER, environmentTargets } from '../workspace/targets';
import type { SecretStoreSpec } from './secret-store';

/** The file whose presence means `nx g homelab:init` ran: it is the user's, so sync never removes it. */
export const BOOTSTRAP_KUSTOMIZATION = 'platform/argocd/bootstrap/kustomization.yaml';
export const PLATFORM_PROJECT = 'platform';

export function isInitialised(host: FileHost): boolean {
  return host.isFile(BOOTSTRAP_KUSTOMIZATION);
}

/** Refuses a generator that needs the ArgoCD bootstrap in a workspace that has none. */
export function requireInitialised(host: FileHost): void {
  if (!isInitialised(host)) {
    throw new InputError(`the workspace is not initialised (${BOOTSTRAP_KUSTOMIZATION} is missing); run \`npx nx g homelab:init\` first`);
  }
}

/**
 * ArgoCD's health check for Application resources (removed from ArgoCD in 1.8): an
 * Application is as healthy as it says it is, so a parent app-of-apps waits for each
 * sync wave's Applications before the next wave.
 */
export const APPLICATION_HEALTH_LUA = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`;

interface GroupKind {
  group: string;
  kind: string;
}
interface NormalizedProject {
  name: string;
  description: string;
  sourceRepos: string[];
  destinations: { server: string; namespace: string }[];
  hasDestinations: boolean;
  clusterResourceWhitelist: GroupKind[];
  hasClusterResourceWhitelist: boolean;
  namespaceResourceWhitelist: GroupKind[];
  hasNamespaceResourceWhitelist: boolean;
}

export interface NormalizedPlatform {
  gitops: { repoURL: string; revision: string; argocdNamespace: string };
  inCluster: string;
  syncWave: string;
  root: { name: string; project: string; path: string };
  platformApp: { name: string; path: string };
  projects: NormalizedProject[];
  applicationHealthLua: string;
  stores: { files: string[]; hasFiles: boolean };
  /**
   * The PriorityClass the components' pods name, once per cluster that installs any: an
   * Application per cluster (its installing environment's) in sync wave 1, after the platform
   * (0) and before the first component (3), so the class exists before a pod names it.
   */
  priority: {
    className: string;
    value: number;
    path: string;
    syncWave: string;
    project: string;
    /** Kubernetes' own namespace: the destination of an Application of cluster-scoped objects only. */
    namespace: string;
    applications: { name: string; env: string; server: string; output: string }[];
  };
}

const sortUnique = (values: string[]) => [...new Set(values)].sort();

/** An app and the environments its spec puts it in: where the applications project lets it go. */
export interface AppPlacement {
  name: string;
  environments: readonly string[];
}

/**
 * Everything the platform files say, from homelab.yaml and the infrastructure: the three
 * AppProjects allow exactly the sources and destinations their Applications use.
 */
export function normalizePlatform(
  workspace: WorkspaceConfig,
  components: readonly NormalizedComponent[],
  stores: readonly SecretStoreSpec[],
  storeFiles: readonly string[],
  apps: readonly AppPlacement[] = [],
): NormalizedPlatform {
  const argocdNamespace = workspace.gitops.argocdNamespace ?? 'argocd';
  const repoURL = workspace.gitops.repoURL;

  // One PriorityClass Application per cluster with components, named after the environment installing them there.
  const installers = new Map(components.flatMap((c) => c.environments.filter((e) => e.kubernetes).map((e) => [e.server, e.name] as const)));
  const priorityApps = [...installers].map(([server, env]) => ({ name: `priority-classes-${env}`, env, server, output: `platform/argocd/applications/priority-classes-${env}.yaml` }));
  priorityApps.sort((a, b) => (a.env < b.env ? -1 : 1));
  const infraRepos = components.flatMap((c) => [...c.charts.map((ch) => ch.repoURL), ...(c.crds ? [c.crds.repoURL] : [])]);
  // Namespaces infrastructure writes namespaced resources to: its own, kube-prometheus-stack's
  // control-plane Services in kube-system, the Kubernetes store's reader in its namespace, and the Gateway's.
  const infraNamespaces = sortUnique([
    ...components.filter((c) => c.isKubernetes).map((c) => c.namespace),
    // The Gateway of ingress.kind httproute may live in a namespace of its own (homelab.yaml ingress.gateway.namespace).
    ...components.filter((c) => c.isKubernetes && c.gateway.enabled).map((c) => c.gateway.namespace),
    // kube-prometheus-stack's control-plane Services; the PriorityClass Application's destination.
    ...(components.some((c) => c.name === 'monitoring' && c.isKubernetes) || priorityApps.length > 0 ? [PRIORITY_NAMESPACE] : []),
    ...stores.filter((s) => s.provider === 'kubernetes').map((s) => s.settings.namespace ?? 'homelab-secrets'),
  ]);
  const infraServers = sortUnique(components.flatMap((c) => c.environments.filter((e) => e.kubernetes).map((e) => e.server)));

  // Apps live in <app><namespaceSuffix>, each in the environments its spec lists: the project
  // names exactly those namespaces, so no Application of it can land anywhere else (another app's
  // namespace, Kubernetes', ArgoCD's or the infrastructure's). Velero's Schedules of apps live in
  // velero's namespace.
  const velero = workspace.backup?.provider === 'velero';
  const taken = new Map<string, string>();
  const appDestinations = environmentTargets(workspace).flatMap((t) => {
    const here = apps.filter((a) => a.environments.includes(t.env.name));
    for (const a of here) {
      // `web` in an environment suffixed -dev and an app named `web-dev` on the same cluster would share a namespace.
      const key = `${t.server} ${a.name}${t.env.namespaceSuffix ?? ''}`;
      const other = taken.get(key);
      if (other !== undefined && other !== `${a.name} ${t.env.name}`) {
        throw new InputError(
          `app ${a.name} in ${t.env.name} and app ${other.replace(' ', ' in ')} would share namespace ${a.name}${t.env.namespaceSuffix ?? ''} on ${t.server}; rename one of the apps`,
        );
      }
      taken.set(key, `${a.name} ${t.env.name}`);
    }
    return [
      ...here.map((a) => ({ server: t.server, namespace: `${a.name}${t.env.namespaceSuffix ?? ''}` })),
      ...(velero && here.length > 0 ? [{ server: t.server, namespace: 'velero' }] : []),
    ];
  });
  const uniqueDestinations = (list: { server: string; namespace: string }[]) =>
    [...new Map(list.map((d) => [`${d.server} ${d.namespace}`, d])).values()].sort((a, b) =>
      `${a.server} ${a.namespace}` < `${b.server} ${b.namespace}` ? -1 : 1,
    );

  const project = (p: Omit<NormalizedProject, 'hasDestinations' | 'hasClusterResourceWhitelist' | 'hasNamespaceResourceWhitelist'>): NormalizedProject => ({
    ...p,
    hasDestinations: p.destinations.length > 0,
    hasClusterResourceWhitelist: p.clusterResourceWhitelist.length > 0,
    hasNamespaceResourceWhitelist: p.namespaceResourceWhitelist.length > 0,
  });

  return {
    gitops: { repoURL, revision: workspace.gitops.revision ?? 'main', argocdNamespace },
    inCluster: IN_CLUSTER,
    syncWave: SYNC_WAVES.platform,
    root: { name: 'homelab', project: PLATFORM_PROJECT, path: 'platform/argocd/applications' },
    platformApp: { name: 'homelab-platform', path: 'platform/argocd/bootstrap' },
    projects: [
      project({
        name: PLATFORM_PROJECT,
        description: 'The platform layer: ArgoCD\'s own configuration and the Applications of every layer, in ArgoCD\'s namespace only.',
        sourceRepos: [repoURL],
        destinations: [{ server: IN_CLUSTER, namespace: argocdNamespace }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [
          { group: 'argoproj.io', kind: 'Application' },
          { group: 'argoproj.io', kind: 'AppProject' },
          { group: '', kind: 'ConfigMap' },
        ],
      }),
      project({
        name: INFRA_PROJECT,
        description: 'Infrastructure components: this repository and the pinned Helm repositories of infrastructure/specs, into the components\' namespaces.',
        sourceRepos: sortUnique([repoURL, ...infraRepos]),
        destinations: uniqueDestinations(infraServers.flatMap((server) => infraNamespaces.map((namespace) => ({ server, namespace })))),
        // Operators install CRDs, ClusterRoles, webhooks, ClusterIssuers and ClusterSecretStores.
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
        namespaceResourceWhitelist: [],
      }),
      project({
        name: workspace.gitops.project ?? 'applications',
        description: 'Applications: this repository only, into each environment\'s app namespaces, never into those of Kubernetes, ArgoCD or the infrastructure.',
        sourceRepos: [repoURL],
        destinations: uniqueDestinations(appDestinations),
        clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
        namespaceResourceWhitelist: [],
      }),
    ],
    applicationHealthLua: APPLICATION_HEALTH_LUA,
    stores: { files: [...storeFiles], hasFiles: storeFiles.length > 0 },
    priority: { className: PLATFORM_PRIORITY.name, value: PLATFORM_PRIORITY.value, path: PRIORITY_DIR, syncWave: '1', project: INFRA_PROJECT, namespace: PRIORITY_NAMESPACE, applications: priorityApps },
  };
}

/** The PriorityClasses of the platform (a Kustomize folder), applied by one Application per cluster. */
export const PRIORITY_DIR = 'platform/priority-classes';
const PRIORITY_NAMESPACE = 'kube-system';

const PLATFORM_FILES: readonly { template: string; owner: Owner }[] = [
  { template: BOOTSTRAP_KUSTOMIZATION, owner: 'user' },
  { template: 'platform/argocd/bootstrap/argocd-cm.yaml', owner: 'spec' },
  { template: 'platform/argocd/bootstrap/appprojects.yaml', owner: 'spec' },
  { template: 'platform/argocd/bootstrap/root.yaml', owner: 'spec' },
  { template: 'platform/argocd/applications/platform.yaml', owner: 'spec' },
  { template: `${STORES_DIR}/kustomization.yaml`, owner: 'spec' },
];
/** The PriorityClass folder: rendered once a cluster installs a component (an Application applies it). */
const PRIORITY_FILES = [`${PRIORITY_DIR}/kustomization.yaml`, `${PRIORITY_DIR}/priorityclass.yaml`];

/** The files homelab renders under platform/ (besides the stores and each project's Applications). */
export function renderPlatform(platform: NormalizedPlatform, templatesDir?: string): RenderedFile[] {
  const render = (template: string, output: string, context: object): RenderedFile => {
    const content = tidy(renderTemplate(`platform/${template}`, context, templatesDir));
    assertParsesBack(output, content);
    return { path: output, content, owner: 'spec' };
  };
  return [
    ...PLATFORM_FILES.map((file) => ({ ...render(file.template, file.template, { platform }), owner: file.owner })),
    ...(platform.priority.applications.length > 0 ? PRIORITY_FILES.map((file) => render(file, file, { platform })) : []),
    ...platform.priority.applications.map((app) => render('platform/argocd/applications/priority-classes.yaml', app.output, { platform, app })),
  ];
}

/** The YAML files of platform/secrets/stores that its kustomization lists (every one but itself). */
export function storeFiles(host: FileHost, rendered: readonly string[] = []): string[] {
  const names = new Set([...host.list(STORES_DIR).filter((f) => /\.ya?ml$/.test(f)), ...rendered.map((p) => p.replace(/^.*\//, ''))]);
  names.delete('kustomization.yaml');
  return [...names].sort();
}
