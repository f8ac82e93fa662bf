import { describe, expect, it } from 'vitest';
import { checkedWithProject } from './project';

describe('checkedWithProject: the files of a project validate parses with its other files', () => {
  // Validate skips the render core's parse-back for a rendered file equal to the one on disk only
  // when the file is one of these: every other rendered YAML file is still parsed back.
  it.each([
    ['applications/kubernetes/base/web/deployment.yaml', true],
    ['applications/kubernetes/base/web/components/monitoring/servicemonitor.yaml', true],
    ['applications/kubernetes/overlays/dev/web/generated/kustomization.yaml', true],
    ['applications/compose/base/web/compose.yaml', true],
    ['applications/compose/environments/prod/web/compose.generated.yaml', true],
    ['platform/argocd/applications/dev/web.yaml', true],
    // What the Compose Prometheus reads of the app, its alerts per environment: parsed with its files.
    ['applications/compose/monitoring/rules/dev/web.yaml', true],
  ])('%s: yes', (file, expected) => expect(checkedWithProject('applications', 'web', file)).toBe(expected));

  it.each([
    // Its Compose Grafana dashboard is JSON, not parsed back; another app's rules, and a nested file.
    ['applications/compose/monitoring/dashboards/web.json'],
    ['applications/compose/monitoring/rules/dev/webshop.yaml'],
    ['applications/compose/monitoring/rules/dev/x/web.yaml'],
    ['applications/runbooks/web.md'],
    ['applications/specs/web.yaml'],
    // Another app's files, and a component's.
    ['applications/kubernetes/base/webshop/deployment.yaml'],
    ['applications/kubernetes/overlays/dev/webshop/kustomization.yaml'],
    ['platform/argocd/applications/dev/webshop.yaml'],
    ['infrastructure/kubernetes/base/web/deployment.yaml'],
    // A folder, not a file in it.
    ['applications/kubernetes/base/web'],
    ['applications/kubernetes/overlays/dev/web'],
    ['platform/argocd/applications/web.yaml'],
  ])('%s: no', (file) => expect(checkedWithProject('applications', 'web', file)).toBe(false));
});
