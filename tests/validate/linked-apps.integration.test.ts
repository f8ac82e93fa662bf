import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from '../support/spec';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * validate on two apps linked by dependsOn (web depends on api), with the real kustomize and
 * `docker compose config`: both validate clean as rendered (their NetworkPolicies, the backup
 * movers' policy, the Compose networks with `x-homelab-app` and the aliases pass every rule),
 * and a change of the dependent's dependsOn without `nx sync` is reported in the dependency.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const STORE = 'apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: homelab\nspec:\n  provider:\n    kubernetes:\n      remoteNamespace: homelab-secrets\n      auth:\n        serviceAccount:\n          name: external-secrets\n          namespace: external-secrets\n';

describe.skipIf(kubectl.skip || compose.skip)('validate on apps that depend on apps', () => {
  let ws = '';

  beforeAll(() => {
    ws = makeDiskWorkspace('validate-linked', WORKSPACE_YAML);
    fs.mkdirSync(path.join(ws, 'platform/secrets/stores'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'platform/secrets/stores/homelab.yaml'), STORE);
    const host = diskHost(ws);
    writeSpec(host, specOf('api', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }] }));
    writeSpec(host, specOf('web', { dependsOn: ['api'] }));
    syncAll(host);
  });
  afterAll(() => removeDir(ws));

  it('both validate clean as rendered', () => {
    expect(validateProject(ws, 'applications', 'api')).toEqual([]);
    expect(validateProject(ws, 'applications', 'web')).toEqual([]);
  });

  it("reports the dependency's files when the dependent stops depending on it without nx sync", () => {
    const spec = path.join(ws, 'applications/specs/web.yaml');
    const saved = fs.readFileSync(spec, 'utf8');
    try {
      fs.writeFileSync(spec, saved.replace(/dependsOn:\n\s+- api\n/, ''));
      const findings = validateProject(ws, 'applications', 'api').map((f) => `${f.rule} ${f.file}`);

      expect(findings).toEqual(
        expect.arrayContaining([
          'sync/stale applications/kubernetes/overlays/dev/api/generated/networkpolicy.yaml',
          'sync/drift applications/compose/environments/dev/api/compose.generated.yaml',
        ]),
      );
    } finally {
      fs.writeFileSync(spec, saved);
    }
  });
});
