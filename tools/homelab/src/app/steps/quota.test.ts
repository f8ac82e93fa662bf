import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, ServiceSpec, WorkspaceConfig } from '../../spec/types';
import { normalizeApp } from '../normalize';
import YAML from 'yaml';
import { renderApp } from '../../render/app';
import { BACKUP_JOB_RESOURCES, cpuMillis, formatBytes, formatCpu, peakReplicas } from './quota';

const where = 'applications/specs/stack.yaml';
const image = { repository: 'example/app', tag: '1.0.0' };
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const full = (services: Record<string, Partial<ServiceSpec>>, extra: Partial<AppSpec> = {}): AppSpec =>
  ({ name: 'stack', services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { image, ...v }])), ...extra }) as AppSpec;
const normalize = (spec: AppSpec, ws: WorkspaceConfig = workspace) => normalizeApp(spec, ws, new Map());
const quotaOf = (spec: AppSpec, env = 'dev', ws: WorkspaceConfig = workspace) => normalize(spec, ws).environments.find((e) => e.name === env)!.quota;
const hard = (spec: AppSpec, env = 'dev', ws: WorkspaceConfig = workspace) => Object.fromEntries(quotaOf(spec, env, ws).hard.map((h) => [h.key, h.value]));

/**
 * The worked example of docs/availability.md: a web service with an init container and a
 * sidecar, an api of 3 replicas (5 in prod), a cron service, and a database whose volume VolSync
 * backs up.
 */
const EXAMPLE = full(
  {
    web: {
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      initContainers: [{ name: 'migrate', resources: { requests: { cpu: '300m', memory: '64Mi' }, limits: { memory: '512Mi' } } }],
      sidecars: { exporter: { image: { repository: 'example/exporter', tag: '2.0.0' } } },
    },
    api: { replicas: 3, resources: { requests: { cpu: '50m', memory: '100Mi' }, limits: { cpu: '0.2', memory: '200Mi' } } },
    cleanup: { kind: 'cron', schedule: '0 4 * * *' },
    db: { mounts: [{ volume: 'data', path: '/var/lib/db' }] },
  },
  { volumes: { data: { size: '1Gi' } }, environments: { dev: {}, prod: { services: { api: { replicas: 5 } } } } },
);

describe('peakReplicas', () => {
  it.each([
    { kind: 'Deployment' as const, replicas: 3, peak: 4, why: 'a rolling update starts one surge pod before it stops an old one' },
    { kind: 'Deployment' as const, replicas: 0, peak: 0, why: 'a Deployment scaled to zero rolls nothing' },
    { kind: 'StatefulSet' as const, replicas: 2, peak: 2, why: 'a StatefulSet replaces its pods one at a time' },
    { kind: 'Job' as const, replicas: 1, peak: 1, why: 'a job runs one pod' },
    { kind: 'CronJob' as const, replicas: 1, peak: 1, why: 'a cron service runs one run at a time (Forbid)' },
  ])('$kind with $replicas replicas: $peak ($why)', ({ kind, replicas, peak }) => {
    expect(peakReplicas({ kind, replicas })).toBe(peak);
  });
});

describe('quantities', () => {
  it.each([
    ['250m', 250],
    ['0.5', 500],
    ['2', 2000],
    ['1.25', 1250],
  ])('reads the CPU quantity %s as %i millicores', (quantity, millis) => {
    expect(cpuMillis(quantity, 'x')).toBe(millis);
  });

  it.each([
    [1500, '1500m'],
    [2000, '2'],
    [1038, '1038m'],
  ])('writes %i millicores as the API server does: %s', (millis, written) => {
    expect(formatCpu(millis)).toBe(written);
  });

  it.each([
    [1280 * 2 ** 20, '1280Mi'],
    [2 ** 31, '2Gi'],
    [2 ** 20 + 1, '2Mi'],
    [3.75 * 2 ** 30, '3840Mi'],
    [0, '0'],
  ])('writes %i bytes rounded up to a whole Mi, in the largest unit that holds it whole: %s', (bytes, written) => {
    expect(formatBytes(bytes)).toBe(written);
  });
});

describe('the ResourceQuota of an environment', () => {
  it('counts every service at its peak, init containers as Kubernetes does, the cron service, the backup mover and claims, plus 25 % headroom', () => {
    // web: 2 pods (1 replica + 1 surge) of max(init 300m/64Mi, web + exporter 110m/192Mi) = 300m/192Mi, limits max(512Mi, 256Mi + 256Mi) = 512Mi
    // api: 4 pods (3 + 1 surge) of 50m/100Mi, limits 200Mi; cleanup, db: 1 pod each of the defaults 10m/64Mi, 256Mi
    // the mover of data: 1 pod at the LimitRange's defaults 10m/64Mi, 512Mi
    // requests.cpu 600 + 200 + 10 + 10 + 10 = 830m; requests.memory 384 + 400 + 64 + 64 + 64 = 976Mi; limits.memory 1024 + 800 + 256 + 256 + 512 = 2848Mi; pods 9
    // claims: data (1Gi) and VolSync's two restic caches of 1Gi: 3, 3Gi
    expect(hard(EXAMPLE)).toEqual({
      'requests.cpu': '1038m',
      'requests.memory': '1220Mi',
      'limits.memory': '3560Mi',
      pods: '12',
      persistentvolumeclaims: '4',
      'requests.storage': '3840Mi',
    });
  });

  it("takes the environment's replicas: prod runs api with 5 (6 pods at the peak)", () => {
    // dev + 2 pods of api: 930m, 1176Mi, 3248Mi, 11 pods
    expect(hard(EXAMPLE, 'prod')).toMatchObject({ 'requests.cpu': '1163m', 'requests.memory': '1470Mi', 'limits.memory': '4060Mi', pods: '14' });
    expect(quotaOf(EXAMPLE, 'prod').counted).toContain('api: 6 pods (5 replicas + 1 surge pod of a rolling update)');
  });

  it("counts an autoscaled service at its autoscaler's maximum (+ 1 surge pod) where it autoscales, and at its replicas elsewhere", () => {
    const spec = full(
      { api: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } } },
      { environments: { dev: {}, prod: { services: { api: { autoscale: { min: 2, max: 7, cpu: 70 } } } } } },
    );
    expect(quotaOf(spec, 'prod').counted).toContain('api: 8 pods (autoscale.max 7 + 1 surge pod of a rolling update)');
    expect(quotaOf(spec, 'dev').counted).toContain('api: 2 pods (1 replica + 1 surge pod of a rolling update)');
    // 8 pods of api at 100m/128Mi/256Mi: 800m, 1024Mi, 2048Mi; with 25 % headroom (at least one default pod).
    expect(Number(hard(spec, 'prod').pods)).toBeGreaterThan(Number(hard(spec, 'dev').pods) + 5);
  });

  it('leaves limits.cpu out while a container has no CPU limit, and says which', () => {
    expect(quotaOf(EXAMPLE).omitted).toEqual(['limits.cpu is left out: web, cleanup, db have no CPU limit, and a quota with limits.cpu would refuse their pods']);
  });

  it('has limits.cpu when every container has a CPU limit, and the LimitRange then defaults a CPU limit for pods without one', () => {
    const capped = full({ web: { replicas: 2, resources: { limits: { cpu: '250m', memory: '256Mi' } } } });

    // 3 pods of 10m/64Mi, limits 250m/256Mi; one more pod at the defaults (10m, 500m/512Mi) is more than 25 % of it.
    expect(hard(capped)).toMatchObject({ 'requests.cpu': '40m', 'limits.cpu': '1250m', 'limits.memory': '1280Mi', pods: '4' });
    expect(quotaOf(capped).limitRange).toEqual({ defaultRequest: { cpu: '10m', memory: '64Mi' }, default: { cpu: '500m', memory: '512Mi' } });
    expect(quotaOf(EXAMPLE).limitRange).toEqual({ defaultRequest: { cpu: '10m', memory: '64Mi' }, default: { memory: '512Mi' } });
  });

  it('counts a dump CronJob as one pod of its init and restic containers, and no mover for a dumped volume', () => {
    const dumped = full(
      { db: { ports: [{ name: 'pg', port: 5432 }], mounts: [{ volume: 'data', path: '/var/lib/postgresql/data' }] } },
      { volumes: { data: { size: '2Gi', backup: { dump: 'postgres' } } } },
    );

    // db 10m/64Mi/256Mi + the dump's pod max(10m, 10m)/64Mi/512Mi; claims: data alone (no ReplicationSource)
    expect(hard(dumped, 'dev', { ...workspace, quotas: { headroom: 0 } })).toEqual({
      'requests.cpu': '20m',
      'requests.memory': '128Mi',
      'limits.memory': '768Mi',
      pods: '2',
      persistentvolumeclaims: '1',
      'requests.storage': '2Gi',
    });
  });

  it('counts the dump CronJob with the resources its template renders', () => {
    const dumped = full({ db: { ports: [{ name: 'pg', port: 5432 }], mounts: [{ volume: 'data', path: '/var/lib/postgresql/data' }] } }, { volumes: { data: { size: '2Gi', backup: { dump: 'postgres' } } } });
    const file = renderApp(normalize(dumped)).find((f) => f.path.endsWith('components/backup/cronjob.yaml'))!;
    const pod = YAML.parse(file.content).spec.jobTemplate.spec.template.spec;

    expect([...pod.initContainers, ...pod.containers].map((c: { resources: unknown }) => c.resources)).toEqual([BACKUP_JOB_RESOURCES, BACKUP_JOB_RESOURCES]);
  });

  it('counts the copy VolSync takes with copyMethod Snapshot', () => {
    const snapshot = full({ db: { mounts: [{ volume: 'data', path: '/data' }] } }, { volumes: { data: { size: '4Gi', backup: { copyMethod: 'Snapshot' } } } });

    // data 4Gi, two caches of 1Gi, the snapshot's copy of 4Gi
    expect(hard(snapshot, 'dev', { ...workspace, quotas: { headroom: 0 } })).toMatchObject({ persistentvolumeclaims: '4', 'requests.storage': '10Gi' });
  });

  it('counts no mover and no cache with Velero, whose node agent runs in its own namespace', () => {
    const velero = hard(EXAMPLE, 'dev', { ...workspace, backup: { provider: 'velero' }, quotas: { headroom: 0 } });

    expect(velero).toMatchObject({ pods: '8', persistentvolumeclaims: '1', 'requests.storage': '1Gi' });
  });

  it('leaves requests.storage out when the app mounts a claim that exists already, whose size the spec does not know', () => {
    const claimed = full({ web: { mounts: [{ volume: 'media', path: '/media' }] } }, { volumes: { media: { claim: 'media-library' } } });

    expect(hard(claimed, 'dev', { ...workspace, quotas: { headroom: 0 } })).toMatchObject({ persistentvolumeclaims: '1' });
    expect(hard(claimed)).not.toHaveProperty('requests.storage');
    expect(quotaOf(claimed).omitted).toContain('requests.storage is left out: the size of media-library (claims that exist already) is not in the spec');
  });

  it('keeps room for at least one more pod at the LimitRange defaults where the headroom is less, so a debug pod starts', () => {
    // 2 replicas + 1 surge of the defaults: 30m/192Mi, limits 768Mi; 25 % is less than one pod of 10m/64Mi, 512Mi.
    expect(hard(full({ web: { replicas: 2 } }))).toMatchObject({ 'requests.cpu': '40m', 'requests.memory': '256Mi', 'limits.memory': '1280Mi', pods: '4' });
  });

  it.each([
    { headroom: 0, cpu: '830m', pods: '9' },
    { headroom: 100, cpu: '1660m', pods: '18' },
  ])('adds homelab.yaml quotas.headroom $headroom %', ({ headroom, cpu, pods }) => {
    expect(hard(EXAMPLE, 'dev', { ...workspace, quotas: { headroom } })).toMatchObject({ 'requests.cpu': cpu, pods });
  });

  it('renders neither a quota nor a limit range with homelab.yaml quotas: false', () => {
    const env = normalize(EXAMPLE, { ...workspace, quotas: false }).environments[0];

    expect(env.quota.enabled).toBe(false);
    expect(env.resources).not.toContain('resourcequota.yaml');
    expect(env.resources).not.toContain('limitrange.yaml');
  });

  it('lists the quota and the limit range among the overlay generated resources', () => {
    expect(normalize(EXAMPLE).environments[0].resources.slice(-2)).toEqual(['resourcequota.yaml', 'limitrange.yaml']);
  });
});

describe("the owner's budget", () => {
  const budget = (quota: AppSpec['quota'], prod?: AppSpec['quota']) => ({ ...EXAMPLE, quota, environments: { dev: {}, prod: { ...EXAMPLE.environments!.prod, ...(prod ? { quota: prod } : {}) } } }) as AppSpec;

  it("fixes the keys the spec sets to the owner's numbers, written canonically, and derives the rest", () => {
    const spec = budget({ requests: { cpu: '2', memory: '2048Mi' } }, { requests: { memory: '3Gi' } });

    expect(hard(spec)).toMatchObject({ 'requests.cpu': '2', 'requests.memory': '2Gi', 'limits.memory': '3560Mi', pods: '12' });
    expect(hard(spec, 'prod')).toMatchObject({ 'requests.cpu': '2', 'requests.memory': '3Gi' });
    expect(quotaOf(spec).exceeded).toEqual([]);
  });

  it('names each key the need at the peak (without headroom) exceeds, with the field that set it', () => {
    const spec = budget({ requests: { cpu: '800m' }, limits: { memory: '2Gi' } }, { limits: { memory: '4Gi' } });

    expect(quotaOf(spec).exceeded).toEqual([
      { key: 'requests.cpu', need: '830m', quota: '800m', field: 'quota.requests.cpu' },
      { key: 'limits.memory', need: '2848Mi', quota: '2Gi', field: 'quota.limits.memory' },
    ]);
    // prod: the environment's limits.memory is enough, the app's requests.cpu is not (api runs 6 pods there).
    expect(quotaOf(spec, 'prod').exceeded).toEqual([{ key: 'requests.cpu', need: '930m', quota: '800m', field: 'quota.requests.cpu' }]);
  });

  it('refuses limits.cpu while a container has no CPU limit, naming them and the fix', () => {
    expect(inputErrorOf(() => normalize(budget({ limits: { cpu: '4' } })))).toBe(
      `${where}: quota.limits.cpu "4": "web", "cleanup", "db" have containers without a CPU limit, and a quota with limits.cpu refuses such pods; set resources.limits.cpu on each, or remove quota.limits.cpu`,
    );
  });
});
