import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import { diskHost } from '../tools/homelab/src/host';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { commitAll, createTempWorkspace, nx } from '../scripts/lib/temp-workspace';

/**
 * The Nx plugin (tools/homelab/plugin.js, the package's main) and the executors
 * (src/executors/entry.js) load as cached JavaScript bundles (src/bundle/load.js), under the real
 * `nx` in a workspace of its own, with and without Nx's plugin isolation: what they give is what
 * the TypeScript sources give (HOMELAB_BUNDLE=0, loaded through Nx's transpiler as before), and a
 * changed source file is built into a new bundle.
 */

let root: string;
let cache: string;

beforeAll(() => {
  root = createTempWorkspace('homelab-plugin-bundle-');
  cache = path.join(root, '.bundle-cache');
  const host = diskHost(root);
  generateApp(host, { name: 'api', image: 'traefik/whoami:v1.10.4', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80 });
  const spec = path.join(root, 'applications/specs/web.yaml');
  fs.writeFileSync(spec, `${fs.readFileSync(spec, 'utf8')}description: The web front\ndependsOn:\n  - api\n`);
  // What web's dependency on api renders (network policies, waves), as `nx sync` would.
  syncAll(host);
  fs.appendFileSync(path.join(root, '.gitignore'), '.bundle-cache/\n');
  commitAll(root);
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** `nx` in the workspace with the bundle cache of this test; `bundle: false` runs the sources (HOMELAB_BUNDLE=0). */
function run(args: string[], options: { bundle: boolean; isolate?: boolean; env?: NodeJS.ProcessEnv }) {
  const r = nx(root, args, {
    env: {
      HOMELAB_CACHE_DIR: cache,
      HOMELAB_DEBUG: 'plugin,executors',
      NX_ISOLATE_PLUGINS: options.isolate ? 'true' : 'false',
      ...(options.bundle ? {} : { HOMELAB_BUNDLE: '0' }),
      ...options.env,
    },
  });
  return { ...r, output: `${r.stdout}\n${r.stderr}` };
}

/** The project graph as `nx graph --file` writes it, computed afresh (no Nx cache, no plugin parse cache). */
function graph(options: { bundle: boolean; isolate: boolean }) {
  fs.rmSync(path.join(root, '.nx'), { recursive: true, force: true });
  const r = run(['graph', '--file=graph.json'], options);
  const file = path.join(root, 'graph.json');
  const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { graph: { nodes: Record<string, unknown>; dependencies: Record<string, { target: string }[]> } };
  fs.rmSync(file);
  return { graph: written.graph, output: r.output };
}

/** The lines the validate executor printed for each project (findings and verdicts), sorted: Nx's own lines and timings left out. */
function executorLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /^(api|web|homelab-platform)(: |\/)|^\S+:\d+:\d+ /.test(l.trim()))
    .map((l) => l.trim())
    .sort();
}

const PLUGIN_BUNDLE = /homelab: running the bundle \S+\/\.bundle-cache\/plugin\/[0-9a-f]{32}\.js/;
const EXECUTOR_BUNDLE = /homelab: running the bundle \S+\/\.bundle-cache\/executors\/[0-9a-f]{32}\.js/;

describe('the plugin and the executors as cached bundles, under the real nx', () => {
  it.each([false, true])('give the project graph the TypeScript sources give (plugins isolated: %s)', (isolate) => {
    const sources = graph({ bundle: false, isolate });
    expect(sources.output).toContain("homelab: running the sources through Nx's transpiler (HOMELAB_BUNDLE=0)");
    const bundled = graph({ bundle: true, isolate });
    expect(bundled.output).toMatch(PLUGIN_BUNDLE);
    expect(bundled.graph).toEqual(sources.graph);
    expect(Object.keys(bundled.graph.nodes).sort()).toEqual(['api', 'homelab-platform', 'web']);
    expect(bundled.graph.dependencies.web.map((d) => d.target)).toContain('api');
  });

  it('run validate from the executor bundle with what the sources print', () => {
    const args = ['run-many', '-t', 'validate', '--skip-nx-cache'];
    const sources = run(args, { bundle: false });
    expect(sources.output).toContain("homelab: running the sources through Nx's loadTsFile (HOMELAB_BUNDLE=0)");
    const bundled = run(args, { bundle: true });
    expect(bundled.output).toMatch(EXECUTOR_BUNDLE);
    expect(executorLines(bundled.output)).toEqual(executorLines(sources.output));
    expect(executorLines(bundled.output)).toEqual(expect.arrayContaining(['api: valid', 'web: valid', 'homelab-platform: valid']));
  });

  it.each([
    [true, false],
    [true, true],
    [false, false],
  ])('nx g homelab:app and nx sync load the generators beside the plugin (bundle: %s, plugins isolated: %s)', (bundle, isolate) => {
    const name = `gen-${bundle ? 'b' : 's'}${isolate ? 'i' : ''}`;
    const g = run(['g', 'homelab:app', name, '--image', 'traefik/whoami:v1.10.4', '--port', '8080', '--no-interactive'], { bundle, isolate });
    expect(g.output).toMatch(bundle ? PLUGIN_BUNDLE : /running the sources through Nx's transpiler/);
    // The generator is the plugin's (src/index.ts `generators`): in Nx's own process the bundle Nx
    // loaded for the graph is the one the generator runs from, required once; no bundle of its own.
    if (!isolate) expect(g.output.match(new RegExp(PLUGIN_BUNDLE.source, 'g')) ?? []).toHaveLength(bundle ? 1 : 0);
    expect(fs.existsSync(path.join(cache, 'generators'))).toBe(false);
    expect(fs.existsSync(path.join(root, `applications/specs/${name}.yaml`))).toBe(true);
    expect(fs.existsSync(path.join(root, `applications/kubernetes/base/${name}/deployment.yaml`))).toBe(true);
    // The sync generator (homelab:sync) loads and runs; afterwards the workspace is in sync.
    run(['sync'], { bundle, isolate });
    expect(run(['sync:check'], { bundle, isolate }).status).toBe(0);
  });

  it('builds the bundles again when a source file changes, and runs the changed code', () => {
    const before = run(['show', 'projects'], { bundle: true }).output;
    const pluginBundle = PLUGIN_BUNDLE.exec(before)![0];
    const index = path.join(root, 'tools/homelab/src/plugin/index.ts');
    const executor = path.join(root, 'tools/homelab/src/executors/validate/executor.ts');
    const originals = [index, executor].map((f) => fs.readFileSync(f, 'utf8'));
    try {
      fs.appendFileSync(index, "\nprocess.stderr.write('edited plugin loaded\\n');\n");
      const after = run(['show', 'projects'], { bundle: true }).output;
      expect(after).toContain('edited plugin loaded');
      expect(PLUGIN_BUNDLE.exec(after)![0]).not.toBe(pluginBundle);

      const validateBefore = EXECUTOR_BUNDLE.exec(run(['run', 'api:validate', '--skip-nx-cache'], { bundle: true }).output)![0];
      fs.appendFileSync(executor, "\nprocess.stderr.write('edited executor loaded\\n');\n");
      const validateAfter = run(['run', 'api:validate', '--skip-nx-cache'], { bundle: true }).output;
      expect(validateAfter).toContain('edited executor loaded');
      expect(EXECUTOR_BUNDLE.exec(validateAfter)![0]).not.toBe(validateBefore);
    } finally {
      fs.writeFileSync(index, originals[0]);
      fs.writeFileSync(executor, originals[1]);
    }
  });
});
