import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { HomelabError, InputError } from '../../tools/homelab/src/errors';
import { treeHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { parseAppSpec, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import type { AppSpec } from '../../tools/homelab/src/spec/types';
import { composeForm, HOSTILE_COMMAND, HOSTILE_ENV, HOSTILE_HOSTS, kubernetesForm } from '../../tests/support/hostile';
import { specOf, STACKS_DIR, VAULT_ANSWERS, writeSpec } from '../../tests/support/spec';
import { makeDiskWorkspace, parseDoc, parseDocs, readDoc, readDocs, readText, removeDir, REPO_ROOT, treeFiles, WHOAMI, workspaceTree } from '../../tests/support/workspace';
import syncGenerator from '../sync/generator';
import appGenerator from './generator';
import type { AppGeneratorSchema } from './schema';

const BASE = 'applications/kubernetes/base';
const OVERLAYS = 'applications/kubernetes/overlays';
const COMPOSE = 'applications/compose';
const ARGOCD = 'platform/argocd/applications';

/** The full-featured app used across output areas: secrets, two volumes, a host. */
const VAULT: AppGeneratorSchema = { ...VAULT_ANSWERS };

let tree: Tree;
let changes: () => string[];

beforeEach(() => {
  ({ tree, changes } = workspaceTree());
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function generate(options: AppGeneratorSchema): Promise<void> {
  await appGenerator(tree, options);
}

/** Rewrites a spec the way a user would: read it, change it, write it back. */
function editSpec(name: string, edit: (spec: AppSpec) => void): void {
  const file = `applications/specs/${name}.yaml`;
  const spec = parseAppSpec(readText(tree, file), file);
  edit(spec);
  writeSpec(tree, spec);
}

/** The error a call throws (fails the test when it does not throw). */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('homelab:app generator', () => {
  describe('the spec', () => {
    it('writes applications/specs/<name>.yaml with a schema modeline and every default spelled out', async () => {
      await generate(WHOAMI);

      const text = readText(tree, 'applications/specs/whoami.yaml');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../tools/homelab/schemas/app.schema.json');
      expect(parseDoc(text)).toEqual({
        name: 'whoami',
        image: { repository: 'traefik/whoami', tag: 'v1.10.4' },
        ports: [{ name: 'http', port: 80, http: true }],
        resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        health: { http: { path: '/' }, probe: 'outside', startGraceSeconds: 30 },
        replicas: 1,
        monitoring: { alerts: true, dashboard: true },
        environments: { dev: {}, prod: {} },
      });
    });

    it('records each secret as a property of the app\'s store entry, volumes as backed up, and the host with TLS', async () => {
      await generate(VAULT);

      const spec = readDoc(tree, 'applications/specs/vault.yaml');
      expect(spec.secrets).toEqual([
        { key: 'API_TOKEN', remoteKey: 'vault', property: 'API_TOKEN' },
        { key: 'DB_PASSWORD', remoteKey: 'vault', property: 'DB_PASSWORD' },
      ]);
      expect(spec.volumes).toEqual([
        { name: 'data', size: '1Gi', mountPath: '/data', backup: true },
        { name: 'cache', size: '512Mi', mountPath: '/var/cache/vault', backup: true },
      ]);
      expect(spec.ingress).toEqual({ host: 'vault.home.example.org', tls: true });
    });
  });

  describe('Kubernetes base', () => {
    it.each([
      { volumes: undefined, kind: 'Deployment', file: 'deployment.yaml', absent: 'statefulset.yaml' },
      { volumes: 'data:1Gi:/data', kind: 'StatefulSet', file: 'statefulset.yaml', absent: 'deployment.yaml' },
    ])('renders a $kind when volumes are $volumes', async ({ volumes, kind, file, absent }) => {
      await generate({ ...WHOAMI, volumes });

      const workload = readDoc(tree, `${BASE}/whoami/${file}`);
      expect(workload.apiVersion).toBe('apps/v1');
      expect(workload.kind).toBe(kind);
      expect(workload.metadata.name).toBe('whoami');
      expect(workload.spec.replicas).toBe(1);
      expect(workload.spec.template.spec.containers[0].image).toBe('traefik/whoami:v1.10.4');
      expect(tree.exists(`${BASE}/whoami/${absent}`)).toBe(false);
      expect(readDoc(tree, `${BASE}/whoami/kustomization.yaml`).resources).toContain(file);
    });

    it('gives a StatefulSet a governing service name and mounts each volume from its claim', async () => {
      await generate(VAULT);

      const sts = readDoc(tree, `${BASE}/vault/statefulset.yaml`);
      expect(sts.spec.serviceName).toBe('vault');
      const pod = sts.spec.template.spec;
      expect(pod.containers[0].volumeMounts).toEqual([
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'data', mountPath: '/data' },
        { name: 'cache', mountPath: '/var/cache/vault' },
      ]);
      expect(pod.volumes).toEqual([
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'vault-data' } },
        { name: 'cache', persistentVolumeClaim: { claimName: 'vault-cache' } },
      ]);
    });

    it('hardens the Deployment: non-root, read-only root, /tmp emptyDir, no capabilities, seccomp, resources and three probes', async () => {
      await generate(WHOAMI);

      const deployment = readDoc(tree, `${BASE}/whoami/deployment.yaml`);
      const pod = deployment.spec.template.spec;
      expect(pod.serviceAccountName).toBe('whoami');
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.containers).toHaveLength(1);
      const container = pod.containers[0];
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
      expect(container.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } });
      expect(container.ports).toEqual([{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
      const httpGet = { path: '/', port: 'http' };
      expect(container.startupProbe).toMatchObject({ httpGet, periodSeconds: 5, failureThreshold: 6 });
      expect(container.livenessProbe).toMatchObject({ httpGet });
      expect(container.readinessProbe).toMatchObject({ httpGet });
      expect(container.env).toBeUndefined();
      expect(container.envFrom).toBeUndefined();
    });

    it('exposes the port through a ClusterIP Service selecting the app', async () => {
      await generate(WHOAMI);

      const service = readDoc(tree, `${BASE}/whoami/service.yaml`);
      expect(service).toMatchObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'whoami' } });
      expect(service.spec.type).toBe('ClusterIP');
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'whoami' });
      expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
      const deployment = readDoc(tree, `${BASE}/whoami/deployment.yaml`);
      expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
      expect(deployment.spec.template.metadata.labels).toEqual(service.spec.selector);
    });

    it('creates a ServiceAccount that mounts no token', async () => {
      await generate(WHOAMI);

      expect(readDoc(tree, `${BASE}/whoami/serviceaccount.yaml`)).toEqual({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'whoami' },
        automountServiceAccountToken: false,
      });
    });

    it('creates one PersistentVolumeClaim per volume, with its size and backup marker', async () => {
      await generate(VAULT);

      const claims = readDocs(tree, `${BASE}/vault/persistentvolumeclaim.yaml`);
      expect(claims.map((c) => [c.kind, c.metadata.name, c.spec.resources.requests.storage])).toEqual([
        ['PersistentVolumeClaim', 'vault-data', '1Gi'],
        ['PersistentVolumeClaim', 'vault-cache', '512Mi'],
      ]);
      for (const claim of claims) {
        expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
        expect(claim.metadata.labels['homelab.dev/backup']).toBe('true');
      }
    });

    it('writes no claim when the app has no volumes', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${BASE}/whoami/persistentvolumeclaim.yaml`)).toBe(false);
    });

    it('denies all traffic by default, then allows DNS and the ingress controller to reach the HTTP port', async () => {
      await generate(VAULT);

      const [deny, allow] = readDocs(tree, `${BASE}/vault/components/network-policy/networkpolicy.yaml`);
      expect(deny).toMatchObject({ kind: 'NetworkPolicy', metadata: { name: 'default-deny' } });
      expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      expect(allow.metadata.name).toBe('vault');
      expect(allow.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'vault' } });
      expect(allow.spec.ingress).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } } }],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ]);
      expect(allow.spec.egress).toHaveLength(1);
      expect(allow.spec.egress[0].ports).toEqual([
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ]);
      expect(readDoc(tree, `${BASE}/vault/components/network-policy/kustomization.yaml`)).toMatchObject({
        kind: 'Component',
        resources: ['networkpolicy.yaml'],
      });
    });

    it('allows no ingress traffic when the app has no host', async () => {
      await generate(WHOAMI);

      const [, allow] = readDocs(tree, `${BASE}/whoami/components/network-policy/networkpolicy.yaml`);
      expect(allow.spec.ingress).toBeNull();
    });

    it('maps each secret key to its remote key and property through the workspace ClusterSecretStore', async () => {
      await generate(VAULT);

      const externalSecret = readDoc(tree, `${BASE}/vault/externalsecret.yaml`);
      expect(externalSecret.apiVersion).toBe('external-secrets.io/v1');
      expect(externalSecret.kind).toBe('ExternalSecret');
      expect(externalSecret.metadata.name).toBe('vault-secrets');
      expect(externalSecret.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'homelab' });
      expect(externalSecret.spec.target).toMatchObject({ name: 'vault-secrets' });
      expect(externalSecret.spec.data).toEqual([
        { secretKey: 'API_TOKEN', remoteRef: { key: 'vault', property: 'API_TOKEN' } },
        { secretKey: 'DB_PASSWORD', remoteRef: { key: 'vault', property: 'DB_PASSWORD' } },
      ]);
      const container = readDoc(tree, `${BASE}/vault/statefulset.yaml`).spec.template.spec.containers[0];
      expect(container.envFrom).toEqual([{ secretRef: { name: 'vault-secrets' } }]);
    });

    it('writes no ExternalSecret when the app has no secrets', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${BASE}/whoami/externalsecret.yaml`)).toBe(false);
      expect(readDoc(tree, `${BASE}/whoami/kustomization.yaml`).resources).not.toContain('externalsecret.yaml');
    });

    it('ships a Grafana dashboard ConfigMap whose JSON parses', async () => {
      await generate(WHOAMI);

      const configMap = readDoc(tree, `${BASE}/whoami/components/monitoring/configmap.yaml`);
      expect(configMap).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'whoami-dashboard', labels: { grafana_dashboard: '1' } } });
      const dashboard = JSON.parse(configMap.data['whoami.json']);
      expect(dashboard.uid).toBe('homelab-whoami');
      expect(dashboard.panels.map((p: { title: string }) => p.title)).toEqual(['Available replicas', 'Restarts (1h)', 'CPU', 'Memory']);
      expect(dashboard.panels[0].targets[0].expr).toContain('deployment="whoami"');
    });

    it('renders no ServiceMonitor when the app does not expose metrics', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${BASE}/whoami/components/monitoring/servicemonitor.yaml`)).toBe(false);
      expect(readDoc(tree, `${BASE}/whoami/components/monitoring/kustomization.yaml`).resources).toEqual(['configmap.yaml']);
    });

    it('renders a ServiceMonitor, opens the metrics port to monitoring and labels Compose for scraping when the spec has metrics', async () => {
      writeSpec(tree, specOf('metered', { monitoring: { metrics: { port: 'http', path: '/stats' } } }));
      await syncGenerator(tree);

      const monitor = readDoc(tree, `${BASE}/metered/components/monitoring/servicemonitor.yaml`);
      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(monitor.metadata).toEqual({ name: 'metered', labels: { release: 'kube-prometheus-stack' } });
      expect(monitor.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'metered' } });
      expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/stats', interval: '30s' }]);
      expect(readDoc(tree, `${BASE}/metered/components/monitoring/kustomization.yaml`).resources).toEqual(['servicemonitor.yaml', 'configmap.yaml']);
      const [, allow] = readDocs(tree, `${BASE}/metered/components/network-policy/networkpolicy.yaml`);
      expect(allow.spec.ingress).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ]);
      const labels = readDoc(tree, `${COMPOSE}/base/metered/compose.yaml`).services.metered.labels;
      expect(labels).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/stats' });
    });

    it('backs up each backed-up volume with a VolSync ReplicationSource on the workspace schedule', async () => {
      await generate(VAULT);

      const sources = readDocs(tree, `${BASE}/vault/components/backup/replicationsource.yaml`);
      expect(sources.map((s) => [s.apiVersion, s.kind, s.metadata.name, s.spec.sourcePVC, s.spec.restic.repository])).toEqual([
        ['volsync.backube/v1alpha1', 'ReplicationSource', 'vault-data', 'vault-data', 'vault-data-restic'],
        ['volsync.backube/v1alpha1', 'ReplicationSource', 'vault-cache', 'vault-cache', 'vault-cache-restic'],
      ]);
      for (const source of sources) {
        expect(source.spec.trigger).toEqual({ schedule: '0 3 * * *' });
        expect(source.spec.restic.retain).toEqual({ daily: 7, weekly: 4, monthly: 3 });
        // Direct: the default, which works on storage without CSI snapshots (k3s local-path, hostPath).
        expect(source.spec.restic.copyMethod).toBe('Direct');
      }
      expect(readDoc(tree, `${BASE}/vault/components/backup/kustomization.yaml`)).toMatchObject({
        kind: 'Component',
        resources: ['replicationsource.yaml'],
      });
    });

    it('backs up only the volumes whose spec says backup: true', async () => {
      writeSpec(
        tree,
        specOf('photos', {
          volumes: [
            { name: 'library', size: '10Gi', mountPath: '/library', backup: true },
            { name: 'thumbs', size: '1Gi', mountPath: '/thumbs', backup: false },
          ],
        }),
      );
      await syncGenerator(tree);

      const sources = readDocs(tree, `${BASE}/photos/components/backup/replicationsource.yaml`);
      expect(sources.map((s) => s.metadata.name)).toEqual(['photos-library']);
      expect(readDocs(tree, `${BASE}/photos/persistentvolumeclaim.yaml`).map((c) => c.metadata.labels['homelab.dev/backup'])).toEqual(['true', 'false']);
      const runbook = readText(tree, 'applications/runbooks/photos.md');
      expect(runbook).toContain('### `library`');
      expect(runbook).not.toContain('### `thumbs`');
    });

    it('writes no backup component when the app has no volumes', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${BASE}/whoami/components/backup`)).toBe(false);
      expect(readDoc(tree, `${BASE}/whoami/kustomization.yaml`).components).not.toContain('components/backup');
    });

    it('adds an Ingress with TLS from the cert-manager cluster issuer when --host is given', async () => {
      await generate(VAULT);

      const ingress = readDoc(tree, `${BASE}/vault/ingress.yaml`);
      expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
      expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
      expect(ingress.spec.ingressClassName).toBe('traefik');
      expect(ingress.spec.rules).toEqual([
        {
          host: 'vault.home.example.org',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'vault', port: { name: 'http' } } } }] },
        },
      ]);
      expect(ingress.spec.tls).toEqual([{ hosts: ['vault.home.example.org'], secretName: 'vault-tls' }]);
    });

    it('adds no Ingress without --host', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${BASE}/whoami/ingress.yaml`)).toBe(false);
      expect(tree.exists(`${BASE}/whoami/httproute.yaml`)).toBe(false);
    });

    it.each([
      {
        answers: WHOAMI,
        resources: ['serviceaccount.yaml', 'deployment.yaml', 'service.yaml'],
        components: ['components/network-policy', 'components/monitoring'],
      },
      {
        answers: VAULT,
        resources: ['serviceaccount.yaml', 'statefulset.yaml', 'service.yaml', 'persistentvolumeclaim.yaml', 'externalsecret.yaml', 'ingress.yaml'],
        components: ['components/network-policy', 'components/monitoring', 'components/backup'],
      },
    ])('lists every base resource and opted-in component of $answers.name in kustomization.yaml', async ({ answers, resources, components }) => {
      await generate(answers);

      const kustomization = readDoc(tree, `${BASE}/${answers.name}/kustomization.yaml`);
      expect(kustomization.kind).toBe('Kustomization');
      expect(kustomization.resources).toEqual(resources);
      expect(kustomization.components).toEqual(components);
      expect(kustomization.labels).toEqual([
        {
          includeSelectors: false,
          pairs: {
            'app.kubernetes.io/name': answers.name,
            'app.kubernetes.io/part-of': 'homelab',
            'app.kubernetes.io/managed-by': 'homelab',
          },
        },
      ]);
    });
  });

  describe('Kubernetes overlays', () => {
    it.each(['dev', 'prod'])('scaffolds a %s overlay on the base with its generated component', async (env) => {
      await generate(WHOAMI);

      const overlay = readDoc(tree, `${OVERLAYS}/${env}/whoami/kustomization.yaml`);
      expect(overlay.kind).toBe('Kustomization');
      expect(overlay.resources).toEqual(['../../../base/whoami']);
      expect(overlay.components).toEqual(['generated']);
      expect(readDoc(tree, `${OVERLAYS}/${env}/whoami/generated/kustomization.yaml`)).toMatchObject({
        kind: 'Component',
        resources: ['prometheusrule.yaml', 'resourcequota.yaml', 'limitrange.yaml'],
      });
    });

    it.each([
      { env: 'dev', namespace: 'whoami-dev' },
      { env: 'prod', namespace: 'whoami' },
    ])('puts a PrometheusRule for $env in its overlay, querying the namespace $namespace', async ({ env, namespace }) => {
      await generate(WHOAMI);

      const rule = readDoc(tree, `${OVERLAYS}/${env}/whoami/generated/prometheusrule.yaml`);
      expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(rule.kind).toBe('PrometheusRule');
      expect(rule.metadata.labels).toEqual({ release: 'kube-prometheus-stack' });
      expect(rule.spec.groups).toHaveLength(1);
      const alerts = rule.spec.groups[0].rules;
      expect(alerts.map((r: { alert: string }) => r.alert)).toEqual(['HomelabAppDown', 'HomelabAppRestarting']);
      for (const alert of alerts) {
        expect(alert.expr).toContain(`namespace="${namespace}"`);
        expect(alert.labels).toMatchObject({ app: 'whoami', environment: env });
      }
    });

    it('keeps overlays to deltas: no patch when no environment overrides anything', async () => {
      await generate(WHOAMI);

      for (const env of ['dev', 'prod']) {
        expect(readDoc(tree, `${OVERLAYS}/${env}/whoami/generated/kustomization.yaml`).patches).toBeUndefined();
        expect(tree.exists(`${OVERLAYS}/${env}/whoami/generated/workload-patch.yaml`)).toBe(false);
      }
    });

    it('gives each environment its own restic credentials for each backed-up volume', async () => {
      await generate(VAULT);

      const secrets = readDocs(tree, `${OVERLAYS}/dev/vault/generated/externalsecret.yaml`);
      expect(secrets.map((s) => [s.apiVersion, s.metadata.name, s.spec.target.template.data.RESTIC_REPOSITORY])).toEqual([
        ['external-secrets.io/v1', 'vault-data-restic', '{{ .repository }}/vault-dev/data'],
        ['external-secrets.io/v1', 'vault-cache-restic', '{{ .repository }}/vault-dev/cache'],
      ]);
      expect(secrets[0].spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'homelab' });
      expect(secrets[0].spec.dataFrom).toEqual([{ extract: { key: 'homelab/restic' } }]);
      expect(readDoc(tree, `${OVERLAYS}/dev/vault/generated/kustomization.yaml`).resources).toEqual(['prometheusrule.yaml', 'externalsecret.yaml', 'resourcequota.yaml', 'limitrange.yaml']);
    });

    it('renders only the environments listed in --environments', async () => {
      await generate({ ...WHOAMI, environments: 'prod' });

      expect(readDoc(tree, 'applications/specs/whoami.yaml').environments).toEqual({ prod: {} });
      expect(tree.exists(`${OVERLAYS}/prod/whoami/kustomization.yaml`)).toBe(true);
      expect(tree.exists(`${OVERLAYS}/dev`)).toBe(false);
      expect(tree.exists(`${COMPOSE}/environments/dev`)).toBe(false);
      expect(tree.exists(`${ARGOCD}/dev`)).toBe(false);
    });
  });

  describe('Compose base', () => {
    it('hardens the service, and has deploy probe a new app from outside the container (any image, also one without wget)', async () => {
      await generate(WHOAMI);

      const compose = readDoc(tree, `${COMPOSE}/base/whoami/compose.yaml`);
      expect(compose.name).toBe('whoami');
      expect(compose.version).toBeUndefined();
      expect(Object.keys(compose.services)).toEqual(['whoami']);
      const service = compose.services.whoami;
      expect(service.image).toBe('traefik/whoami:v1.10.4');
      expect(service.restart).toBe('unless-stopped');
      expect(service.user).toBe('65532:65532');
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toEqual(['no-new-privileges:true']);
      expect(service.tmpfs).toEqual(['/tmp:size=64m']);
      expect(service.expose).toEqual([80]);
      expect(service.healthcheck).toBeUndefined();
      expect(service.deploy.resources).toEqual({ limits: { memory: '256m' }, reservations: { memory: '64m' } });
      expect(service.labels).toEqual({
        'homelab.app': 'whoami',
        'homelab.health.probe': 'outside',
        'homelab.health.port': '80',
        'homelab.health.path': '/',
        'homelab.health.start-period': '30s',
        logging: 'promtail',
        'logging.job': 'whoami',
      });
      expect(service.env_file).toBeUndefined();
      expect(service.volumes).toBeUndefined();
      expect(compose.volumes).toBeUndefined();
    });

    it('reads secrets from an optional env file and names each volume with a backup label', async () => {
      await generate(VAULT);

      const compose = readDoc(tree, `${COMPOSE}/base/vault/compose.yaml`);
      const service = compose.services.vault;
      expect(service.env_file).toEqual([{ path: '${HOMELAB_ENV_FILE:-.env}', required: false }]);
      expect(service.volumes).toEqual([
        { type: 'volume', source: 'data', target: '/data' },
        { type: 'volume', source: 'cache', target: '/var/cache/vault' },
      ]);
      // Then the backup movers' restic cache (docs/backup.md); the scheduler stops the service for a copy by its Compose labels.
      expect(compose.volumes).toEqual({
        data: { labels: { 'homelab.backup': 'true' } },
        cache: { labels: { 'homelab.backup': 'true' } },
        'backup-cache': null,
        // Where the movers write their last success, read by node-exporter (docs/backup.md, "The alert").
        'backup-metrics': { name: 'homelab-backup-metrics', external: true },
      });
      expect(service.labels).not.toHaveProperty('docker-volume-backup.stop-during-backup');
      expect(service.healthcheck).toBeUndefined();
      expect(service.labels['homelab.health.port']).toBe('8080');
    });

    it('lists every secret key with an empty value in .env.example', async () => {
      await generate(VAULT);

      const lines = readText(tree, `${COMPOSE}/base/vault/.env.example`)
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
      // Then the backups' repository password (the app has volumes), read from the store entry homelab.yaml backup.repositoryKey names.
      expect(lines).toEqual(['API_TOKEN=', 'DB_PASSWORD=', 'RESTIC_PASSWORD=']);
    });

    it('writes no .env.example when the app has no secrets', async () => {
      await generate(WHOAMI);

      expect(tree.exists(`${COMPOSE}/base/whoami/.env.example`)).toBe(false);
    });
  });

  describe('Compose environments', () => {
    it.each([
      { env: 'dev', project: 'vault-dev', router: 'vault-dev', host: 'vault.dev.home.example.org' },
      { env: 'prod', project: 'vault', router: 'vault', host: 'vault.home.example.org' },
    ])('names the $env project $project and routes its host $host through Traefik, on the environment\'s network', async ({ env, project, router, host }) => {
      await generate(VAULT);

      const generated = readDoc(tree, `${COMPOSE}/environments/${env}/vault/compose.generated.yaml`);
      expect(generated.name).toBe(project);
      expect(generated.services.vault.networks).toEqual({ default: {}, [`homelab-${env}`]: {} });
      expect(generated.networks).toEqual({ [`homelab-${env}`]: { name: `homelab-${env}`, external: true } });
      expect(generated.services.vault.labels).toEqual({
        'traefik.enable': 'true',
        'traefik.docker.network': `homelab-${env}`,
        [`traefik.http.routers.${router}.rule`]: `Host(\`${host}\`)`,
        [`traefik.http.services.${router}.loadbalancer.server.port`]: '8080',
        [`traefik.http.routers.${router}.tls.certresolver`]: 'letsencrypt',
      });
    });

    it('holds no override for an environment that changes nothing', async () => {
      await generate(WHOAMI);

      expect(readDoc(tree, `${COMPOSE}/environments/dev/whoami/compose.generated.yaml`)).toEqual({
        name: 'whoami-dev',
        services: { whoami: {} },
      });
    });

    it.each(['dev', 'prod'])('scaffolds an empty compose.override.yaml for %s', async (env) => {
      await generate(WHOAMI);

      expect(readDoc(tree, `${COMPOSE}/environments/${env}/whoami/compose.override.yaml`)).toEqual({ services: { whoami: {} } });
    });
  });

  describe('ArgoCD', () => {
    it.each([
      { env: 'dev', namespace: 'whoami-dev' },
      { env: 'prod', namespace: 'whoami' },
    ])('renders an Application for $env that syncs the overlay in wave 20', async ({ env, namespace }) => {
      await generate(WHOAMI);

      const app = readDoc(tree, `${ARGOCD}/${env}/whoami.yaml`);
      expect(app.apiVersion).toBe('argoproj.io/v1alpha1');
      expect(app.kind).toBe('Application');
      expect(app.metadata.name).toBe(`whoami-${env}`);
      expect(app.metadata.namespace).toBe('argocd');
      expect(app.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '20' });
      expect(app.spec.project).toBe('applications');
      expect(app.spec.source).toEqual({
        repoURL: 'https://git.home.arpa/homelab/homelab.git',
        targetRevision: 'main',
        path: `applications/kubernetes/overlays/${env}/whoami`,
      });
      expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace });
      expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    });
  });

  describe('runbook', () => {
    it('explains how to restore each backed-up volume on Kubernetes and Compose', async () => {
      await generate(VAULT);

      const runbook = readText(tree, 'applications/runbooks/vault.md');
      for (const volume of ['data', 'cache']) {
        expect(runbook).toContain(`### \`${volume}\``);
        expect(runbook).toContain(`destinationPVC: vault-${volume}`);
        expect(runbook).toContain(`-v vault-dev_${volume}:/data -v /var/backups/homelab/restic:/repository --env-file <password-file> -e RESTIC_REPOSITORY=/repository/vault-dev/${volume} restic/restic:0.18.0 restore latest --host volsync --target /data --delete`);
      }
      expect(runbook).toContain('**Kubernetes (volsync)**');
      expect(runbook).toContain('## Restore on Compose');
      expect(runbook).toContain('docker compose -p vault-dev stop vault');
    });

    it('says there is nothing to restore when the app has no volume', async () => {
      await generate(WHOAMI);

      const runbook = readText(tree, 'applications/runbooks/whoami.md');
      expect(runbook).toContain('no backed-up volume');
      expect(runbook).not.toContain('## Restore a volume');
    });
  });

  describe('every rendered file', () => {
    it('parses as YAML and starts with a yaml-language-server modeline (kustomize patches aside)', async () => {
      await generate(VAULT);

      const files = Object.entries(treeFiles(tree)).filter(([f]) => f.startsWith('applications/') || f.startsWith('platform/'));
      const yamlFiles = files.filter(([f]) => f.endsWith('.yaml'));
      expect(yamlFiles.length).toBeGreaterThan(20);
      for (const [file, content] of yamlFiles) {
        expect(() => parseDocs(content), file).not.toThrow();
        expect(content.endsWith('\n') && !content.endsWith('\n\n'), `${file} ends with exactly one newline`).toBe(true);
        // Patches are partial objects: a schema would flag their missing required fields.
        if (!file.endsWith('-patch.yaml')) expect(content.startsWith('# yaml-language-server: $schema='), file).toBe(true);
      }
    });
  });

  describe('refuses bad input before writing anything', () => {
    // Each row: the answers that are wrong, how the message shows the bad value, and a piece of the fix it proposes.
    it.each<{ case: string; options: Partial<AppGeneratorSchema>; shows: string; fix: string }>([
      { case: 'a name with ../', options: { name: '../etc' }, shows: '"../etc"', fix: 'use 1-53 lower-case letters' },
      { case: 'an upper-case name', options: { name: 'WhoAmI' }, shows: '"WhoAmI"', fix: 'use 1-53 lower-case letters' },
      { case: 'a name of 54 characters', options: { name: `a${'b'.repeat(53)}` }, shows: `"a${'b'.repeat(53)}"`, fix: 'use 1-53' },
      { case: 'a name with a newline', options: { name: 'who\nami' }, shows: '"who\\nami"', fix: 'use 1-53 lower-case letters' },
      { case: 'a name with a single quote', options: { name: "who'ami" }, shows: `"who'ami"`, fix: 'use 1-53 lower-case letters' },
      { case: 'a name with a double quote', options: { name: 'who"ami' }, shows: '"who\\"ami"', fix: 'use 1-53 lower-case letters' },
      { case: 'a unicode name', options: { name: 'whoämi' }, shows: '"whoämi"', fix: 'use 1-53 lower-case letters' },
      { case: 'a name starting with a digit', options: { name: '1whoami' }, shows: '"1whoami"', fix: 'starting with a letter' },
      { case: 'an empty name', options: { name: '' }, shows: '""', fix: 'use 1-53 lower-case letters' },
      { case: 'port 0', options: { port: 0 }, shows: '"0"', fix: 'use a whole number from 1 to 65535' },
      { case: 'port 70000', options: { port: 70000 }, shows: '"70000"', fix: 'use a whole number from 1 to 65535' },
      { case: 'port "abc"', options: { port: 'abc' as unknown as number }, shows: '"abc"', fix: 'use a whole number from 1 to 65535' },
      { case: 'a fractional port', options: { port: 80.5 }, shows: '"80.5"', fix: 'use a whole number from 1 to 65535' },
      { case: 'an image without a tag', options: { image: 'traefik/whoami' }, shows: '"traefik/whoami"', fix: 'pin it' },
      { case: 'an image tagged latest', options: { image: 'traefik/whoami:latest' }, shows: '"traefik/whoami:latest"', fix: 'pin a version tag or a digest' },
      { case: 'an upper-case image', options: { image: 'Traefik/Whoami:v1' }, shows: '"Traefik/Whoami"', fix: 'use lower-case path components' },
      { case: 'an image with a space', options: { image: 'traefik/who ami:v1' }, shows: '"traefik/who ami"', fix: 'use lower-case path components' },
      { case: 'an image with a short digest', options: { image: 'traefik/whoami@sha256:abc' }, shows: '"traefik/whoami@sha256:abc"', fix: '64 lower-case hex digits' },
      { case: 'an image with an invalid tag', options: { image: 'traefik/whoami:v1/x:' }, shows: '"traefik/whoami:v1/x:"', fix: 'tags are letters' },
      { case: 'a secret key with a dash', options: { secrets: 'API-TOKEN' }, shows: '"API-TOKEN"', fix: "use letters, digits and '_'" },
      { case: 'a secret key starting with a digit', options: { secrets: '1TOKEN' }, shows: '"1TOKEN"', fix: 'not starting with a digit' },
      { case: 'a secret key with a newline', options: { secrets: 'A\nB' }, shows: '"A\\nB"', fix: "use letters, digits and '_'" },
      { case: 'a secret key listed twice', options: { secrets: 'TOKEN,OTHER,TOKEN' }, shows: '"TOKEN"', fix: 'list each key once' },
      { case: 'a volume without size and mount', options: { volumes: 'data' }, shows: '"data"', fix: 'write e.g. "data:1Gi:/data"' },
      { case: 'a volume with too many parts', options: { volumes: 'data:1Gi:/data:ro' }, shows: '"data:1Gi:/data:ro"', fix: 'write e.g.' },
      { case: 'a volume with an upper-case name', options: { volumes: 'Data:1Gi:/data' }, shows: '"Data"', fix: 'use 1-32 lower-case letters' },
      { case: 'a volume size in GB', options: { volumes: 'data:1GB:/data' }, shows: '"1GB"', fix: 'use a whole number with Ki, Mi, Gi or Ti' },
      { case: 'a volume of size 0', options: { volumes: 'data:0Gi:/data' }, shows: '"0Gi"', fix: 'use a whole number with Ki, Mi, Gi or Ti' },
      { case: 'a relative mount path', options: { volumes: 'data:1Gi:data' }, shows: '"data"', fix: 'use an absolute path' },
      { case: 'a mount path with ..', options: { volumes: 'data:1Gi:/data/../etc' }, shows: '"/data/../etc"', fix: 'without ".."' },
      { case: 'a mount path with a space', options: { volumes: 'data:1Gi:/my data' }, shows: '"/my data"', fix: 'use an absolute path' },
      { case: 'two volumes with one name', options: { volumes: 'data:1Gi:/a,data:2Gi:/b' }, shows: '"data"', fix: 'give each volume its own name' },
      { case: 'two volumes on one path', options: { volumes: 'a:1Gi:/data,b:1Gi:/data' }, shows: '"/data"', fix: 'mount each volume at its own path' },
      { case: 'a volume on /tmp', options: { volumes: 'scratch:1Gi:/tmp' }, shows: '"/tmp"', fix: 'homelab mounts /tmp itself' },
      { case: 'an upper-case host', options: { host: 'Whoami.Example.org' }, shows: '"Whoami.Example.org"', fix: 'use a lower-case fully qualified name' },
      { case: 'a single-label host', options: { host: 'localhost' }, shows: '"localhost"', fix: 'fully qualified' },
      { case: 'a host with a scheme', options: { host: 'https://whoami.example.org' }, shows: '"https://whoami.example.org"', fix: 'fully qualified' },
      { case: 'a host with an empty label', options: { host: 'whoami..example.org' }, shows: '"whoami..example.org"', fix: 'fully qualified' },
      { case: 'a host with a newline', options: { host: 'whoami.example.org\nevil: true' }, shows: '"whoami.example.org\\nevil: true"', fix: 'fully qualified' },
      { case: 'an unknown environment', options: { environments: 'staging' }, shows: '"staging"', fix: 'use one of "dev", "prod"' },
      { case: 'a known and an unknown environment', options: { environments: 'dev,qa' }, shows: '"qa"', fix: 'use one of "dev", "prod"' },
      { case: 'an empty environment list', options: { environments: ',' }, shows: '--environments is empty', fix: 'list one or more of "dev", "prod"' },
    ])('refuses $case with a one-line message naming the value and the fix', async ({ options, shows, fix }) => {
      const error = await errorOf(() => generate({ ...WHOAMI, ...options }));

      expect(error).toBeInstanceOf(InputError);
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(error.message).toContain(shows);
      expect(error.message).toContain(fix);
      expect(changes()).toEqual([]);
    });
  });

  describe('missing answers', () => {
    it.each([
      ['--no-interactive', { NX_INTERACTIVE: 'false' }, '--no-interactive is given'],
      ['CI', { NX_INTERACTIVE: 'true', CI: 'true' }, 'CI is set'],
      ['an Nx task', { NX_INTERACTIVE: 'true', NX_TASK_TARGET_PROJECT: 'web' }, 'it runs as an Nx task, and Nx may pass it no keys'],
    ])('are refused in one line under %s, asking nothing and writing nothing', async (_title, env, why) => {
      vi.stubEnv('CI', '');
      for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
      try {
        const error = await errorOf(() => generate({ name: 'web' }));
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toBe(`nx g homelab:app is missing --image, --port and cannot ask (${why}); pass them, e.g. npx nx g homelab:app whoami --image traefik/whoami:v1.10.4 --port 80`);
        expect(changes()).toEqual([]);
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });

  describe('re-running', () => {
    it('refuses an existing app without --force, naming the app and --force', async () => {
      await generate(WHOAMI);
      const before = treeFiles(tree);

      const error = await errorOf(() => generate({ ...WHOAMI, image: 'traefik/whoami:v1.10.5' }));

      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toContain('app "whoami" already exists');
      expect(error.message).toContain('--force');
      expect(error.message).not.toMatch(/\n/);
      expect(treeFiles(tree)).toEqual(before);
    });

    it('refuses, even with --force, a name taken by an infrastructure component', async () => {
      tree.write('infrastructure/specs/whoami.yaml', 'name: whoami\n');

      const error = await errorOf(() => generate({ ...WHOAMI, force: true }));

      expect(error.message).toBe('name "whoami" is taken by the infrastructure component infrastructure/specs/whoami.yaml; pick another app name');
      expect(changes()).toEqual(['infrastructure/specs/whoami.yaml CREATE']);
    });

    it('refuses a --host another app already claims on the same cluster and Docker host, writing nothing', async () => {
      await generate({ ...WHOAMI, host: 'whoami.home.example.org' });
      const before = treeFiles(tree);

      const error = await errorOf(() => generate({ name: 'other', image: 'traefik/whoami:v1.10.4', port: 80, host: 'whoami.home.example.org' }));

      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toBe(
        'applications/specs/other.yaml: host "whoami.dev.home.example.org" is claimed by whoami in dev and by other in dev, which share the cluster https://kubernetes.default.svc and the Docker host "local"; give one app another ingress.host, or set environments.dev.host in applications/specs/other.yaml',
      );
      expect(treeFiles(tree)).toEqual(before);
      // Another host is welcome, and so is the same answer again for the app that holds it.
      await generate({ name: 'other', image: 'traefik/whoami:v1.10.4', port: 80, host: 'other.home.example.org' });
      await generate({ ...WHOAMI, host: 'whoami.home.example.org', force: true });
    });

    it('refuses to render over a Kubernetes base folder that has no spec', async () => {
      tree.write(`${BASE}/whoami/deployment.yaml`, 'kind: Deployment\n');

      const error = await errorOf(() => generate(WHOAMI));

      expect(error.message).toBe(
        'applications/kubernetes/base/whoami exists but has no spec applications/specs/whoami.yaml; move that folder away or pick another name',
      );
      expect(readText(tree, `${BASE}/whoami/deployment.yaml`)).toBe('kind: Deployment\n');
      expect(tree.exists('applications/specs/whoami.yaml')).toBe(false);
    });

    it('refuses to run without homelab.yaml and says how to restore it', async () => {
      tree.delete('homelab.yaml');

      const error = await errorOf(() => generate(WHOAMI));

      expect(error.message).toContain('homelab.yaml is missing at the workspace root; restore it from git');
      expect(tree.exists('applications/specs/whoami.yaml')).toBe(false);
    });

    it.each([WHOAMI, VAULT, { ...WHOAMI, environments: 'dev', host: 'whoami.example.org' }])(
      'changes no byte when $name is generated again with --force and the same answers',
      async (answers) => {
        await generate(answers);
        const before = treeFiles(tree);

        await generate({ ...answers, force: true });

        expect(treeFiles(tree)).toEqual(before);
      },
    );

    it('keeps every field of the spec and its comments under --force, changing only what the answers give, and says what changed', async () => {
      generateInit(treeHost(tree), {});
      generateInfra(treeHost(tree), { component: 'postgres' });
      await generate(VAULT);
      const file = 'applications/specs/vault.yaml';
      const edited = readText(tree, file)
        .replace(/^name: vault$/m, '# my notes on vault\nname: vault\ndependsOn: [postgres]')
        .replace(/^backup:.*$/m, '')
        .concat('backup: { schedule: "0 4 * * *", retention: { daily: 3 } }  # nightly\n');
      tree.write(file, edited.replace('startGraceSeconds: 30', 'startGraceSeconds: 90'));
      const info = vi.mocked(logger.info);
      info.mockClear();

      await generate({ ...VAULT, image: 'ghcr.io/example/vault:1.2.4', force: true });

      const after = readText(tree, file);
      expect(after).toBe(edited.replace('startGraceSeconds: 30', 'startGraceSeconds: 90').replace('tag: 1.2.3', 'tag: 1.2.4'));
      expect(info.mock.calls.map(([line]) => line)).toContain('vault: image: ghcr.io/example/vault:1.2.3 → ghcr.io/example/vault:1.2.4');
    });

    it('merges each answer into a spec of several services: the image to the service it names, the port to its HTTP port, comments kept', async () => {
      const stack = fs.readFileSync(path.join(STACKS_DIR, 'photos.yaml'), 'utf8');
      tree.write('applications/specs/photos.yaml', stack);
      await syncGenerator(tree);

      await generate({ name: 'photos', image: 'ghcr.io/example-photos/server:v1.132.0', port: 2283, force: true });

      expect(readText(tree, 'applications/specs/photos.yaml')).toBe(stack.replace('{ repository: ghcr.io/example-photos/server, tag: v1.131.3 }', '{ repository: ghcr.io/example-photos/server, tag: v1.132.0 }'));
      const error = await errorOf(() => generate({ name: 'photos', image: 'example/unknown:1.0', port: 2283, force: true }));
      expect(error.message).toBe(
        '--image "example/unknown" is the image of no service of photos (server: ghcr.io/example-photos/server, machine-learning: ghcr.io/example-photos/machine-learning, redis: valkey/valkey, database: ghcr.io/example-photos/postgres); give one of those repositories with its new tag, or edit services.<service>.image in the spec',
      );
    });

    it('never overwrites the user-owned overlay and compose.override.yaml, even with --force', async () => {
      await generate(WHOAMI);
      const overlay = `${OVERLAYS}/prod/whoami/kustomization.yaml`;
      const override = `${COMPOSE}/environments/dev/whoami/compose.override.yaml`;
      const ownOverlay = `${readText(tree, overlay)}patches:\n  - path: my-patch.yaml\n`;
      const ownOverride = 'services:\n  whoami:\n    ports: ["127.0.0.1:8080:80"]\n';
      tree.write(overlay, ownOverlay);
      tree.write(override, ownOverride);

      await generate({ ...WHOAMI, secrets: 'API_TOKEN', force: true });

      expect(readText(tree, overlay)).toBe(ownOverlay);
      expect(readText(tree, override)).toBe(ownOverride);
      expect(tree.exists(`${BASE}/whoami/externalsecret.yaml`)).toBe(true);
    });

    it('re-renders an app under --force where empty answers remove what they gave, and deletes what it no longer renders', async () => {
      await generate(VAULT);

      await generate({ ...VAULT, volumes: '', host: '', force: true });

      expect(tree.exists(`${BASE}/vault/deployment.yaml`)).toBe(true);
      for (const gone of [
        `${BASE}/vault/statefulset.yaml`,
        `${BASE}/vault/persistentvolumeclaim.yaml`,
        `${BASE}/vault/ingress.yaml`,
        `${BASE}/vault/components/backup/kustomization.yaml`,
        `${BASE}/vault/components/backup/replicationsource.yaml`,
        `${OVERLAYS}/dev/vault/generated/externalsecret.yaml`,
      ]) {
        expect(tree.exists(gone), gone).toBe(false);
      }
    });
  });

  describe('the sync generator keeps every file in step with its spec', () => {
    it('reports nothing when every spec-owned file matches its spec', async () => {
      await generate(VAULT);
      const before = treeFiles(tree);

      expect(await syncGenerator(tree)).toBeUndefined();
      expect(treeFiles(tree)).toEqual(before);
    });

    it('re-renders a hand-edited spec-owned file and leaves user-owned files alone', async () => {
      await generate(WHOAMI);
      const deployment = `${BASE}/whoami/deployment.yaml`;
      const argocd = `${ARGOCD}/dev/whoami.yaml`;
      const override = `${COMPOSE}/environments/prod/whoami/compose.override.yaml`;
      const rendered = readText(tree, deployment);
      const renderedArgocd = readText(tree, argocd);
      tree.write(deployment, rendered.replace('replicas: 1', 'replicas: 5'));
      tree.write(argocd, '# hand edit\n');
      const ownOverride = 'services:\n  whoami:\n    mem_limit: 1g\n';
      tree.write(override, ownOverride);

      const result = await syncGenerator(tree);

      expect(result?.outOfSyncDetails).toEqual([deployment, argocd]);
      expect(result?.outOfSyncMessage).toContain('npx nx sync');
      expect(readText(tree, deployment)).toBe(rendered);
      expect(readText(tree, argocd)).toBe(renderedArgocd);
      expect(readText(tree, override)).toBe(ownOverride);
      expect(await syncGenerator(tree)).toBeUndefined();
    });

    it('reports drift without touching the files in check mode (nx sync:check)', async () => {
      await generate(WHOAMI);
      const service = `${BASE}/whoami/service.yaml`;
      tree.write(service, 'kind: Service\n');

      expect(syncAll(treeHost(tree), true)).toEqual([service]);
      expect(readText(tree, service)).toBe('kind: Service\n');
    });

    it('updates the Kubernetes overlay and the Compose environment when the spec changes replicas for one environment', async () => {
      await generate(WHOAMI);
      editSpec('whoami', (spec) => {
        spec.environments = { dev: {}, prod: { replicas: 3 } };
      });

      await syncGenerator(tree);

      expect(readDoc(tree, `${OVERLAYS}/prod/whoami/generated/kustomization.yaml`).patches).toEqual([{ path: 'workload-patch.yaml' }]);
      expect(readDoc(tree, `${OVERLAYS}/prod/whoami/generated/kustomization.yaml`).resources).toContain('poddisruptionbudget.yaml');
      // Three replicas in prod: spread over nodes there (the base runs one), and a budget that lets a drain take one at a time.
      expect(readDoc(tree, `${OVERLAYS}/prod/whoami/generated/workload-patch.yaml`)).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'whoami' },
        spec: {
          replicas: 3,
          template: {
            spec: {
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'whoami' } }, matchLabelKeys: ['pod-template-hash'] },
              ],
            },
          },
        },
      });
      expect(readDoc(tree, `${OVERLAYS}/prod/whoami/generated/poddisruptionbudget.yaml`).spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'whoami' } } });
      expect(tree.exists(`${OVERLAYS}/dev/whoami/generated/poddisruptionbudget.yaml`)).toBe(false);
      expect(readDoc(tree, `${COMPOSE}/environments/prod/whoami/compose.generated.yaml`).services.whoami).toEqual({ deploy: { replicas: 3 } });
      expect(tree.exists(`${OVERLAYS}/dev/whoami/generated/workload-patch.yaml`)).toBe(false);
      expect(readDoc(tree, `${COMPOSE}/environments/dev/whoami/compose.generated.yaml`).services.whoami).toEqual({});
      expect(readDoc(tree, `${BASE}/whoami/deployment.yaml`).spec.replicas).toBe(1);
    });

    it('adds the ExternalSecret, the env file and the .env.example key when a secret is added to the spec', async () => {
      await generate(WHOAMI);
      editSpec('whoami', (spec) => {
        spec.secrets = [{ key: 'API_TOKEN', remoteKey: 'shared/whoami-token', property: 'token' }];
      });

      await syncGenerator(tree);

      expect(readDoc(tree, `${BASE}/whoami/externalsecret.yaml`).spec.data).toEqual([
        { secretKey: 'API_TOKEN', remoteRef: { key: 'shared/whoami-token', property: 'token' } },
      ]);
      expect(readDoc(tree, `${BASE}/whoami/kustomization.yaml`).resources).toContain('externalsecret.yaml');
      expect(readDoc(tree, `${BASE}/whoami/deployment.yaml`).spec.template.spec.containers[0].envFrom).toEqual([
        { secretRef: { name: 'whoami-secrets' } },
      ]);
      expect(readDoc(tree, `${COMPOSE}/base/whoami/compose.yaml`).services.whoami.env_file).toEqual([
        { path: '${HOMELAB_ENV_FILE:-.env}', required: false },
      ]);
      expect(readText(tree, `${COMPOSE}/base/whoami/.env.example`)).toContain('\nAPI_TOKEN=\n');
    });

    it('deletes spec-owned files the spec no longer renders and keeps the user-owned ones', async () => {
      await generate(VAULT);
      editSpec('vault', (spec) => {
        delete spec.volumes;
        delete spec.secrets;
        delete spec.ingress;
        spec.environments = { dev: {} };
      });

      const result = await syncGenerator(tree);

      for (const gone of [
        `${BASE}/vault/statefulset.yaml`,
        `${BASE}/vault/persistentvolumeclaim.yaml`,
        `${BASE}/vault/externalsecret.yaml`,
        `${BASE}/vault/ingress.yaml`,
        `${BASE}/vault/components/backup/replicationsource.yaml`,
        `${COMPOSE}/base/vault/.env.example`,
        `${OVERLAYS}/dev/vault/generated/externalsecret.yaml`,
        `${OVERLAYS}/prod/vault/generated/kustomization.yaml`,
        `${OVERLAYS}/prod/vault/generated/prometheusrule.yaml`,
        `${COMPOSE}/environments/prod/vault/compose.generated.yaml`,
        `${ARGOCD}/prod/vault.yaml`,
      ]) {
        expect(tree.exists(gone), gone).toBe(false);
        expect(result?.outOfSyncDetails).toContain(`${gone} (no longer rendered)`);
      }
      expect(tree.exists(`${BASE}/vault/deployment.yaml`)).toBe(true);
      expect(tree.exists(`${OVERLAYS}/prod/vault/kustomization.yaml`)).toBe(true);
      expect(tree.exists(`${COMPOSE}/environments/prod/vault/compose.override.yaml`)).toBe(true);
      expect(tree.exists('applications/specs/vault.yaml')).toBe(true);
    });

    it('never deletes a real .env beside the Compose base', async () => {
      await generate(VAULT);
      tree.write(`${COMPOSE}/base/vault/.env`, 'API_TOKEN=real\n');

      await syncGenerator(tree);

      expect(readText(tree, `${COMPOSE}/base/vault/.env`)).toBe('API_TOKEN=real\n');
    });

    it('re-renders the healthy specs and then names the broken one', async () => {
      await generate(WHOAMI);
      const file = writeSpec(tree, specOf('broken', { health: { http: { path: '/', port: 'metrics' } } }));
      const line = readText(tree, file).split('\n').findIndex((l) => l.includes('port: metrics')) + 1;
      const service = `${BASE}/whoami/service.yaml`;
      const rendered = readText(tree, service);
      tree.write(service, '# hand edit\n');

      const error = await errorOf(() => syncGenerator(tree));

      expect(error).toBeInstanceOf(HomelabError);
      // At the line and column of the field, not at the top of the file.
      expect(error.message).toBe(`applications/specs/broken.yaml:${line}:11: health.http.port "metrics" is not a port of the app; use one of "http"`);
      expect(readText(tree, service)).toBe(rendered);
    });
  });

  describe('hostile values that are valid round-trip exactly', () => {
    const VALUES = HOSTILE_ENV;
    const HOSTS = HOSTILE_HOSTS;

    it('uses values the schema accepts (at most 4096 characters)', () => {
      expect(VALUES.LONG.length).toBe(4002);
      expect(() => parseAppSpec(stringifyAppSpec(specOf('hostile', { env: VALUES })), 'applications/specs/hostile.yaml')).not.toThrow();
    });

    it.each(['1.2', '1.1'] as const)('puts each env value into the Deployment exactly (in the form the kubelet gives back as written), read as YAML %s', async (version) => {
      writeSpec(tree, specOf('hostile', { env: VALUES }));
      await syncGenerator(tree);

      const container = readDoc(tree, `${BASE}/hostile/deployment.yaml`, version).spec.template.spec.containers[0];
      const expected = Object.keys(VALUES)
        .sort()
        .map((name) => ({ name, value: kubernetesForm(VALUES[name]) }));
      expect(container.env).toEqual(expected);
    });

    it.each(['1.2', '1.1'] as const)('puts each env value into the Compose service exactly, read as YAML %s', async (version) => {
      writeSpec(tree, specOf('hostile', { env: VALUES }));
      await syncGenerator(tree);

      const environment = readDoc(tree, `${COMPOSE}/base/hostile/compose.yaml`, version).services.hostile.environment;
      expect(Object.keys(environment).sort()).toEqual(Object.keys(VALUES).sort());
      for (const [key, value] of Object.entries(VALUES)) {
        expect(environment[key], key).toBe(composeForm(value));
      }
    });

    it('puts per-environment env overrides into the overlay patch and the Compose environment exactly', async () => {
      writeSpec(tree, specOf('hostile', { env: { BASE: 'base' }, environments: { dev: { env: VALUES }, prod: {} } }));
      await syncGenerator(tree);

      const patch = readDoc(tree, `${OVERLAYS}/dev/hostile/generated/workload-patch.yaml`, '1.1');
      const merged = { BASE: 'base', ...VALUES };
      expect(patch.spec.template.spec.containers[0].env).toEqual(
        Object.keys(merged)
          .sort()
          .map((name) => ({ name, value: kubernetesForm(merged[name as keyof typeof merged]) })),
      );
      const environment = readDoc(tree, `${COMPOSE}/environments/dev/hostile/compose.generated.yaml`, '1.1').services.hostile.environment;
      for (const [key, value] of Object.entries(merged)) {
        expect(environment[key], key).toBe(composeForm(value));
      }
    });

    it('keeps env keys that YAML 1.1 reads as booleans as strings', async () => {
      writeSpec(tree, specOf('hostile', { env: { yes: '1', on: '2', y: '3', NO: '4', null: '5' } }));
      await syncGenerator(tree);

      const container = readDoc(tree, `${BASE}/hostile/deployment.yaml`, '1.1').spec.template.spec.containers[0];
      expect(container.env.map((e: { name: unknown }) => e.name)).toEqual(['NO', 'null', 'on', 'y', 'yes']);
      const environment = readDoc(tree, `${COMPOSE}/base/hostile/compose.yaml`, '1.1').services.hostile.environment;
      expect(Object.keys(environment).sort()).toEqual(['NO', 'null', 'on', 'y', 'yes']);
    });

    it.each(HOSTS)('puts the host %s into the Ingress and the Traefik rule exactly', async (host) => {
      writeSpec(tree, specOf('hostile', { ingress: { host } }));
      await syncGenerator(tree);

      const ingress = readDoc(tree, `${BASE}/hostile/ingress.yaml`, '1.1');
      expect(ingress.spec.rules[0].host).toBe(host);
      expect(ingress.spec.tls[0].hosts).toEqual([host]);
      const labels = readDoc(tree, `${COMPOSE}/environments/prod/hostile/compose.generated.yaml`, '1.1').services.hostile.labels;
      expect(labels['traefik.http.routers.hostile.rule']).toBe(`Host(\`${host}\`)`);
    });

    it('puts a per-environment host into the overlay patch exactly', async () => {
      writeSpec(tree, specOf('hostile', { ingress: { host: 'app.example.org' }, environments: { dev: { host: '*.dev.example.org' }, prod: {} } }));
      await syncGenerator(tree);

      const patch = readDoc(tree, `${OVERLAYS}/dev/hostile/generated/ingress-patch.yaml`, '1.1');
      expect(patch.spec.rules[0].host).toBe('*.dev.example.org');
      expect(patch.spec.tls[0].hosts).toEqual(['*.dev.example.org']);
      expect(readDoc(tree, `${OVERLAYS}/dev/hostile/generated/kustomization.yaml`).patches).toEqual([{ path: 'ingress-patch.yaml' }]);
    });

    it('puts health paths, mount paths and health commands with YAML specials into both trees exactly', async () => {
      const command = [...HOSTILE_COMMAND];
      writeSpec(
        tree,
        specOf('hostile', {
          ports: [
            { name: 'http', port: 8080, http: true },
            { name: 'admin', port: 9090 },
          ],
          health: { command },
          volumes: [
            { name: 'yes', size: '1Gi', mountPath: '/yes' },
            { name: 'null', size: '1Gi', mountPath: '/0x10/.data_-' },
          ],
          monitoring: { metrics: { port: 'admin', path: '/metrics/null' } },
        }),
      );
      await syncGenerator(tree);

      const container = readDoc(tree, `${BASE}/hostile/statefulset.yaml`, '1.1').spec.template.spec.containers[0];
      expect(container.startupProbe.exec.command).toEqual(command);
      expect(container.livenessProbe.exec.command).toEqual(command);
      expect(container.volumeMounts).toEqual([
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'yes', mountPath: '/yes' },
        { name: 'null', mountPath: '/0x10/.data_-' },
      ]);
      const service = readDoc(tree, `${COMPOSE}/base/hostile/compose.yaml`, '1.1').services.hostile;
      expect(service.healthcheck.test).toEqual(['CMD', ...command.map(composeForm)]);
      expect(service.volumes.map((v: { source: unknown; target: unknown }) => [v.source, v.target])).toEqual([
        ['yes', '/yes'],
        ['null', '/0x10/.data_-'],
      ]);
      expect(Object.keys(readDoc(tree, `${COMPOSE}/base/hostile/compose.yaml`, '1.1').volumes)).toEqual(['yes', 'null', 'backup-cache', 'backup-metrics']);
      expect(readDoc(tree, `${BASE}/hostile/components/monitoring/servicemonitor.yaml`, '1.1').spec.endpoints[0].path).toBe('/metrics/null');
    });

    it('round-trips an HTTP health path with query characters', async () => {
      writeSpec(tree, specOf('hostile', { health: { http: { path: '/healthz?probe=1&x=~%20' } } }));
      await syncGenerator(tree);

      const container = readDoc(tree, `${BASE}/hostile/deployment.yaml`, '1.1').spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/healthz?probe=1&x=~%20');
      const test = readDoc(tree, `${COMPOSE}/base/hostile/compose.yaml`, '1.1').services.hostile.healthcheck.test;
      expect(test).toEqual(['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8080/healthz?probe=1&x=~%20']);
    });

    it('writes the spec so that it reads back to the same values', async () => {
      const file = writeSpec(tree, specOf('hostile', { env: VALUES }));

      expect(parseAppSpec(readText(tree, file), file)).toMatchObject({ env: VALUES });
    });
  });
});


describe('what a run loads', () => {
  /**
   * `nx g homelab:app` in a cold process, as Nx runs it (the generator on an Nx Tree of a workspace
   * on disk): the packages of this list are loaded only by runs that need them. @nx/devkit only to
   * log (a new app logs nothing), ajv's compiler never (the spec validators are precompiled).
   * (js-yaml is loaded: it reads homelab.yaml and the specs where it reads them as the yaml package
   * does, spec/io.ts readYamlSource.)
   */
  it('loads neither @nx/devkit nor ajv\'s compiler to generate a new app', () => {
    const root = makeDiskWorkspace('loads');
    try {
      const script = `
        const { FsTree } = require('nx/src/generators/tree');
        const tree = new FsTree(process.argv[1], false);
        require('./generators/app/generator.ts').default(tree, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80, interactive: false }).then(() => {
          const loaded = Object.keys(require.cache).filter((f) => /node_modules\\/(@nx\\/devkit|ajv\\/dist\\/(core|ajv)\\.js)/.test(f));
          console.log(JSON.stringify({ changes: tree.listChanges().length, loaded }));
        });`;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, root], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const result = JSON.parse(run.stdout);

      expect(result.changes).toBeGreaterThan(10);
      expect(result.loaded).toEqual([]);
    } finally {
      removeDir(root);
    }
  });
});
