import { InputError, show } from '../../errors';
import { KUBERNETES_NAMESPACES } from '../../project/namespaces';
import { environmentPaths } from '../../project/paths';
import type { AppSpec, BackupProvider, WorkspaceConfig, WorkspaceEnvironment } from '../../spec/types';
import type { NormalizedApp, NormalizedEnvironment } from '../normalized';
import type { EnvironmentDatabase } from './database';
import { SCHEDULE_LABEL } from './compose';
import { type AppNetworks, serviceNetworks } from './compose-networks';
import { environmentNetwork } from '../../project/networks';
import { NO_ENV_LINKS } from './links';
import { NO_QUOTA } from './quota';
import { sortedEnv } from './env';
import { normalizeOverrides, type OverrideBase } from './overrides';
import { disruptionBudget, serviceOverride } from './replicas';
import { SCHEDULER } from './pending';
import { NO_COMPOSE_BACKUP } from './compose-backup';
import { alertRules, type BackupAlertVolume, backupAlertRules, type SignalPlatform } from './signals';
import { resticRepository } from './backup';
import { horizontalAutoscalers } from './autoscale';

/**
 * The environments the app runs in: those its spec lists, else every one of homelab.yaml.
 * Refuses an empty list, an environment homelab.yaml does not define, an app whose namespace
 * would be one of Kubernetes' own, and more than one
 * replica of an app with volumes (in the spec or in any environment).
 */
export function chooseEnvironments(spec: AppSpec, workspace: WorkspaceConfig, where: string, single: { hasVolumes: boolean; replicas: number; autoscales?: boolean }): WorkspaceEnvironment[] {
  const workspaceEnvs = new Map(workspace.environments.map((e) => [e.name, e]));
  const chosen = spec.environments ? Object.keys(spec.environments) : workspace.environments.map((e) => e.name);
  if (chosen.length === 0) {
    throw new InputError(`${where}: environments is empty; list at least one of ${[...workspaceEnvs.keys()].map((e) => show(e)).join(', ')}`);
  }
  for (const e of chosen) {
    if (!workspaceEnvs.has(e)) {
      throw new InputError(
        `${where}: environment ${show(e)} is not defined in homelab.yaml; use one of ${[...workspaceEnvs.keys()].map((k) => show(k)).join(', ')} or add it with nx g homelab:environment`,
      );
    }
  }
  for (const e of chosen) {
    const namespace = `${spec.name}${workspaceEnvs.get(e)!.namespaceSuffix ?? ''}`;
    if (KUBERNETES_NAMESPACES.includes(namespace)) {
      throw new InputError(`${where}: the app would live in Kubernetes' own namespace ${show(namespace)} in ${show(e)}; rename the app, or give ${show(e)} a namespaceSuffix in homelab.yaml`);
    }
  }
  if (single.hasVolumes && (single.replicas > 1 || Object.values(spec.environments ?? {}).some((o) => (o.replicas ?? 0) > 1))) {
    throw new InputError(`${where}: replicas above 1 with volumes; an app with volumes runs one replica (ReadWriteOnce), so set replicas: 1${single.autoscales ? ' and autoscale.max: 1 (or remove autoscale)' : ''}`, 'replicas/read-write-once');
  }
  return chosen.map((e) => workspaceEnvs.get(e)!);
}

/**
 * One environment of the app: its namespace and Compose project, what it overrides
 * (replicas, host, env) as overlay patches and Compose overrides, its alerts and its
 * backup credentials, which name the namespace.
 */
export function normalizeEnvironment(
  app: string,
  ws: WorkspaceEnvironment,
  override: NonNullable<AppSpec['environments']>[string],
  base: {
    replicas: number;
    /** The base's host (the spec's ingress.host): an overlay patches the host only where it differs. */
    host: string;
    /** The host of the app in this environment (steps/hosts.ts appHost). */
    envHost: string;
    env: { name: string; value: string }[];
    tls: boolean;
    ingressPort: number;
    hasIngress: boolean;
    /** The service behind the host (the shorthand's one): the Traefik labels and the app-wide overrides go to it. */
    ingressService: string;
    /** Its health: Traefik checks each replica itself where Docker cannot (an HTTP health probed from outside). */
    ingressHealth: Pick<NormalizedApp['health'], 'outside' | 'isHttp' | 'path' | 'portNumber'>;
    /** Every service of compose.generated.yaml, in the spec's order. */
    composeServices: string[];
    /** Which of them join the environment's shared network. */
    networks: AppNetworks;
    /** The long-running workloads, each with its "down" and "restarting" alerts. */
    alertTargets: { kind: 'Deployment' | 'StatefulSet'; name: string }[];
    /** The cron services and their schedules, for the Compose scheduler's crontab. */
    cron: { service: string; schedule: string }[];
    /** The app's labels, which the environment's own objects (its PodDisruptionBudgets and autoscalers) carry. */
    labels: Record<string, string>;
    /** Every service as the environment's overrides see it, and whether the spec is the shorthand (its replicas and env are the app's). */
    overrides: { where: string; shorthand: boolean; services: OverrideBase[] };
    alerts: boolean;
    /** The backed-up volumes: their restic credentials and, with the schedule, their stale-backup alerts. */
    backup: {
      provider: BackupProvider;
      schedule: string;
      intervalSeconds: number;
      s3?: { endpoint: string; bucket: string } | null;
      volumes: { name: string; resticSecret: string }[];
      /** The restic repositories of the environment: every backed-up volume's with VolSync, the dumps' with any provider; default: the volumes' with VolSync. */
      repositories?: { name: string; resticSecret: string }[];
      /** The dump of the app's database on the shared PostgreSQL: its Secret of libpq variables, and the server; null without. */
      databaseDump?: { secretName: string; host: string; port: number } | null;
      /** What each platform's stale-backup alert watches (steps/signals.ts backupAlertVolumes). */
      watched: Record<SignalPlatform, BackupAlertVolume[]>;
    };
    /** The app's database here, and the services that receive it. */
    database: EnvironmentDatabase;
    databaseServices: string[];
  },
): NormalizedEnvironment {
  const suffix = ws.namespaceSuffix ?? '';
  const replicas = override.replicas ?? base.replicas;
  const host = base.envHost;
  const envOverride = sortedEnv(override.env);
  const merged = new Map(base.env.map((e) => [e.name, e.value]));
  for (const e of envOverride) merged.set(e.name, e.value);
  const env = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => ({ name, value }));
  const composeLabels: Record<string, string> = {};
  if (base.hasIngress) {
    const router = `${app}${suffix}`;
    composeLabels['traefik.enable'] = 'true';
    // Traefik reaches the service on the environment's network (the service is on its project's default network too).
    composeLabels['traefik.docker.network'] = environmentNetwork(ws.name);
    composeLabels[`traefik.http.routers.${router}.rule`] = `Host(\`${host}\`)`;
    composeLabels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(base.ingressPort);
    if (base.tls) composeLabels[`traefik.http.routers.${router}.tls.certresolver`] = 'letsencrypt';
    Object.assign(composeLabels, traefikHealthCheck(router, base, serviceOverride(override, base.ingressService, base.overrides.shorthand).replicas));
  }
  const replicasChanged = replicas !== base.replicas;
  const hostChanged = host !== base.host;
  const envChanged = envOverride.length > 0;
  const namespace = `${app}${suffix}`;
  const composeProject = `${app}${suffix}`;

  const workloadPatches = normalizeOverrides(base.overrides.where, ws.name, override, base.overrides.services, base.overrides.shorthand);
  const scheduleOf = (cron: { service: string; schedule: string }) => workloadPatches.find((p) => p.name === cron.service)?.schedule ?? cron.schedule;
  const patches: string[] = [];
  if (workloadPatches.length > 0) patches.push('workload-patch.yaml');
  if (hostChanged) patches.push('ingress-patch.yaml');

  // Alerts are per environment because a rule's query must name its namespace (Compose: its project); a pair per workload.
  // With backed-up volumes, <App>BackupStale too: on VolSync's and kube-state-metrics' series (Kubernetes), the movers' textfile metric (Compose).
  const backupAlerts = (platform: SignalPlatform, scope: string) =>
    base.backup.watched[platform].length === 0
      ? []
      : backupAlertRules(platform, {
          app,
          env: ws.name,
          scope,
          schedule: base.backup.schedule,
          intervalSeconds: base.backup.intervalSeconds,
          scheduler: SCHEDULER,
          volumes: base.backup.watched[platform],
        });
  const alerts = base.alerts ? [...alertRules('kubernetes', namespace, base.alertTargets), ...backupAlerts('kubernetes', namespace)] : [];
  const composeAlerts = base.alerts ? [...alertRules('compose', composeProject, base.alertTargets), ...backupAlerts('compose', composeProject)] : [];
  // Restic credentials are per environment so that dev and prod never share a repository path.
  // The values are External Secrets templates, resolved in the cluster, never rendered here.
  // The repositories VolSync's movers and the dump CronJobs write (the caller lists them).
  const repositories = base.backup.repositories ?? (base.backup.provider === 'volsync' ? base.backup.volumes : []);
  const resticSecrets = repositories.map((v) => ({
    name: v.resticSecret,
    repository: resticRepository(base.backup.s3 ?? null, namespace, v.name),
    password: '{{ .password }}',
  }));
  const resources: string[] = [];
  if (alerts.length > 0) resources.push('prometheusrule.yaml');
  // The database's Secret is an ExternalSecret of this namespace: the same Secret name, this environment's database.
  if (resticSecrets.length > 0 || base.database.enabled) resources.push('externalsecret.yaml');
  if (base.backup.provider === 'velero' && base.backup.volumes.length > 0) resources.push('schedule.yaml');
  const autoscalers = horizontalAutoscalers(
    base.labels,
    workloadPatches.map((p) => ({ name: p.name, kind: p.kind, component: base.overrides.services.find((s) => s.name === p.name)?.component, autoscale: p.autoscale })),
  );
  if (autoscalers.length > 0) resources.push('horizontalpodautoscaler.yaml');
  // A node drain takes the pods of a replicated service one at a time (or as its availability says):
  // a budget wherever it may run more than one (an autoscaler's max).
  const budgets = base.overrides.services.flatMap((s) => {
    const own = serviceOverride(override, s.name, base.overrides.shorthand);
    const patch = workloadPatches.find((p) => p.name === s.name);
    const highest = patch?.autoscale ? patch.autoscale.max : (patch?.replicas ?? s.replicas);
    return disruptionBudget(s, highest, own.availability ?? s.replicaSpec.availability, base.labels) ?? [];
  });
  if (budgets.length > 0) resources.push('poddisruptionbudget.yaml');

  return {
    name: ws.name,
    protected: ws.protected ?? false,
    namespace,
    composeProject,
    replicas,
    replicasChanged,
    host,
    hostChanged,
    env,
    envChanged,
    hasPatches: patches.length > 0,
    patches,
    resources,
    hasResources: resources.length > 0,
    autoscalers,
    budgets,
    alertGroup: `${app}.${ws.name}`,
    alerts,
    composeAlerts,
    resticSecrets,
    databaseDump: databaseDump(base.backup.databaseDump ?? null, base.database),
    database: base.database,
    hasComposeOverrides: replicasChanged || envChanged || Object.keys(composeLabels).length > 0,
    server: ws.kubernetes?.server ?? 'https://kubernetes.default.svc',
    argocdAppName: `${app}-${ws.name}`,
    composeLabels,
    hasComposeLabels: Object.keys(composeLabels).length > 0,
    sharedNetwork: base.networks.shared.length > 0 ? environmentNetwork(ws.name) : null,
    hasNetworks: base.networks.shared.length > 0,
    // The services of compose.generated.yaml: what this environment changes of each.
    // An environment's schedule of a cron service (environments.<env>.services.<svc>.schedule) wins.
    crontab: base.cron.map((c) => `${scheduleOf(c)} docker start -a ${app}${suffix}-${c.service}-1\n`).join(''),
    // Filled in by app/steps/compose-backup.ts withComposeBackup.
    composeBackup: NO_COMPOSE_BACKUP,
    workloadPatches,
    composeServices: base.composeServices.map((service) => {
      const own = workloadPatches.find((p) => p.name === service && p.composeChanged) ?? imageOfContainer(workloadPatches, base.overrides.services, service);
      // The label deploy reads a cron service's schedule from (docs/deploy.md) follows the environment's schedule.
      const labels = { ...(service === base.ingressService ? composeLabels : {}), ...(own?.scheduleChanged ? { [SCHEDULE_LABEL]: own.schedule! } : {}) };
      const networks = serviceNetworks(base.networks, ws.name, service);
      // The environment's env of the service (Compose merges `environment` by key), then its database's plain values.
      const environment = [...(own?.envChanged ? own.env : []), ...(base.databaseServices.includes(service) ? base.database.composeEnv : [])];
      return {
        name: service,
        override: own,
        composeLabels: labels,
        hasComposeLabels: Object.keys(labels).length > 0,
        networks,
        networkList: networks?.map((key) => ({ key, aliases: null, comment: null })) ?? null,
        linkNetworks: null,
        environment,
        hasEnvironment: environment.length > 0,
        hasOverrides: own !== null || Object.keys(labels).length > 0 || networks !== null || environment.length > 0,
      };
    }),
    paths: environmentPaths('applications', app, ws.name),
    velero: { name: `${app}${suffix}` },
    links: NO_ENV_LINKS,
    // Filled in by app/steps/quota.ts withQuota.
    quota: NO_QUOTA,
  };
}

/**
 * Traefik's own health check of each replica behind the host (docs/availability.md): Traefik's
 * Docker provider already skips a container whose Docker health is not `healthy`, which covers a
 * health check that runs in the container; a replicated service whose HTTP health is probed from
 * outside (an image without wget) has no Docker health, so Traefik probes each replica's path.
 */
function traefikHealthCheck(router: string, base: { replicas: number; ingressPort: number; ingressHealth: Pick<NormalizedApp['health'], 'outside' | 'isHttp' | 'path' | 'portNumber'> }, envReplicas: number | undefined): Record<string, string> {
  const replicas = envReplicas ?? base.replicas;
  const health = base.ingressHealth;
  if (replicas <= 1 || !health.outside || !health.isHttp) return {};
  const prefix = `traefik.http.services.${router}.loadbalancer.healthcheck`;
  return {
    [`${prefix}.path`]: health.path,
    [`${prefix}.interval`]: '5s',
    [`${prefix}.timeout`]: '3s',
    ...(health.portNumber !== base.ingressPort ? { [`${prefix}.port`]: String(health.portNumber) } : {}),
  };
}

/**
 * The override of an init container's or sidecar's Compose service (`<service>-<name>`): the
 * environment's image of its service, when it runs the service's image; null otherwise.
 */
function imageOfContainer(patches: NormalizedEnvironment['workloadPatches'], services: OverrideBase[], composeName: string): NormalizedEnvironment['workloadPatches'][number] | null {
  const service = services.find((s) => (s.containers ?? []).some((c) => c.composeName === composeName));
  const patch = service && patches.find((p) => p.name === service.name && p.imageChanged);
  if (!patch) return null;
  return { ...patch, name: composeName, replicasChanged: false, autoscale: null, autoscaled: false, envChanged: false, resourcesChanged: false, scheduleChanged: false, composeChanged: true };
}

/**
 * The libpq variables of the database dump in one environment (CronJob `<app>-database-dump`):
 * the environment's database and owner on the shared PostgreSQL, the owner's password as an
 * External Secrets template, resolved in the cluster. Null without a database.
 */
function databaseDump(dump: { secretName: string; host: string; port: number } | null, database: EnvironmentDatabase): NormalizedEnvironment['databaseDump'] {
  if (!dump || !database.enabled) return null;
  const data = [
    { name: 'PGHOST', value: dump.host },
    { name: 'PGPORT', value: String(dump.port) },
    { name: 'PGDATABASE', value: database.name },
    { name: 'PGUSER', value: database.owner },
    { name: 'PGPASSWORD', value: '{{ .password }}' },
  ];
  return { name: dump.secretName, data };
}
