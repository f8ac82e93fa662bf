import { COMPONENT_NAMES } from '../../component/types';
import { InputError, show } from '../../errors';
import { appPaths } from '../../project/paths';
import type { AppSpec, WorkspaceConfig } from '../../spec/types';
import type { BackupMoverEgress, Dependencies, NormalizedApp } from '../normalized';
import { backupS3 } from '../../spec/backup-target';
import { DUMP_LABEL } from './backup';
import type { Port, Ports } from './ports';

/** Ingress with cert-manager, or a Gateway API HTTPRoute (homelab.yaml ingress.kind), on the ingress port. */
export function normalizeIngress(spec: AppSpec, workspace: WorkspaceConfig, where: string, service: { name: string; ports: Ports }): NormalizedApp['ingress'] & { target: Port } {
  const ports = service.ports;
  const kind = workspace.ingress?.kind ?? 'ingress';
  const target = spec.ingress ? ports.byName(spec.ingress.port, 'ingress.port', ports.httpPort) : (ports.ports[0] ?? { name: '', port: 0, protocol: 'TCP' as const });
  const anyEnvHost = Object.entries(spec.environments ?? {}).find(([, o]) => o.host);
  if (!spec.ingress && anyEnvHost) {
    throw new InputError(`${where}: environments.${anyEnvHost[0]}.host is set but the app has no ingress; add ingress.host to the spec`);
  }
  return {
    target,
    enabled: Boolean(spec.ingress),
    isIngress: Boolean(spec.ingress) && kind === 'ingress',
    isHttpRoute: Boolean(spec.ingress) && kind === 'httproute',
    host: spec.ingress?.host ?? '',
    tls: spec.ingress?.tls ?? true,
    service: service.name,
    port: target.name,
    portNumber: target.port,
    className: workspace.ingress?.className ?? 'traefik',
    clusterIssuer: workspace.ingress?.clusterIssuer ?? 'letsencrypt',
    tlsSecretName: `${spec.name}-tls`,
    gateway: workspace.ingress?.gateway ?? { name: 'homelab', namespace: workspace.ingress?.namespace ?? 'traefik' },
  };
}

/**
 * The NetworkPolicy's openings: from the ingress controller to the ingress port, from
 * monitoring to the metrics port, to the dependencies' namespaces, and to the internet
 * only when the spec allows it.
 */
export function normalizeNetwork(
  spec: AppSpec,
  workspace: WorkspaceConfig,
  opened: { ingressPort: number; metricsPort: number; betweenServices: boolean },
  dependencies: Dependencies,
  apps: ReadonlySet<string> = new Set(),
  backup: Pick<NormalizedApp['backup'], 'enabled' | 'provider'> & Partial<Pick<NormalizedApp['backup'], 'dumps'>> = { enabled: false, provider: 'volsync' },
): NormalizedApp['network'] {
  return {
    allowInternet: spec.network?.allowInternet ?? false,
    ingressNamespace: workspace.ingress?.namespace ?? 'traefik',
    monitoringNamespace: workspace.monitoring?.namespace ?? 'monitoring',
    fromIngressPorts: spec.ingress ? [opened.ingressPort] : [],
    metricsPortNumber: opened.metricsPort,
    dependencyNamespaces: dependencyNamespaces(spec, dependencies, apps),
    betweenServices: opened.betweenServices,
    mover: backupMoverEgress(spec.name, workspace, backup),
    dump: backupDumpEgress(spec.name, workspace, backup.dumps ?? []),
  };
}

/**
 * The dump CronJobs' pods (app/steps/backup.ts backupDumps), which `default-deny` catches too:
 * egress to DNS, to the database they dump (the service's pods on its port, or the shared
 * PostgreSQL's namespace) and to their repository (as VolSync's movers: the S3 target's port, else
 * any); and, for a service's own database, an ingress policy on that service's pods from them.
 */
export function backupDumpEgress(app: string, workspace: WorkspaceConfig, dumps: NormalizedApp['backup']['dumps']): NormalizedApp['network']['dump'] {
  const repository = backupMoverEgress(app, workspace, { enabled: dumps.length > 0, provider: 'volsync' });
  const services = dumps.filter((d) => !d.server.isDatabase).map((d) => ({ name: `${app}-${d.server.name}-from-backup-dump`, service: d.server.name, selector: d.server.selector, port: d.server.port }));
  const database = dumps.find((d) => d.server.isDatabase);
  return {
    enabled: dumps.length > 0,
    name: `${app}-backup-dump`,
    selector: { [DUMP_LABEL]: app },
    repository,
    services,
    database: database ? { namespace: database.server.namespace!, port: database.server.port } : null,
  };
}

/** The labels VolSync (`app.kubernetes.io/created-by: volsync`) and k8up (`k8upjob: "true"`) put on the mover pods they start in the app's namespace. */
const MOVER_SELECTORS: Partial<Record<NormalizedApp['backup']['provider'], Record<string, string>>> = {
  volsync: { 'app.kubernetes.io/created-by': 'volsync' },
  k8up: { k8upjob: 'true' },
};

/**
 * The backup movers' egress (docs/infrastructure.md, "Network policy"): VolSync and k8up run
 * their movers in the app's namespace, where `default-deny` leaves them neither DNS nor their
 * repository. k8up's repository is homelab.yaml's backup.s3 endpoint: its address when the
 * endpoint is an IP, else any address on its port (a NetworkPolicy cannot name a host).
 * VolSync's restic repository comes from the secret store and is not known here: any address
 * and port. Velero's node agents copy the data from the velero namespace: nothing opens here.
 */
export function backupMoverEgress(app: string, workspace: WorkspaceConfig, backup: Pick<NormalizedApp['backup'], 'enabled' | 'provider'>): BackupMoverEgress {
  const selector = MOVER_SELECTORS[backup.provider];
  const none: BackupMoverEgress = { enabled: false, name: '', selector: {}, cidr: '', ports: [], hasPorts: false, reason: '' };
  if (!backup.enabled || !selector) return none;
  const name = `${app}-backup-mover`;
  // VolSync's repositories are in the S3 target when homelab.yaml has one (docs/backup.md); k8up's always are.
  const s3 = backupS3(workspace);
  const endpoint = backup.provider === 'k8up' || backup.provider === 'volsync' ? s3?.endpoint : undefined;
  const field = workspace.backup?.target?.s3 ? 'backup.target.s3.endpoint' : 'backup.s3.endpoint';
  let url: URL | null = null;
  try {
    url = endpoint ? new URL(endpoint) : null;
  } catch {
    url = null;
  }
  if (!url) {
    const reason = `${backup.provider}'s repository (from the secret store) is not known here: any address and port; narrow it in the overlay when you know it`;
    return { enabled: true, name, selector, cidr: '0.0.0.0/0', ports: [], hasPorts: false, reason };
  }
  const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
  const ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname);
  const reason = ip
    ? `the repository, homelab.yaml ${field} ${endpoint}`
    : `the repository, homelab.yaml ${field} ${endpoint}: a NetworkPolicy cannot name a host, so any address on its port`;
  return { enabled: true, name, selector, cidr: ip ? `${url.hostname}/32` : '0.0.0.0/0', ports: [port], hasPorts: true, reason };
}

/**
 * The namespaces an app's NetworkPolicy allows egress to: each dependency's own (ingress
 * runs in traefik, backup in its operator's namespace), never the component's name.
 * Apps it depends on (`apps`) are not components: their namespaces differ per environment,
 * so the overlay's generated NetworkPolicy opens them (app/steps/links.ts).
 * A dependency the workspace does not have is refused here, before sync writes anything.
 */
export function dependencyNamespaces(spec: AppSpec, dependencies: Dependencies, apps: ReadonlySet<string> = new Set()): string[] {
  const where = appPaths(spec.name).spec;
  const namespaces = new Set<string>();
  for (const dep of spec.dependsOn ?? []) {
    if (apps.has(dep)) continue;
    const found = dependencies.get(dep);
    if (!found && (COMPONENT_NAMES as readonly string[]).includes(dep)) {
      throw new InputError(
        `${where}: dependsOn ${show(dep)} is not an infrastructure component of this workspace (no infrastructure/specs/${dep}.yaml); add it with \`npx nx g homelab:infra ${dep}\`, or remove it from dependsOn`,
        'deps/unknown-component',
      );
    }
    if (!found) {
      throw new InputError(
        `${where}: dependsOn ${show(dep)} is neither an app (no applications/specs/${dep}.yaml) nor an infrastructure component (no infrastructure/specs/${dep}.yaml) of this workspace; add the app with \`npx nx g homelab:app ${dep}\`, use a component of the catalog (${COMPONENT_NAMES.join(', ')}) or write infrastructure/specs/${dep}.yaml, or remove it from dependsOn`,
        'deps/unknown-app',
      );
    }
    if (found.kubernetes && found.namespace === null) {
      throw new InputError(`infrastructure/specs/${dep}.yaml names no namespace, so ${spec.name}'s NetworkPolicy cannot allow egress to it; add \`namespace: <its namespace>\` to that spec`);
    }
    if (found.namespace !== null) namespaces.add(found.namespace);
  }
  return [...namespaces].sort();
}
