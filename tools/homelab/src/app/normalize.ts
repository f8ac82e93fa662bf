import { InputError } from '../errors';
import { appPaths } from '../project/paths';
import { checkPinned, checkRepository, formatImageRef } from '../spec/image';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import { type Dependencies, type NormalizedApp, SYNC_WAVES } from './normalized';
import { normalizeBackup } from './steps/backup';
import { normalizeCompose } from './steps/compose';
import { normalizeEnv, normalizeSecrets } from './steps/env';
import { chooseEnvironments, normalizeEnvironment } from './steps/environments';
import { normalizeHealth } from './steps/health';
import { normalizeMonitoring } from './steps/monitoring';
import { normalizeIngress, normalizeNetwork } from './steps/networking';
import { normalizePorts } from './steps/ports';
import { normalizeResources } from './steps/resources';
import { isFullForm } from './steps/services';
import { normalizeSecurity } from './steps/security';
import { normalizeVolumes } from './steps/storage';

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
 */
export function normalizeApp(spec: AppSpec, workspace: WorkspaceConfig, dependencies: Dependencies): NormalizedApp {
  const where = appPaths(spec.name).spec;
  const name = spec.name;
  if (isFullForm(spec)) {
    throw new InputError(`${where}: services (the full form) is not rendered yet; write the app as the shorthand (image, ports, … at the top)`);
  }

  checkRepository(spec.image.repository, `${where}: image.repository`);
  checkPinned(spec.image, `${where}: image`);
  const ports = normalizePorts(spec, where);
  const env = normalizeEnv(spec);
  const secrets = normalizeSecrets(spec, workspace, where);
  const { volumes, hasVolumes } = normalizeVolumes(spec, where);
  const { replicas, resources } = normalizeResources(spec, where);
  const workloadKind = hasVolumes ? 'StatefulSet' : 'Deployment';
  const health = normalizeHealth(spec, where, ports);
  const { target: ingressPort, ...ingress } = normalizeIngress(spec, workspace, where, ports);
  const monitoring = normalizeMonitoring(spec, workspace, where, ports, workloadKind);
  const backup = normalizeBackup(spec, workspace, volumes);
  const chosen = chooseEnvironments(spec, workspace, where, { hasVolumes, replicas });
  const security = normalizeSecurity(spec);
  const compose = normalizeCompose(spec, where, { resources, security, health, monitoring, backup });

  const environments = chosen.map((ws) =>
    normalizeEnvironment(name, ws, spec.environments?.[ws.name] ?? {}, {
      replicas,
      host: ingress.host,
      env: env.env,
      tls: ingress.tls,
      ingressPort: ingressPort.port,
      hasIngress: ingress.enabled,
      workloadKind,
      alerts: monitoring.alerts,
      backup: { provider: backup.provider, volumes: backup.volumes.map((v) => ({ name: v.name, resticSecret: v.resticSecret })) },
    }),
  );

  return {
    name,
    title: name,
    description: spec.description ?? '',
    layer: 'applications',
    image: formatImageRef(spec.image),
    labels: {
      'app.kubernetes.io/name': name,
      'app.kubernetes.io/part-of': 'homelab',
      'app.kubernetes.io/managed-by': 'homelab',
    },
    selector: { 'app.kubernetes.io/name': name },
    workload: { kind: workloadKind, isStatefulSet: hasVolumes, file: hasVolumes ? 'statefulset.yaml' : 'deployment.yaml', replicas },
    ports: ports.ports,
    ...env,
    secrets,
    volumes,
    hasVolumes,
    resources,
    security,
    health,
    ingress,
    monitoring,
    backup,
    network: normalizeNetwork(spec, workspace, { ingressPort: ingressPort.port, metricsPort: monitoring.metricsPortNumber }, dependencies),
    compose,
    dependsOn: [...(spec.dependsOn ?? [])].sort(),
    environments,
    gitops: {
      repoURL: workspace.gitops.repoURL,
      revision: workspace.gitops.revision ?? 'main',
      argocdNamespace: workspace.gitops.argocdNamespace ?? 'argocd',
      project: workspace.gitops.project ?? 'applications',
      syncWave: SYNC_WAVES.applications,
    },
    paths: appPaths(name),
  };
}
