import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldPath, noCrdMessage } from '../../tools/homelab/src/validate/server';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * The pure parts of `--server-dry-run` (validate/server.ts); the command itself runs against the
 * real API server in tests/kubernetes-api/server-dry-run.test.ts.
 */
describe('fieldPath: the field the server names, as a path in the object (so the finding gets its line)', () => {
  it.each([
    ['The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0', ['spec', 'replicas']],
    [
      'Deployment.apps "web" is invalid: spec.template.spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535',
      ['spec', 'template', 'spec', 'containers', 0, 'ports', 1, 'containerPort'],
    ],
    ['ConfigMap "x" is invalid: metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters', ['metadata', 'labels']],
    ['Warning: unknown field "spec.foo"', []],
    ['the server could not find the requested resource', []],
  ])('%s -> %j', (message, expected) => {
    expect(fieldPath(message)).toEqual(expected);
  });
});

describe('noCrdMessage: who installs the CRD a kind needs', () => {
  let root: string;
  beforeAll(() => {
    root = makeTempDir('server-no-crd');
    fs.mkdirSync(path.join(root, 'infrastructure/specs'), { recursive: true });
    fs.writeFileSync(path.join(root, 'infrastructure/specs/monitoring.yaml'), 'name: monitoring\n');
  });
  afterAll(() => removeDir(root));

  const obj = (apiVersion: string, kind: string) => ({ apiVersion, kind, metadata: { name: 'x' } });
  const overlay = 'applications/kubernetes/overlays/dev/web';

  it('names the component of the workspace whose charts bring the CRD', () => {
    expect(noCrdMessage(obj('monitoring.coreos.com/v1', 'PrometheusRule'), overlay, root)).toBe(
      `PrometheusRule x (monitoring.coreos.com/v1) of ${overlay}: the cluster serves no PrometheusRule of monitoring.coreos.com, its CRD is not installed; it comes with the component monitoring: install monitoring's CRDs on the cluster first (\`npx tsx scripts/crds/install.ts\` installs every CRD the workspace's components need)`,
    );
  });

  it('says when the workspace does not have that component, and how to add it', () => {
    expect(noCrdMessage(obj('volsync.backube/v1alpha1', 'ReplicationSource'), overlay, root)).toContain(
      'it comes with the component backup, which this workspace does not have (add it with `npx nx g homelab:infra backup`)',
    );
  });

  it('sends ArgoCD kinds to ArgoCD, installed by hand', () => {
    expect(noCrdMessage(obj('argoproj.io/v1alpha1', 'AppProject'), 'platform/argocd/bootstrap', root)).toContain('it comes with ArgoCD, which is installed by hand before the bootstrap');
  });

  it("leaves a kind of no catalog CRD to the user's own CRD", () => {
    expect(noCrdMessage(obj('example.org/v1', 'Widget'), overlay, root)).toMatch(/; install the CRD that defines it on the cluster first \(and `homelab schemas add <crd\.yaml>` for the offline checks\)$/);
  });
});
