import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import { generateInfra } from '../tools/homelab/src/component/generate';
import { diskHost } from '../tools/homelab/src/host';
import { generateInit } from '../tools/homelab/src/platform/init';
import { commitAll, createTempWorkspace, nx } from '../scripts/lib/temp-workspace';

/**
 * The inference plugin's parse cache (plugin/cache.ts) under the real `nx`, with Nx's default
 * plugin isolation (the plugin runs in a worker, loaded through its .js entry): the project
 * graph built from the cache is the graph built by parsing every spec, and a changed spec is
 * read again.
 */

let root: string;
const CACHE = '.nx/workspace-data/homelab-graph.json';

beforeAll(() => {
  root = createTempWorkspace('homelab-plugin-cache-');
  const host = diskHost(root);
  generateInit(host, {});
  generateInfra(host, { component: 'postgres' });
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80 });
  generateApp(host, { name: 'api', image: 'traefik/whoami:v1.10.4', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
  const spec = path.join(root, 'applications/specs/web.yaml');
  fs.writeFileSync(spec, `${fs.readFileSync(spec, 'utf8')}description: The web front\ndependsOn:\n  - postgres\n  - api\n`);
  commitAll(root);
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The part of `nx graph --file`'s graph these tests read. */
interface Graph {
  nodes: Record<string, { data: { metadata?: { description?: string } } }>;
  dependencies: Record<string, { target: string }[]>;
}

/** The project graph as `nx graph --file` writes it, and the plugin's verbose line about its cache. */
function graph(): { graph: Graph; plugin: string } {
  const run = nx(root, ['graph', '--file=graph.json'], { env: { NX_VERBOSE_LOGGING: 'true' } });
  const file = path.join(root, 'graph.json');
  const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { graph: Graph };
  fs.rmSync(file);
  return { graph: written.graph, plugin: /homelab plugin: .*/.exec(`${run.stdout}\n${run.stderr}`)?.[0] ?? '' };
}

describe('the project graph with the plugin parse cache', () => {
  it('is the same graph when every spec comes from the cache as when every spec is parsed', () => {
    fs.rmSync(path.join(root, '.nx'), { recursive: true, force: true });
    const parsed = graph();
    expect(parsed.plugin).toMatch(/, 0 read from the cache, [1-9]\d* parsed$/);
    expect(fs.existsSync(path.join(root, CACHE))).toBe(true);
    const cached = graph();
    expect(cached.plugin).toMatch(/, [1-9]\d* read from the cache, 0 parsed$/);
    expect(cached.graph).toEqual(parsed.graph);
    // What the cache holds shows in the graph: web's description and its edges.
    expect(cached.graph.nodes.web.data.metadata?.description).toBe('The web front');
    expect(cached.graph.dependencies.web.map((d) => d.target).sort()).toEqual(['api', 'postgres']);
  });

  it('reads a changed spec again and shows the change', () => {
    graph();
    const spec = path.join(root, 'applications/specs/web.yaml');
    const original = fs.readFileSync(spec, 'utf8');
    try {
      fs.writeFileSync(spec, original.replace('The web front', 'The new front').replace('  - api\n', ''));
      const changed = graph();
      expect(changed.plugin).toMatch(/, 1 parsed$/);
      expect(changed.graph.nodes.web.data.metadata?.description).toBe('The new front');
      expect(changed.graph.dependencies.web.map((d) => d.target)).toEqual(['postgres']);
    } finally {
      fs.writeFileSync(spec, original);
    }
  });
});
