import * as fs from 'node:fs';
import * as path from 'node:path';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { tempWorkspaces } from '../../../../tests/support/temp-workspaces';
import { homelab01Files } from '../../../../tests/support/workspace';
import { renderInfrastructure } from '../component/sync';
import { diskHost } from '../host';
import migrate, { addMonitoringExporters } from './monitoring-exporters';

/**
 * The migration on a workspace of the previous format: the monitoring spec exactly as homelab 0.1
 * wrote it (tests/support/fixtures/homelab-0.1, never regenerated), before the catalog pinned the
 * Compose exporters.
 */
const SPEC = 'infrastructure/specs/monitoring.yaml';
const frozen = (file: string) => homelab01Files(file)[file];
const workspace = tempWorkspaces('migration');

describe('migration monitoring-exporters', () => {
  const old = frozen(SPEC);
  const homelabYaml = frozen('homelab.yaml');

  it('is refused by sync before it runs, in one line that names the missing pin and the way out', () => {
    const dir = workspace({ 'homelab.yaml': homelabYaml, [SPEC]: old });
    expect(() => renderInfrastructure(diskHost(dir))).toThrow(
      'infrastructure/specs/monitoring.yaml: compose.images misses "node-exporter"; add a pinned image for it (the catalog pins prom/node-exporter:v1.9.1), or run the migrations of a homelab update (docs/upgrading.md)',
    );
  });

  it("adds the exporters' pins and memory limits to a 0.1 spec, keeping every other line", () => {
    const dir = workspace({ 'homelab.yaml': homelabYaml, [SPEC]: old });
    expect(addMonitoringExporters(diskHost(dir))).toEqual([SPEC]);
    const text = fs.readFileSync(path.join(dir, SPEC), 'utf8');
    const spec = YAML.parse(text);
    expect(spec.compose.images).toEqual({
      prometheus: 'prom/prometheus:v3.5.0',
      alertmanager: 'prom/alertmanager:v0.28.1',
      grafana: 'grafana/grafana:12.0.2',
      'node-exporter': 'prom/node-exporter:v1.9.1',
      cadvisor: 'grafana/alloy:v1.9.2',
    });
    expect(spec.compose.memory).toEqual({ prometheus: '1g', alertmanager: '128m', grafana: '512m', 'node-exporter': '64m', cadvisor: '256m' });
    // Only the four new lines: comments, order and every other value stay.
    const added = text.split('\n').filter((line) => !old.split('\n').includes(line));
    expect(added).toEqual(['    node-exporter: prom/node-exporter:v1.9.1', '    cadvisor: grafana/alloy:v1.9.2', '    node-exporter: 64m', '    cadvisor: 256m']);
    expect(text.startsWith(old.split('\n').slice(0, 3).join('\n'))).toBe(true);
    // And the workspace renders again: the Compose stack gains the two exporters.
    const monitoring = renderInfrastructure(diskHost(dir)).components.find((c) => c.name === 'monitoring')!;
    expect(Object.keys(monitoring.component.compose.images)).toEqual(['prometheus', 'alertmanager', 'grafana', 'node-exporter', 'cadvisor']);
  });

  it('changes nothing when run again, and keeps a pin or limit the owner set', () => {
    const own = old.replace('    grafana: grafana/grafana:12.0.2\n', '    grafana: grafana/grafana:12.0.2\n    node-exporter: prom/node-exporter:v1.8.2\n');
    const dir = workspace({ 'homelab.yaml': homelabYaml, [SPEC]: own });
    addMonitoringExporters(diskHost(dir));
    const once = fs.readFileSync(path.join(dir, SPEC), 'utf8');
    expect(YAML.parse(once).compose.images['node-exporter']).toBe('prom/node-exporter:v1.8.2');
    expect(addMonitoringExporters(diskHost(dir))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, SPEC), 'utf8')).toBe(once);
  });

  it('leaves a workspace without the component, or with monitoring on Kubernetes only, as it is', () => {
    expect(addMonitoringExporters(diskHost(workspace({ 'homelab.yaml': homelabYaml })))).toEqual([]);
    const k8sOnly = old.replace('  - compose\n', '');
    const dir = workspace({ 'homelab.yaml': homelabYaml, [SPEC]: k8sOnly });
    expect(addMonitoringExporters(diskHost(dir))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, SPEC), 'utf8')).toBe(k8sOnly);
  });

  it("is the Nx migration of tools/homelab/migrations.json, run over Nx's Tree", () => {
    const migrations = JSON.parse(fs.readFileSync(path.join(__dirname, '../../migrations.json'), 'utf8'));
    expect(migrations.generators['monitoring-exporters'].implementation).toBe('./src/migrations/load.js#monitoringExporters');
    const dir = workspace({ 'homelab.yaml': homelabYaml, [SPEC]: old });
    const tree = new FsTree(dir, false);
    migrate(tree);
    flushChanges(dir, tree.listChanges());
    expect(YAML.parse(fs.readFileSync(path.join(dir, SPEC), 'utf8')).compose.images.cadvisor).toBe('grafana/alloy:v1.9.2');
  });
});
