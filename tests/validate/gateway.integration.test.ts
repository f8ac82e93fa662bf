import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, parseDoc, removeDir, workspaceYamlWith } from '../support/workspace';

/**
 * `ingress.kind: httproute` wired end to end in a workspace made by the generators: the ingress
 * component renders the Gateway the apps' HTTPRoutes name, with a listener per host, brought up
 * to date when an app is added; `validate` refuses an HTTPRoute whose Gateway nothing renders.
 * (tests/kubernetes-api/gateway.test.ts sends the same objects to the real API server.)
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const GATEWAY = 'infrastructure/kubernetes/overlays/prod/ingress/generated/gateway.yaml';
const OVERLAY = 'infrastructure/kubernetes/overlays/prod/ingress/kustomization.yaml';

describe.skipIf(kubectl.skip || compose.skip)('the Gateway of ingress.kind httproute', () => {
  let root: string;
  const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
  const noGateway = () => validateProject(root, 'applications', 'whoami').filter((f) => f.rule === 'route/no-gateway');

  beforeAll(() => {
    root = makeDiskWorkspace('gateway', workspaceYamlWith((c) => (c.ingress = { ...c.ingress, kind: 'httproute' })));
    const host = diskHost(root);
    generateInit(host, {});
    generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80, host: 'whoami.home.example.org' });
  });
  afterAll(() => removeDir(root));

  it('refuses the HTTPRoute while no component renders its Gateway, naming it and the fix', () => {
    const findings = noGateway();
    expect(findings.map((f) => f.file)).toEqual(['applications/kubernetes/base/whoami/httproute.yaml', 'applications/kubernetes/base/whoami/httproute.yaml']);
    expect(findings.map((f) => f.message)).toEqual(
      ['dev', 'prod'].map(
        (env) =>
          `HTTPRoute whoami attaches to Gateway traefik/homelab, which nothing renders for the cluster of ${env}; add the ingress component (\`npx nx g homelab:infra ingress\`) and keep \`components: [generated]\` in infrastructure/kubernetes/overlays/prod/ingress/kustomization.yaml, or name its Gateway in homelab.yaml ingress.gateway`,
      ),
    );
  });

  it('renders the Gateway with the ingress component: a listener per host of the apps, updated when an app is added', () => {
    const host = diskHost(root);
    generateInfra(host, { component: 'ingress', email: 'admin@example.org' });
    expect(parseDoc(read(OVERLAY)).components).toEqual(['generated']);
    const hostnames = () => parseDoc(read(GATEWAY)).spec.listeners.map((l: { hostname?: string }) => l.hostname ?? null);
    expect(hostnames()).toEqual([null, 'whoami.dev.home.example.org', 'whoami.home.example.org']);

    generateApp(host, { name: 'notes', image: 'ghcr.io/example/notes:2.1.0', port: 8080, host: 'notes.home.example.org' });
    expect(hostnames()).toEqual([null, 'notes.dev.home.example.org', 'notes.home.example.org', 'whoami.dev.home.example.org', 'whoami.home.example.org']);
    expect(noGateway()).toEqual([]);
    expect(validateProject(root, 'infrastructure', 'ingress').filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('refuses the HTTPRoute again when the overlay no longer includes the generated Gateway', () => {
    const saved = read(OVERLAY);
    try {
      fs.writeFileSync(path.join(root, OVERLAY), saved.replace(/components:\n(.*\n)*/, ''));
      expect(noGateway().map((f) => f.message)).toEqual([expect.stringContaining('keep `components: [generated]` in infrastructure/kubernetes/overlays/prod/ingress/kustomization.yaml'), expect.anything()]);
    } finally {
      fs.writeFileSync(path.join(root, OVERLAY), saved);
    }
  });
});
