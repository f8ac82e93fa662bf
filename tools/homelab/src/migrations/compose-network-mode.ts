import type { Tree } from '@nx/devkit';
import YAML from 'yaml';
import { type FileHost, listFilesRecursive, treeHost } from '../host';

/** The folders that hold the Compose environments of apps and components, each `<env>/<name>/compose.override.yaml`. */
const ENVIRONMENT_TREES = ['applications/compose/environments', 'infrastructure/compose/environments'];

/**
 * Nx migration (tools/homelab/migrations.json, version 0.2.0): since 0.2.0 an app's services that
 * need a shared component join the environment's network `homelab-<env>` in compose.generated.yaml
 * (docs/infrastructure.md, "Compose wiring"), and PostgreSQL, Traefik and Prometheus the networks of
 * the environments they serve. Compose refuses a service that has both `networks` and
 * `network_mode` ("declares mutually exclusive `network_mode` and `networks`"), so a service that
 * your compose.override.yaml gives `network_mode` (host networking, say) would no longer merge.
 * This adds `networks: !reset {}` right after each such `network_mode` that has no `networks` of
 * its own, keeping every other line and comment: the service keeps the network it had. Idempotent.
 */
export default function composeNetworkMode(tree: Tree): string[] {
  return resetNetworksBesideNetworkMode(treeHost(tree));
}

/** The migration over any file host: the overrides it changed, one note each. */
export function resetNetworksBesideNetworkMode(host: FileHost): string[] {
  const notes: string[] = [];
  for (const file of ENVIRONMENT_TREES.flatMap((dir) => listFilesRecursive(host, dir)).filter((f) => f.endsWith('/compose.override.yaml'))) {
    const text = host.read(file);
    if (text === null) continue;
    const doc = YAML.parseDocument(text);
    // A file that does not read is the owner's to fix: validate reports it; the migration leaves it alone.
    if (doc.errors.length > 0) continue;
    const services = doc.get('services');
    if (!YAML.isMap(services)) continue;
    const changed: string[] = [];
    for (const pair of services.items) {
      const service = pair.value;
      if (!YAML.isMap(service) || !service.has('network_mode') || service.has('networks')) continue;
      const reset = doc.createNode({});
      reset.tag = '!reset';
      reset.flow = true;
      const at = service.items.findIndex((item) => YAML.isScalar(item.key) && item.key.value === 'network_mode');
      service.items.splice(at + 1, 0, doc.createPair('networks', reset));
      changed.push(String(YAML.isScalar(pair.key) ? pair.key.value : pair.key));
    }
    if (changed.length === 0) continue;
    host.write(file, doc.toString());
    notes.push(`${file}: ${changed.join(', ')} keep${changed.length === 1 ? 's' : ''} network_mode, so \`networks: !reset {}\` was added beside it (Compose refuses both; docs/infrastructure.md, "Compose wiring")`);
  }
  return notes;
}
