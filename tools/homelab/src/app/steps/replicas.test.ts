import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf, thrownInputError } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { FullAppSpec, ServiceSpec } from '../../spec/types';
import { normalizeApp } from '../normalize';
import { disruptionBudget, isSingleWriterImage, podSpread } from './replicas';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const WHERE = 'applications/specs/shop.yaml';
const normalize = (spec: Parameters<typeof normalizeApp>[0]) => normalizeApp(spec, workspace, new Map());
const WHOAMI = { repository: 'traefik/whoami', tag: 'v1.10.4' };
const HTTP = [{ name: 'http', port: 8080, http: true }];

/** A full-form app: `api` (stateless, given fields), and whatever else the test adds. */
function shop(api: Partial<ServiceSpec>, more: Partial<FullAppSpec> = {}): FullAppSpec {
  return { name: 'shop', services: { api: { image: WHOAMI, ports: HTTP, ...api } }, ...more };
}

/** The rule an InputError is reported under by validate (spec/invalid when it has none). */
const ruleOf = (fn: () => unknown) => thrownInputError(fn).rule;

describe('replicated services: the rules', () => {
  it('accepts a stateless service with 3 replicas and its budget and spread', () => {
    expect(() => normalize(shop({ replicas: 3, availability: { minAvailable: 2 }, spread: 'hard' }))).not.toThrow();
  });

  it.each([
    ['maxUnavailable: 0', shop({ replicas: 3, availability: { maxUnavailable: 0 } }), `${WHERE}: services.api.availability.maxUnavailable: 0 lets no pod of "api" go, so no node it runs on can be drained; use maxUnavailable: 1`],
    [
      'minAvailable equal to the replicas',
      shop({ replicas: 3, availability: { minAvailable: 3 } }),
      `${WHERE}: services.api.availability.minAvailable: 3 keeps all 3 replicas of "api" up in "dev", so no node it runs on can be drained; set minAvailable below 3 or use maxUnavailable: 1`,
    ],
    [
      'minAvailable at the lowest replicas of any environment (prod runs 2)',
      shop({ replicas: 3, availability: { minAvailable: 2 } }, { environments: { dev: {}, prod: { services: { api: { replicas: 2 } } } } }),
      `${WHERE}: services.api.availability.minAvailable: 2 keeps all 2 replicas of "api" up in "prod", so no node it runs on can be drained; set minAvailable below 2 or use maxUnavailable: 1`,
    ],
    [
      "an environment's own minAvailable at its replicas",
      shop({}, { environments: { prod: { services: { api: { replicas: 2, availability: { minAvailable: 2 } } } } } }),
      `${WHERE}: environments.prod.services.api.availability.minAvailable: 2 keeps all 2 replicas of "api" up in "prod", so no node it runs on can be drained; set minAvailable below 2 or use maxUnavailable: 1`,
    ],
    [
      'availability on a service that runs one replica everywhere',
      shop({ availability: { maxUnavailable: 1 } }),
      `${WHERE}: services.api.availability: "api" runs one replica everywhere, so there is nothing to budget; remove services.api.availability or raise its replicas`,
    ],
    [
      'availability of an environment where the service runs one replica',
      shop({ replicas: 2 }, { environments: { dev: { services: { api: { replicas: 1, availability: { maxUnavailable: 1 } } } }, prod: {} } }),
      `${WHERE}: environments.dev.services.api.availability: "api" runs 1 replica in "dev", so there is nothing to budget; remove environments.dev.services.api.availability or raise its replicas there`,
    ],
  ])('availability/blocks-drain: refuses %s', (_what, spec, message) => {
    expect(inputErrorOf(() => normalize(spec))).toBe(message);
    expect(ruleOf(() => normalize(spec))).toBe('availability/blocks-drain');
  });

  it('availability/blocks-drain: the shorthand names its own fields', () => {
    const spec = specOf('web', { environments: { dev: {}, prod: { replicas: 2, availability: { minAvailable: 2 } } } });
    expect(inputErrorOf(() => normalize(spec))).toBe(
      'applications/specs/web.yaml: environments.prod.availability.minAvailable: 2 keeps all 2 replicas of "web" up in "prod", so no node it runs on can be drained; set minAvailable below 2 or use maxUnavailable: 1',
    );
  });

  it.each([
    ['a single-writer database image', shop({ image: { repository: 'library/postgres', tag: '17.2' }, replicas: 2 }), 'services.api.replicas: "api" runs "library/postgres", a database with one writer, so 2 replicas'],
    [
      'a database image scaled in one environment only',
      shop({ image: { repository: 'bitnami/redis', tag: '7.4.1' } }, { environments: { dev: {}, prod: { services: { api: { replicas: 3 } } } } }),
      'environments.prod.services.api.replicas: "api" runs "bitnami/redis", a database with one writer, so 3 replicas',
    ],
    [
      'a service mounting a ReadWriteMany persistent volume',
      shop({ replicas: 2, mounts: [{ volume: 'files', path: '/files' }] }, { volumes: { files: { size: '1Gi', accessMode: 'ReadWriteMany' } } }),
      'services.api.replicas: "api" mounts the persistent volume "files", so 2 replicas',
    ],
  ])('replicas/stateful: refuses %s without replication', (_what, spec, start) => {
    const message = inputErrorOf(() => normalize(spec));
    expect(message).toBe(
      `${WHERE}: ${start} would not share one copy of its data; keep replicas: 1, or set services.api.replication to how it replicates its data (e.g. "redis sentinel")`,
    );
    expect(ruleOf(() => normalize(spec))).toBe('replicas/stateful');
  });

  it('replicas/stateful: accepts a stateful service that says how it replicates', () => {
    const spec = shop({ image: { repository: 'valkey/valkey', tag: '8.0.1' }, replicas: 3, replication: 'valkey sentinel' });
    expect(normalize(spec).services[0].spread?.whenUnsatisfiable).toBe('ScheduleAnyway');
  });

  it('replicas/stateful: refuses replication on a service that is not scaled', () => {
    const spec = shop({ replication: 'redis sentinel' });
    expect(inputErrorOf(() => normalize(spec))).toBe(
      `${WHERE}: services.api.replication: "api" runs one replica everywhere, so there is nothing to replicate; remove services.api.replication or raise its replicas`,
    );
    expect(ruleOf(() => normalize(spec))).toBe('replicas/stateful');
  });

  it('replicas/read-write-once: still refuses two replicas on a ReadWriteOnce volume, under its rule', () => {
    const spec = shop({ replicas: 2, replication: 'own', mounts: [{ volume: 'data', path: '/data' }] }, { volumes: { data: { size: '1Gi' } } });
    expect(inputErrorOf(() => normalize(spec))).toMatch(/api mounts the ReadWriteOnce volume "data", which holds one replica, so set replicas: 1 \(or accessMode: ReadWriteMany on the volume\)$/);
    expect(ruleOf(() => normalize(spec))).toBe('replicas/read-write-once');
    const shorthand = specOf('web', { replicas: 2, volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }] });
    expect(ruleOf(() => normalize(shorthand))).toBe('replicas/read-write-once');
  });

  it('refuses spread where there is nothing to spread', () => {
    expect(inputErrorOf(() => normalize(shop({ spread: 'hard' })))).toBe(
      `${WHERE}: services.api.spread: "api" runs one replica everywhere, so there is nothing to spread; remove services.api.spread or raise its replicas`,
    );
  });

  it('refuses availability, spread and replication on a job', () => {
    const spec = shop({}, { services: { api: { image: WHOAMI, ports: HTTP }, migrate: { kind: 'job', image: WHOAMI, availability: { maxUnavailable: 1 } } } });
    expect(inputErrorOf(() => normalize(spec))).toBe(
      `${WHERE}: services.migrate.availability is set on a service of kind "job", which runs to completion and is not reached, probed or scaled; remove services.migrate.availability`,
    );
  });

  it('refuses a whole-app availability in an environment of the full form', () => {
    const spec = shop({ replicas: 2 }, { environments: { prod: { spread: 'hard' } } });
    expect(inputErrorOf(() => normalize(spec))).toMatch(/^applications\/specs\/shop\.yaml: environments\.prod\.spread asks for an override of the whole app/);
  });
});

describe('replicated services that autoscale', () => {
  const REQUESTS = { resources: { requests: { cpu: '100m' } } };
  const envOf = (spec: FullAppSpec, env: string) => normalize(spec).environments.find((e) => e.name === env)!;

  it("budgets and spreads a service where its autoscaler may run more than one, also from a min of 1", () => {
    const spec = shop(REQUESTS, { environments: { dev: {}, prod: { services: { api: { autoscale: { min: 1, max: 4, cpu: 70 } } } } } });
    expect(envOf(spec, 'prod').budgets.map((b) => [b.name, b.maxUnavailable])).toEqual([['api', 1]]);
    expect(envOf(spec, 'prod').workloadPatches.find((p) => p.name === 'api')?.spread?.whenUnsatisfiable).toBe('ScheduleAnyway');
    expect(envOf(spec, 'dev').budgets).toEqual([]);
  });

  it("refuses (availability/blocks-drain) a minAvailable at the autoscaler's min, where it would block every drain at low load", () => {
    const spec = shop({ ...REQUESTS, autoscale: { min: 2, max: 5, cpu: 70 }, availability: { minAvailable: 2 } });
    expect(inputErrorOf(() => normalize(spec))).toBe(
      `${WHERE}: services.api.availability.minAvailable: 2 keeps all 2 replicas of "api" (its autoscale.min) up in "dev", so no node it runs on can be drained; set minAvailable below 2 or use maxUnavailable: 1`,
    );
  });

  it('refuses (replicas/stateful) a database image that autoscales above one replica without replication', () => {
    const spec = shop({ ...REQUESTS, image: { repository: 'library/redis', tag: '7.4.1' }, autoscale: { min: 1, max: 3, cpu: 70 } });
    expect(ruleOf(() => normalize(spec))).toBe('replicas/stateful');
    expect(inputErrorOf(() => normalize(spec))).toContain('so 3 replicas would not share one copy of its data');
  });
});

describe('replicated services: budgets and spread', () => {
  const SELECTOR = { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/component': 'api' };
  it.each([
    ['Deployment', 3, null, { whenUnsatisfiable: 'ScheduleAnyway', selector: SELECTOR, matchLabelKeys: ['pod-template-hash'] }],
    ['Deployment', 2, 'hard', { whenUnsatisfiable: 'DoNotSchedule', selector: SELECTOR, matchLabelKeys: ['pod-template-hash'] }],
    ['StatefulSet', 2, 'soft', { whenUnsatisfiable: 'ScheduleAnyway', selector: SELECTOR, matchLabelKeys: ['controller-revision-hash'] }],
    ['Deployment', 1, 'hard', null],
    ['Deployment', 0, null, null],
    ['Job', 3, null, null],
    ['CronJob', 3, null, null],
  ] as const)('a %s with %i replicas (spread %s) spreads as %j', (kind, replicas, spread, expected) => {
    expect(podSpread(kind, replicas, spread, SELECTOR)).toEqual(expected);
  });

  it.each([
    [3, null, { maxUnavailable: 1, minAvailable: null }],
    [3, { maxUnavailable: 2 }, { maxUnavailable: 2, minAvailable: null }],
    [3, { minAvailable: 2 }, { maxUnavailable: null, minAvailable: 2 }],
  ] as const)('a Deployment with %i replicas and availability %j gets a budget of %j', (replicas, availability, expected) => {
    const budget = disruptionBudget({ name: 'api', kind: 'Deployment', selector: SELECTOR }, replicas, availability, { 'app.kubernetes.io/part-of': 'homelab' });
    expect(budget).toEqual({ name: 'api', labels: { 'app.kubernetes.io/part-of': 'homelab', ...SELECTOR }, selector: SELECTOR, ...expected });
  });

  it.each([
    ['Deployment', 1],
    ['Deployment', 0],
    ['Job', 3],
    ['CronJob', 3],
  ] as const)('a %s with %i replicas gets no budget (a budget on one pod blocks every drain)', (kind, replicas) => {
    expect(disruptionBudget({ name: 'api', kind, selector: SELECTOR }, replicas, null, {})).toBeNull();
  });

  it.each([
    ['postgres', true],
    ['docker.io/library/postgres', true],
    ['bitnami/postgresql', true],
    ['ghcr.io/cloudnative-pg/postgresql', true],
    ['valkey/valkey', true],
    ['traefik/whoami', false],
    ['postgres-exporter', false],
    ['nextcloud', false],
  ])('knows %s as a single-writer database: %s', (repository, expected) => {
    expect(isSingleWriterImage(repository)).toBe(expected);
  });
});
