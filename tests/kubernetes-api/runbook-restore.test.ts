import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { notesDumpsHomelab } from '../support/database';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from '../support/workspace';

/**
 * The Kubernetes steps of a generated runbook, done as written where this machine can: the spec
 * edit of step 1 (the fields it names, set under `environments.dev`, then `nx sync`'s render)
 * really stops the services that write to the volume in the dev overlay; the
 * ReplicationDestination of step 2 is applied to the real API server (VolSync's CRD installed)
 * and its wait command returns once the restore is reported done; the pods the dump restore
 * starts are accepted by the server (a server dry run of the same `kubectl run`, without the
 * attach that needs a kubelet).
 *
 * What cannot run here: ArgoCD (the commit and push of step 1 are a render of the edited spec),
 * VolSync's controller (the test sets `status.lastManualSync` as it would) and a kubelet (kwok
 * plays the nodes, so no restic or psql runs in a pod; the dump's scripts run for real in
 * tests/backup/kubernetes-dump.e2e.test.ts).
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

let root = '';
let ns = '';
const runbook = () => fs.readFileSync(path.join(root, 'applications/runbooks/notes.md'), 'utf8');
/** The Kubernetes part of a volume's section of the runbook. */
const section = (volume: string) => {
  const text = runbook();
  const start = text.indexOf(`### \`${volume}\``);
  return text.slice(start, text.indexOf('**Compose**', start));
};
const step = (text: string, n: number) => text.split('\n').find((l) => l.startsWith(`${n}. `)) ?? '';

describe.skipIf(kubectl.skip || cluster.skip)('the runbook\'s Kubernetes restore steps', { timeout: 180_000 }, () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-runbook');
    notesDumpsHomelab(root);
    installCatalogCrds(cluster);
    ns = cluster.namespace('notes-dev');
    cluster.kubectlOk(['create', 'namespace', ns]);
  }, 600_000);
  afterAll(() => {
    if (ns) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('step 1 names the spec fields that stop what writes to the volume, and setting them stops exactly those services in the overlay', () => {
    const fields = [...step(section('files'), 1).matchAll(/`environments\.<env>\.([^`]+): 0`/g)].map((m) => m[1]);
    expect(fields).toEqual(['services.server.replicas']);

    const file = path.join(root, 'applications/specs/notes.yaml');
    const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
    for (const field of fields) doc.setIn(['environments', 'dev', ...field.split('.')], 0);
    fs.writeFileSync(file, doc.toString());
    syncAll(diskHost(root));
    const built = run('kubectl', ['kustomize', 'applications/kubernetes/overlays/dev/notes'], { cwd: root });
    expect(built.status, built.stderr).toBe(0);
    const replicas = Object.fromEntries(parseDocs(built.stdout).filter((o) => o?.kind === 'StatefulSet').map((o) => [o.metadata.name, o.spec.replicas]));
    expect(replicas).toEqual({ server: 0, db: 1 });
  });

  it('step 2\'s ReplicationDestination is accepted by the server, and its wait returns once VolSync reports the restore', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section('files'))![1].replace(/^ {3}/gm, '').replaceAll('<ns>', ns);
    const applied = cluster.kubectl(['apply', '-f', '-'], { input: yaml });
    expect(applied.status, applied.stderr).toBe(0);
    const stored = JSON.parse(cluster.kubectlOk(['get', 'replicationdestination', 'notes-files-restore', '-n', ns, '-o', 'json']));
    expect(stored.spec.restic).toMatchObject({ repository: 'notes-files-restic', destinationPVC: 'notes-files', copyMethod: 'Direct', enableFileDeletion: true });

    // VolSync's controller does not run here: the test sets the status it sets when the restore is done.
    cluster.kubectlOk(['patch', 'replicationdestination', 'notes-files-restore', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"lastManualSync":"restore-once"}}']);
    const wait = /`(kubectl -n <ns> wait [^`]+)`/.exec(step(section('files'), 2) + section('files'))![1].replaceAll('<ns>', ns);
    const waited = run('sh', ['-c', wait], { env: cluster.env() });
    expect(waited.status, waited.stderr).toBe(0);
  });

  it.each([
    { what: "the dump volume's", text: () => step(section('pgdata'), 2) },
    { what: "the shared database's", text: () => step(runbook().slice(runbook().indexOf('## Restore the database')), 2) },
  ])('$what restore starts pods the server accepts, with the repository and libpq Secrets by name only', ({ text }) => {
    const command = /`(kubectl -n <ns> run [^`]+)`/.exec(text())![1];
    const runs = command.split(' | ').filter((part) => part.startsWith('kubectl -n <ns> run '));
    expect(runs.length).toBeGreaterThan(0);
    for (const part of runs) {
      // The same pod, created by a server dry run instead of attached to (attaching needs a kubelet).
      const dryRun = `${part.replaceAll('<ns>', ns).replace(/ (-q|--rm|--attach|-i)(?= )/g, '')} --dry-run=server -o json`;
      const result = run('sh', ['-c', dryRun], { env: cluster.env() });
      expect(result.status, result.stderr).toBe(0);
      const pod = JSON.parse(result.stdout);
      expect(pod.metadata.labels).toEqual({ 'homelab.dev/backup-dump': 'notes' });
      expect(pod.spec.containers).toHaveLength(1);
      expect(pod.spec.containers[0].envFrom[0].secretRef.name).toMatch(/^notes-(pgdata-restic|database-restic|database-dump)$/);
    }
    expect(command).not.toMatch(/PASSWORD=/);
  });
});
