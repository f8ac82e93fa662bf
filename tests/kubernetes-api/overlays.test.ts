import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { buildReadmeHomelab, kustomizationFolders } from '../support/homelab';
import { requireTool, run } from '../support/tools';
import { makeTempDir, parseDocs, removeDir } from '../support/workspace';

/**
 * Everything a from-scratch homelab renders for Kubernetes, against the real API server with the
 * catalog's real CRDs installed: every app and component overlay of every environment and every
 * platform kustomization is rendered with the pinned kustomize (`kubectl kustomize`, as the
 * render tests and ArgoCD do), then server-side applied with `--dry-run=server`, then for real,
 * each overlay into a namespace of its own. Objects are moved into that namespace (ArgoCD
 * Applications name `argocd`, a Velero Schedule `velero`), so overlays of different
 * environments cannot collide; cluster-scoped objects are applied as they are.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

let dir: string;
let namespaced: Set<string>;
const namespaces: string[] = [];

/** `group/Kind` of every namespaced resource the server knows (core and CRDs). */
function namespacedKinds(): Set<string> {
  const out = cluster.kubectlOk(['api-resources', '--namespaced=true', '-o', 'wide', '--no-headers']);
  const kinds = new Set<string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const cols = line.trim().split(/\s+/);
    // NAME SHORTNAMES? APIVERSION NAMESPACED KIND VERBS CATEGORIES?: the KIND follows "true".
    const at = cols.indexOf('true');
    const apiVersion = cols[at - 1];
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    kinds.add(`${group}/${cols[at + 1]}`);
  }
  return kinds;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** The overlay rendered with the pinned kustomize, with namespaced objects moved into `ns`. */
function render(folder: string, ns: string): { file: string; objects: any[] } {
  const result = run('kubectl', ['kustomize', folder], { cwd: dir });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${folder}: ${result.stderr}`);
  const objects = parseDocs(result.stdout).filter(Boolean);
  for (const o of objects) {
    if (namespaced.has(`${groupOf(o.apiVersion)}/${o.kind}`)) o.metadata.namespace = ns;
  }
  const file = path.join(dir, `.rendered-${ns}.json`);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  return { file, objects };
}

describe.skipIf(kubectl.skip || cluster.skip)('a from-scratch homelab on the real Kubernetes API', () => {
  beforeAll(async () => {
    dir = await buildReadmeHomelab(makeTempDir('api-overlays'));
    installCatalogCrds(cluster);
    namespaced = namespacedKinds();
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(dir);
  });

  it('knows every kind of the catalog through its real CRDs', () => {
    for (const kind of [
      'argoproj.io/Application',
      'argoproj.io/AppProject',
      'external-secrets.io/ExternalSecret',
      'monitoring.coreos.com/ServiceMonitor',
      'monitoring.coreos.com/PrometheusRule',
      'volsync.backube/ReplicationSource',
      'cert-manager.io/Certificate',
      'postgresql.cnpg.io/Cluster',
    ]) {
      expect(namespaced, kind).toContain(kind);
    }
  });

  const folders = () => ['applications', 'infrastructure', 'platform'].flatMap((root) => kustomizationFolders(dir, root));

  it('has an overlay per app and component and environment, and the platform kustomizations', () => {
    expect(folders()).toContain('platform/argocd/bootstrap');
    expect(folders()).toContain('platform/secrets/stores');
    expect(folders()).toContain('platform/priority-classes');
    expect(folders().length).toBe(2 * 3 + COMPONENT_NAMES.length * 2 + 3);
  });

  it('accepts every overlay with server-side apply, first as a server dry run, then for real, without a warning', () => {
    const failures: string[] = [];
    let applied = 0;
    for (const folder of folders()) {
      const ns = cluster.namespace(folder.split('/').slice(-2).join('-').slice(0, 40).replace(/[^a-z0-9-]/g, '-'));
      namespaces.push(ns);
      cluster.kubectlOk(['create', 'namespace', ns]);
      const { file, objects } = render(folder, ns);
      for (const dryRun of [['--dry-run=server'], []]) {
        const result = cluster.kubectl(['apply', '--server-side', '--field-manager=homelab', '--force-conflicts', ...dryRun, '-f', file]);
        if (result.status !== 0 || /warning/i.test(result.stderr)) {
          failures.push(`${folder}${dryRun.length ? ' (dry run)' : ''}: ${result.stderr.trim()}`);
        }
      }
      applied += objects.length;
      // What was applied is on the server: every namespaced object of the overlay, read back.
      for (const o of objects.filter((o) => o.metadata.namespace === ns)) {
        const get = cluster.kubectl(['get', `${o.kind}.${groupOf(o.apiVersion) || 'core'}`.replace(/\.core$/, ''), o.metadata.name, '-n', ns, '-o', 'name']);
        if (get.status !== 0) failures.push(`${folder}: ${o.kind}/${o.metadata.name} not on the server: ${get.stderr.trim()}`);
      }
    }

    expect(failures).toEqual([]);
    // Every overlay holds something: at least one object each.
    expect(applied).toBeGreaterThanOrEqual(folders().length);
    // Two kubectl runs per overlay of every component: 84 s alone on a quiet 2-core machine, so more than the default 120 s beside other tests.
  }, 360_000);

  it('keeps the AppProjects restricted as rendered: read back from the server, no field dropped', () => {
    const ns = namespaces[folders().indexOf('platform/argocd/bootstrap')];
    const rendered = render('platform/argocd/bootstrap', ns).objects.filter((o) => o.kind === 'AppProject');
    const live = JSON.parse(cluster.kubectlOk(['get', 'appprojects.argoproj.io', '-n', ns, '-o', 'json'])).items;
    const byName = Object.fromEntries(live.map((p: any) => [p.metadata.name, p.spec]));

    expect(Object.keys(byName).sort()).toEqual(['applications', 'infrastructure', 'platform']);
    // A CRD's structural schema silently prunes fields it does not know: every restriction must survive.
    for (const project of rendered) expect(byName[project.metadata.name], project.metadata.name).toEqual(project.spec);
    // Apps come only from the homelab's own repository and may create no cluster-scoped
    // object but their Namespace.
    const repoURL = YAML.parse(fs.readFileSync(path.join(dir, 'homelab.yaml'), 'utf8')).gitops.repoURL;
    expect(byName.applications.sourceRepos).toEqual([repoURL]);
    expect(byName.applications.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
    expect(byName.infrastructure.sourceRepos).not.toContain('*');
  });

});
