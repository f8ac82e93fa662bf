import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../tests/support/spec';
import { parseDoc, parseDocs, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { normalizeApp } from '../app/normalize';
import { parseWorkspaceConfig } from '../spec/io';
import type { AppSpec } from '../spec/types';
import { renderApp } from './app';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const render = (spec: AppSpec) => new Map(renderApp(normalizeApp(spec, workspace, new Map())).map((f) => [f.path, f.content]));
const BASE = 'applications/kubernetes/base/web/deployment.yaml';
const generated = (env: string, file: string) => `applications/kubernetes/overlays/${env}/web/generated/${file}`;
const podSpec = (deployment: string) => parseDoc(deployment).spec.template.spec;
const SPREAD = (whenUnsatisfiable: string) => [
  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable, labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } }, matchLabelKeys: ['pod-template-hash'] },
];
/** An environment's spread replaces the base's: kustomize keys the list by topologyKey and whenUnsatisfiable, and would keep both. */
const PATCHED_SPREAD = (whenUnsatisfiable: string) => [{ $patch: 'replace' }, ...SPREAD(whenUnsatisfiable)];
const LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'homelab', 'app.kubernetes.io/managed-by': 'homelab' };

describe('renderApp: replicated services', () => {
  it('a service with 3 replicas gets a budget in every environment, a soft spread and a rolling update that never drops below the ready count', () => {
    const files = render(specOf('web', { replicas: 3 }));
    const deployment = parseDoc(files.get(BASE)!);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(podSpec(files.get(BASE)!).topologySpreadConstraints).toEqual(SPREAD('ScheduleAnyway'));
    for (const env of ['dev', 'prod']) {
      expect(parseDoc(files.get(generated(env, 'kustomization.yaml'))!).resources).toContain('poddisruptionbudget.yaml');
      expect(parseDocs(files.get(generated(env, 'poddisruptionbudget.yaml'))!)).toEqual([
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', labels: LABELS }, spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } } } },
      ]);
      // The base's spread serves: no patch repeats it.
      expect(files.has(generated(env, 'workload-patch.yaml'))).toBe(false);
    }
  });

  it('a service with 1 replica gets neither a budget nor a spread', () => {
    const files = render(specOf('web'));
    expect(podSpec(files.get(BASE)!).topologySpreadConstraints).toBeUndefined();
    for (const env of ['dev', 'prod']) {
      expect(files.has(generated(env, 'poddisruptionbudget.yaml'))).toBe(false);
      expect(parseDoc(files.get(generated(env, 'kustomization.yaml'))!).resources ?? []).not.toContain('poddisruptionbudget.yaml');
    }
  });

  it('a service of 1 replica that prod runs 3 of spreads and is budgeted in prod only', () => {
    const files = render(specOf('web', { environments: { dev: {}, prod: { replicas: 3, availability: { minAvailable: 2 }, spread: 'hard' } } }));
    expect(podSpec(files.get(BASE)!).topologySpreadConstraints).toBeUndefined();
    expect(files.has(generated('dev', 'poddisruptionbudget.yaml'))).toBe(false);
    expect(parseDoc(files.get(generated('prod', 'poddisruptionbudget.yaml'))!).spec).toEqual({ minAvailable: 2, selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } } });
    const patch = parseDoc(files.get(generated('prod', 'workload-patch.yaml'))!);
    expect(patch.spec.replicas).toBe(3);
    expect(patch.spec.template.spec.topologySpreadConstraints).toEqual(SPREAD('DoNotSchedule'));
  });

  it("an environment that only hardens the base's spread patches it; one that runs 1 replica keeps the base's", () => {
    const files = render(specOf('web', { replicas: 2, environments: { dev: { replicas: 1 }, prod: { spread: 'hard' } } }));
    expect(podSpec(files.get(BASE)!).topologySpreadConstraints).toEqual(SPREAD('ScheduleAnyway'));
    expect(parseDoc(files.get(generated('prod', 'workload-patch.yaml'))!).spec).toEqual({ template: { spec: { topologySpreadConstraints: PATCHED_SPREAD('DoNotSchedule') } } });
    expect(parseDoc(files.get(generated('dev', 'workload-patch.yaml'))!).spec).toEqual({ replicas: 1 });
    expect(files.has(generated('dev', 'poddisruptionbudget.yaml'))).toBe(false);
  });

  it('a service of the full form is budgeted under its own name and component label; its jobs are not', () => {
    const spec: AppSpec = {
      name: 'web',
      services: {
        api: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }], replicas: 2 },
        migrate: { kind: 'job', image: { repository: 'traefik/whoami', tag: 'v1.10.4' } },
      },
    };
    const selector = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/component': 'api' };
    expect(parseDocs(render(spec).get(generated('prod', 'poddisruptionbudget.yaml'))!)).toEqual([
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api', labels: { ...LABELS, ...selector } }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
    ]);
  });
});
