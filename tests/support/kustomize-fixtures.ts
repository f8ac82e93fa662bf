import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { stackEnvironment, appNameOf } from '../../scripts/lib/import-check';
import { diskHost } from '../../tools/homelab/src/host';
import { generateImport } from '../../tools/homelab/src/import/generate';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { GOLDEN_WORKSPACES } from './golden';
import { renderedStacks, writePatchedStack, writeSpec } from './spec';
import { makeDiskWorkspace, WORKSPACE_YAML } from './workspace';

/**
 * The fixture workspaces every way of building kustomize overlays is held to `kubectl kustomize`
 * on (tests/validate/kustomize-batch.integration.test.ts, kustomize-engine.integration.test.ts):
 * the three golden workspaces, the census stacks with the patched relay, each fixture spec, the
 * import fixtures' apps.
 */

const FIXTURES = path.join(__dirname, 'fixtures');
/** The fixture specs of single apps, each synced into a workspace of its own (some share a name). */
export const FIXTURE_SPECS = ['backup-app/files.yaml', 'backup/files.yaml', 'cron-service/files.yaml', 'full-form/wiki.yaml', 'multi-service/stack.yaml', 'placement/ml.yaml', 'deploy-stack/stack.yaml'];
/** The import fixtures that import (tests/import/roundtrip.integration.test.ts), all into one workspace. */
const IMPORTED = ['chores', 'gallery', 'house', 'resolver'];

/** A workspace on disk filled by `fill`; its root goes into `roots`, which the caller removes. */
export function fixtureWorkspace(roots: string[], prefix: string, fill: (root: string) => void, homelabYaml = WORKSPACE_YAML): string {
  const root = makeDiskWorkspace(prefix, homelabYaml);
  roots.push(root);
  fill(root);
  return root;
}

/** Every overlay folder with a kustomization, of apps and components, workspace-relative, sorted. */
export function overlaysOf(root: string): string[] {
  return ['applications', 'infrastructure']
    .flatMap((layer) => {
      const overlays = path.join(root, layer, 'kubernetes/overlays');
      if (!fs.existsSync(overlays)) return [];
      return fs.readdirSync(overlays).flatMap((env) => fs.readdirSync(path.join(overlays, env)).map((name) => `${layer}/kubernetes/overlays/${env}/${name}`));
    })
    .filter((dir) => fs.existsSync(path.join(root, dir, 'kustomization.yaml')))
    .sort();
}

/** How many workspaces kustomizeFixtureWorkspaces makes. */
export const KUSTOMIZE_FIXTURE_COUNT = GOLDEN_WORKSPACES.length + 1 + FIXTURE_SPECS.length + 1;

/** Writes every fixture workspace (prefix `prefix-…`) and names each. */
export function kustomizeFixtureWorkspaces(roots: string[], prefix: string): { id: string; root: string }[] {
  const cases: { id: string; root: string }[] = [];
  for (const { id, homelabYaml, fill } of GOLDEN_WORKSPACES) cases.push({ id: `golden ${id}`, root: fixtureWorkspace(roots, `${prefix}-${id}`, fill, homelabYaml) });
  cases.push({
    id: 'census stacks and the patched relay',
    root: fixtureWorkspace(roots, `${prefix}-census`, (root) => {
      const host = diskHost(root);
      for (const spec of renderedStacks()) writeSpec(host, spec);
      writePatchedStack(host);
      syncAll(host);
    }),
  });
  for (const file of FIXTURE_SPECS) {
    cases.push({
      id: `fixture ${file}`,
      root: fixtureWorkspace(roots, `${prefix}-fixture`, (root) => {
        const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
        const host = diskHost(root);
        host.write(`applications/specs/${(YAML.parse(text) as { name: string }).name}.yaml`, text);
        syncAll(host);
      }),
    });
  }
  cases.push({
    id: 'import fixtures',
    root: fixtureWorkspace(roots, `${prefix}-import`, (root) => {
      for (const stack of IMPORTED) {
        const dir = path.join(FIXTURES, 'import', stack);
        const file = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f))!;
        generateImport(diskHost(root), { name: appNameOf(stack), file }, { cwd: dir, environment: stackEnvironment(), engine: null }).writeSecrets(root);
      }
    }),
  });
  return cases;
}
