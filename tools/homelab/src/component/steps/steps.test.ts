import { describe, expect, it } from 'vitest';
import { WORKSPACE_YAML, workspaceYamlWith } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import { CATALOG, catalogSpec } from '../catalog';
import { normalizeAcme, traefikCommand } from './acme';
import { normalizeBackup } from './backup';
import { checkChartPins, composeImages } from './pins';
import { baseResources, secretKeys } from './resources';

const WORKSPACE = parseWorkspaceConfig(WORKSPACE_YAML);
const WHERE = 'infrastructure/specs/x.yaml';

describe('component steps: pins', () => {
  it('refuses a chart version range, naming the chart and the fix', () => {
    const spec = catalogSpec('ingress', {}, WORKSPACE);
    spec.kubernetes.charts[0].version = '^34.0.0';

    expect(() => checkChartPins(spec, WHERE)).toThrow(`${WHERE}: chart "traefik" version "^34.0.0" is not exact; pin one version such as 1.2.3`);
  });

  it('refuses a Compose service without a pinned image, and a memory limit of a service that does not exist', () => {
    const spec = catalogSpec('monitoring', {}, WORKSPACE);
    const [first] = Object.keys(spec.compose!.images!);
    const missing = { ...spec, compose: { ...spec.compose!, images: Object.fromEntries(Object.entries(spec.compose!.images!).filter(([k]) => k !== first)) } };
    const stray = { ...spec, compose: { ...spec.compose!, memory: { nobody: '64m' } } };

    expect(() => composeImages(missing, CATALOG.monitoring, true, WHERE)).toThrow(`compose.images misses "${first}"`);
    expect(() => composeImages(stray, CATALOG.monitoring, true, WHERE)).toThrow('compose.memory names "nobody", which is no service of monitoring');
    expect(composeImages(missing, CATALOG.monitoring, false, WHERE).images[first]).toBeUndefined();
  });
});

describe('component steps: acme', () => {
  it("needs cert-manager's ACME email", () => {
    expect(() => normalizeAcme(catalogSpec('cert-manager', { email: 'a@example.org' }, WORKSPACE), WORKSPACE, WHERE)).not.toThrow();
    const spec = catalogSpec('cert-manager', { email: 'a@example.org' }, WORKSPACE);
    delete spec.settings!.acme;
    expect(() => normalizeAcme(spec, WORKSPACE, WHERE)).toThrow('settings.acme.email is required for the ACME ClusterIssuer; pass --email you@example.org');
  });

  it("gives Traefik the resolver apps' routers ask for only with an email", () => {
    const acme = normalizeAcme(catalogSpec('ingress', { email: 'a@example.org' }, WORKSPACE), WORKSPACE, WHERE);

    expect(traefikCommand(acme, true)).toContain('--certificatesresolvers.letsencrypt.acme.email=a@example.org');
    expect(traefikCommand(acme, false).some((a) => a.includes('certificatesresolvers'))).toBe(false);
  });
});

describe('component steps: backup', () => {
  const velero = parseWorkspaceConfig(workspaceYamlWith((c) => (c.backup = { provider: 'velero' })));

  it("refuses a backup component whose provider is not homelab.yaml's, and Velero without S3", () => {
    const spec = catalogSpec('backup', {}, WORKSPACE);

    expect(() => normalizeBackup(spec, CATALOG.backup, velero, WHERE)).toThrow('settings.provider "volsync" differs from homelab.yaml backup.provider "velero"');
    expect(() => normalizeBackup(catalogSpec('backup', {}, velero), CATALOG.backup, velero, WHERE)).toThrow('backup.provider "velero" needs backup.s3');
  });

  it("has VolSync's metrics scraped by the monitoring release's Prometheus (the stale-backup alerts), only with VolSync and monitoring", () => {
    const spec = catalogSpec('backup', {}, WORKSPACE);

    expect(normalizeBackup(spec, CATALOG.backup, WORKSPACE, WHERE, true).backup.volsyncMetrics).toEqual({ name: 'volsync-metrics', release: 'kube-prometheus-stack', controller: 'volsync-controller' });
    expect(normalizeBackup(spec, CATALOG.backup, WORKSPACE, WHERE, false).backup.volsyncMetrics).toBeNull();
    const k8up = parseWorkspaceConfig(workspaceYamlWith((c) => (c.backup = { provider: 'k8up', s3: { endpoint: 'https://s3.example.org', bucket: 'b' } })));
    expect(normalizeBackup(catalogSpec('backup', {}, k8up), CATALOG.backup, k8up, WHERE, true).backup.volsyncMetrics).toBeNull();
    expect(baseResources('backup', 'volsync', false, true)).toEqual(['namespace.yaml', 'servicemonitor.yaml']);
  });
});

describe('component steps: resources', () => {
  it.each([
    ['cert-manager', 'volsync', ['namespace.yaml', 'clusterissuer.yaml']],
    ['monitoring', 'volsync', ['namespace.yaml', 'externalsecret.yaml']],
    ['backup', 'velero', ['namespace.yaml', 'externalsecret.yaml']],
    ['backup', 'volsync', ['namespace.yaml']],
    ['postgres', 'volsync', ['namespace.yaml', 'cluster.yaml']],
  ] as const)('%s with %s has %j', (name, provider, resources) => {
    expect(baseResources(name, provider)).toEqual(resources);
  });

  it('reads S3 credentials only when the backup component has S3', () => {
    expect(secretKeys('backup', true)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect(secretKeys('backup', false)).toEqual([]);
  });
});
