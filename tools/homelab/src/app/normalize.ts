import { InputError, show } from '../errors';
import { appPaths } from '../project/paths';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import { APP_DEFAULTS, type AppLinks, type Dependencies, NO_LINKS, type NormalizedApp, SCHEDULER_IMAGE } from './normalized';
import { normalizeBackup } from './steps/backup';
import { SCRATCH_LABEL } from './steps/compose';
import { composeBackupConfigs, composeBackupVolumes, environmentComposeBackup, normalizeComposeBackup, withComposeBackup } from './steps/compose-backup';
import { appNetworks } from './steps/compose-networks';
import { highestReplicas } from './steps/autoscale';
import { checkContainers } from './steps/containers';
import { databaseClaims, environmentDatabase, normalizeDatabase, POSTGRES_COMPONENT } from './steps/database';
import { orderServices } from './steps/dependencies';
import { normalizeSecrets } from './steps/env';
import { chooseEnvironments, normalizeEnvironment } from './steps/environments';
import { normalizeMonitoring } from './steps/monitoring';
import { backupAlertVolumes } from './steps/signals';
import { checkAppLinks, linksIn, withLinks } from './steps/links';
import { appHost } from './steps/hosts';
import { normalizeIngress, normalizeNetwork } from './steps/networking';
import { normalizePatches } from './steps/patches';
import { refuseNotRenderedYet, SCHEDULER } from './steps/pending';
import { environmentQuota, ownerQuota, quotaInput, quotaSettings, withQuota } from './steps/quota';
import { isFullForm, type NormalizedService, normalizeServices } from './steps/services';
import { checkReplicas } from './steps/replicas';
import { normalizeStorage, normalizeVolumes, shareVolumes, type SpecFileReader } from './steps/storage';
import { shapeWorkloads } from './steps/workloads';

/**
 * Turns a schema-valid spec and the workspace settings into everything the templates
 * need: every default and derived flag is computed here, so templates only test flags
 * and interpolate. Throws an InputError for specs that are valid YAML and valid against
 * the schema but inconsistent (a port name that does not exist, an unknown environment,
 * a dependency the workspace does not have, ...).
 *
 * Each area is a step in app/steps/: a small pure function from the spec (and what the
 * steps before it computed) to its part of NormalizedApp, with its own tests. The steps
 * run in this order, which is also the order in which a spec's problems are reported.
 * To add an area: write app/steps/<area>.ts and its test, add its part to NormalizedApp
 * (app/normalized.ts) and call it here.
 *
 * `readSpecFile` reads the files a spec names beside it (config volumes of `file`); `links`
 * are the other apps it depends on and that depend on it (app/links.ts); every other input is
 * the spec and the workspace settings.
 *
 * Both forms of the spec run through the same steps: the shorthand is an app with one
 * service named after the app (app/steps/services.ts), and renders as it always did.
 */
export function normalizeApp(spec: AppSpec, workspace: WorkspaceConfig, dependencies: Dependencies, readSpecFile: SpecFileReader = () => null, links: AppLinks = NO_LINKS): NormalizedApp {
  const where = appPaths(spec.name).spec;
  const name = spec.name;
  const fullForm = isFullForm(spec);
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/part-of': 'homelab',
    'app.kubernetes.io/managed-by': 'homelab',
  };

  refuseNotRenderedYet(spec, where);
  const storage = normalizeStorage(spec, where, readSpecFile);
  const { services, secretKeys } = normalizeServices(spec, storage, where);
  const hasScheduler = services.some((s) => s.isCron) || storage.some((v) => v.persistent?.backup) || spec.database !== undefined;
  checkContainers(spec, services, hasScheduler ? [SCHEDULER] : [], where);
  const order = orderServices(services, where);
  const secrets = normalizeSecrets(name, workspace, secretKeys);
  // The app's database on the shared PostgreSQL, per environment (docs/spec.md, "Database"): reached as on Kubernetes on both platforms.
  const postgresNamespace = dependencies.get(POSTGRES_COMPONENT)?.namespace ?? POSTGRES_COMPONENT;
  const claims = databaseClaims(spec, workspace, where, dependencies.get(POSTGRES_COMPONENT)?.kubernetes ?? true);
  const database = normalizeDatabase(spec, where, services.map((s) => ({ name: s.name, envNames: [...s.env.map((e) => e.name), ...s.secrets.keys] })), postgresNamespace, claims);
  const { volumes, hasVolumes } = normalizeVolumes(storage, services);

  // The services the app-level fields name: the one behind the host (the primary) and the one serving metrics.
  const named = (field: string, service: string | undefined) => namedService(services, fullForm, where, field, service);
  const primary = spec.ingress ? named('ingress.service', spec.ingress.service) : (services.find((s) => !s.isJob) ?? services[0]);
  const metricsService = spec.monitoring?.metrics ? named('monitoring.metrics.service', spec.monitoring.metrics.service) : primary;
  const { target: ingressPort, ...ingress } = normalizeIngress(spec, workspace, where, { name: primary.name, ports: primary.portIndex });
  // What each environment says of a service's scaling (the shorthand's overrides are the app's).
  const envScaling = (service: string) => Object.values(spec.environments ?? {}).map((o) => (fullForm ? (o.services?.[service] ?? {}) : o));
  const pins = shareVolumes(
    storage,
    services.map((s) => ({
      name: s.name,
      replicas: s.replicas,
      maxReplicas: highestReplicas(s, envScaling(s.name)),
      autoscales: s.autoscale !== null || envScaling(s.name).some((o) => o.autoscale),
      volumes: [s, ...s.initContainers, ...s.sidecars].flatMap((c) => c.mounts.map((m) => m.volume)),
    })),
    where,
  );
  const chosen = chooseEnvironments(spec, workspace, where, {
    hasVolumes: hasVolumes && !fullForm,
    replicas: highestReplicas(primary, envScaling(primary.name)),
    autoscales: primary.autoscale !== null || envScaling(primary.name).some((o) => o.autoscale),
  });
  const syncWave = checkAppLinks(spec, where, links, chosen);

  const metricsPort = spec.monitoring?.metrics ? metricsService.portIndex.byName(spec.monitoring.metrics.port, 'monitoring.metrics.port', metricsService.portIndex.httpPort) : null;
  const services_ = shapeWorkloads({
    app: name,
    where,
    services,
    order,
    volumes: storage,
    pins,
    metrics: metricsPort ? { service: metricsService.name, port: metricsPort.port, path: spec.monitoring?.metrics?.path ?? APP_DEFAULTS.metricsPath } : null,
    database: database.enabled ? { secretName: database.secretName, services: database.services, hasSecretEnv: database.env.some((e) => e.secret) } : null,
  });
  checkReplicas(
    where,
    services_.map((w) => ({
      name: w.name,
      field: w.at.field,
      kind: w.workload.kind,
      replicas: w.replicas,
      autoscale: w.autoscale,
      repository: w.imageSpec.repository,
      claims: w.podVolumes.filter((v) => v.claimName !== null).map((v) => v.name),
      spec: w.replicaSpec,
    })),
    Object.fromEntries(chosen.map((ws) => [ws.name, spec.environments?.[ws.name] ?? {}])),
    !fullForm,
  );
  const workload = services_.find((w) => w.name === primary.name)!;
  const workloadKind = workload.workload.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
  const monitoring = normalizeMonitoring(spec, workspace, where, { ports: metricsService.portIndex, selector: metricsService.selector }, { kind: workloadKind, name: primary.name });
  const backup = normalizeBackup(
    spec,
    workspace,
    volumes,
    (volume) => services_.filter((w) => w.mounts.some((m) => m.volume === volume)).map((w) => ({ kind: w.workload.kind, name: w.name, replicas: w.replicas })),
    { workloads: services_, database, postgresNamespace },
  );
  const composeServiceViews = services_.flatMap((w) => w.composeServices);
  const composeBackup = normalizeComposeBackup(name, workspace, backup, volumes, composeServiceViews, database.enabled, [
    ...storage.flatMap((v) => (v.composeVolume ? [v.composeVolume] : [])),
    ...services_.flatMap((w) => w.scratchVolumes.map((v) => v.name)),
  ], where);
  const byFile = Object.fromEntries(
    [
      ['deployment.yaml', 'Deployment'],
      ['statefulset.yaml', 'StatefulSet'],
      ['job.yaml', 'Job'],
      ['cronjob.yaml', 'CronJob'],
    ]
      .map(([file, kind]) => [file, services_.filter((w) => w.workload.kind === kind)] as const)
      .filter(([, of]) => of.length > 0),
  );
  const reachable = fullForm ? services_.filter((w) => w.servicePorts.length > 0) : services_;
  const composeServices = composeServiceViews;
  const configMaps = storage.flatMap((v) => (v.config ? [{ name: v.config.configMap, key: v.config.key, content: v.config.content, file: v.config.file }] : []));
  // The objects of the Kustomize base (its templates name them so): what a Kubernetes patch may target.
  const baseObjects = [
    { kind: 'ServiceAccount', name },
    ...services_.map((w) => ({ kind: w.workload.kind, name: w.name })),
    ...reachable.map((w) => ({ kind: 'Service', name: w.name })),
    ...configMaps.map((c) => ({ kind: 'ConfigMap', name: c.name })),
    ...volumes.map((v) => ({ kind: 'PersistentVolumeClaim', name: v.claimName })),
    ...(secrets.enabled ? [{ kind: 'ExternalSecret', name: secrets.secretName }] : []),
    ...(ingress.isIngress ? [{ kind: 'Ingress', name }] : []),
    ...(ingress.isHttpRoute ? [{ kind: 'HTTPRoute', name }] : []),
  ];
  const patches = normalizePatches(spec, where, baseObjects);
  const composeNetworks = appNetworks(
    composeServices.map((c) => ({ name: c.name, networkMode: c.compose.networkMode, published: c.hasPublished })),
    { ingress: ingress.enabled ? primary.name : null, metrics: metricsPort ? metricsService.name : null, dependsOn: spec.dependsOn ?? [], allowInternet: spec.network?.allowInternet ?? false },
  );

  // Other apps: what it reaches (its Compose services with a network) and what reaches it (its Services' named ports).
  const linkedSelf = {
    networked: composeServices.filter((c) => c.compose.networkMode === null).map((c) => c.name),
    reachable: reachable.filter((w) => w.compose.networkMode === null).map((w) => w.name),
    ports: [...new Map(reachable.flatMap((w) => w.servicePorts).map((p) => [p.name, { name: p.name, protocol: p.protocol }])).values()],
  };
  const quotas = quotaSettings(workspace);
  const quotaApp = { name, where, services: services_, backup, volumes, externalClaims: [...new Set(storage.flatMap((v) => (v.kind === 'claim' ? [v.claimName!] : [])))] };
  const environments = chosen.map((ws) => {
    const env = withLinks(normalizeEnvironment(name, ws, spec.environments?.[ws.name] ?? {}, {
      replicas: primary.replicas,
      host: ingress.host,
      envHost: appHost(spec, ws, where),
      env: primary.env,
      tls: ingress.tls,
      ingressPort: ingressPort.port,
      hasIngress: ingress.enabled,
      ingressService: primary.name,
      ingressHealth: primary.health,
      composeServices: composeServices.map((c) => c.name),
      networks: composeNetworks,
      alertTargets: services_.filter((w) => !w.isJob).map((w) => ({ kind: w.workload.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment', name: w.name })),
      cron: services_.filter((w) => w.isCron).map((w) => ({ service: w.name, schedule: w.schedule! })),
      labels,
      overrides: {
        where,
        shorthand: !fullForm,
        services: services_.map((w) => ({
          name: w.name,
          kind: w.workload.kind,
          replicas: w.replicas,
          env: w.env,
          imageSpec: w.imageSpec,
          resources: w.resources,
          security: w.security,
          health: w.health,
          schedule: w.schedule,
          autoscale: w.autoscale,
          writtenRequests: w.writtenRequests,
          field: w.at.field,
          component: w.component,
          placement: w.placement,
          selector: w.selector,
          replicaSpec: w.replicaSpec,
          spread: w.spread,
          // An environment's image of the service reaches the containers that run the service's image.
          containers: [...w.initContainers, ...w.sidecars].filter((c) => c.inheritsImage).map((c) => ({ name: c.name, composeName: c.composeName, init: c.role === 'init' })),
        })),
      },
      alerts: monitoring.alerts,
      backup: {
        provider: backup.provider,
        schedule: backup.schedule,
        intervalSeconds: backup.intervalSeconds,
        s3: backup.s3,
        volumes: backup.volumes.map((v) => ({ name: v.name, resticSecret: v.resticSecret })),
        repositories: [
          ...backup.volumes.filter((v) => backup.isVolsync || !v.isSource).map((v) => ({ name: v.name, resticSecret: v.resticSecret })),
          ...backup.dumps.filter((d) => d.server.isDatabase).map((d) => ({ name: d.volume, resticSecret: d.resticSecret })),
        ],
        databaseDump: backup.dumps.filter((d) => d.server.isDatabase).map((d) => ({ secretName: d.dumpSecret!, host: d.server.name, port: d.server.port }))[0] ?? null,
        watched: backupAlertVolumes({
          app: name,
          provider: backup.provider,
          volumes: volumes.filter((v) => v.backup).map((v) => ({ name: v.name, claimName: v.claimName, dump: v.backupOptions.dump !== null })),
          database: database.enabled,
          composeVolumes: composeBackup.movers.map((m) => m.volume),
        }),
      },
      database: environmentDatabase(database, claims.find((c) => c.environment === ws.name)),
      databaseServices: database.services,
    }), linksIn(name, where, ws, links, linkedSelf));
    const withBackup = withComposeBackup(env, environmentComposeBackup(name, ws.name, env.composeProject, workspace, backup.schedule, backup.repositoryKey, composeBackup, env.database, composeServices));
    // The namespace's guardrails: the app at its peak in this environment (docs/availability.md).
    return quotas.enabled ? withQuota(withBackup, environmentQuota(quotaInput(quotaApp, withBackup, ownerQuota(spec.quota, spec.environments?.[ws.name]?.quota, ws.name), quotas.headroom))) : withBackup;
  });

  return {
    name,
    title: name,
    description: spec.description ?? '',
    layer: 'applications',
    fullForm,
    image: services_.length === 1 && primary.component === undefined ? primary.image : services_.map((w) => `${w.name}: ${w.image}`).join(', '),
    labels,
    selector: { 'app.kubernetes.io/name': name },
    primaryService: primary.name,
    scheduler: services_.some((w) => w.isCron) || composeBackup.enabled
      ? { name: SCHEDULER, image: workspace.compose?.scheduler?.image ?? SCHEDULER_IMAGE, labels: { 'homelab.app': name, logging: 'promtail', 'logging.job': `${name}-${SCHEDULER}` } }
      : null,
    workload: { kind: workloadKind, isStatefulSet: workloadKind === 'StatefulSet', file: workloadKind === 'StatefulSet' ? 'statefulset.yaml' : 'deployment.yaml', replicas: primary.replicas },
    services: services_,
    composeServices,
    workloads: {
      files: Object.keys(byFile),
      byFile,
      reachable,
      hasReachable: reachable.length > 0,
      summary: [...new Set(services_.map((w) => w.workload.kind))].join(', '),
    },
    ports: primary.ports,
    env: primary.env,
    hasEnv: primary.hasEnv,
    secrets,
    volumes,
    hasVolumes,
    configMaps,
    hasConfigMaps: storage.some((v) => v.config),
    composeVolumes: storage
      .filter((v) => v.composeVolume !== null)
      .map((v) => ({
        name: v.composeVolume!,
        backupLabel: v.persistent ? v.backupLabel : null,
        driverOpts: v.nfs ? { type: 'nfs', o: `addr=${v.nfs.server},nfsvers=4`, device: `:${v.nfs.path}` } : null,
        external: v.kind === 'claim' ? v.claimName : null,
        scratch: null as Record<string, string> | null,
      }))
      .concat(
        services_.flatMap((w) =>
          w.scratchVolumes.map((v) => ({
            name: v.name,
            backupLabel: null,
            // World-writable, as an emptyDir is.
            driverOpts: v.tmpfsBytes === null ? null : { type: 'tmpfs', o: `size=${v.tmpfsBytes},mode=1777`, device: 'tmpfs' },
            external: null,
            scratch: { [SCRATCH_LABEL]: 'true' },
          })),
        ),
      )
      // The backup's own: the dumps it copies, the movers' restic cache (app/steps/compose-backup.ts).
      .concat(composeBackupVolumes(composeBackup)),
    hasComposeVolumes: storage.some((v) => v.composeVolume !== null) || services_.some((w) => w.scratchVolumes.length > 0) || composeBackup.enabled,
    composeConfigs: storage.flatMap((v) => (v.config ? [{ name: v.name, content: v.config.content, file: v.config.file }] : [])).concat(composeBackupConfigs(composeBackup)),
    hasComposeConfigs: storage.some((v) => v.config) || composeBackup.enabled,
    resources: primary.resources,
    security: primary.security,
    health: primary.health,
    ingress,
    monitoring,
    backup,
    composeBackup,
    network: normalizeNetwork(spec, workspace, { ingressPort: ingressPort.port, metricsPort: monitoring.metricsPortNumber, betweenServices: fullForm && services.length > 1 }, dependencies, new Set(links.apps.keys()), backup),
    compose: workload.compose,
    composeNetworks,
    dependsOn: [...(spec.dependsOn ?? [])].sort(),
    database,
    patches,
    environments,
    gitops: {
      repoURL: workspace.gitops.repoURL,
      revision: workspace.gitops.revision ?? 'main',
      argocdNamespace: workspace.gitops.argocdNamespace ?? 'argocd',
      project: workspace.gitops.project ?? 'applications',
      syncWave,
      afterApps: [...links.apps.keys()].sort(),
    },
    paths: appPaths(name),
  };
}

/**
 * The long-running service an app-level field names (ingress.service, monitoring.metrics.service):
 * the shorthand's one; in the full form the one named, which may be left out when there is one.
 */
function namedService(services: NormalizedService[], fullForm: boolean, where: string, field: string, named: string | undefined): NormalizedService {
  if (!fullForm) return services[0];
  const longRunning = services.filter((s) => !s.isJob);
  const choices = longRunning.map((s) => show(s.name)).join(', ');
  if (named === undefined) {
    if (longRunning.length === 1) return longRunning[0];
    throw new InputError(`${where}: ${field} needs the service it names; set ${field} to one of ${choices}`);
  }
  const found = longRunning.find((s) => s.name === named);
  if (!found) throw new InputError(`${where}: ${field} ${show(named)} is not a long-running service of the app; use one of ${choices}`);
  return found;
}
