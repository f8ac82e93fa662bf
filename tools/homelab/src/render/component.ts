import { assertParsesBack, type Owner, renderTemplate, type RenderedFile, yamlDocument } from './engine';
import { place, tidy } from './app';
import type { NormalizedComponent, NormalizedComponentEnv } from '../component/normalize';

/**
 * One entry per template a component renders. `template` is the path under
 * templates/infra/ (mirroring the output tree: __name__ and __env__ are placeholders,
 * a component's own files sit in a folder named after it); `when` is a flag of the
 * normalized component, never a decision taken in a template.
 */
interface ComponentFile {
  template: string;
  owner: Owner;
  when: (c: NormalizedComponent) => boolean;
}
interface EnvFile {
  template: string;
  owner: Owner;
  when: (c: NormalizedComponent, e: NormalizedComponentEnv) => boolean;
}

const BASE = 'infrastructure/kubernetes/base';
const OVERLAY = 'infrastructure/kubernetes/overlays/__env__/__name__';
const COMPOSE_BASE = 'infrastructure/compose/base';
const COMPOSE_ENV = 'infrastructure/compose/environments/__env__/__name__';

const k8s = (c: NormalizedComponent) => c.isKubernetes;
const compose = (c: NormalizedComponent) => c.isCompose;
const composeOf = (name: string) => (c: NormalizedComponent) => c.isCompose && c.name === name;

export const COMPONENT_FILES: readonly ComponentFile[] = [
  { template: `${BASE}/__name__/kustomization.yaml`, owner: 'spec', when: k8s },
  { template: `${BASE}/__name__/namespace.yaml`, owner: 'spec', when: k8s },
  { template: `${BASE}/cert-manager/clusterissuer.yaml`, owner: 'spec', when: (c) => k8s(c) && c.acme.enabled },
  { template: `${BASE}/monitoring/externalsecret.yaml`, owner: 'spec', when: (c) => k8s(c) && c.monitoring.enabled },
  { template: `${BASE}/backup/externalsecret.yaml`, owner: 'spec', when: (c) => k8s(c) && c.backup.isVelero },
  { template: `${BASE}/backup/servicemonitor.yaml`, owner: 'spec', when: (c) => k8s(c) && c.backup.volsyncMetrics !== null },
  { template: `${BASE}/postgres/cluster.yaml`, owner: 'spec', when: (c) => k8s(c) && c.postgres.enabled },
  { template: `${BASE}/postgres/externalsecret.yaml`, owner: 'spec', when: (c) => k8s(c) && c.postgres.hasRoles },
  { template: `${BASE}/postgres/database.yaml`, owner: 'spec', when: (c) => k8s(c) && c.postgres.hasRoles },
  { template: `${BASE}/postgres/objectstore.yaml`, owner: 'spec', when: (c) => k8s(c) && c.postgres.enabled && c.postgres.barman.enabled },
  { template: `${BASE}/postgres/scheduledbackup.yaml`, owner: 'spec', when: (c) => k8s(c) && c.postgres.enabled && c.postgres.barman.enabled },
  { template: `${BASE}/logging/config.alloy`, owner: 'spec', when: (c) => k8s(c) && c.logging.enabled },
  { template: `${COMPOSE_BASE}/ingress/compose.yaml`, owner: 'spec', when: composeOf('ingress') },
  { template: `${COMPOSE_BASE}/monitoring/compose.yaml`, owner: 'spec', when: composeOf('monitoring') },
  { template: `${COMPOSE_BASE}/monitoring/cadvisor.alloy`, owner: 'spec', when: composeOf('monitoring') },
  { template: `${COMPOSE_BASE}/logging/compose.yaml`, owner: 'spec', when: composeOf('logging') },
  { template: `${COMPOSE_BASE}/logging/config.alloy`, owner: 'spec', when: composeOf('logging') },
  { template: `${COMPOSE_BASE}/postgres/compose.yaml`, owner: 'spec', when: composeOf('postgres') },
  { template: `${COMPOSE_BASE}/__name__/.env.example`, owner: 'spec', when: (c) => compose(c) && c.secrets.hasKeys },
];

export const COMPONENT_ENV_FILES: readonly EnvFile[] = [
  { template: `${OVERLAY}/kustomization.yaml`, owner: 'user', when: (_c, e) => e.kubernetes },
  // The Gateway of the cluster (ingress.kind httproute): a Kustomize component the overlay includes.
  { template: `${OVERLAY}/generated/kustomization.yaml`, owner: 'spec', when: (_c, e) => e.generated !== null },
  // The PostgreSQL Cluster's instances on this cluster, patched over the base's.
  { template: `${OVERLAY}/generated/cluster-patch.yaml`, owner: 'spec', when: (_c, e) => e.clusterPatch !== null },
  { template: `${OVERLAY}/generated/gateway.yaml`, owner: 'spec', when: (_c, e) => e.gateway !== null },
  { template: `${OVERLAY}/generated/namespace.yaml`, owner: 'spec', when: (c, e) => e.gateway !== null && c.gateway.ownNamespace },
  { template: `${COMPOSE_ENV}/compose.generated.yaml`, owner: 'spec', when: (_c, e) => e.compose },
  { template: `${COMPOSE_ENV}/compose.override.yaml`, owner: 'user', when: (_c, e) => e.compose },
  { template: 'platform/argocd/applications/__env__/__name__.yaml', owner: 'spec', when: (_c, e) => e.kubernetes },
];

/**
 * Renders a normalized component to every file it owns or scaffolds, in a stable order:
 * the templates above, each chart's values file (base: from the spec, per environment:
 * scaffolded for the user) and the Compose config files, emitted from data. Pure; every
 * YAML file is parsed back.
 */
export function renderComponent(comp: NormalizedComponent, templatesDir?: string): RenderedFile[] {
  const files: RenderedFile[] = [];
  const push = (output: string, content: string, owner: Owner) => {
    if (/\.ya?ml$/.test(output)) assertParsesBack(output, content);
    files.push({ path: output, content, owner });
  };
  const emit = (template: string, output: string, owner: Owner, context: object) =>
    push(output, tidy(renderTemplate(`infra/${template}`, context, templatesDir)), owner);

  for (const file of COMPONENT_FILES) {
    if (file.when(comp)) emit(file.template, place(file.template, comp.name), file.owner, { comp });
  }
  if (comp.isKubernetes) {
    for (const chart of comp.charts) push(`${comp.paths.k8sBase}/${chart.valuesFile}`, valuesFile(comp, chart), 'spec');
  }
  for (const config of comp.compose.configs) {
    push(`${comp.paths.composeBase}/${config.file}`, `${generatedHeader(comp)}${yamlDocument(config.value)}`, 'spec');
  }
  for (const env of comp.environments) {
    for (const file of COMPONENT_ENV_FILES) {
      if (file.when(comp, env)) emit(file.template, place(file.template, comp.name, env.name), file.owner, { comp, env });
    }
    if (env.kubernetes) {
      for (const chart of comp.charts) {
        emit(`${OVERLAY}/values.yaml`, `${env.paths.overlay}/${chart.valuesFile}`, 'user', { comp, env, chart });
      }
      // This install's chart values (Traefik's replicas), merged after the base's and before the overlay's own.
      for (const own of env.installValues) {
        push(
          `${env.paths.overlay}/${own.file}`,
          `${generatedHeader(comp)}# Helm values of ${own.chart} for the install of ${env.name} (serving ${env.kubernetesServes.join(', ')}): settings.instances.\n${yamlDocument(own.values)}`,
          'spec',
        );
      }
    }
  }
  return files;
}

function generatedHeader(comp: NormalizedComponent): string {
  return `# Rendered from ${comp.paths.spec} by homelab: edit the spec and run \`npx nx sync\`, not this file.\n`;
}

/** A chart's base values: the spec's values, with homelab's wiring on top (listed in the header). */
function valuesFile(comp: NormalizedComponent, chart: NormalizedComponent['charts'][number]): string {
  const wired =
    chart.wired.length === 0
      ? ''
      : `# homelab sets these from homelab.yaml and the other components (change them there, not in the spec):\n${chart.wired.map((w) => `#   ${w}\n`).join('')}`;
  return `${generatedHeader(comp)}# Helm values of ${chart.name} ${chart.version} (${chart.repoURL}); each environment's overlay may add its own.\n${wired}${yamlDocument(chart.values)}`;
}
