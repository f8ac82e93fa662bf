import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../tools/homelab/src/component/types';
import { buildReadmeHomelab, kustomizationFolders, nxIn } from './support/homelab';
import { requireTool, run } from './support/tools';
import { diskFiles, makeTempDir, parseDocs, removeDir } from './support/workspace';
import { nxTestEnv } from './support/nx';

/**
 * The README's "From an empty repo to a homelab" sequence with the real `npx nx`, in a
 * temporary copy of the workspace: init, every catalog component, a secret store, an
 * extra environment with its own cluster and Docker host, two apps (one on postgres).
 * The result must validate clean, build every overlay with `kubectl kustomize`, merge
 * every Compose environment with `docker compose config`, and bootstrap ArgoCD in
 * strictly ordered waves: platform, then infrastructure, then applications.
 * (tests/support/homelab.ts runs the sequence: each kind of generator once through the
 * CLI, the rest in-process, which keeps the test well under 90 s on a busy 2-core machine.)
 * CI never skips this file: without the tools it fails there (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const NX_ENV: NodeJS.ProcessEnv = nxTestEnv();

let dir: string;
const nx = (...args: string[]) => run('npx', ['nx', ...args], { cwd: dir, env: NX_ENV, timeout: 180_000 });
const nxOk = (...args: string[]) => nxIn(dir, ...args);
const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const list = (folder: string) => (fs.existsSync(path.join(dir, folder)) ? fs.readdirSync(path.join(dir, folder)).sort() : []);

/** Every folder below `root` holding a kustomization.yaml that is an overlay or a platform kustomization (not a Component). */
const kustomizations = (root: string) => kustomizationFolders(dir, root);

describe.skipIf(kubectl.skip || compose.skip)('from an empty repo to a homelab', () => {
  beforeAll(async () => {
    dir = await buildReadmeHomelab(makeTempDir('scratch'));
    // Generous for a 2-core machine shared with the rest of the suite; alone it takes about 20 s.
  }, 300_000);
  afterAll(() => removeDir(dir));

  it('leaves nothing out of sync', () => {
    const check = nx('sync:check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('validates every app and component clean with nx run-many -t validate', () => {
    const result = nx('run-many', '-t', 'validate', '--skip-nx-cache');

    expect(result.status, result.stdout + result.stderr).toBe(0);
    for (const project of [...COMPONENT_NAMES, 'whoami', 'notes']) expect(result.stdout).toContain(`${project}: valid`);
  });

  it('makes the app on postgres depend on the postgres project in the graph', () => {
    nxOk('graph', '--file=graph.json');
    const graph = JSON.parse(read('graph.json')).graph;

    expect(graph.dependencies.notes.map((d: { target: string }) => d.target)).toContain('postgres');
    expect(graph.nodes.postgres.data.tags).toContain('type:infra');
  });

  it('builds every overlay and platform kustomization with kubectl kustomize', () => {
    const folders = [...kustomizations('applications'), ...kustomizations('infrastructure'), ...kustomizations('platform')];
    expect(folders).toContain('platform/argocd/bootstrap');
    expect(folders).toContain('platform/secrets/stores');
    expect(folders).toContain('infrastructure/kubernetes/overlays/lab/postgres');
    // The platform's: ArgoCD's bootstrap, the secret stores and the PriorityClass of the shared components.
    expect(folders).toContain('platform/priority-classes');
    expect(folders.length).toBe(2 * 3 + COMPONENT_NAMES.length * 2 + 3);

    for (const folder of folders) {
      const result = run('kubectl', ['kustomize', folder], { cwd: dir });
      expect(result.status, `${folder}: ${result.stderr}`).toBe(0);
      expect(parseDocs(result.stdout).length, folder).toBeGreaterThan(0);
    }
  });

  it('merges every Compose environment of every app and component with docker compose config', () => {
    const merged: string[] = [];
    for (const layer of ['applications', 'infrastructure']) {
      for (const env of list(`${layer}/compose/environments`)) {
        for (const name of list(`${layer}/compose/environments/${env}`)) {
          const files = [`${layer}/compose/base/${name}/compose.yaml`, `${layer}/compose/environments/${env}/${name}/compose.generated.yaml`, `${layer}/compose/environments/${env}/${name}/compose.override.yaml`];
          const result = run('docker', ['compose', '--env-file', '/dev/null', ...files.flatMap((f) => ['-f', f]), 'config', '--quiet'], { cwd: dir });
          expect(result.status, `${env}/${name}: ${result.stderr}`).toBe(0);
          merged.push(`${layer}/${env}/${name}`);
        }
      }
    }
    // Apps in dev, prod and lab; each Compose component once per Docker host (prod's, lab's): traefik,
    // monitoring, logging and postgres (backup is Kubernetes only: on Compose each app backs itself up).
    expect(merged.length).toBe(2 * 3 + 4 * 2);
  });

  it('bootstraps ArgoCD in strictly ordered waves: platform < infrastructure < applications', () => {
    const manifests = Object.entries(diskFiles(dir, 'platform')).filter(([f]) => f.endsWith('.yaml'));
    const applications = manifests.flatMap(([, text]) => parseDocs(text, '1.1')).filter((d) => d?.kind === 'Application');
    const waves: Record<string, number[]> = {};
    for (const app of applications) {
      const layer = app.metadata.labels?.['homelab.dev/layer'];
      expect(layer, app.metadata.name).toMatch(/^(platform|infrastructure|applications)$/);
      (waves[layer] ??= []).push(Number(app.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0));
    }

    expect(waves.platform.length).toBe(2);
    // Each component once per cluster (prod's, lab's), and each cluster's PriorityClass before them.
    expect(waves.infrastructure.length).toBe(COMPONENT_NAMES.length * 2 + 2);
    expect(waves.applications.length).toBe(2 * 3);
    expect(Math.max(...waves.platform)).toBeLessThan(Math.min(...waves.infrastructure));
    expect(Math.max(...waves.infrastructure)).toBeLessThan(Math.min(...waves.applications));
  });

  it('lets each Application\'s AppProject admit its sources and destinations', () => {
    const projects = new Map(parseDocs(read('platform/argocd/bootstrap/appprojects.yaml')).map((p) => [p.metadata.name, p.spec]));
    const matches = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
    const applications = Object.entries(diskFiles(dir, 'platform'))
      .filter(([f]) => f.endsWith('.yaml'))
      .flatMap(([, text]) => parseDocs(text))
      .filter((d) => d?.kind === 'Application');

    for (const app of applications) {
      const project = projects.get(app.spec.project);
      expect(project, `${app.metadata.name}: project ${app.spec.project}`).toBeDefined();
      for (const source of app.spec.sources ?? [app.spec.source]) {
        expect(project.sourceRepos, `${app.metadata.name}: ${source.repoURL}`).toContain(source.repoURL);
      }
      const { server, namespace } = app.spec.destination;
      expect(
        project.destinations.some((d: { server: string; namespace: string }) => d.server === server && matches(d.namespace, namespace)),
        `${app.metadata.name}: ${server} ${namespace}`,
      ).toBe(true);
    }
  });

  it('changes nothing when the environment is added again', () => {
    const before = diskFiles(dir);

    expect(nxOk('g', 'homelab:environment', 'lab', '--kubernetes-server=https://lab.home.arpa:6443', '--compose-context=lab', '--no-interactive')).toContain('lab: nothing to change');
    expect(diskFiles(dir)).toEqual(before);
  });

  it('lists what a new environment would change with --dry-run, and writes nothing', () => {
    const before = diskFiles(dir);

    const output = nxOk('g', 'homelab:environment', 'qa', '--kubernetes-server=https://qa.home.arpa:6443', '--dry-run', '--no-interactive');

    expect(output).toContain('UPDATE homelab.yaml');
    expect(output).toContain('CREATE platform/argocd/applications/qa/postgres.yaml');
    expect(output).toContain('CREATE platform/argocd/applications/qa/notes.yaml');
    expect(diskFiles(dir)).toEqual(before);
  });

  it('refuses a bad environment name with one line, writing nothing', () => {
    const before = diskFiles(dir);

    const result = nx('g', 'homelab:environment', 'Lab2', '--no-interactive');

    expect(result.status).not.toBe(0);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output.split('\n').filter((l) => l.includes('environment name "Lab2" is invalid'))).toHaveLength(1);
    expect(output).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
    expect(diskFiles(dir)).toEqual(before);
  });
});
