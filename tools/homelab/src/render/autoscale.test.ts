import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../tests/support/spec';
import { parseDoc, parseDocs, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../spec/io';
import { normalizeApp } from '../app/normalize';
import type { AppSpec, FullAppSpec } from '../spec/types';
import { renderApp } from './app';
import type { RenderedFile } from './engine';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const render = (spec: AppSpec) => renderApp(normalizeApp(spec, workspace, new Map()));
const content = (files: RenderedFile[], file: string): string => {
  const found = files.find((f) => f.path === file);
  if (!found) throw new Error(`${file} was not rendered; rendered: ${files.map((f) => f.path).join(', ')}`);
  return found.content;
};
const generated = (env: string, app: string, file: string) => `applications/kubernetes/overlays/${env}/${app}/generated/${file}`;
const composeEnv = (env: string, app: string) => `applications/compose/environments/${env}/${app}/compose.generated.yaml`;

/** The shorthand autoscaled in prod only, on CPU. */
const PROD_ONLY = specOf('web', { resources: { requests: { cpu: '100m' } }, environments: { dev: {}, prod: { autoscale: { min: 2, max: 5, cpu: 70 } } } });

describe('autoscaling rendered', () => {
  it('renders a HorizontalPodAutoscaler in the overlay of the environment that autoscales, listed in its generated resources', () => {
    const files = render(PROD_ONLY);

    expect(parseDoc(content(files, generated('prod', 'web', 'kustomization.yaml'))).resources).toEqual(['prometheusrule.yaml', 'horizontalpodautoscaler.yaml', 'poddisruptionbudget.yaml', 'resourcequota.yaml', 'limitrange.yaml']);
    expect(parseDocs(content(files, generated('prod', 'web', 'horizontalpodautoscaler.yaml')))).toEqual([
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'homelab', 'app.kubernetes.io/managed-by': 'homelab' } },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 2,
          maxReplicas: 5,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
        },
      },
    ]);
  });

  it("removes the Deployment's replicas in that environment (a null in the workload patch), so ArgoCD leaves them to the autoscaler, and spreads the pods it may add", () => {
    const files = render(PROD_ONLY);

    const [patch] = parseDocs(content(files, generated('prod', 'web', 'workload-patch.yaml')));
    expect(patch).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: null } });
    // Up to autoscale.max 5 pods: spread over nodes (soft), as a Deployment of 5 replicas is.
    expect(patch.spec.template.spec.topologySpreadConstraints.map((c: { whenUnsatisfiable: string }) => c.whenUnsatisfiable)).toEqual(['ScheduleAnyway']);
  });

  it('runs autoscale.min replicas on Compose there', () => {
    const files = render(PROD_ONLY);

    expect(parseDoc(content(files, composeEnv('prod', 'web'))).services.web.deploy).toEqual({ replicas: 2 });
  });

  it('renders nothing of it in an environment that does not autoscale', () => {
    const paths = render(PROD_ONLY).map((f) => f.path);

    expect(paths).not.toContain(generated('dev', 'web', 'horizontalpodautoscaler.yaml'));
    expect(paths).not.toContain(generated('dev', 'web', 'workload-patch.yaml'));
    expect(render(specOf('web')).some((f) => f.path.endsWith('horizontalpodautoscaler.yaml'))).toBe(false);
  });

  it("names a service of the full form like its workload, with its component label and both targets, and starts the base's Deployment at the min", () => {
    const spec: FullAppSpec = {
      name: 'shop',
      services: {
        api: {
          image: { repository: 'traefik/whoami', tag: 'v1.10.4' },
          ports: [{ name: 'http', port: 8080, http: true }],
          resources: { requests: { cpu: '200m', memory: '128Mi' } },
          autoscale: { min: 2, max: 6, cpu: 60, memory: 80 },
        },
        worker: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' } },
      },
      environments: { prod: {} },
    };
    const files = render(spec);

    const [hpa] = parseDocs(content(files, generated('prod', 'shop', 'horizontalpodautoscaler.yaml')));
    expect(hpa.metadata).toEqual({ name: 'api', labels: { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/part-of': 'homelab', 'app.kubernetes.io/managed-by': 'homelab', 'app.kubernetes.io/component': 'api' } });
    expect(hpa.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name)).toEqual(['cpu', 'memory']);
    const deployments = parseDocs(content(files, 'applications/kubernetes/base/shop/deployment.yaml'));
    expect(deployments.map((d) => [d.metadata.name, d.spec.replicas])).toEqual([
      ['api', 2],
      ['worker', 1],
    ]);
    expect(parseDoc(content(files, 'applications/compose/base/shop/compose.yaml')).services.api.deploy.replicas).toBe(2);
    // Only the autoscaled service is patched.
    expect(parseDocs(content(files, generated('prod', 'shop', 'workload-patch.yaml'))).map((d) => [d.metadata.name, d.spec])).toEqual([['api', { replicas: null }]]);
  });
});
