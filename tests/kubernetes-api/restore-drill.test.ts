import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeApp } from '../../tools/homelab/src/app/normalize';
import { renderKubernetesDrill, type KubernetesDrill } from '../../tools/homelab/src/backup/kubernetes-drill';
import { parseWorkspaceConfig } from '../../tools/homelab/src/spec/io';
import YAML from 'yaml';
import { DeployWorkspace, uniqueName } from '../deploy/support';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { specOf } from '../support/spec';
import { requireTool, run } from '../support/tools';

/**
 * The restore drill on Kubernetes (`restore-drill --env dev` of an app in a Kubernetes environment), on the real API server with VolSync's and External Secrets'
 * CRDs installed: the steps `renderKubernetesDrill` prints are run as written (each a shell
 * command line, with KUBECONFIG pointing at the test cluster), and the server keeps what they
 * apply. A stateful app with a volume on storage without snapshots (Direct) and one with CSI
 * snapshots (the volume populator).
 *
 * What cannot run here: VolSync's controller and a kubelet (kwok plays the nodes), so no restic
 * restore happens and the check pod never runs. Where step 2 waits for VolSync to report the
 * restore done, the test writes that status itself (`status.lastManualSync`, the field the
 * controller sets) and says so below; the wait itself is the step's own command.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();
const APP = uniqueName('drill');

let dir = '';
let ws: DeployWorkspace;
let drill: KubernetesDrill;

/** A step's command: the text after "<n>. …: ", as a user copies it. */
function command(step: number): string {
  const line = drill.steps.split('\n').find((l) => l.startsWith(`${step}. `));
  if (!line) throw new Error(`no step ${step} in:\n${drill.steps}`);
  return line.slice(line.indexOf(': ') + 2);
}

function runStep(step: number) {
  return run('sh', ['-c', command(step)], { cwd: dir, env: cluster.env(), timeout: 120_000 });
}

describe.skipIf(kubectl.skip || cluster.skip)('restore drill on the real Kubernetes API', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // The drill as a user runs it: `restore-drill --env dev` of a generated app in a Kubernetes
    // environment writes its files into the project's state folder and prints the steps.
    ws = DeployWorkspace.create('api-drill');
    ws.addSpec(
      APP,
      YAML.stringify(
        specOf(APP, {
          volumes: [
            { name: 'data', size: '1Gi', mountPath: '/data' },
            { name: 'media', size: '2Gi', mountPath: '/media', backup: { copyMethod: 'Snapshot' } },
          ],
        }),
      ),
    );
    const result = await ws.deploy(APP, { env: 'dev', platform: 'kubernetes' }, {}, 'restore-drill');
    expect(result.status, result.stdout + result.stderr).toBe(0);
    dir = path.join(ws.root, '.homelab/state/dev', APP, 'restore-drill');
    // The same files and steps as renderKubernetesDrill gives for the app the workspace holds.
    const workspace = parseWorkspaceConfig(fs.readFileSync(path.join(ws.root, 'homelab.yaml'), 'utf8'));
    const app = normalizeApp(YAML.parse(fs.readFileSync(path.join(ws.root, `applications/specs/${APP}.yaml`), 'utf8')), workspace, new Map());
    drill = renderKubernetesDrill(app, 'dev', workspace);
    for (const file of drill.files) expect(fs.readFileSync(path.join(dir, file.path), 'utf8')).toBe(file.content);
    for (const line of drill.steps.trimEnd().split('\n')) expect(result.stdout).toContain(line);
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', drill?.namespace ?? `${APP}-dev-drill`, '--ignore-not-found', '--wait=false']);
    ws?.cleanup();
  });

  it('step 1 applies the scratch namespace, the repository Secrets, a ReplicationDestination and a PVC per volume, and the server keeps them', () => {
    const applied = runStep(1);

    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stderr).not.toMatch(/warning/i);
    const ns = drill.namespace;
    const destinations = JSON.parse(cluster.kubectlOk(['get', 'replicationdestinations', '-n', ns, '-o', 'json'])).items as any[];
    expect(destinations.map((d) => [d.metadata.name, d.spec.restic.copyMethod, d.spec.restic.destinationPVC ?? null])).toEqual([
      [`${APP}-data`, 'Direct', `${APP}-data`],
      [`${APP}-media`, 'Snapshot', null],
    ]);
    const media = JSON.parse(cluster.kubectlOk(['get', 'pvc', `${APP}-media`, '-n', ns, '-o', 'json']));
    expect(media.spec.dataSourceRef).toEqual({ apiGroup: 'volsync.backube', kind: 'ReplicationDestination', name: `${APP}-media` });
    const secret = JSON.parse(cluster.kubectlOk(['get', 'externalsecret', `${APP}-data-restic`, '-n', ns, '-o', 'json']));
    expect(secret.spec.target.template.data.RESTIC_REPOSITORY).toBe(`{{ .repository }}/${APP}-dev/data`);
  });

  it('step 2 waits until VolSync reports each restore done', () => {
    // VolSync's controller does not run here: the test sets the status it would set when the restore is done.
    for (const name of [`${APP}-data`, `${APP}-media`]) {
      cluster.kubectlOk(['patch', 'replicationdestination', name, '-n', drill.namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { lastManualSync: 'drill' } })]);
    }

    const waited = runStep(2);

    expect(waited.status, waited.stderr).toBe(0);
    expect(waited.stdout).toContain(`replicationdestination.volsync.backube/${APP}-media condition met`);
  });

  it('step 3 starts the check pod on the restored claims (it cannot run here: kwok plays the node)', () => {
    const applied = run('sh', ['-c', command(3).split(' && ')[0]], { cwd: dir, env: cluster.env() });

    expect(applied.status, applied.stderr).toBe(0);
    const pod = JSON.parse(cluster.kubectlOk(['get', 'pod', `${APP}-drill-check`, '-n', drill.namespace, '-o', 'json']));
    expect(pod.spec.volumes.map((v: any) => v.persistentVolumeClaim.claimName)).toEqual([`${APP}-data`, `${APP}-media`]);
  });

  it('step 4 deletes the scratch namespace', () => {
    const deleted = runStep(4);

    expect(deleted.status, deleted.stderr).toBe(0);
    const phase = cluster.kubectl(['get', 'namespace', drill.namespace, '-o', 'jsonpath={.status.phase}']);
    expect(phase.status !== 0 || phase.stdout === 'Terminating').toBe(true);
  });
});
