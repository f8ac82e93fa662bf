import YAML from 'yaml';
import { readWorkspace } from '../app/plan';
import { HomelabError, InputError } from '../errors';
import { diskHost, type FileHost } from '../host';
import type { Finding } from '../validate/project';
import { INFRA_PROJECT, normalizeComponent, type NormalizedComponent } from './normalize';
import { leafPaths } from './steps/charts';
import { isInitialised } from '../platform/argocd';
import { checkDrift } from '../project/drift';
import { renderComponent } from '../render/component';
import { componentSpecPath, readComponentSpec } from './spec';
import { infraContext } from './sync';
import { storePath } from '../platform/secret-store';
import type { ComponentSpec } from './types';

const APPPROJECTS = 'platform/argocd/bootstrap/appprojects.yaml';

/**
 * Every check of one infrastructure component, collected (not stopping at the first):
 * the spec (schema, catalog, pinned charts and images), the files it renders against
 * the files on the host (hand edits, missing and stale files), the platform it needs
 * (an initialised workspace whose infrastructure AppProject allows its chart
 * repositories) and the secret store its ExternalSecrets read. Warnings: spec values
 * that homelab's wiring overrides.
 *
 * @example validateComponent(diskHost(root), 'postgres') // [] when everything is in step
 */
export function validateComponent(hostOrRoot: FileHost | string, name: string): Finding[] {
  // The project validator calls it with the workspace root; generators and tests with a host.
  const host = typeof hostOrRoot === 'string' ? diskHost(hostOrRoot) : hostOrRoot;
  const specFile = componentSpecPath(name);
  let spec: ComponentSpec;
  let component: NormalizedComponent;
  let files;
  try {
    const workspace = readWorkspace(host);
    spec = readComponentSpec(host, name);
    component = normalizeComponent(spec, workspace, infraContext(host, workspace));
    files = renderComponent(component);
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    const match = /^([^:\s]+\.yaml):(?:(\d+):)?/.exec(error.message);
    const rule = error instanceof InputError && error.rule ? error.rule : 'spec/invalid';
    return [{ file: match?.[1] ?? specFile, line: match?.[2] ? Number(match[2]) : undefined, rule, message: error.message, severity: 'error' }];
  }
  const findings: Finding[] = [];
  const error = (file: string, rule: string, message: string, line?: number) => findings.push({ file, line, rule, message, severity: 'error' });

  // Hand edits, missing and stale files (project/drift.ts, the same check as an app's).
  for (const f of checkDrift(host, { layer: 'infrastructure', name }, files)) findings.push({ ...f, severity: 'error' });

  if (!isInitialised(host)) {
    error(specFile, 'platform/not-initialised', 'the workspace has no ArgoCD bootstrap, so no AppProject admits this component; run `npx nx g homelab:init`');
  } else if (component.isKubernetes) {
    const allowed = allowedSources(host);
    for (const repo of [...component.charts.map((c) => c.repoURL), ...(component.crds ? [component.crds.repoURL] : [])]) {
      if (!allowed.has(repo)) {
        error(APPPROJECTS, 'argocd/source-not-allowed', `the ${INFRA_PROJECT} AppProject does not allow ${repo} (used by ${specFile}); run \`npx nx sync\``);
      }
    }
  }

  if (component.resources.includes('externalsecret.yaml') && !host.isFile(storePath(component.secrets.store))) {
    error(specFile, 'secrets/store-missing', `ClusterSecretStore "${component.secrets.store}" (homelab.yaml secrets.store) is not under platform/secrets/stores; add it with nx g homelab:secret-store`);
  }

  // An install's own PostgreSQL instances reach its Cluster only through the overlay's generated/ component,
  // which an overlay scaffolded before 0.4.0 does not include (the overlay is the user's: say so, never rewrite it).
  for (const env of component.environments) {
    if (!env.clusterPatch || env.clusterPatch.instances === component.postgres.instances) continue;
    const file = `${env.paths.overlay}/kustomization.yaml`;
    const overlay = YAML.parse(host.read(file) ?? '{}') as { components?: unknown } | null;
    if (Array.isArray(overlay?.components) && overlay.components.includes('generated')) continue;
    error(
      file,
      'instances/overlay-component',
      `settings.instances gives ${env.name}'s PostgreSQL ${env.clusterPatch.instances} instance(s), but this overlay does not include generated/, so its Cluster keeps the base's ${component.postgres.instances}; add \`components: [generated]\` to it`,
    );
  }

  // The shared PostgreSQL has backups of its own only with an S3 target (component/steps/barman.ts).
  if (component.isKubernetes && component.postgres.enabled && !component.postgres.barman.enabled) {
    findings.push({
      file: specFile,
      rule: 'backup/postgres-dumps-only',
      message: 'on Kubernetes the shared PostgreSQL is covered only by the apps\' dumps (CronJob <app>-database-dump): its roles and anything outside the apps\' databases are not backed up; set backup.target.s3 in homelab.yaml for CloudNativePG\'s own backups with the Barman Cloud plugin',
      severity: 'warning',
    });
  }

  for (const chart of spec.kubernetes.charts) {
    const own = leafPaths(chart.values ?? {});
    const wired = component.charts.find((c) => c.name === chart.name)?.wired ?? [];
    for (const key of own.filter((k) => wired.some((w) => k === w || k.startsWith(`${w}.`)))) {
      findings.push({
        file: specFile,
        rule: 'values/wired',
        message: `kubernetes.charts[${chart.name}].values.${key} is set by homelab (from homelab.yaml or another component) and has no effect; remove it from the spec`,
        severity: 'warning',
      });
    }
  }
  return findings;
}

/** Source repositories the infrastructure AppProject on the host allows. */
function allowedSources(host: FileHost): Set<string> {
  const allowed = new Set<string>();
  for (const doc of YAML.parseAllDocuments(host.read(APPPROJECTS) ?? '')) {
    const value = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { sourceRepos?: unknown[] } } | null;
    if (value?.kind === 'AppProject' && value.metadata?.name === INFRA_PROJECT) {
      for (const repo of value.spec?.sourceRepos ?? []) if (typeof repo === 'string') allowed.add(repo);
    }
  }
  return allowed;
}
