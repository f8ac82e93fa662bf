import { describe, expect, it } from 'vitest';
import { normalizeApp } from '../app/normalize';
import { parseWorkspaceConfig } from '../spec/io';
import { specOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { networkIssues } from './networks';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const POSTGRES = new Map([['postgres', { kubernetes: true, namespace: 'postgres' }]]);

/** A merged Compose file as `docker compose config` writes it: every service names its networks, every network its engine name. */
function merged(project: string, services: Record<string, Record<string, unknown>>, networks: Record<string, unknown> = {}) {
  return { name: project, services, networks: { default: { name: `${project}_default`, internal: true }, ...networks } };
}
const shared = (env: string) => ({ [`homelab-${env}`]: { name: `homelab-${env}`, external: true } });

describe('networkIssues (parity/networks, parity/egress)', () => {
  const web = normalizeApp(specOf('web', { ingress: { host: 'web.example.org' } }), workspace, new Map());

  it('accepts what the spec renders', () => {
    expect(networkIssues(web, 'dev', merged('web-dev', { web: { networks: { default: null, 'homelab-dev': null } } }, shared('dev')))).toEqual([]);
  });

  it("reports another environment's network, and the environment's left out, naming both and the fix", () => {
    const issues = networkIssues(web, 'dev', merged('web-dev', { web: { networks: { default: null, 'homelab-prod': null } } }, shared('prod')));

    expect(issues).toEqual([
      {
        rule: 'parity/networks',
        message:
          'service web: Compose leaves out homelab-dev and joins homelab-prod, but it needs homelab-dev for Traefik (it serves the host), as its NetworkPolicy allows on Kubernetes; run `npx nx sync`, or take the change out of compose.override.yaml',
        path: ['services', 'web', 'networks'],
      },
    ]);
  });

  it("reports a shared network on a service that needs none, and leaves another app's network to its own rule", () => {
    const lonely = normalizeApp(specOf('lonely'), workspace, new Map());
    const doc = merged('lonely', { lonely: { networks: { default: null, homelab: null, 'other-app_default': null } } }, { homelab: { name: 'homelab', external: true }, 'other-app_default': { name: 'other-app_default', external: true } });

    expect(networkIssues(lonely, 'prod', doc).map((i) => i.message)).toEqual([
      'service lonely: Compose joins homelab, but it needs no shared component, and its NetworkPolicy opens no way to one on Kubernetes; run `npx nx sync`, or take the change out of compose.override.yaml',
    ]);
  });

  it('puts every service of an app that depends on postgres on the network, and leaves services with a network_mode to policy/host-network', () => {
    const notes = normalizeApp(specOf('notes', { dependsOn: ['postgres'] }), workspace, POSTGRES);

    expect(networkIssues(notes, 'prod', merged('notes', { notes: { networks: { default: null } } })).map((i) => i.message)).toEqual([
      expect.stringContaining('service notes: Compose leaves out homelab-prod, but it needs homelab-prod for its dependencies (postgres)'),
    ]);
    expect(networkIssues(notes, 'prod', merged('notes', { notes: { network_mode: 'host' } }))).toEqual([]);
  });

  it('reports a default network that routes to the internet when the spec closes egress, and not when the spec opens it', () => {
    const closed = normalizeApp(specOf('lonely'), workspace, new Map());
    const open = normalizeApp(specOf('lonely', { network: { allowInternet: true } }), workspace, new Map());
    const routed = { ...merged('lonely', { lonely: { networks: { default: null } } }), networks: { default: { name: 'lonely_default' } } };

    expect(networkIssues(closed, 'prod', routed)).toMatchObject([{ rule: 'parity/networks', path: ['networks', 'default'], message: expect.stringContaining('network.allowInternet is false') }]);
    expect(networkIssues(open, 'prod', routed)).toEqual([]);
  });

  it('warns (parity/egress) that an app publishing a port reaches the internet on Compose only', () => {
    const shown = normalizeApp(specOf('shown', { ports: [{ name: 'http', port: 8080, http: true, publish: { port: 18080 } }] }), workspace, new Map());
    const routed = { ...merged('shown', { shown: { networks: { default: null } } }), networks: { default: { name: 'shown_default' } } };

    expect(networkIssues(shown, 'prod', routed)).toEqual([
      {
        rule: 'parity/egress',
        message:
          "network.allowInternet is false, so Kubernetes allows no egress to the internet, but on Compose the app's containers reach it: shown publishes a port, which Docker does not do on an internal network; accept the difference, or set network.allowInternet: true",
        path: ['networks', 'default'],
      },
    ]);
  });
});
