import type { Tree } from '@nx/devkit';
import YAML from 'yaml';
import { CATALOG, MONITORING_IMAGES } from '../component/catalog';
import { componentSpecPath, parseComponentSpec } from '../component/spec';
import { type FileHost, treeHost } from '../host';

/** The Compose services the monitoring component gained after its first specs were written. */
const ADDED_SERVICES = ['node-exporter', 'cadvisor'] as const;

/**
 * Adds the pins of the services the monitoring component gained on Compose (node-exporter for
 * host metrics, cadvisor for container metrics) to an existing `infrastructure/specs/monitoring.yaml`,
 * keeping every other value, comment and the order of the spec. A pin or memory limit the spec
 * already has is kept; a workspace without the component, or whose spec leaves out Compose
 * (`platforms` without compose), is left as it is. Returns the files it changed.
 */
export function addMonitoringExporters(host: FileHost): string[] {
  const file = componentSpecPath('monitoring');
  const text = host.read(file);
  if (text === null) return [];
  const spec = parseComponentSpec(text, file);
  if (spec.platforms && !spec.platforms.includes('compose')) return [];
  const doc = YAML.parseDocument(text);
  let changed = false;
  for (const service of ADDED_SERVICES) {
    if (!doc.hasIn(['compose', 'images', service])) {
      doc.setIn(['compose', 'images', service], MONITORING_IMAGES[service]);
      changed = true;
    }
    if (!doc.hasIn(['compose', 'memory', service])) {
      doc.setIn(['compose', 'memory', service], CATALOG.monitoring.memory[service]);
      changed = true;
    }
  }
  if (!changed) return [];
  const out = doc.toString({ lineWidth: 0 });
  // What is written is read back as a spec first: a refusal writes nothing.
  parseComponentSpec(out, file);
  host.write(file, out);
  return [file];
}

/** The Nx migration (tools/homelab/migrations.json): `nx migrate --run-migrations`. */
export default function migrate(tree: Tree): void {
  addMonitoringExporters(treeHost(tree));
}
