import { describe, expect, it } from 'vitest';
import { generateApp } from '../app/generate';
import { HomelabError } from '../errors';
import { treeHost } from '../host';
import { syncAll } from '../workspace/sync';
import { WHOAMI, workspaceTree } from '../../../../tests/support/workspace';
import { describeOrphan, findOrphans } from './orphans';
import { ownedFiles } from './owned';

function twoApps() {
  const { tree } = workspaceTree();
  const host = treeHost(tree);
  generateApp(host, WHOAMI);
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80, secrets: 'API_TOKEN' });
  return { tree, host };
}

describe('findOrphans', () => {
  it('finds none while every project has its spec', () => {
    expect(findOrphans(twoApps().host)).toEqual([]);
  });

  it('finds an app whose spec was deleted by hand: every file it rendered, its ArgoCD Applications among them, and the user files beside them', () => {
    const { host } = twoApps();
    const owned = ownedFiles(host, { layer: 'applications', name: 'web' });
    host.delete('applications/specs/web.yaml');

    const [orphan, ...rest] = findOrphans(host);

    expect(rest).toEqual([]);
    expect(orphan).toMatchObject({ layer: 'applications', name: 'web', owned });
    expect(orphan.owned).toEqual(expect.arrayContaining(['platform/argocd/applications/dev/web.yaml', 'platform/argocd/applications/prod/web.yaml', 'applications/runbooks/web.md']));
    expect(orphan.user).toEqual([
      'applications/compose/environments/dev/web/compose.override.yaml',
      'applications/compose/environments/prod/web/compose.override.yaml',
      'applications/kubernetes/overlays/dev/web/kustomization.yaml',
      'applications/kubernetes/overlays/prod/web/kustomization.yaml',
    ]);
    expect(describeOrphan(orphan)).toBe(
      `app web has no spec (applications/specs/web.yaml) but ${owned.length} file(s) it rendered remain; its ArgoCD Application (platform/argocd/applications/dev/web.yaml, platform/argocd/applications/prod/web.yaml) keeps it deployed; restore the spec from git, or remove the app with \`npx nx g homelab:remove web\``,
    );
  });

  it('finds an ArgoCD Application left alone, with no folder of its project', () => {
    const { host } = twoApps();
    host.write('platform/argocd/applications/dev/gone.yaml', 'apiVersion: argoproj.io/v1alpha1\nkind: Application\n');

    expect(findOrphans(host).map((o) => `${o.layer} ${o.name} ${o.owned.join(',')}`)).toEqual(['applications gone platform/argocd/applications/dev/gone.yaml']);
  });

  it('does not count the user files that remain once the spec-owned ones are gone', () => {
    const { host } = twoApps();
    for (const file of [...ownedFiles(host, { layer: 'applications', name: 'web' }), 'applications/specs/web.yaml']) host.delete(file);

    expect(findOrphans(host)).toEqual([]);
  });
});

describe('nx sync with a spec deleted by hand', () => {
  it('refuses in one line naming homelab:remove, and deletes nothing of the app', () => {
    const { tree, host } = twoApps();
    host.delete('applications/specs/web.yaml');
    const before = ownedFiles(host, { layer: 'applications', name: 'web' }).map((f) => `${f} ${tree.read(f, 'utf-8')}`);

    let error: unknown;
    try {
      syncAll(host);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(HomelabError);
    expect((error as Error).message).toMatch(/^app web has no spec \(applications\/specs\/web\.yaml\) but \d+ file\(s\) it rendered remain; .* remove the app with `npx nx g homelab:remove web`$/);
    expect(ownedFiles(host, { layer: 'applications', name: 'web' }).map((f) => `${f} ${tree.read(f, 'utf-8')}`)).toEqual(before);
  });
});
