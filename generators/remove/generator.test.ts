import { logger } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { treeHost } from '../../tools/homelab/src/host';
import { findOrphans } from '../../tools/homelab/src/project/orphans';
import { ownedFiles } from '../../tools/homelab/src/project/owned';
import { generateRemove } from '../../tools/homelab/src/workspace/remove';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { inputErrorOf } from '../../tests/support/spec';
import { treeFiles, WHOAMI, workspaceTree } from '../../tests/support/workspace';
import removeGenerator from './generator';

/**
 * `nx g homelab:remove` on an in-memory workspace: the spec and everything it rendered go, the
 * user's files are listed (or go with --all), what spans the workspace is rendered again, and
 * nothing of another project changes. No Docker engine is asked (engine null): the report says
 * so for Compose. Data on the platforms is never touched by a generator.
 */
const USER_FILES = [
  'applications/compose/environments/dev/web/compose.override.yaml',
  'applications/compose/environments/prod/web/compose.override.yaml',
  'applications/kubernetes/overlays/dev/web/kustomization.yaml',
  'applications/kubernetes/overlays/prod/web/kustomization.yaml',
];

function twoApps() {
  const ws = workspaceTree();
  const host = treeHost(ws.tree);
  generateInit(host, {});
  generateApp(host, WHOAMI);
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80, volumes: 'data:1Gi:/data' });
  return { ...ws, host };
}
const snapshot = (tree: ReturnType<typeof twoApps>['tree'], prefix: string) => Object.entries(treeFiles(tree)).filter(([f]) => f.includes(`/${prefix}`) || f.includes(`/${prefix}.`));

beforeEach(() => vi.spyOn(logger, 'info').mockImplementation(() => undefined));
afterEach(() => vi.restoreAllMocks());

describe('homelab:remove', () => {
  it('removes the spec and every file it rendered, keeps and lists the user files, and leaves the other app and a clean sync behind', () => {
    const { tree, host } = twoApps();
    const owned = ownedFiles(host, { layer: 'applications', name: 'web' });
    const other = snapshot(tree, 'whoami');

    const result = generateRemove(host, { name: 'web' }, null);

    expect(result.deleted).toEqual(['applications/specs/web.yaml', ...owned].sort());
    for (const file of result.deleted) expect(tree.exists(file), file).toBe(false);
    expect(result.kept).toEqual(USER_FILES);
    for (const file of USER_FILES) expect(tree.exists(file), file).toBe(true);
    expect(result.lines).toContain(`kept your files (remove them with --all, or by hand): ${USER_FILES.join(', ')}`);
    expect(snapshot(tree, 'whoami')).toEqual(other);
    expect(findOrphans(host)).toEqual([]);
    expect(syncAll(host, true)).toEqual([]);
  });

  it('with --all removes the user files too, and nothing of the app remains', () => {
    const { tree, host } = twoApps();

    const result = generateRemove(host, { name: 'web', all: true }, null);

    expect(result.kept).toEqual([]);
    expect(Object.keys(treeFiles(tree)).filter((f) => /(^|\/)web(\/|\.)/.test(f))).toEqual([]);
  });

  it('says per environment what may still run and the command that takes it down, keeping its data', () => {
    const { host } = twoApps();

    const { lines } = generateRemove(host, { name: 'web' }, { containers: (project) => (project === 'web-dev' ? ['web-dev-web-1'] : []) });

    expect(lines).toContain('dev, Compose: still runs (web-dev-web-1): take it down with `docker compose -p web-dev down` (its volumes are kept; `docker volume rm` them when the data can go)');
    expect(lines.some((l) => l.startsWith('prod, Compose'))).toBe(false);
    expect(lines).toContain(
      'prod, Kubernetes: once this is pushed, ArgoCD deletes the Application and its workloads; the volumes (PersistentVolumeClaims are Prune=false,Delete=false) and namespace web stay: `kubectl delete namespace web` when the data can go',
    );
  });

  it('removes what a spec deleted by hand left behind, so that sync works again', () => {
    const { host } = twoApps();
    host.delete('applications/specs/web.yaml');
    expect(() => syncAll(host, true)).toThrow(/homelab:remove web/);

    generateRemove(host, { name: 'web' }, null);

    expect(findOrphans(host)).toEqual([]);
    expect(syncAll(host, true)).toEqual([]);
  });

  it('refuses a component an app depends on, naming the app, and changes nothing', () => {
    const { tree, host } = twoApps();
    generateInfra(host, { component: 'postgres' });
    const spec = tree.read('applications/specs/web.yaml', 'utf-8')!;
    tree.write('applications/specs/web.yaml', spec.replace(/^name: web$/m, 'name: web\ndependsOn: [postgres]'));
    syncAll(host);
    const before = treeFiles(tree);

    expect(inputErrorOf(() => generateRemove(host, { name: 'postgres' }, null))).toBe('component postgres is used by app web (dependsOn); remove postgres from their dependsOn first, then remove it');
    expect(treeFiles(tree)).toEqual(before);
  });

  it('refuses a name that is neither an app nor a component', () => {
    const { tree, host } = twoApps();
    const before = treeFiles(tree);

    expect(inputErrorOf(() => generateRemove(host, { name: 'ghost' }, null))).toBe('"ghost" is neither an app nor an infrastructure component here (no applications/specs/ghost.yaml or infrastructure/specs/ghost.yaml, and no files of it); nothing to remove');
    expect(treeFiles(tree)).toEqual(before);
  });

  it('through Nx, deletes in the Tree only (a dry run lists it and writes nothing)', async () => {
    const { tree, host } = twoApps();

    await removeGenerator(tree, { name: 'whoami' });

    expect(tree.exists('applications/specs/whoami.yaml')).toBe(false);
    expect(findOrphans(host)).toEqual([]);
  });
});
