import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { ShorthandAppSpec } from '../../spec/types';
import { normalizeCompose } from './compose';
import { normalizeHealth } from './health';
import { normalizeMonitoring } from './monitoring';
import { normalizePorts } from './ports';
import { normalizeResources } from './resources';
import { normalizeSecurity } from './security';

const WHERE = 'applications/specs/web.yaml';
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);

function compose(overrides: Partial<ShorthandAppSpec>) {
  const spec = specOf('web', overrides);
  const ports = normalizePorts(spec.ports, WHERE);
  const monitoring = normalizeMonitoring(spec, workspace, WHERE, { ports, selector: {} }, { kind: 'Deployment', name: 'web' });
  return normalizeCompose(
    'web',
    WHERE,
    { resources: normalizeResources(spec, WHERE).resources, security: normalizeSecurity(spec), health: normalizeHealth(spec.health, WHERE, ports) },
    { metrics: monitoring.serviceMonitor ? { port: monitoring.metricsPortNumber, path: monitoring.metricsPath } : null, job: false },
  );
}

describe('normalizeCompose', () => {
  it('writes memory and CPU in Compose notation and runs as the spec user', () => {
    expect(compose({ resources: { requests: { memory: '128Mi' }, limits: { cpu: '1500m', memory: '1Gi' } }, securityContext: { runAsUser: 1000 } })).toMatchObject({
      memoryLimit: '1g',
      memoryReservation: '128m',
      cpus: '1.5',
      user: '1000:1000',
      startPeriod: '30s',
    });
  });

  it('labels the service for scraping, the outside probe and log shipping, in this order (no backup label: the scheduler stops it by its Compose labels)', () => {
    const labels = compose({
      ports: [{ name: 'http', port: 8080, http: true }, { name: 'metrics', port: 9100 }],
      monitoring: { metrics: { port: 'metrics' } },
      health: { probe: 'outside', http: { path: '/ping' } },
      volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }],
    }).labels;

    expect(Object.keys(labels)).toEqual([
      'homelab.app',
      'prometheus.io/scrape',
      'prometheus.io/port',
      'prometheus.io/path',
      'homelab.health.probe',
      'homelab.health.port',
      'homelab.health.path',
      'homelab.health.start-period',
      'logging',
      'logging.job',
    ]);
    expect(labels['prometheus.io/port']).toBe('9100');
    expect(labels['homelab.health.path']).toBe('/ping');
  });

  it('labels a TCP probe from outside with its kind and port, and no path', () => {
    const labels = compose({ ports: [{ name: 'mqtt', port: 1883 }], health: { probe: 'outside', tcp: { port: 'mqtt' }, startGraceSeconds: 10 } }).labels;

    expect(labels).toEqual({
      'homelab.app': 'web',
      'homelab.health.probe': 'outside',
      'homelab.health.kind': 'tcp',
      'homelab.health.port': '1883',
      'homelab.health.start-period': '10s',
      logging: 'promtail',
      'logging.job': 'web',
    });
  });

  it('labels a plain app only for its name and log shipping', () => {
    expect(compose({}).labels).toEqual({ 'homelab.app': 'web', logging: 'promtail', 'logging.job': 'web' });
  });
});
