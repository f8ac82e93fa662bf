import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * Volumes the container user can write, on Kubernetes: a pod with volumes gets the pod's
 * `fsGroup` (its group, 65532 by default) with `fsGroupChangePolicy: OnRootMismatch`, so the
 * kubelet gives a new volume to that group once and leaves a volume whose root already has it
 * alone (no recursive walk of the data on every start). A service with `security.imageUser` runs
 * as the image says and gets no fsGroup of ours. Built with the pinned kustomize, applied to the
 * real API server, read back from the pod the StatefulSet controller creates. The kubelet's
 * ownership change itself cannot run here (kwok plays the node; no volume is mounted).
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();

const IMAGE_USER_SPEC = `name: pgdata
services:
  db:
    image: { repository: homelab-test/busybox, tag: "1" }
    ports: [{ name: pg, port: 5432 }]
    mounts: [{ volume: data, path: /var/lib/postgresql/data }]
    health: { tcp: { port: pg }, probe: outside }
    security: { imageUser: "starts as root and drops to its own user with gosu" }
volumes:
  data: { size: 1Gi }
`;

let root = '';
const namespaces: string[] = [];

function overlay(app: string): any[] {
  const built = run('kubectl', ['kustomize', `applications/kubernetes/overlays/dev/${app}`], { cwd: root });
  expect(built.status, built.stderr).toBe(0);
  return parseDocs(built.stdout).filter((o) => o && o.kind !== 'Application');
}

/** Applies the app's objects into a namespace of its own and returns the first pod the StatefulSet controller creates. */
async function applyAndReadPod(app: string, objects: any[]): Promise<any> {
  const ns = cluster.namespace(app);
  namespaces.push(ns);
  cluster.kubectlOk(['create', 'namespace', ns]);
  const file = path.join(root, `.rendered-${ns}.json`);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const applied = cluster.kubectl(['apply', '--server-side', '--field-manager=homelab', '-n', ns, '-f', file]);
  expect(applied.status, applied.stderr).toBe(0);
  expect(applied.stderr).not.toMatch(/warning/i);
  const set = objects.find((o) => o.kind === 'StatefulSet');
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const pod = cluster.kubectl(['get', 'pod', `${set.metadata.name}-0`, '-n', ns, '-o', 'json']);
    if (pod.status === 0) return JSON.parse(pod.stdout);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no pod ${set.metadata.name}-0 in ${ns} after 60 s`);
}

describe.skipIf(kubectl.skip || cluster.skip)('fsGroup on pods with volumes, on the real Kubernetes API', { timeout: 180_000 }, () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-volume-owner', WORKSPACE_YAML);
    const host = diskHost(root);
    generateApp(host, { name: 'notes', image: 'homelab-test/busybox:1', port: 8080, volumes: 'data:1Gi:/data' });
    fs.writeFileSync(path.join(root, 'applications/specs/pgdata.yaml'), IMAGE_USER_SPEC);
    syncAll(host);
    // The backup, monitoring and secret objects beside the pods need their CRDs.
    installCatalogCrds(cluster);
  }, 600_000);
  afterAll(() => {
    for (const ns of namespaces) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('a generated stateful app: the pod runs as 65532 with fsGroup 65532, changed only on a root mismatch, and the API server keeps it', async () => {
    const objects = overlay('notes');
    const set = objects.find((o) => o.kind === 'StatefulSet');
    expect(set.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' });

    const pod = await applyAndReadPod('notes', objects);
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(pod.spec.volumes.map((v: any) => v.persistentVolumeClaim?.claimName).filter(Boolean)).toEqual(['notes-data']);
  });

  it('security.imageUser: no runAsUser, runAsGroup or fsGroup of ours, the image decides', async () => {
    const objects = overlay('pgdata');
    const set = objects.find((o) => o.kind === 'StatefulSet');
    expect(set.spec.template.spec.securityContext).toEqual({ runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } });

    const pod = await applyAndReadPod('pgdata', objects);
    expect(pod.spec.securityContext.fsGroup).toBeUndefined();
    expect(pod.spec.securityContext.runAsUser).toBeUndefined();
  });
});
