import { describe, expect, it } from 'vitest';
import { appNetworks, serviceNetworks } from './compose-networks';

const services = [
  { name: 'web', networkMode: null, published: false },
  { name: 'web-migrate', networkMode: null, published: false },
  { name: 'web-exporter', networkMode: 'service:web', published: false },
  { name: 'worker', networkMode: null, published: false },
  { name: 'sniffer', networkMode: 'host', published: false },
];
const none = { ingress: null, metrics: null, dependsOn: [] as string[], allowInternet: false };

describe('appNetworks', () => {
  it.each([
    ['needs no shared component: stays on its default network alone', none, []],
    ['has a host: the service behind it', { ...none, ingress: 'web' }, ['web']],
    ['serves metrics: the service that serves them', { ...none, metrics: 'worker' }, ['worker']],
    ['has a host and metrics on two services', { ...none, ingress: 'web', metrics: 'worker' }, ['web', 'worker']],
    ['depends on postgres: every service in a network of its own (init containers and jobs too)', { ...none, dependsOn: ['postgres'] }, ['web', 'web-migrate', 'worker']],
    ['depends on monitoring (reached over the network)', { ...none, dependsOn: ['monitoring'] }, ['web', 'web-migrate', 'worker']],
    ['depends on logging and backup only (they reach apps through the Docker socket)', { ...none, dependsOn: ['logging', 'backup', 'cert-manager'] }, []],
  ])('an app that %s', (_what, roles, shared) => {
    expect(appNetworks(services, roles).shared).toEqual(shared);
  });

  it('never puts a service that has a network_mode (a sidecar, host networking) on a network', () => {
    expect(appNetworks(services, { ...none, ingress: 'sniffer', dependsOn: ['postgres'] }).shared).not.toContain('sniffer');
    expect(appNetworks(services, { ...none, dependsOn: ['postgres'] }).shared).not.toContain('web-exporter');
  });

  it('makes the default network internal when the spec closes egress (the default) and nothing is published', () => {
    expect(appNetworks(services, none)).toMatchObject({ internal: true, notInternal: null });
    expect(appNetworks(services, { ...none, allowInternet: true })).toMatchObject({ internal: false, notInternal: null });
  });

  it('declares no internal default network when every service is in another network namespace (host networking): Compose drops an unused network', () => {
    const onTheHost = [
      { name: 'server', networkMode: 'host', published: false },
      { name: 'scheduler', networkMode: 'none', published: false },
    ];
    expect(appNetworks(onTheHost, none)).toEqual({ shared: [], internal: false, notInternal: null });
  });

  it('keeps a routed default network for an app that publishes a port, and says why', () => {
    const published = services.map((s) => (s.name === 'web' ? { ...s, published: true } : s));

    expect(appNetworks(published, none)).toEqual({ shared: [], internal: false, notInternal: 'web publishes a port, which Docker does not do on an internal network' });
    expect(appNetworks(published, { ...none, allowInternet: true }).notInternal).toBeNull();
  });
});

describe('serviceNetworks', () => {
  it("names the project's default network beside the environment's, or leaves Compose's default", () => {
    const networks = appNetworks(services, { ...none, ingress: 'web' });

    expect(serviceNetworks(networks, 'dev', 'web')).toEqual(['default', 'homelab-dev']);
    expect(serviceNetworks(networks, 'prod', 'web')).toEqual(['default', 'homelab-prod']);
    expect(serviceNetworks(networks, 'dev', 'worker')).toBeNull();
  });
});
