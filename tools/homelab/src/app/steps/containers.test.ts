import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, ServiceSpec } from '../../spec/types';
import { normalizeApp } from '../normalize';

const where = 'applications/specs/stack.yaml';
const image = { repository: 'example/app', tag: '1.0.0' };
const full = (services: Record<string, Partial<ServiceSpec>>, extra: Partial<AppSpec> = {}): AppSpec =>
  ({ name: 'stack', services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { image, ...v }])), ...extra }) as AppSpec;
const normalize = (spec: AppSpec) => normalizeApp(spec, parseWorkspaceConfig(WORKSPACE_YAML), new Map());
const refusal = (spec: AppSpec) => inputErrorOf(() => normalize(spec));

const exporter = { image: { repository: 'example/exporter', tag: '2.0.0' }, ports: [{ name: 'metrics', port: 9100 }] };

describe('init containers and sidecars of a service', () => {
  it('keeps init containers in order and runs the service image where they name none, with the hardened defaults and their own opt-ins', () => {
    const app = normalize(
      full({
        web: {
          ports: [{ name: 'http', port: 8080, http: true }],
          initContainers: [
            { name: 'chown', entrypoint: ['chown'], command: ['-R', '1000', '/data'], mounts: [{ volume: 'data', path: '/data' }], security: { runAsRoot: 'hands the volume to uid 1000', capabilities: { CHOWN: 'changes the owner' } } },
            { name: 'seed', image: { repository: 'example/seed', tag: '3' }, env: { TARGET: '/data' } },
          ],
          sidecars: { exporter },
        },
      }, { volumes: { data: { size: '1Gi' } } }),
    );
    const [web] = app.services;

    expect(web.initContainers.map((c) => [c.name, c.composeName, c.image, c.inheritsImage])).toEqual([
      ['chown', 'web-chown', 'example/app:1.0.0', true],
      ['seed', 'web-seed', 'example/seed:3', false],
    ]);
    expect(web.initContainers[0].security).toMatchObject({ runAsUser: 0, runAsNonRoot: false, capabilities: ['CHOWN'], readOnlyRootFilesystem: true, privileged: false });
    expect(web.initContainers[1].security).toMatchObject({ runAsUser: 65532, runAsNonRoot: true, capabilities: [], optIns: [] });
    // A sidecar's ports are the service's Service's and, on Compose, the service's (a sidecar joins its network).
    expect(web.servicePorts.map((p) => p.name)).toEqual(['http', 'metrics']);
    expect(web.compose.expose).toEqual([8080, 9100]);
    // Compose: the service waits for each init container, the first waits for what the service waits for, each next for the one before.
    const compose = Object.fromEntries(app.composeServices.map((s) => [s.name, s]));
    expect(Object.keys(compose)).toEqual(['web', 'web-chown', 'web-seed', 'web-exporter']);
    expect(compose.web.compose.dependsOn.map((d) => `${d.service}:${d.condition}`)).toEqual(['web-chown:service_completed_successfully', 'web-seed:service_completed_successfully']);
    expect(compose['web-seed'].compose.dependsOn.map((d) => `${d.service}:${d.condition}`)).toEqual(['web-chown:service_completed_successfully']);
    expect(compose['web-chown'].compose).toMatchObject({ restart: 'no', networkMode: null, labels: { 'homelab.kind': 'init' } });
    // The first init container of a service that waits for nothing has no depends_on (Compose refuses an empty one).
    expect(compose['web-chown'].compose).toMatchObject({ dependsOn: [], hasDependsOn: false });
    expect(compose['web-exporter'].compose).toMatchObject({ restart: 'unless-stopped', networkMode: 'service:web', expose: [], dependsOn: [{ service: 'web', condition: 'service_started' }] });
  });

  it('shares a tmpfs volume the service mounts with its sidecar as a tmpfs volume of the service, with its init containers as one on disk', () => {
    const tmpfs = { tmpfs: { size: '1Mi' } };
    const app = normalize(
      full({
        web: { mounts: [{ volume: 'cache', path: '/cache' }, { volume: 'seeded', path: '/seeded' }], sidecars: { exporter: { ...exporter, mounts: [{ volume: 'cache', path: '/cache' }] } }, initContainers: [{ name: 'seed', mounts: [{ volume: 'seeded', path: '/out' }] }] },
        alone: { mounts: [{ volume: 'cache', path: '/cache' }] },
      }, { volumes: { cache: tmpfs, seeded: tmpfs } }),
    );

    expect(app.composeVolumes).toEqual([
      { name: 'web-cache', backupLabel: null, driverOpts: { type: 'tmpfs', o: 'size=1048576,mode=1777', device: 'tmpfs' }, external: null, scratch: { 'homelab.scratch': 'true' } },
      { name: 'web-seeded', backupLabel: null, driverOpts: null, external: null, scratch: { 'homelab.scratch': 'true' } },
    ]);
    // A service that mounts a tmpfs alone keeps its own tmpfs mount, as before.
    expect(app.services[1].compose.mounts).toEqual([{ type: 'tmpfs', source: null, target: '/cache', readOnly: false, subPath: null, tmpfsBytes: 1048576 }]);
    // Kubernetes: one emptyDir in the pod.
    expect(app.services[0].podVolumes.map((v) => [v.name, v.tmpfs])).toEqual([['cache', { size: '1Mi' }], ['seeded', { size: '1Mi' }]]);
  });

  it.each([
    ['init containers on a cron service', { kind: 'cron', schedule: '0 * * * *', initContainers: [{ name: 'prep' }] }, `${where}: services.web.initContainers is set on a cron service, which has no start to run them before; put the step in services.web.command, or make it a service of kind job`],
    ['sidecars on a job', { kind: 'job', sidecars: { exporter } }, `${where}: services.web.sidecars is set on a service of kind "job", whose run a sidecar would keep from completing; remove services.web.sidecars or make web kind: service`],
    ['sidecars on a cron service', { kind: 'cron', schedule: '0 * * * *', sidecars: { exporter } }, `${where}: services.web.sidecars is set on a service of kind "cron", whose run a sidecar would keep from completing; remove services.web.sidecars or make web kind: service`],
    ['an init container named like the service', { initContainers: [{ name: 'web' }] }, `${where}: services.web.initContainers[0].name "web" is the service's own container name "web"; rename the container (the names of a pod's containers are unique)`],
    ['a sidecar named like an init container', { initContainers: [{ name: 'exporter' }], sidecars: { exporter } }, `${where}: services.web.sidecars "exporter" is the name of another init container or sidecar of "web"; rename the container (the names of a pod's containers are unique)`],
    ['a sidecar on a service of two replicas', { replicas: 2, sidecars: { exporter } }, `${where}: services.web.replicas is 2, but service "web" has sidecars, which on Compose join the network of one container; use replicas 1, or make the sidecar a service of its own`],
    ['a sidecar port that is the service\'s', { ports: [{ name: 'http', port: 9100 }], sidecars: { exporter } }, `${where}: services.web.sidecars[].ports[].port "9100/TCP" appears twice; give each port of web's pod its own number: its containers share one network`],
    ['a published sidecar port', { sidecars: { exporter: { ports: [{ name: 'metrics', port: 9100, publish: {} }] } } }, `${where}: services.web.sidecars.exporter.ports[0].publish is set on a sidecar's port, which is reached inside the app only; remove publish (publish or probe a port of the service itself)`],
    ['a secret of an init container the app does not have', { initContainers: [{ name: 'prep', secrets: ['NOPE'] }] }, `${where}: services.web.initContainers[0].secrets[0] "NOPE" is not a key of the app's secrets; declare it under secrets (with its remoteKey) or write { key: NOPE, remoteKey: ... } here`],
    ['a sidecar mount of a volume the app does not have', { sidecars: { exporter: { mounts: [{ volume: 'nope', path: '/x' }] } } }, `${where}: services.web.sidecars.exporter.mounts[0].volume "nope" is not a volume of the app; add it under volumes`],
    ['an init container that mounts at /tmp', { initContainers: [{ name: 'prep', mounts: [{ volume: 'data', path: '/tmp' }] }] }, `${where}: services.web.initContainers[0].mounts[].path "/tmp" appears twice; mount each volume at its own path (homelab mounts /tmp itself)`],
  ] as [string, Partial<ServiceSpec>, string][])('refuses %s in one line naming it and the fix', (_, web, message) => {
    const volumes = { data: { size: '1Gi' } };
    expect(refusal(full({ web }, web.sidecars?.exporter?.mounts?.[0]?.volume === 'nope' ? {} : { volumes }))).toBe(message);
  });

  it('refuses a sidecar on a service an environment scales above one replica', () => {
    expect(refusal(full({ web: { sidecars: { exporter } } }, { environments: { prod: { services: { web: { replicas: 3 } } } } }))).toBe(
      `${where}: environments.prod.services.web.replicas is 3, but service "web" has sidecars, which on Compose join the network of one container; use replicas 1, or make the sidecar a service of its own`,
    );
  });

  it('refuses an init container whose Compose service is already another service of the app', () => {
    expect(refusal(full({ web: { initContainers: [{ name: 'migrate' }] }, 'web-migrate': {} }))).toBe(
      `${where}: services.web.initContainers[0] runs on Compose as the service "web-migrate", which is already the service "web-migrate"; rename the init container or that service`,
    );
  });

  it('refuses a sidecar whose Compose service another service\'s container already is', () => {
    expect(refusal(full({ a: { sidecars: { 'b-c': exporter } }, 'a-b': { initContainers: [{ name: 'c' }] } }))).toBe(
      `${where}: services.a-b.initContainers[0] runs on Compose as the service "a-b-c", which is already the Compose service of sidecar "b-c" of service "a"; rename the init container or that service`,
    );
  });
});
