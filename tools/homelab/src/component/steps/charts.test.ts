import { describe, expect, it } from 'vitest';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import { catalogSpec } from '../catalog';
import type { ComponentName } from '../types';
import { normalizeCharts } from './charts';

const WORKSPACE = parseWorkspaceConfig(WORKSPACE_YAML);
const OPTIONS = { release: 'kube-prometheus-stack', retentionDays: 7, isHttpRoute: false, s3: null };
const charts = (components: ComponentName[]) =>
  normalizeCharts(catalogSpec('ingress', {}, WORKSPACE), WORKSPACE, { components: new Set(components), stores: [], databases: [], claims: [] }, OPTIONS);

describe('normalizeCharts', () => {
  it("wires a chart's ServiceMonitor only when the workspace has monitoring", () => {
    const [without] = charts(['ingress']);
    const [withMonitoring] = charts(['ingress', 'monitoring']);

    expect(without.wired).not.toContain('metrics.prometheus.serviceMonitor.enabled');
    expect(withMonitoring.wired).toContain('metrics.prometheus.serviceMonitor.enabled');
    expect(withMonitoring.values).toMatchObject({ metrics: { prometheus: { serviceMonitor: { enabled: true, additionalLabels: { release: 'kube-prometheus-stack' } } } } });
  });

  it('names the first chart values.yaml and keeps the release name the spec gives', () => {
    const [traefik] = charts(['ingress']);
    expect(traefik).toMatchObject({ name: 'traefik', valuesFile: 'values.yaml', releaseName: 'traefik' });
  });

  it('with ingress.kind httproute, gives Traefik its Gateway provider and GatewayClass but not its own Gateway, and cert-manager its Gateway API support', () => {
    const httproute = { ...OPTIONS, isHttpRoute: true };
    const [traefik] = normalizeCharts(catalogSpec('ingress', {}, WORKSPACE), WORKSPACE, { components: new Set(), stores: [], databases: [], claims: [] }, httproute);
    const [certManager] = normalizeCharts(catalogSpec('cert-manager', { email: 'a@example.org' }, WORKSPACE), WORKSPACE, { components: new Set(), stores: [], databases: [], claims: [] }, httproute);

    expect(traefik.values).toMatchObject({ providers: { kubernetesGateway: { enabled: true } }, gateway: { enabled: false }, gatewayClass: { enabled: true, name: 'traefik' } });
    expect(certManager.values).toMatchObject({ config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true } });
    expect(charts(['ingress'])[0].values).not.toHaveProperty('gateway');
  });
});
