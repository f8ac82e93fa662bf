import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../tools/homelab/src/component/catalog';
import { classify, isHomelabContent, projectOfPath } from '../../tools/homelab/src/validate/classify';
import { RULE_BY_ID } from '../../tools/homelab/src/validate/rules';

describe('classify: one answer for both front doors', () => {
  it.each([
    ['homelab.yaml', 'workspace'],
    ['applications/specs/web.yaml', 'app-spec'],
    ['applications/specs/web/nginx.yaml', 'compose-config'],
    ['applications/specs/web/conf/settings.json', 'compose-config'],
    ['infrastructure/specs/logging.yaml', 'infra-spec'],
    ['platform/secrets/specs/onepassword.yaml', 'store-spec'],
    ['schemas/custom/example.org/widget_v1.json', 'custom-schema'],
    ['applications/compose/base/web/compose.yaml', 'compose'],
    ['applications/compose/environments/dev/web/compose.override.yaml', 'compose'],
    ['infrastructure/compose/base/monitoring/prometheus.yml', 'compose-config'],
    ['infrastructure/compose/base/logging/loki.yaml', 'compose-config'],
    ['infrastructure/kubernetes/base/logging/values.yaml', 'helm-values'],
    ['infrastructure/kubernetes/overlays/prod/logging/values-alloy.yaml', 'helm-values'],
    ['infrastructure/kubernetes/base/postgres/cluster.yaml', 'kubernetes'],
    ['applications/kubernetes/base/web/values.yaml', 'kubernetes'],
    ['platform/argocd/bootstrap/appprojects.yaml', 'kubernetes'],
    ['platform/secrets/stores/homelab.yaml', 'kubernetes'],
    ['applications/runbooks/web.md', 'skip'],
    ['infrastructure/compose/base/logging/config.alloy', 'skip'],
  ])('reads %s in a workspace as %s', (rel, kind) => {
    expect(classify(rel, true)).toBe(kind);
  });

  it.each([
    ['values.yaml', 'kubernetes'],
    ['deploy/prometheus.yml', 'kubernetes'],
    ['docker-compose.yml', 'compose'],
    ['notes.md', 'skip'],
  ])('reads %s outside a workspace by its name, as %s', (rel, kind) => {
    expect(classify(rel, false)).toBe(kind);
  });

  it('reads a workspace file outside the homelab content by its name, as outside a workspace', () => {
    expect(isHomelabContent('tsconfig.json')).toBe(false);
    expect(isHomelabContent('tools/homelab/package.json')).toBe(false);
    expect(classify('tsconfig.json', true)).toBe('kubernetes');
    expect(classify('infrastructure/kubernetes/base/logging/values.yaml', false)).toBe('kubernetes');
  });

  it('gives each file of a project, in every tree, its owner', () => {
    const infra = () => 'infrastructure' as const;
    expect(projectOfPath('applications/runbooks/web.md')).toEqual({ layer: 'applications', name: 'web' });
    expect(projectOfPath('infrastructure/compose/environments/prod/logging/compose.override.yaml')).toEqual({ layer: 'infrastructure', name: 'logging' });
    expect(projectOfPath('platform/argocd/applications/prod/logging.yaml', infra)).toEqual({ layer: 'infrastructure', name: 'logging' });
    expect(projectOfPath('platform/argocd/applications/prod/gone.yaml', () => null)).toBeNull();
    expect(projectOfPath('platform/argocd/bootstrap/root.yaml')).toBeNull();
    // What the Compose monitoring stack reads of an app: its dashboard and its rule file per environment.
    expect(projectOfPath('applications/compose/monitoring/dashboards/web.json')).toEqual({ layer: 'applications', name: 'web' });
    expect(projectOfPath('applications/compose/monitoring/rules/dev/web.yaml')).toEqual({ layer: 'applications', name: 'web' });
    expect(classify('applications/compose/monitoring/rules/dev/web.yaml', true)).toBe('compose-config');
  });
});

describe('policy exceptions of the catalog', () => {
  const exceptions = Object.entries(CATALOG).flatMap(([name, entry]) => (entry.policyExceptions ?? []).map((e) => ({ name, ...e, services: Object.keys(entry.images({})) })));

  it.each(exceptions)('$name: $service may break $rule, and says why', ({ service, rule, reason, services }) => {
    expect(services).toContain(service);
    expect(RULE_BY_ID.get(rule)?.class).toBe('policy');
    expect(reason.length).toBeGreaterThan(20);
  });
});
