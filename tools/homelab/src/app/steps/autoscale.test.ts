import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { InputError } from '../../errors';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, FullAppSpec } from '../../spec/types';
import { normalizeApp } from '../normalize';
import { type AutoscaleBase, autoscaleRange, environmentAutoscale, highestReplicas, horizontalAutoscalers, normalizeAutoscale } from './autoscale';

const WHERE = 'applications/specs/web.yaml';
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const RANGE = { min: 2, max: 5, cpu: 70 };
const service = (over: Partial<AutoscaleBase> = {}): AutoscaleBase => ({
  name: 'api',
  kind: 'Deployment',
  autoscale: { min: 2, max: 5, cpu: 70, memory: null },
  field: 'services.api.',
  requests: { cpu: true, memory: false },
  ...over,
});
const IN_PROD = 'environments.prod.services.api.';
/** The error normalize throws, with its rule. */
const refusal = (fn: () => unknown): { message: string; rule: string | undefined } => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return { message: error.message, rule: error.rule };
    throw error;
  }
  throw new Error('expected an InputError');
};

describe('normalizeAutoscale', () => {
  it('is null without autoscale, and the range with its targets otherwise (an unset target is null)', () => {
    expect(normalizeAutoscale({}, WHERE, '')).toBeNull();
    expect(normalizeAutoscale({ autoscale: RANGE }, WHERE, '')).toEqual({ min: 2, max: 5, cpu: 70, memory: null });
    expect(normalizeAutoscale({ autoscale: { min: 1, max: 1, memory: 80 } }, WHERE, '')).toEqual({ min: 1, max: 1, cpu: null, memory: 80 });
  });

  it.each([
    ['a job', { kind: 'job' as const, autoscale: RANGE }, `${WHERE}: services.api.autoscale is set on a service of kind "job", which runs to completion and is not scaled; remove services.api.autoscale`],
    ['a cron service', { kind: 'cron' as const, autoscale: RANGE }, 'services.api.autoscale is set on a service of kind "cron"'],
    ['replicas beside it', { replicas: 3, autoscale: RANGE }, `${WHERE}: services.api.replicas is set beside services.api.autoscale, which sets the replicas itself; remove services.api.replicas and use autoscale.min`],
    ['max below min', { autoscale: { min: 3, max: 2, cpu: 50 } }, `${WHERE}: services.api.autoscale.max 2 is below autoscale.min 3; set max to at least min`],
    ['no target', { autoscale: { min: 1, max: 3 } }, `${WHERE}: services.api.autoscale has no target to scale on; set autoscale.cpu or autoscale.memory`],
  ])('refuses %s in one line naming the field and the fix', (_what, spec, message) => {
    expect(() => normalizeAutoscale(spec, WHERE, 'services.api.')).toThrow(message);
  });
});

describe('environmentAutoscale', () => {
  it("takes the service's where the environment says nothing, the override's where it has one, none where it says false", () => {
    expect(environmentAutoscale(service(), {}, WHERE, IN_PROD, 'prod')).toEqual({ min: 2, max: 5, cpu: 70, memory: null });
    expect(environmentAutoscale(service(), { autoscale: { min: 3, max: 9, cpu: 60 } }, WHERE, IN_PROD, 'prod')).toEqual({ min: 3, max: 9, cpu: 60, memory: null });
    expect(environmentAutoscale(service(), { autoscale: false }, WHERE, IN_PROD, 'prod')).toBeNull();
    // Off in one environment, it may run fixed replicas there.
    expect(environmentAutoscale(service(), { autoscale: false, replicas: 4 }, WHERE, IN_PROD, 'prod')).toBeNull();
  });

  it('autoscales only in the environment that asks for it (a service without autoscale)', () => {
    expect(environmentAutoscale(service({ autoscale: null }), {}, WHERE, IN_PROD, 'prod')).toBeNull();
    expect(environmentAutoscale(service({ autoscale: null }), { autoscale: { min: 2, max: 4, cpu: 80 } }, WHERE, IN_PROD, 'prod')).toMatchObject({ min: 2, max: 4 });
  });

  it("refuses an override's replicas where the service autoscales, naming autoscale.min and autoscale: false", () => {
    expect(() => environmentAutoscale(service(), { replicas: 3 }, WHERE, IN_PROD, 'prod')).toThrow(
      `${WHERE}: ${IN_PROD}replicas: "api" autoscales (services.api.autoscale), so the autoscaler sets its replicas; remove ${IN_PROD}replicas and use autoscale.min (in ${IN_PROD}autoscale), or set ${IN_PROD}autoscale: false to run fixed replicas in prod`,
    );
    expect(() => environmentAutoscale(service({ autoscale: null }), { replicas: 3, autoscale: RANGE }, WHERE, IN_PROD, 'prod')).toThrow(`${IN_PROD}replicas is set beside ${IN_PROD}autoscale`);
  });

  it('refuses autoscale: false where there is nothing to turn off', () => {
    expect(() => environmentAutoscale(service({ autoscale: null }), { autoscale: false }, WHERE, IN_PROD, 'prod')).toThrow(`${WHERE}: ${IN_PROD}autoscale is false, but "api" does not autoscale; remove ${IN_PROD}autoscale`);
  });

  it('refuses (autoscale/requests) a target whose request the spec does not write, naming the service, the resource and both places to write it', () => {
    const noCpu = service({ requests: { cpu: false, memory: false } });
    expect(refusal(() => environmentAutoscale(noCpu, {}, WHERE, IN_PROD, 'prod'))).toEqual({
      message: `${WHERE}: services.api.autoscale.cpu: "api" autoscales on cpu in prod, but its spec writes no cpu request, and a utilization of the default request measures nothing; set services.api.resources.requests.cpu (or ${IN_PROD}resources.requests.cpu)`,
      rule: 'autoscale/requests',
    });
    // The override's own autoscale is where the message points.
    expect(refusal(() => environmentAutoscale(service({ autoscale: null }), { autoscale: { min: 1, max: 3, cpu: 50, memory: 80 } }, WHERE, IN_PROD, 'prod')).message).toMatch(
      new RegExp(`^${WHERE}: ${IN_PROD.replace(/\./g, '\\.')}autoscale\\.memory: "api" autoscales on memory in prod`),
    );
    // The shorthand's environments override no resources: only the app's request is named.
    expect(refusal(() => environmentAutoscale(service({ field: '', requests: { cpu: false, memory: false } }), {}, WHERE, 'environments.prod.', 'prod')).message).toMatch(/; set resources\.requests\.cpu$/);
  });

  it("accepts a request written in the environment's override only", () => {
    const noCpu = service({ requests: { cpu: false, memory: false } });
    expect(environmentAutoscale(noCpu, { resources: { requests: { cpu: '250m' } } }, WHERE, IN_PROD, 'prod')).toMatchObject({ cpu: 70 });
  });
});

describe('autoscaleRange and highestReplicas', () => {
  it('gives the lowest and highest replicas: the autoscale range, else the replicas both', () => {
    const fixed = { replicas: 3, autoscale: null };
    const scaled = { replicas: 2, autoscale: { min: 2, max: 6, cpu: 70, memory: null } };
    expect(autoscaleRange(fixed)).toEqual({ min: 3, max: 3 });
    expect(autoscaleRange(scaled)).toEqual({ min: 2, max: 6 });
    // What the environment makes of the service wins.
    expect(autoscaleRange(scaled, { replicas: 2, autoscale: null })).toEqual({ min: 2, max: 2 });
    expect(autoscaleRange(fixed, scaled)).toEqual({ min: 2, max: 6 });
  });

  it('counts every environment: its replicas and its autoscale.max', () => {
    expect(highestReplicas({ replicas: 1, autoscale: null }, [{}, { replicas: 2 }, { autoscale: { min: 1, max: 7, cpu: 50 } }, { autoscale: false }])).toBe(7);
  });
});

describe('horizontalAutoscalers', () => {
  it('renders one per autoscaled long-running service, with the app labels, its component and its targets in order cpu, memory', () => {
    const labels = { 'app.kubernetes.io/name': 'web' };
    const autoscale = { min: 1, max: 4, cpu: 60, memory: 75 };
    expect(
      horizontalAutoscalers(labels, [
        { name: 'api', kind: 'Deployment', component: 'api', autoscale },
        { name: 'worker', kind: 'Deployment', component: 'worker', autoscale: null },
      ]),
    ).toEqual([
      {
        name: 'api',
        labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/component': 'api' },
        targetKind: 'Deployment',
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          { resource: 'cpu', averageUtilization: 60 },
          { resource: 'memory', averageUtilization: 75 },
        ],
      },
    ]);
  });
});

describe('autoscale through normalizeApp', () => {
  const full = (api: object, environments?: FullAppSpec['environments'], extra: Partial<FullAppSpec> = {}): FullAppSpec => ({
    name: 'web',
    services: {
      api: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }], ...api },
    },
    ...(environments ? { environments } : {}),
    ...extra,
  });
  const normalize = (spec: AppSpec) => normalizeApp(spec, workspace, new Map());
  const requests = { resources: { requests: { cpu: '100m' } } };

  it('starts an autoscaled service at its min, and patches every environment where it autoscales', () => {
    const app = normalize(full({ ...requests, autoscale: RANGE }));
    expect(app.services[0].replicas).toBe(2);
    for (const env of app.environments) {
      expect(env.workloadPatches.map((p) => [p.name, p.autoscaled, p.replicas, p.replicasChanged])).toEqual([['api', true, 2, false]]);
      expect(env.resources).toContain('horizontalpodautoscaler.yaml');
      expect(env.autoscalers.map((a) => [a.name, a.minReplicas, a.maxReplicas])).toEqual([['api', 2, 5]]);
    }
  });

  it('autoscales only in prod when only prod asks; dev keeps its replicas and renders no autoscaler', () => {
    const app = normalize(full({ ...requests, replicas: 2 }, { dev: {}, prod: { services: { api: { autoscale: { min: 3, max: 8, cpu: 60 } } } } }));
    const [dev, prod] = app.environments;
    expect([dev.workloadPatches, dev.autoscalers, dev.resources.includes('horizontalpodautoscaler.yaml')]).toEqual([[], [], false]);
    // Compose in prod runs the min.
    expect(prod.workloadPatches.map((p) => [p.autoscaled, p.replicas, p.replicasChanged, p.composeChanged])).toEqual([[true, 3, true, true]]);
  });

  it('turns autoscaling off in one environment with autoscale: false, where it runs the replicas it asks for', () => {
    const app = normalize(full({ ...requests, autoscale: RANGE }, { dev: { services: { api: { autoscale: false, replicas: 1 } } }, prod: {} }));
    const [dev, prod] = app.environments;
    expect(dev.workloadPatches.map((p) => [p.autoscaled, p.replicas, p.replicasChanged])).toEqual([[false, 1, true]]);
    expect(dev.autoscalers).toEqual([]);
    expect(prod.autoscalers).toHaveLength(1);
  });

  it('applies the shorthand: autoscale at the top, environments.<env>.autoscale', () => {
    const app = normalize(specOf('web', { ...requests, environments: { dev: {}, prod: { autoscale: { min: 2, max: 4, cpu: 80 } } } }));
    expect(app.environments.map((e) => e.autoscalers.map((a) => `${a.name} ${a.minReplicas}-${a.maxReplicas}`))).toEqual([[], ['web 2-4']]);
    expect(() => normalize(specOf('web', { autoscale: RANGE }))).toThrow('autoscale.cpu: "web" autoscales on cpu in dev');
    expect(() => normalize(specOf('web', { ...requests, autoscale: RANGE, environments: { dev: { replicas: 2 } } }))).toThrow(`${WHERE}: environments.dev.replicas: "web" autoscales (autoscale)`);
  });

  it('refuses autoscaling above one replica with a ReadWriteOnce volume (the read-write-once rule, with the max)', () => {
    const withVolume = full({ ...requests, autoscale: RANGE, mounts: [{ volume: 'data', path: '/data' }] }, undefined, { volumes: { data: { size: '1Gi' } } });
    expect(() => normalize(withVolume)).toThrow('api mounts the ReadWriteOnce volume "data", which holds one replica, so set replicas: 1 and autoscale.max: 1 (or remove autoscale)');
    const inProd = full({ ...requests, mounts: [{ volume: 'data', path: '/data' }] }, { prod: { services: { api: { autoscale: RANGE } } } }, { volumes: { data: { size: '1Gi' } } });
    expect(() => normalize(inProd)).toThrow('replicas above 1 with volumes');
    expect(() => normalize(specOf('web', { ...requests, volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }], autoscale: RANGE }))).toThrow(
      'so set replicas: 1 and autoscale.max: 1 (or remove autoscale)',
    );
  });

  it('refuses autoscaling a service with sidecars above one replica', () => {
    const sidecar = { sidecars: { proxy: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' } } } };
    expect(() => normalize(full({ ...requests, ...sidecar, autoscale: RANGE }))).toThrow(`${WHERE}: services.api.autoscale.max is 5, but service "api" has sidecars`);
  });
});
