import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useCluster } from '../support/cluster';
import { NEVER_READY_IMAGE } from '../support/control-plane';

/**
 * The control plane the Kubernetes tests run against is a real one: the API server of the
 * pinned version, its admission and validation, the controllers that turn a Deployment into
 * ReplicaSets and Pods, the scheduler, and namespace deletion. Only the node is played by kwok,
 * which reports pods Ready (or, for NEVER_READY_IMAGE, crash-looping) instead of running them.
 */
const cluster = useCluster();
const versions = fs.readFileSync(path.join(__dirname, '../../scripts/control-plane/versions.env'), 'utf8');
const pinned = /^KUBERNETES_VERSION=(\S+)/m.exec(versions)?.[1];

function deployment(name: string, image: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  });
}

describe.skipIf(cluster.skip)('the test control plane', () => {
  const ns = cluster.namespace('control-plane');
  afterAll(() => {
    cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  });

  it('serves the pinned Kubernetes version, and its kubectl matches it', () => {
    const version = JSON.parse(cluster.kubectlOk(['version', '-o', 'json']));

    expect(version.serverVersion.gitVersion).toBe(pinned);
    expect(version.clientVersion.gitVersion).toBe(pinned);
  });

  it('rejects what a real API server rejects: an unknown field under strict field validation', () => {
    const result = cluster.kubectl(['create', '--dry-run=server', '--validate=strict', '-f', '-', '-n', 'default'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, dataa: {} }),
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/unknown field "dataa"/);
  });

  it('rolls a Deployment out to Ready pods', () => {
    cluster.kubectlOk(['create', 'namespace', ns]);
    cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: deployment('ok', 'homelab-test/busybox:1') });
    const status = cluster.kubectl(['rollout', 'status', '-n', ns, 'deployment/ok', '--timeout=60s']);

    expect(status.status, status.stderr).toBe(0);
    expect(cluster.kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=ok', '-o', 'jsonpath={.items[*].status.phase}']).split(' ')).toEqual([
      'Running',
      'Running',
    ]);
  });

  it('never makes a pod of the never-ready image Ready, so its rollout times out', () => {
    cluster.kubectlOk(['apply', '-n', ns, '-f', '-'], { input: deployment('broken', NEVER_READY_IMAGE) });
    const status = cluster.kubectl(['rollout', 'status', '-n', ns, 'deployment/broken', '--timeout=5s']);

    expect(status.status).not.toBe(0);
    expect(status.stderr).toMatch(/timed out/);
    const reasons = cluster.kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=broken', '-o', 'jsonpath={.items[*].status.containerStatuses[0].state.waiting.reason}']);
    expect(reasons).toContain('CrashLoopBackOff');
  });

  it('keeps its node alive: pods stay Ready past the node lifecycle grace period (about 50 s)', async () => {
    await new Promise((r) => setTimeout(r, 60_000));

    const ready = cluster.kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=ok', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
    expect(ready.split(' ')).toEqual(['True', 'True']);
  });

  it('deletes a namespace with everything in it', () => {
    const gone = cluster.namespace('gone');
    cluster.kubectlOk(['create', 'namespace', gone]);
    cluster.kubectlOk(['apply', '-n', gone, '-f', '-'], { input: deployment('ok', 'homelab-test/busybox:1') });
    cluster.kubectlOk(['rollout', 'status', '-n', gone, 'deployment/ok', '--timeout=60s']);

    const deleted = cluster.kubectl(['delete', 'namespace', gone, '--timeout=90s'], { timeout: 100_000 });

    expect(deleted.status, deleted.stderr).toBe(0);
    expect(cluster.kubectl(['get', 'namespace', gone]).stderr).toMatch(/NotFound|not found/);
  });
});
