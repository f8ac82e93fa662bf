import { describe, expect, it } from 'vitest';
import { WORKSPACE_YAML, workspaceTree } from '../../../../tests/support/workspace';
import { treeHost } from '../host';
import { ARGOCD_CRDS, crdSources } from './catalog';
import { crdOwners, workspaceCrdSources } from './crds';
import { generateInfra } from './generate';
import { generateInit } from '../platform/init';

/** A workspace (fresh-clone homelab.yaml, `backup.provider` replaced, with the S3 bucket Velero and k8up need) with the platform initialised or not and these components. */
function workspace(options: { init: boolean; components: string[]; provider?: string }) {
  const yaml = options.provider
    ? WORKSPACE_YAML.replace('provider: volsync', `provider: ${options.provider}\n  s3: { endpoint: "https://s3.example.org", bucket: homelab }`)
    : WORKSPACE_YAML;
  const host = treeHost(workspaceTree(yaml).tree);
  if (options.init) generateInit(host, {});
  for (const component of options.components) generateInfra(host, { component, email: 'admin@example.org' });
  return host;
}

const projects = (host: ReturnType<typeof workspace>) => workspaceCrdSources(host).map((s) => s.project);

describe('workspaceCrdSources: the CRDs a cluster running the workspace needs (what the CI job installs)', () => {
  it('is nothing for a workspace without platform or components', () => {
    expect(projects(workspace({ init: false, components: [] }))).toEqual([]);
  });

  it("is ArgoCD's once the platform is initialised, then each component's in catalog order", () => {
    expect(projects(workspace({ init: true, components: ['postgres', 'cert-manager'] }))).toEqual(['argo-cd', 'cert-manager', 'cloudnative-pg', 'plugin-barman-cloud']);
  });

  it.each([
    ['volsync', 'volsync'],
    ['velero', 'velero'],
    ['k8up', 'k8up'],
  ])("installs only the backup provider's CRDs (%s)", (provider, project) => {
    expect(projects(workspace({ init: true, components: ['backup'], provider }))).toEqual(['argo-cd', project]);
  });

  it('takes each source at the version the catalog pins, without repeats', () => {
    const host = workspace({ init: true, components: ['external-secrets', 'ingress', 'monitoring', 'logging', 'postgres'] });
    const pinned = new Map(crdSources().map((s) => [s.project, s.version]));
    const sources = workspaceCrdSources(host);

    expect(sources.map((s) => s.project)).toEqual(['argo-cd', 'traefik', 'gateway-api', 'external-secrets', 'prometheus-operator', 'cloudnative-pg', 'plugin-barman-cloud']);
    for (const s of sources) expect(s.version).toBe(pinned.get(s.project));
  });
});

describe('crdOwners: who installs the CRDs of a module', () => {
  it.each([
    [ARGOCD_CRDS.module, ['argocd']],
    ['github.com/backube/volsync', ['backup']],
    ['sigs.k8s.io/gateway-api', ['ingress']],
    ['github.com/cloudnative-pg/cloudnative-pg', ['postgres']],
    ['example.org/not-in-the-catalog', []],
  ])('%s -> %j', (module, owners) => {
    expect(crdOwners(module)).toEqual(owners);
  });
});
