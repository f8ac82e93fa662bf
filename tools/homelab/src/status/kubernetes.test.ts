import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeDiskWorkspace } from '../../../../tests/support/workspace';
import { InputError } from '../errors';
import type { LivePod, Manifest } from '../deploy/kubernetes';
import { deployRecordManifest, parseDeployRecord, sha256 } from '../deploy/record';
import { backupStatus, envDrift, finishRow, handEdit, imageVersion, isKubernetesEnvironment, kubernetesStatus, type Live, objectDrift, type ProjectView, readProject, workloadHealth } from './kubernetes';
import type { StatusRow } from './types';

/**
 * The pure parts of the Kubernetes status reader, on objects written as the API server returns
 * them. tests/kubernetes-api/status.test.ts reads the same from a real API server.
 */
const NOW = Date.parse('2026-11-30T12:00:00Z');
const NS = 'web-dev';
const labels = { 'homelab.dev/app': 'web', 'homelab.dev/environment': 'dev' };

function deployment(extra: { replicas?: number; image?: string; env?: { name: string; value?: string }[]; status?: unknown; generation?: number; managedFields?: unknown[] } = {}): Live {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS, labels, generation: extra.generation ?? 1, managedFields: extra.managedFields as never },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: extra.image ?? 'ghcr.io/me/web:1.2', env: extra.env ?? [{ name: 'LOG_LEVEL', value: 'info' }] }] } },
    },
    status: extra.status ?? { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 },
  };
}

function pod(options: { image?: string; ready?: boolean; waiting?: string; restarts?: number; created?: string } = {}): LivePod {
  return {
    metadata: { name: 'web-5d9c-abcde', namespace: NS, labels: { app: 'web' }, creationTimestamp: options.created ?? '2026-11-30T11:59:00Z' },
    spec: { containers: [{ name: 'web', image: options.image ?? 'ghcr.io/me/web:1.2' }] },
    status: {
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
      containerStatuses: [{ name: 'web', restartCount: options.restarts ?? 0, state: options.waiting ? { waiting: { reason: options.waiting } } : { running: {} } }],
    },
  } as unknown as LivePod;
}

const asManifest = (o: Live): Manifest => o as unknown as Manifest;

describe('the version an image names', () => {
  it.each([
    ['ghcr.io/me/web:1.2', '1.2'],
    ['registry.local:5000/web', 'latest'],
    ['registry.local:5000/web:2', '2'],
    ['ghcr.io/me/web:1.2@sha256:abc', 'sha256:abc'],
    ['ghcr.io/me/web:1, ghcr.io/me/web:2', '1, 2'],
  ])('%s -> %s', (image, version) => {
    expect(imageVersion(image)).toBe(version);
  });

  it('is null for no image', () => {
    expect(imageVersion(null)).toBeNull();
  });
});

describe('the health of a workload', () => {
  it('all replicas ready and rolled out: healthy, with the image the pods run and their restarts', () => {
    expect(workloadHealth(deployment(), [pod({ restarts: 2 })], NOW)).toEqual({ runningImage: 'ghcr.io/me/web:1.2', health: 'healthy', state: '1/1 ready', restarts: 2 });
  });

  it('scaled to 0: stopped, running nothing', () => {
    const w = deployment({ replicas: 0, status: { observedGeneration: 1, replicas: 0 } });
    expect(workloadHealth(w, [], NOW)).toMatchObject({ health: 'stopped', state: 'scaled to 0', runningImage: null });
  });

  it('a rollout the controller has not finished: starting, with both images while both run', () => {
    const w = deployment({ image: 'ghcr.io/me/web:1.3', generation: 2, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1 } });
    const result = workloadHealth(w, [pod(), pod({ image: 'ghcr.io/me/web:1.3', ready: false })], NOW);
    expect(result).toMatchObject({ health: 'starting', state: '1/1 ready, rollout in progress', runningImage: 'ghcr.io/me/web:1.2, ghcr.io/me/web:1.3' });
  });

  it('a pod crash-looping: unhealthy, saying which', () => {
    const w = deployment({ status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0 } });
    const result = workloadHealth(w, [pod({ ready: false, waiting: 'CrashLoopBackOff', restarts: 5 })], NOW);
    expect(result.health).toBe('unhealthy');
    expect(result.state).toBe('0/1 ready; pod web-5d9c-abcde: container web is CrashLoopBackOff');
    expect(result.restarts).toBe(5);
  });

  it('past its progress deadline: unhealthy', () => {
    const w = deployment({
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] },
    });
    expect(workloadHealth(w, [pod({ ready: false })], NOW).health).toBe('unhealthy');
  });

  it('a StatefulSet whose new pod stays not ready longer than a rollout may take: unhealthy; before that: starting', () => {
    const sts: Live = {
      ...deployment({ status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0, readyReplicas: 0, currentRevision: 'a', updateRevision: 'b' } }),
      kind: 'StatefulSet',
    };
    expect(workloadHealth(sts, [pod({ ready: false, created: '2026-11-30T11:58:00Z' })], NOW).health).toBe('starting');
    expect(workloadHealth(sts, [pod({ ready: false, created: '2026-11-30T11:00:00Z' })], NOW).health).toBe('unhealthy');
  });

  it('a ready pod that became not ready outside a rollout: unhealthy', () => {
    const w = deployment({ status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0 } });
    expect(workloadHealth(w, [pod({ ready: false })], NOW)).toMatchObject({ health: 'unhealthy', state: '0/1 ready' });
  });

  it('a suspended CronJob is stopped; a failed Job unhealthy; a complete one healthy', () => {
    const cron: Live = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'sync', namespace: NS }, spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'sync', image: 'a:1' }] } } } } } };
    expect(workloadHealth(cron, [], NOW).health).toBe('stopped');
    const job = (conditions: unknown[]): Live => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'a:1' }] } } }, status: { conditions } });
    expect(workloadHealth(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]), [], NOW)).toMatchObject({ health: 'unhealthy', state: 'failed: BackoffLimitExceeded' });
    expect(workloadHealth(job([{ type: 'Complete', status: 'True' }]), [], NOW)).toMatchObject({ health: 'healthy', state: 'complete', runningImage: 'a:1' });
  });
});

describe('drift between what git renders and what the cluster has', () => {
  it('nothing when they agree', () => {
    expect(objectDrift([asManifest(deployment())], [deployment()])).toEqual([]);
  });

  it('replicas scaled by hand, unless an autoscaler manages them', () => {
    const live = deployment({ replicas: 0 });
    expect(objectDrift([asManifest(deployment())], [live])).toEqual([{ service: 'Deployment/web', what: 'replicas', wanted: '1', running: '0' }]);
    expect(objectDrift([asManifest(deployment())], [live], { hpaTargets: new Set(['Deployment/web']) })).toEqual([]);
  });

  it('an image set by hand', () => {
    expect(objectDrift([asManifest(deployment())], [deployment({ image: 'ghcr.io/me/web:9' })])).toEqual([
      { service: 'Deployment/web', what: 'image', wanted: 'ghcr.io/me/web:1.2', running: 'ghcr.io/me/web:9' },
    ]);
  });

  it('a variable added by hand is named, its value never shown; one git sets shows both values', () => {
    const live = deployment({ env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'API_PASSWORD', value: 'hunter2-by-hand' }] });
    const drift = objectDrift([asManifest(deployment())], [live]);
    expect(drift).toEqual([
      { service: 'Deployment/web', what: 'env LOG_LEVEL', wanted: '"info"', running: '"debug"' },
      { service: 'Deployment/web', what: 'env API_PASSWORD', wanted: '(unset)', running: '(a value set by hand, not shown)' },
    ]);
    expect(JSON.stringify(drift)).not.toContain('hunter2');
  });

  it('a variable from a Secret shows where it comes from, not a value', () => {
    const ref = { secretKeyRef: { name: 'web-secrets', key: 'TOKEN' } };
    expect(envDrift('Deployment/web', '', [{ name: 'TOKEN', valueFrom: ref }], [])).toEqual([
      { service: 'Deployment/web', what: 'env TOKEN', wanted: `from ${JSON.stringify(ref)}`, running: '(unset)' },
    ]);
  });

  it("a ConfigMap's changed key; a Secret's by hash only, shown as ***", () => {
    const cm = (value: string): Live => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: NS, labels }, data: { 'app.ini': value } });
    const secret = (value: string): Live => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-token', namespace: NS, labels }, data: { token: Buffer.from(value).toString('base64') } });
    const drift = objectDrift([asManifest(cm('a=1')), asManifest(secret('s3cret-git'))], [cm('a=2'), secret('s3cret-live')]);
    expect(drift).toEqual([
      { service: 'ConfigMap/web-config', what: 'config app.ini', wanted: '"a=1"', running: '"a=2"' },
      { service: 'Secret/web-token', what: 'secret token', wanted: '***', running: '***' },
    ]);
    const text = JSON.stringify(drift);
    for (const v of ['s3cret-git', 's3cret-live', Buffer.from('s3cret-git').toString('base64'), Buffer.from('s3cret-live').toString('base64')]) expect(text).not.toContain(v);
  });

  it('an object git renders that the cluster lacks, and one of the project git no longer renders', () => {
    const svc: Live = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS, labels } };
    const old: Live = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-old', namespace: NS, labels } };
    expect(objectDrift([asManifest(deployment()), asManifest(svc)], [deployment(), old])).toEqual([
      { service: 'Service/web', what: 'missing object', wanted: 'Service/web', running: '(absent)' },
      { service: 'Service/web-old', what: 'extra object', wanted: '(not rendered)', running: 'Service/web-old' },
    ]);
    expect(objectDrift([asManifest(deployment())], [deployment(), old], { extras: false })).toEqual([]);
  });

  it('a hand edit of a field the comparison does not cover, from the managed fields', () => {
    const managedFields = [
      { manager: 'homelab', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:replicas': {} } } },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-11-30T10:00:00Z', fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:terminationGracePeriodSeconds': {} } } } } },
    ];
    expect(objectDrift([asManifest(deployment())], [deployment({ managedFields })])).toEqual([
      { service: 'Deployment/web', what: 'hand edit', wanted: 'fields as homelab applied them', running: 'kubectl-edit at 2026-11-30T10:00:00Z: spec.template.spec.terminationGracePeriodSeconds' },
    ]);
  });

  it("the cluster's own controllers and a restart by hand are not hand edits", () => {
    const l = deployment({
      managedFields: [
        { manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' },
        { manager: 'kubectl-rollout', operation: 'Update', fieldsV1: { 'f:spec': { 'f:template': { 'f:metadata': {} } } } },
      ],
    });
    expect(handEdit(l)).toBeUndefined();
  });
});

describe('the last backup', () => {
  const source: Manifest = { apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', metadata: { name: 'web-data', namespace: NS }, spec: { trigger: { schedule: '0 3 * * *' } } };
  const liveSource = (lastSyncTime?: string, creationTimestamp = '2026-11-01T00:00:00Z'): Live => ({
    ...(source as unknown as Live),
    metadata: { ...(source.metadata as Live['metadata']), creationTimestamp },
    status: lastSyncTime ? { lastSyncTime } : {},
  });

  it('within twice the schedule: healthy', () => {
    expect(backupStatus([source], [liveSource('2026-11-30T03:00:00Z')], NOW)).toEqual({ at: '2026-11-30T03:00:00Z', schedule: '0 3 * * *', healthy: true });
  });

  it('older than twice the schedule: stale', () => {
    expect(backupStatus([source], [liveSource('2026-11-27T03:00:00Z')], NOW)).toMatchObject({ healthy: false });
  });

  it('never succeeded: no time; healthy within twice the schedule of its creation, not after; no backup rendered: null', () => {
    expect(backupStatus([source], [liveSource()], NOW)).toEqual({ at: null, schedule: '0 3 * * *', healthy: false });
    const justNow = new Date(NOW - 3600 * 1000).toISOString();
    expect(backupStatus([source], [liveSource(undefined, justNow)], NOW)).toEqual({ at: null, schedule: '0 3 * * *', healthy: true });
    expect(backupStatus([asManifest(deployment())], [deployment()], NOW)).toBeNull();
  });

  it("a dump CronJob's last success counts, and the oldest source is the project's", () => {
    const dump: Manifest = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'web-dump', namespace: NS },
      spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { metadata: { labels: { 'homelab.dev/backup-dump': 'web' } }, spec: { containers: [] } } } } },
    };
    const liveDump = { ...(dump as unknown as Live), status: { lastSuccessfulTime: '2026-11-29T03:00:00Z' } };
    expect(backupStatus([source, dump], [liveSource('2026-11-30T03:00:00Z'), liveDump], NOW)?.at).toBe('2026-11-29T03:00:00Z');
  });
});

describe('a row', () => {
  const view = (extra: Partial<ProjectView> = {}): ProjectView => ({
    project: 'web', env: 'dev', wanted: [asManifest(deployment())], live: [deployment()], pods: [pod()], record: null, now: NOW, renderedDigest: 'sha256:1', ...extra,
  });
  const row = (extra: Partial<ProjectView>, requireDeployed = false): StatusRow =>
    finishRow({ project: 'web', layer: 'applications', environment: 'dev', platform: 'kubernetes', ok: false, ...readProject(view(extra)) }, requireDeployed);

  it('deployed and in step: healthy, versions, the last deploy from the record, ok', () => {
    const r = row({ record: { at: '2026-11-30T11:00:00Z', commit: 'abc123', dirty: false, specDigest: null, renderedDigest: 'sha256:1' } });
    expect(r).toMatchObject({ deployed: true, health: 'healthy', wantedVersion: '1.2', runningVersion: '1.2', drift: [], problems: [], ok: true, lastDeploy: { at: '2026-11-30T11:00:00Z', commit: 'abc123' } });
  });

  it('deployed from uncommitted changes: no commit, dirty; git changed since: the manifests differ', () => {
    const r = row({ record: { at: '2026-11-30T11:00:00Z', commit: 'abc123', dirty: true, specDigest: null, renderedDigest: 'sha256:0' } });
    expect(r.lastDeploy).toEqual({ at: '2026-11-30T11:00:00Z', commit: null, dirty: true });
    expect(r.drift).toEqual([{ what: 'manifests', wanted: 'sha256:1 (git now)', running: 'sha256:0 (last deploy)' }]);
    expect(r.ok).toBe(false);
  });

  it('never deployed: not-deployed and ok, unless --require-deployed', () => {
    expect(row({ live: [], pods: [] })).toMatchObject({ deployed: false, health: 'not-deployed', runningVersion: null, problems: [], ok: true });
    expect(row({ live: [], pods: [] }, true)).toMatchObject({ ok: false, problems: ['web was never deployed to dev (--require-deployed)'] });
  });

  it('scaled to 0 by hand: stopped, with the drift, not ok', () => {
    const r = row({ live: [deployment({ replicas: 0, status: { observedGeneration: 1, replicas: 0 } })], pods: [] });
    expect(r).toMatchObject({ health: 'stopped', ok: false, drift: [{ what: 'replicas', wanted: '1', running: '0' }] });
    expect(r.problems).toEqual(['Deployment/web is stopped (scaled to 0)', 'drift: Deployment/web replicas: git renders 1, the cluster has 0']);
  });

  it("ArgoCD's OutOfSync and Degraded are problems; Synced and Healthy is ok", () => {
    const app = (sync: string, health: string): Live => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'web-dev', namespace: 'argocd' }, status: { sync: { status: sync }, health: { status: health } } });
    const argocd = (a: Live | null) => ({ argocd: { application: a, name: 'web-dev', namespace: 'argocd' } });
    expect(row(argocd(app('Synced', 'Healthy')))).toMatchObject({ ok: true, argocd: { application: 'web-dev', sync: 'Synced', health: 'Healthy' } });
    const bad = row(argocd(app('OutOfSync', 'Degraded')));
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual(['ArgoCD application web-dev is OutOfSync', 'ArgoCD application web-dev is Degraded']);
    const missing = row({ ...argocd(null), live: [], pods: [] });
    expect(missing).toMatchObject({ ok: false, argocd: null, health: 'not-deployed' });
    expect(missing.problems[0]).toMatch(/^ArgoCD application web-dev does not exist yet/);
  });
});

describe('the deploy record', () => {
  it('is a ConfigMap without the app label (prune never selects it), read back from its annotations', () => {
    const p = { at: '2026-11-30T11:00:00Z', commit: 'abc123', dirty: false, specDigest: sha256('name: web\n'), renderedDigest: sha256('kind: Deployment\n') };
    const record = deployRecordManifest({ project: 'web', env: 'dev', namespace: NS }, p) as unknown as Live;
    expect(record.metadata).toMatchObject({ name: 'homelab-deploy-web', namespace: NS, labels: { 'homelab.dev/deploy-record': 'web', 'homelab.dev/environment': 'dev' } });
    expect(record.metadata.labels).not.toHaveProperty('homelab.dev/app');
    expect(parseDeployRecord(record)).toEqual(p);
    expect(parseDeployRecord({ metadata: { annotations: {} } })).toBeNull();
  });
});

describe('which environments the Kubernetes reader reports', () => {
  it.each([
    [{ name: 'dev' }, { kubernetes: true, compose: true }, false],
    [{ name: 'dev' }, { kubernetes: true, compose: false }, true],
    [{ name: 'dev', kubernetes: { context: 'home' } }, { kubernetes: true, compose: true }, true],
    [{ name: 'dev', kubernetes: { argocd: true } }, { kubernetes: false, compose: true }, false],
  ])('%j with files %j: %s', (settings, files, expected) => {
    expect(isKubernetesEnvironment(settings, files)).toBe(expected);
  });
});

describe('the options', () => {
  it('an --env homelab.yaml does not list is refused in one line naming it and the choices, before the cluster is asked', async () => {
    const root = makeDiskWorkspace('homelab-status-env-');
    try {
      const refused = kubernetesStatus(root, { env: 'prdo' });
      await expect(refused).rejects.toBeInstanceOf(InputError);
      await expect(refused).rejects.toThrow(/^--env "prdo" is not an environment of homelab\.yaml; use one of "dev", "prod"$/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
