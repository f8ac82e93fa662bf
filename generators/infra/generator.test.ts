import { logger, type Tree } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { treeHost } from '../../tools/homelab/src/host';
import { validateComponent } from '../../tools/homelab/src/component/validate';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { parseDoc, readDoc, readDocs, readText, treeFiles, workspaceTree, workspaceYamlWith } from '../../tests/support/workspace';
import initGenerator from '../init/generator';
import appGenerator from '../app/generator';
import infraGenerator from './generator';
import syncGenerator from '../sync/generator';
import { HomelabError } from '../../tools/homelab/src/errors';
import { specOf, writeSpec } from '../../tests/support/spec';
import type { InfraGeneratorSchema } from './schema';

const EMAIL = 'admin@example.org';
const ARGOCD = 'platform/argocd/applications';
const BASE = 'infrastructure/kubernetes/base';
const COMPOSE = 'infrastructure/compose';

let tree: Tree;

async function setup(homelabYaml?: string): Promise<void> {
  ({ tree } = workspaceTree(homelabYaml));
  await initGenerator(tree, {});
}
beforeEach(async () => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  await setup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const add = (component: string, options: Partial<InfraGeneratorSchema> = {}) => infraGenerator(tree, { component, email: EMAIL, ...options });
const refusal = (options: InfraGeneratorSchema) => infraGenerator(tree, options).then(() => new Error('expected a refusal'), (e: Error) => e);
const values = (component: string, file = 'values.yaml') => readDoc(tree, `${BASE}/${component}/${file}`);

describe('homelab:infra generator', () => {
  describe.each(COMPONENT_NAMES)('%s', (component) => {
    beforeEach(async () => {
      await add(component);
    });

    it('writes a schema-checked spec with exact chart versions and tag-pinned Compose images', () => {
      const text = readText(tree, `infrastructure/specs/${component}.yaml`);
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../tools/homelab/schemas/infra.schema.json');
      const spec = parseDoc(text);
      expect(spec.name).toBe(component);
      for (const chart of spec.kubernetes.charts) {
        expect(chart.repoURL).toMatch(/^https:\/\//);
        expect(chart.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      }
      for (const image of Object.values<string>(spec.compose?.images ?? {})) {
        expect(image).toMatch(/:[^:]+$/);
        expect(image).not.toMatch(/:latest$/);
      }
    });

    it('renders an ArgoCD Application per cluster: infrastructure layer and project, pinned charts, values from git, the overlay', () => {
      const app = readDoc(tree, `${ARGOCD}/prod/${component}.yaml`);
      const spec = readDoc(tree, `infrastructure/specs/${component}.yaml`);
      expect(app.metadata.labels).toMatchObject({ 'homelab.dev/layer': 'infrastructure', 'homelab.dev/environment': 'prod' });
      const wave = Number(app.metadata.annotations['argocd.argoproj.io/sync-wave']);
      expect(wave).toBeGreaterThan(0);
      expect(wave).toBeLessThan(20);
      expect(app.metadata.finalizers).toBeUndefined();
      expect(app.spec.project).toBe('infrastructure');
      const charts = app.spec.sources.filter((s: any) => s.chart);
      expect(charts.map((s: any) => [s.repoURL, s.chart, s.targetRevision])).toEqual(spec.kubernetes.charts.map((c: any) => [c.repoURL, c.name, c.version]));
      // Traefik's replicas of this install (settings.instances) sit between the base's values and the overlay's own.
      expect(charts[0].helm.valueFiles).toEqual([
        `$values/${BASE}/${component}/values.yaml`,
        ...(component === 'ingress' ? [`$values/infrastructure/kubernetes/overlays/prod/${component}/generated/values.yaml`] : []),
        `$values/infrastructure/kubernetes/overlays/prod/${component}/values.yaml`,
      ]);
      expect(app.spec.sources).toContainEqual({ repoURL: 'https://git.home.arpa/homelab/homelab.git', targetRevision: 'main', ref: 'values' });
      expect(app.spec.sources).toContainEqual({
        repoURL: 'https://git.home.arpa/homelab/homelab.git',
        targetRevision: 'main',
        path: `infrastructure/kubernetes/overlays/prod/${component}`,
      });
      expect(app.spec.syncPolicy.syncOptions).toEqual(['ServerSideApply=true', 'SkipDryRunOnMissingResource=true']);
      expect(app.spec.syncPolicy.retry.limit).toBeGreaterThan(0);
    });

    it('installs once for the cluster and the Docker host dev and prod share: under prod, the protected one', () => {
      expect(tree.exists(`${ARGOCD}/dev/${component}.yaml`)).toBe(false);
      expect(tree.exists(`infrastructure/kubernetes/overlays/dev/${component}`)).toBe(false);
      expect(tree.exists(`infrastructure/kubernetes/overlays/prod/${component}/kustomization.yaml`)).toBe(true);
      expect(readText(tree, `${ARGOCD}/prod/${component}.yaml`)).toContain('installed by prod and used by prod, dev');
    });

    it('lets the infrastructure AppProject use its chart repositories, in its namespace', () => {
      const project = readDocs(tree, 'platform/argocd/bootstrap/appprojects.yaml').find((p) => p.metadata.name === 'infrastructure');
      const spec = readDoc(tree, `infrastructure/specs/${component}.yaml`);
      for (const chart of spec.kubernetes.charts) expect(project.spec.sourceRepos).toContain(chart.repoURL);
      expect(project.spec.destinations).toContainEqual({ server: 'https://kubernetes.default.svc', namespace: spec.namespace });
    });

    it('renders a Kustomize base with its Namespace, and validates clean', () => {
      const kustomization = readDoc(tree, `${BASE}/${component}/kustomization.yaml`);
      expect(kustomization.resources[0]).toBe('namespace.yaml');
      expect(readDoc(tree, `${BASE}/${component}/namespace.yaml`).metadata.name).toBe(readDoc(tree, `infrastructure/specs/${component}.yaml`).namespace);
      // The postgres component without an S3 target in homelab.yaml: only the apps' dumps cover it, which validate says.
      const expected = component === 'postgres' ? [expect.objectContaining({ rule: 'backup/postgres-dumps-only', severity: 'warning' })] : [];
      expect(validateComponent(treeHost(tree), component)).toEqual(expected);
    });
  });

  describe('sync waves', () => {
    it.each([
      ['external-secrets', '3'],
      ['cert-manager', '5'],
      ['monitoring', '5'],
      ['ingress', '10'],
      ['logging', '10'],
      ['backup', '10'],
      ['postgres', '10'],
    ])('puts %s in wave %s: the secret stores\' operator first, then CRD providers, then the rest', async (component, wave) => {
      await add(component);

      expect(readDoc(tree, `${ARGOCD}/prod/${component}.yaml`).metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(wave);
    });
  });

  describe('cert-manager', () => {
    it('adds the ACME ClusterIssuer the apps\' Ingresses name, after the webhook (wave 1 inside the Application)', async () => {
      await add('cert-manager');

      const issuer = readDoc(tree, `${BASE}/cert-manager/clusterissuer.yaml`);
      expect(issuer.apiVersion).toBe('cert-manager.io/v1');
      expect(issuer.metadata).toEqual({ name: 'letsencrypt', annotations: { 'argocd.argoproj.io/sync-wave': '1' } });
      expect(issuer.spec.acme).toEqual({
        email: EMAIL,
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        privateKeySecretRef: { name: 'letsencrypt-account-key' },
        solvers: [{ http01: { ingress: { ingressClassName: 'traefik' } } }],
      });
      expect(values('cert-manager').crds).toEqual({ enabled: true, keep: true });
    });

    it('uses the staging server with --staging and solves through the Gateway with ingress kind httproute', async () => {
      await setup(workspaceYamlWith((c) => (c.ingress.kind = 'httproute')));
      await add('cert-manager', { staging: true });

      const acme = readDoc(tree, `${BASE}/cert-manager/clusterissuer.yaml`).spec.acme;
      expect(acme.server).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
      expect(acme.solvers).toEqual([{ http01: { gatewayHTTPRoute: { parentRefs: [{ kind: 'Gateway', name: 'homelab', namespace: 'traefik' }] } } }]);
    });

    it('has no Compose form: Traefik gets the certificates there', async () => {
      await add('cert-manager');

      expect(tree.exists(`${COMPOSE}/base/cert-manager`)).toBe(false);
    });
  });

  describe('monitoring', () => {
    beforeEach(async () => {
      await add('monitoring');
    });

    it('selects the apps\' ServiceMonitors, PodMonitors and rules by homelab.yaml\'s release label, and names the release after it', () => {
      const spec = values('monitoring').prometheus.prometheusSpec;
      expect(spec.serviceMonitorSelector).toEqual({ matchLabels: { release: 'kube-prometheus-stack' } });
      expect(spec.podMonitorSelector).toEqual({ matchLabels: { release: 'kube-prometheus-stack' } });
      expect(spec.ruleSelector).toEqual({ matchLabels: { release: 'kube-prometheus-stack' } });
      expect(spec.serviceMonitorNamespaceSelector).toEqual({});
      expect(readDoc(tree, `${ARGOCD}/prod/monitoring.yaml`).spec.sources[0].helm.releaseName).toBe('kube-prometheus-stack');
    });

    it('follows a changed release label in homelab.yaml on the next render', async () => {
      await setup(workspaceYamlWith((c) => (c.monitoring.release = 'prom')));
      await add('monitoring');

      expect(values('monitoring').prometheus.prometheusSpec.serviceMonitorSelector.matchLabels.release).toBe('prom');
      expect(readDoc(tree, `${ARGOCD}/prod/monitoring.yaml`).spec.sources[0].helm.releaseName).toBe('prom');
    });

    it('loads the apps\' grafana_dashboard ConfigMaps from every namespace and takes Grafana\'s admin from the store', () => {
      const grafana = values('monitoring').grafana;
      expect(grafana.sidecar.dashboards).toEqual({ enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' });
      expect(grafana.admin).toEqual({ existingSecret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
      const secret = readDoc(tree, `${BASE}/monitoring/externalsecret.yaml`);
      expect(secret.apiVersion).toBe('external-secrets.io/v1');
      expect(secret.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'homelab' });
      expect(secret.spec.data.map((d: any) => d.remoteRef)).toEqual([
        { key: 'monitoring', property: 'GF_SECURITY_ADMIN_USER' },
        { key: 'monitoring', property: 'GF_SECURITY_ADMIN_PASSWORD' },
      ]);
    });

    it('routes alerts on both trees with the same Alertmanager configuration', () => {
      const config = values('monitoring').alertmanager.config;
      expect(config.route.receiver).toBe('default');
      expect(config.route.routes).toContainEqual({ receiver: 'critical', matchers: ['severity = "critical"'] });
      expect(readDoc(tree, `${COMPOSE}/base/monitoring/alertmanager.yml`)).toEqual(config);
    });

    it('runs Prometheus, Alertmanager, Grafana and the host and container exporters on Compose, Prometheus finding labelled containers on the shared network', () => {
      const compose = readDoc(tree, `${COMPOSE}/base/monitoring/compose.yaml`);
      expect(Object.keys(compose.services)).toEqual(['prometheus', 'alertmanager', 'grafana', 'node-exporter', 'cadvisor']);
      expect(compose.networks).toEqual({ homelab: { name: 'homelab', external: true } });
      expect(Object.values(compose.services).map((s: any) => s.deploy.resources.limits.memory)).toEqual(['1g', '128m', '512m', '64m', '256m']);
      // Config files are Compose configs (read-only, no host path); the spec can tune each memory limit.
      expect(compose.configs).toEqual({
        prometheus: { file: './prometheus.yml' },
        alertmanager: { file: './alertmanager.yml' },
        'grafana-datasources': { file: './grafana-datasources.yaml' },
        'grafana-dashboards': { file: './grafana-dashboards.yaml' },
        cadvisor: { file: './cadvisor.alloy' },
      });
      expect(compose.services.prometheus.configs).toEqual([{ source: 'prometheus', target: '/etc/prometheus/prometheus.yml' }]);
      const spec = readDoc(tree, 'infrastructure/specs/monitoring.yaml').compose;
      expect(spec.memory).toEqual({ prometheus: '1g', alertmanager: '128m', grafana: '512m', 'node-exporter': '64m', cadvisor: '256m' });
      // Images named without a registry host: node-exporter from prom/, cAdvisor inside the Alloy image logging runs too.
      expect(spec.images).toMatchObject({ 'node-exporter': 'prom/node-exporter:v1.9.1', cadvisor: 'grafana/alloy:v1.9.2' });
      const prometheus = readDoc(tree, `${COMPOSE}/base/monitoring/prometheus.yml`);
      const job = prometheus.scrape_configs.find((j: any) => j.job_name === 'compose');
      expect(job.docker_sd_configs[0].filters).toEqual([{ name: 'label', values: ['prometheus.io/scrape=true'] }]);
      expect(readText(tree, `${COMPOSE}/base/monitoring/.env.example`)).toContain('GF_SECURITY_ADMIN_PASSWORD=\n');
    });

    it("scrapes the host's and every container's metrics on Compose: static targets on the shared network, cAdvisor keeping the Compose labels the apps' rules select by", () => {
      const prometheus = readDoc(tree, `${COMPOSE}/base/monitoring/prometheus.yml`);
      const jobs = Object.fromEntries(prometheus.scrape_configs.map((j: any) => [j.job_name, j]));
      expect(jobs['node-exporter']).toEqual({ job_name: 'node-exporter', static_configs: [{ targets: ['node-exporter:9100'] }] });
      expect(jobs.cadvisor).toEqual({
        job_name: 'cadvisor',
        metrics_path: '/api/v0/component/prometheus.exporter.cadvisor.containers/metrics',
        static_configs: [{ targets: ['cadvisor:12345'] }],
      });
      const alloy = readText(tree, `${COMPOSE}/base/monitoring/cadvisor.alloy`);
      expect(alloy).toContain('prometheus.exporter.cadvisor "containers" {');
      expect(alloy).toContain('store_container_labels       = false');
      for (const label of ['com.docker.compose.project', 'com.docker.compose.service', 'homelab.app']) expect(alloy).toContain(`    "${label}",\n`);
      const compose = readDoc(tree, `${COMPOSE}/base/monitoring/compose.yaml`);
      expect(compose.services['node-exporter'].command).toEqual(['--path.rootfs=/host', '--collector.textfile.directory=/var/lib/node-exporter/textfile']);
      expect(compose.services.cadvisor.command).toContain('/etc/alloy/cadvisor.alloy');
      expect(compose.services.cadvisor.configs).toEqual([{ source: 'cadvisor', target: '/etc/alloy/cadvisor.alloy' }]);
    });

    it("loads the apps' rule files of the environments its Docker host runs, and provisions their dashboards, both from applications/compose/monitoring", () => {
      const prometheus = readDoc(tree, `${COMPOSE}/base/monitoring/prometheus.yml`);
      expect(prometheus.rule_files).toEqual(['/etc/prometheus/rules/dev/*.yaml', '/etc/prometheus/rules/prod/*.yaml']);
      const compose = readDoc(tree, `${COMPOSE}/base/monitoring/compose.yaml`);
      expect(compose.services.prometheus.command).toEqual(expect.arrayContaining(['--enable-feature=auto-reload-config', '--config.auto-reload-interval=30s']));
      // prod installs the infrastructure of the Docker host dev and prod share: it mounts both environments' rules.
      const generated = readDoc(tree, `${COMPOSE}/environments/prod/monitoring/compose.generated.yaml`);
      expect(generated.services.prometheus.volumes).toEqual(
        ['prod', 'dev'].map((env) => ({
          type: 'bind',
          source: `../../../../applications/compose/monitoring/rules/${env}`,
          target: `/etc/prometheus/rules/${env}`,
          read_only: true,
          bind: { create_host_path: true },
        })),
      );
      expect(compose.services.grafana.volumes).toContainEqual({
        type: 'bind',
        source: '../../../../applications/compose/monitoring/dashboards',
        target: '/etc/grafana/dashboards/homelab',
        read_only: true,
        bind: { create_host_path: true },
      });
      const dashboards = readDoc(tree, `${COMPOSE}/base/monitoring/grafana-dashboards.yaml`);
      expect(dashboards.providers).toEqual([expect.objectContaining({ name: 'homelab', type: 'file', options: { path: '/etc/grafana/dashboards/homelab' } })]);
    });

    it('turns on the ServiceMonitors of components added before and after it, with the release label', async () => {
      await add('postgres');
      await add('ingress');

      expect(values('postgres').monitoring).toEqual({ podMonitorEnabled: true, podMonitorAdditionalLabels: { release: 'kube-prometheus-stack' } });
      expect(values('ingress').metrics.prometheus.serviceMonitor).toEqual({ enabled: true, additionalLabels: { release: 'kube-prometheus-stack' } });
    });
  });

  describe('logging', () => {
    it('runs Loki and Alloy from one Application, Alloy\'s pipeline in a ConfigMap built by Kustomize', async () => {
      await add('logging');

      const app = readDoc(tree, `${ARGOCD}/prod/logging.yaml`);
      expect(app.spec.sources.filter((s: any) => s.chart).map((s: any) => s.chart)).toEqual(['loki', 'alloy']);
      expect(app.spec.sources[1].helm.valueFiles[0]).toBe(`$values/${BASE}/logging/values-alloy.yaml`);
      expect(values('logging', 'values-alloy.yaml').alloy.configMap).toEqual({ create: false, name: 'alloy-config', key: 'config.alloy' });
      expect(readDoc(tree, `${BASE}/logging/kustomization.yaml`).configMapGenerator[0]).toMatchObject({ name: 'alloy-config', files: ['config.alloy'] });
      expect(readText(tree, `${BASE}/logging/config.alloy`)).toContain('url = "http://loki-gateway.logging.svc.cluster.local/loki/api/v1/push"');
      expect(readText(tree, `${COMPOSE}/base/logging/config.alloy`)).toContain('values = ["logging=promtail"]');
    });

    it('gives Grafana a Loki datasource on both trees when monitoring is there too', async () => {
      await add('logging');
      await add('monitoring');

      expect(values('monitoring').grafana.additionalDataSources).toEqual([
        { name: 'Loki', type: 'loki', access: 'proxy', url: 'http://loki-gateway.logging.svc.cluster.local' },
      ]);
      const datasources = readDoc(tree, `${COMPOSE}/base/monitoring/grafana-datasources.yaml`).datasources;
      expect(datasources.map((d: any) => d.name)).toEqual(['Prometheus', 'Alertmanager', 'Loki']);
    });
  });

  describe('backup', () => {
    it.each([
      { provider: 'volsync', chart: 'volsync', namespace: 'volsync-system' },
      { provider: 'k8up', chart: 'k8up', namespace: 'k8up' },
    ])('installs the operator of homelab.yaml backup.provider $provider', async ({ provider, chart, namespace }) => {
      await setup(workspaceYamlWith((c) => {
        c.backup.provider = provider;
        c.backup.s3 = { endpoint: 'https://s3.home.arpa', bucket: 'backups' };
      }));
      await add('backup');

      const spec = readDoc(tree, 'infrastructure/specs/backup.yaml');
      expect(spec.kubernetes.charts.map((c: any) => c.name)).toEqual([chart]);
      expect(spec.namespace).toBe(namespace);
      expect(spec.settings.provider).toBe(provider);
    });

    it('adds k8up\'s CRDs from a pinned tag of its repository, which its chart does not ship', async () => {
      await setup(workspaceYamlWith((c) => {
        c.backup.provider = 'k8up';
        c.backup.s3 = { endpoint: 'https://s3.home.arpa', bucket: 'backups' };
      }));
      await add('backup');

      const sources = readDoc(tree, `${ARGOCD}/prod/backup.yaml`).spec.sources;
      expect(sources).toContainEqual({ repoURL: 'https://github.com/k8up-io/k8up.git', targetRevision: 'v2.12.0', path: 'config/crd/apiextensions.k8s.io/v1' });
    });

    it('points Velero at homelab.yaml\'s S3 bucket with credentials from the store', async () => {
      await setup(workspaceYamlWith((c) => {
        c.backup.provider = 'velero';
        c.backup.s3 = { endpoint: 'https://s3.home.arpa', bucket: 'backups' };
      }));
      await add('backup');

      expect(values('backup').configuration.backupStorageLocation).toEqual([
        { name: 'default', provider: 'aws', default: true, bucket: 'backups', config: { region: 'us-east-1', s3ForcePathStyle: true, s3Url: 'https://s3.home.arpa' } },
      ]);
      const secret = readDoc(tree, `${BASE}/backup/externalsecret.yaml`);
      expect(secret.spec.target.template.data.cloud).toBe('[default]\naws_access_key_id={{ .AWS_ACCESS_KEY_ID }}\naws_secret_access_key={{ .AWS_SECRET_ACCESS_KEY }}\n');
    });

    it("has no Compose form: each app's Compose project backs up its own volumes (docs/backup.md)", async () => {
      await add('backup');

      const spec = readDoc(tree, 'infrastructure/specs/backup.yaml');
      expect(spec.platforms).toEqual(['kubernetes']);
      expect(spec).not.toHaveProperty('compose');
      expect(spec.settings).toEqual({ provider: 'volsync', retentionDays: 7 });
      expect(tree.exists(`${COMPOSE}/base/backup`)).toBe(false);
      expect(tree.exists(`${COMPOSE}/environments/prod/backup`)).toBe(false);
    });

    it('refuses a backup spec that still lists compose, in one line naming the field and the migration', async () => {
      await add('backup');
      const text = readText(tree, 'infrastructure/specs/backup.yaml').replace('  - kubernetes\n', '  - kubernetes\n  - compose\n');
      tree.write('infrastructure/specs/backup.yaml', text);

      await expect(syncGenerator(tree)).rejects.toThrow(
        "infrastructure/specs/backup.yaml: platforms lists compose, but backup has no Compose form (since homelab 0.3.0 each app's Compose project backs up its own volumes with restic: docs/backup.md); run the migrations of the homelab update (docs/upgrading.md), or remove compose",
      );
    });
  });

  describe('postgres', () => {
    it('renders a CloudNativePG Cluster after the operator, and a postgres service with a health check on Compose', async () => {
      await add('postgres');

      const cluster = readDoc(tree, `${BASE}/postgres/cluster.yaml`);
      expect(cluster.apiVersion).toBe('postgresql.cnpg.io/v1');
      expect(cluster.metadata).toEqual({ name: 'postgres', namespace: 'postgres', annotations: { 'argocd.argoproj.io/sync-wave': '1' } });
      expect(cluster.spec).toMatchObject({ instances: 1, storage: { size: '10Gi' }, imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5' });
      // prod is protected: its install (the one dev shares) runs two instances, patched over the base's.
      expect(readDoc(tree, 'infrastructure/kubernetes/overlays/prod/postgres/generated/cluster-patch.yaml').spec).toEqual({ instances: 2, enablePDB: true });
      const service = readDoc(tree, `${COMPOSE}/base/postgres/compose.yaml`).services.postgres;
      expect(service.image).toBe('postgres:17.5');
      expect(service.healthcheck.test).toEqual(['CMD', 'pg_isready', '-U', 'postgres']);
      // No label of the old host-wide backup container: the apps' databases are dumped by their own projects.
      expect(Object.keys(service.labels)).toEqual(['logging', 'logging.job']);
      expect(readText(tree, `${COMPOSE}/base/postgres/.env.example`)).toContain('POSTGRES_PASSWORD=\n');
    });
  });

  describe('external-secrets', () => {
    it('applies the ClusterSecretStores of platform/secrets/stores from its own Application, after its CRDs', async () => {
      await add('external-secrets');

      const sources = readDoc(tree, `${ARGOCD}/prod/external-secrets.yaml`).spec.sources;
      expect(sources[sources.length - 1]).toEqual({ repoURL: 'https://git.home.arpa/homelab/homelab.git', targetRevision: 'main', path: 'platform/secrets/stores' });
      expect(readDoc(tree, 'infrastructure/specs/external-secrets.yaml').platforms).toEqual(['kubernetes']);
    });
  });

  describe('ingress', () => {
    it('makes Traefik the default ingress class of homelab.yaml, and the Compose resolver "letsencrypt" the apps\' labels ask for', async () => {
      await add('ingress');

      expect(values('ingress').ingressClass).toEqual({ enabled: true, isDefaultClass: true, name: 'traefik' });
      const traefik = readDoc(tree, `${COMPOSE}/base/ingress/compose.yaml`).services.traefik;
      expect(traefik.ports).toEqual(['80:80', '443:443']);
      expect(traefik.command).toContain(`--certificatesresolvers.letsencrypt.acme.email=${EMAIL}`);
      expect(traefik.command).toContain('--providers.docker.exposedByDefault=false');
    });
  });

  describe('environments', () => {
    it('installs again, under its own name, in an environment with its own cluster and Docker host', async () => {
      await setup(workspaceYamlWith((c) => c.environments.push({ name: 'lab', kubernetes: { server: 'https://lab.home.arpa:6443' }, compose: { context: 'lab' } })));
      await add('postgres');

      const app = readDoc(tree, `${ARGOCD}/lab/postgres.yaml`);
      expect(app.metadata.name).toBe('postgres-lab');
      expect(app.spec.destination).toEqual({ server: 'https://lab.home.arpa:6443', namespace: 'postgres' });
      expect(readDoc(tree, `${COMPOSE}/environments/lab/postgres/compose.generated.yaml`).name).toBe('postgres');
      expect(readDoc(tree, `${COMPOSE}/environments/prod/postgres/compose.generated.yaml`).name).toBe('postgres');
    });
  });

  describe('an app that depends on a component', () => {
    /** The app's own NetworkPolicy (the second document: the first denies everything). */
    const egressNamespaces = () =>
      readDocs(tree, 'applications/kubernetes/base/web/components/network-policy/networkpolicy.yaml')[1]
        .spec.egress.flatMap((rule: { to: { namespaceSelector?: { matchLabels: Record<string, string> } }[] }) => rule.to)
        .map((to: { namespaceSelector?: { matchLabels: Record<string, string> } }) => to.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'])
        .filter((ns: string | undefined) => ns !== undefined && ns !== 'kube-system');
    const dependOn = async (...components: string[]) => {
      writeSpec(tree, specOf('web', { dependsOn: components }));
      await syncGenerator(tree);
    };

    it.each([
      { component: 'ingress', namespace: 'traefik' },
      { component: 'cert-manager', namespace: 'cert-manager' },
      { component: 'external-secrets', namespace: 'external-secrets' },
      { component: 'monitoring', namespace: 'monitoring' },
      { component: 'logging', namespace: 'logging' },
      { component: 'backup', namespace: 'volsync-system' },
      { component: 'postgres', namespace: 'postgres' },
    ])('allows egress to $component in its namespace $namespace, not to a namespace named after it', async ({ component, namespace }) => {
      await add(component);

      await dependOn(component);

      expect(egressNamespaces()).toEqual([namespace]);
    });

    it('covers every catalog component in the table above', () => {
      expect(COMPONENT_NAMES).toEqual(['ingress', 'cert-manager', 'external-secrets', 'monitoring', 'logging', 'backup', 'postgres']);
    });

    it.each([
      { provider: 'velero', namespace: 'velero' },
      { provider: 'k8up', namespace: 'k8up' },
    ])('allows egress to the $provider operator when that is the backup provider', async ({ provider, namespace }) => {
      await setup(
        workspaceYamlWith((c) => {
          c.backup = { provider, s3: { endpoint: 'https://s3.example.org', bucket: 'homelab' } };
        }),
      );
      await add('backup');

      await dependOn('backup');

      expect(egressNamespaces()).toEqual([namespace]);
    });

    it('follows homelab.yaml ingress.namespace and monitoring.namespace', async () => {
      await setup(
        workspaceYamlWith((c) => {
          c.ingress = { namespace: 'edge' };
          c.monitoring = { namespace: 'observability' };
        }),
      );
      await add('ingress');
      await add('monitoring');

      await dependOn('ingress', 'monitoring');

      expect(egressNamespaces()).toEqual(['edge', 'observability']);
    });

    it("follows a namespace edited in the component's spec", async () => {
      await add('postgres');
      const spec = 'infrastructure/specs/postgres.yaml';
      tree.write(spec, readText(tree, spec).replace('namespace: postgres', 'namespace: databases'));

      await dependOn('postgres');

      expect(egressNamespaces()).toEqual(['databases']);
    });

    it('is refused by nx sync while the component is not installed, with one line naming it and the fix, and nothing is written', async () => {
      await add('ingress');
      await dependOn('ingress');
      const before = treeFiles(tree);
      const file = writeSpec(tree, specOf('web', { dependsOn: ['ingress', 'postgres'] }));
      const written = treeFiles(tree);

      const error = await syncGenerator(tree).then(() => new Error('expected a refusal'), (e: Error) => e);

      expect(error).toBeInstanceOf(HomelabError);
      const line = readText(tree, file).split('\n').indexOf('  - postgres') + 1;
      expect(error.message).toBe(
        `applications/specs/web.yaml:${line}:5: dependsOn "postgres" is not an infrastructure component of this workspace (no infrastructure/specs/postgres.yaml); add it with \`npx nx g homelab:infra postgres\`, or remove it from dependsOn`,
      );
      expect(treeFiles(tree)).toEqual(written);
      expect({ ...written, [file]: '' }).toEqual({ ...before, [file]: '' });
    });
  });

  describe('refusals', () => {
    it.each([
      { case: 'a component not in the catalog', options: { component: 'redis' }, message: 'component "redis" is not in the catalog; use one of "ingress", "cert-manager"' },
      { case: 'cert-manager without --email', options: { component: 'cert-manager' }, message: 'cert-manager needs --email for its Let\'s Encrypt account' },
      { case: 'a malformed --email', options: { component: 'ingress', email: 'admin' }, message: '--email "admin" is not an e-mail address' },
    ])('refuses $case with one line naming the value and the fix, and writes nothing', async ({ options, message }) => {
      const before = treeFiles(tree);

      const error = await refusal(options);

      expect(error.message).toContain(message);
      expect(error.message).not.toContain('\n');
      expect(treeFiles(tree)).toEqual(before);
    });

    it('refuses a missing component when it cannot ask, listing the catalog one line each, and writes nothing', async () => {
      const before = treeFiles(tree);

      const error = await refusal({});

      const lines = error.message.split('\n');
      expect(lines[0]).toBe('nx g homelab:infra is missing --component and cannot ask (it is not run by nx g); pass it, e.g. npx nx g homelab:infra monitoring');
      expect(lines.slice(2).map((line) => line.trim().split(/\s+/)[0])).toEqual([...COMPONENT_NAMES]);
      expect(treeFiles(tree)).toEqual(before);
    });

    it("reports an overlay scaffolded before 0.4.0 whose install's instances would not reach its Cluster, until it includes generated/", async () => {
      await add('postgres');
      const overlay = 'infrastructure/kubernetes/overlays/prod/postgres/kustomization.yaml';
      const scaffolded = readText(tree, overlay);
      // The overlay as homelab scaffolded it before 0.4.0: the base only.
      tree.write(overlay, scaffolded.replace(/components:\n(.*\n)*/, ''));
      const rules = () => validateComponent(treeHost(tree), 'postgres').filter((f) => f.severity === 'error');

      // The new spec's { prod: 2 } differs from the base's 1.
      expect(rules()).toEqual([
        expect.objectContaining({
          file: overlay,
          rule: 'instances/overlay-component',
          message: "settings.instances gives prod's PostgreSQL 2 instance(s), but this overlay does not include generated/, so its Cluster keeps the base's 1; add `components: [generated]` to it",
        }),
      ]);
      // One number for every install is in the base itself: nothing to include.
      const spec = 'infrastructure/specs/postgres.yaml';
      tree.write(spec, readText(tree, spec).replace('instances:\n    prod: 2', 'instances: 2'));
      await syncGenerator(tree);
      expect(rules()).toEqual([]);
      tree.write(spec, readText(tree, spec).replace('instances: 2', 'instances:\n    prod: 3'));
      await syncGenerator(tree);
      expect(rules().map((f) => f.rule)).toEqual(['instances/overlay-component']);
      tree.write(overlay, scaffolded);
      expect(rules()).toEqual([]);
    });

    it('refuses a component that exists, and resets it to the catalog with --force', async () => {
      await add('postgres');
      const file = 'infrastructure/specs/postgres.yaml';
      const pinned = readText(tree, file);
      tree.write(file, pinned.replace('storage: 10Gi', 'storage: 20Gi'));
      expect(readText(tree, file)).not.toBe(pinned);

      const error = await refusal({ component: 'postgres' });
      expect(error.message).toBe('component "postgres" already exists (infrastructure/specs/postgres.yaml); edit its spec and run `npx nx sync`, or pass --force to reset it to the catalog\'s pinned versions');

      await add('postgres', { force: true });
      expect(readText(tree, file)).toBe(pinned);
    });

    it('refuses a name an app already has', async () => {
      await appGenerator(tree, { name: 'postgres', image: 'postgres:17.5', port: 5432 });

      expect((await refusal({ component: 'postgres' })).message).toContain('name "postgres" is taken by the app applications/specs/postgres.yaml');
    });

    it('refuses to run before homelab:init', async () => {
      ({ tree } = workspaceTree());

      expect((await refusal({ component: 'postgres' })).message).toBe(
        'the workspace is not initialised (platform/argocd/bootstrap/kustomization.yaml is missing); run `npx nx g homelab:init` first',
      );
      expect(tree.exists('infrastructure')).toBe(false);
    });

    it('refuses Velero without homelab.yaml backup.s3', async () => {
      await setup(workspaceYamlWith((c) => (c.backup.provider = 'velero')));

      expect((await refusal({ component: 'backup' })).message).toContain('homelab.yaml: backup.provider "velero" needs backup.s3 (endpoint and bucket)');
      expect(tree.exists('infrastructure/specs/backup.yaml')).toBe(false);
    });
  });

  describe('validate', () => {
    it('reports a hand edit of a generated file, a value homelab wires, and a missing store', async () => {
      await add('monitoring');
      const values = `${BASE}/monitoring/values.yaml`;
      tree.write(values, `${readText(tree, values)}extra: true\n`);
      const spec = 'infrastructure/specs/monitoring.yaml';
      tree.write(spec, readText(tree, spec).replace('grafana:\n', 'grafana:\n          sidecar:\n            dashboards:\n              label: mine\n'));
      tree.delete('platform/secrets/stores/homelab.yaml');

      const findings = validateComponent(treeHost(tree), 'monitoring');

      expect(findings.map((f) => [f.rule, f.severity])).toEqual([
        ['sync/drift', 'error'],
        ['secrets/store-missing', 'error'],
        ['values/wired', 'warning'],
      ]);
      expect(findings[2].message).toContain('values.grafana.sidecar.dashboards.label is set by homelab');
    });
  });
});
