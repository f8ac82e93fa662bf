import { assertParsesBack, type Owner, renderTemplate, type RenderedFile } from './engine';
import type { NormalizedApp, NormalizedEnvironment } from '../app/normalized';
import { COMPOSE_PATCH_FILE } from '../project/paths';

/**
 * One entry per file an app renders to. `template` is the path under templates/app/
 * (mirroring the output tree, with __name__ and __env__ placeholders); `output`
 * overrides the output file name where one template serves several kinds; `when`
 * is a flag of the normalized spec, never a decision taken in a template.
 */
interface AppFile {
  template: string;
  owner: Owner;
  when?: (app: NormalizedApp) => boolean;
  output?: (app: NormalizedApp) => string;
  /** What the template sees besides `app`, where one template renders several files. */
  context?: (app: NormalizedApp) => object;
}
interface EnvFile {
  template: string;
  owner: Owner;
  when?: (app: NormalizedApp, env: NormalizedEnvironment) => boolean;
}

const BASE = 'applications/kubernetes/base/__name__';
const OVERLAY = 'applications/kubernetes/overlays/__env__/__name__';
const COMPOSE_BASE = 'applications/compose/base/__name__';
const COMPOSE_ENV = 'applications/compose/environments/__env__/__name__';

export const APP_FILES: readonly AppFile[] = [
  { template: `${BASE}/kustomization.yaml`, owner: 'spec' },
  { template: `${BASE}/serviceaccount.yaml`, owner: 'spec' },
  // One template, one file per kind of workload: the services of that kind, one document each.
  ...['deployment.yaml', 'statefulset.yaml', 'job.yaml', 'cronjob.yaml'].map((file) => ({
    template: `${BASE}/workload.yaml`,
    owner: 'spec' as const,
    when: (a: NormalizedApp) => a.workloads.files.includes(file),
    output: () => `${BASE}/${file}`,
    context: (a: NormalizedApp) => ({ services: a.workloads.byFile[file] }),
  })),
  { template: `${BASE}/service.yaml`, owner: 'spec', when: (a) => a.workloads.hasReachable },
  { template: `${BASE}/configmap.yaml`, owner: 'spec', when: (a) => a.hasConfigMaps },
  { template: `${BASE}/persistentvolumeclaim.yaml`, owner: 'spec', when: (a) => a.hasVolumes },
  { template: `${BASE}/externalsecret.yaml`, owner: 'spec', when: (a) => a.secrets.enabled },
  { template: `${BASE}/ingress.yaml`, owner: 'spec', when: (a) => a.ingress.isIngress },
  { template: `${BASE}/httproute.yaml`, owner: 'spec', when: (a) => a.ingress.isHttpRoute },
  { template: `${BASE}/components/network-policy/kustomization.yaml`, owner: 'spec' },
  { template: `${BASE}/components/network-policy/networkpolicy.yaml`, owner: 'spec' },
  { template: `${BASE}/components/monitoring/kustomization.yaml`, owner: 'spec', when: (a) => a.monitoring.enabled },
  { template: `${BASE}/components/monitoring/servicemonitor.yaml`, owner: 'spec', when: (a) => a.monitoring.serviceMonitor },
  { template: `${BASE}/components/monitoring/configmap.yaml`, owner: 'spec', when: (a) => a.monitoring.dashboard },
  { template: `${BASE}/components/backup/kustomization.yaml`, owner: 'spec', when: (a) => a.backup.hasComponent },
  { template: `${BASE}/components/backup/replicationsource.yaml`, owner: 'spec', when: (a) => a.backup.componentResources.includes('replicationsource.yaml') },
  { template: `${BASE}/components/backup/schedule.yaml`, owner: 'spec', when: (a) => a.backup.componentResources.includes('schedule.yaml') },
  { template: `${BASE}/components/backup/externalsecret.yaml`, owner: 'spec', when: (a) => a.backup.componentResources.includes('externalsecret.yaml') },
  { template: `${BASE}/components/backup/cronjob.yaml`, owner: 'spec', when: (a) => a.backup.componentResources.includes('cronjob.yaml') },
  { template: `${COMPOSE_BASE}/compose.yaml`, owner: 'spec' },
  { template: `${COMPOSE_BASE}/${COMPOSE_PATCH_FILE}`, owner: 'spec', when: (a) => a.patches.compose !== null },
  { template: `${COMPOSE_BASE}/.env.example`, owner: 'spec', when: (a) => a.secrets.enabled || a.composeBackup.enabled },
  { template: 'applications/runbooks/__name__.md', owner: 'spec' },
];

export const ENV_FILES: readonly EnvFile[] = [
  { template: `${OVERLAY}/kustomization.yaml`, owner: 'user' },
  { template: `${OVERLAY}/generated/kustomization.yaml`, owner: 'spec' },
  { template: `${OVERLAY}/generated/workload-patch.yaml`, owner: 'spec', when: (_a, e) => e.patches.includes('workload-patch.yaml') },
  { template: `${OVERLAY}/generated/ingress-patch.yaml`, owner: 'spec', when: (_a, e) => e.patches.includes('ingress-patch.yaml') },
  { template: `${OVERLAY}/generated/prometheusrule.yaml`, owner: 'spec', when: (_a, e) => e.resources.includes('prometheusrule.yaml') },
  { template: `${OVERLAY}/generated/externalsecret.yaml`, owner: 'spec', when: (_a, e) => e.resources.includes('externalsecret.yaml') },
  { template: `${OVERLAY}/generated/poddisruptionbudget.yaml`, owner: 'spec', when: (_a, e) => e.resources.includes('poddisruptionbudget.yaml') },
  { template: `${OVERLAY}/generated/schedule.yaml`, owner: 'spec', when: (_a, e) => e.resources.includes('schedule.yaml') },
  // The autoscalers of the services that autoscale in this environment (app/steps/autoscale.ts).
  { template: `${OVERLAY}/generated/horizontalpodautoscaler.yaml`, owner: 'spec', when: (_a, e) => e.resources.includes('horizontalpodautoscaler.yaml') },
  // The NetworkPolicy between the app and the apps linked to it by dependsOn (their namespaces differ per environment).
  { template: `${OVERLAY}/generated/networkpolicy.yaml`, owner: 'spec', when: (_a, e) => e.links.enabled },
  // The namespace's guardrails (app/steps/quota.ts), unless homelab.yaml says `quotas: false`.
  { template: `${OVERLAY}/generated/resourcequota.yaml`, owner: 'spec', when: (_a, e) => e.quota.enabled },
  { template: `${OVERLAY}/generated/limitrange.yaml`, owner: 'spec', when: (_a, e) => e.quota.enabled },
  { template: `${COMPOSE_ENV}/compose.generated.yaml`, owner: 'spec' },
  { template: `${COMPOSE_ENV}/compose.override.yaml`, owner: 'user' },
  // The same alerts as the PrometheusRule, for the Compose Prometheus (project/paths.ts composeMonitoringDir).
  { template: 'applications/compose/monitoring/rules/__env__/__name__.yaml', owner: 'spec', when: (_a, e) => e.composeAlerts.length > 0 },
  { template: 'platform/argocd/applications/__env__/__name__.yaml', owner: 'spec' },
];

/**
 * Renders a normalized app to every file it owns or scaffolds, in a stable order.
 * Pure: the same normalized app gives the same bytes. Every YAML file is parsed back
 * before it is returned, so a template bug can never reach the repository, except a file
 * `parsedElsewhere` says its caller parses itself: validate, for a rendered file that is
 * byte for byte the one on disk, which it parses with every other file (a third of a
 * validate batch's render time went to parsing such files twice).
 */
export function renderApp(app: NormalizedApp, templatesDir?: string, parsedElsewhere?: (file: string, content: string) => boolean): RenderedFile[] {
  const files: RenderedFile[] = [];
  const emit = (template: string, output: string, owner: Owner, context: object) => {
    const content = tidy(renderTemplate(`app/${template}`, context, templatesDir));
    if (/\.ya?ml$/.test(output) && !parsedElsewhere?.(output, content)) assertParsesBack(output, content);
    files.push({ path: output, content, owner });
  };
  for (const file of APP_FILES) {
    if (file.when && !file.when(app)) continue;
    const output = file.output ? file.output(app) : file.template;
    emit(file.template, place(output, app.name), file.owner, { app, ...file.context?.(app) });
  }
  // Data, not a template: the Compose Grafana's dashboard, from the same signals as the ConfigMap's.
  if (app.monitoring.dashboard) files.push({ path: app.paths.composeDashboard, content: app.monitoring.composeDashboardJson, owner: 'spec' });
  for (const env of app.environments) {
    for (const file of ENV_FILES) {
      if (file.when && !file.when(app, env)) continue;
      emit(file.template, place(file.template, app.name, env.name), file.owner, { app, env });
    }
  }
  return files;
}

export function place(template: string, name: string, env?: string): string {
  let out = template.replace(/__name__/g, name);
  if (env !== undefined) out = out.replace(/__env__/g, env);
  return out;
}

/** Drops the leading `---` of a multi-document template and ends the file with exactly one newline. */
export function tidy(content: string): string {
  return `${content.replace(/^---\n/, '').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
