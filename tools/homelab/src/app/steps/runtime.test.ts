import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import type { ServiceSpec } from '../../spec/types';
import { normalizeRuntime } from './runtime';

const WHERE = 'applications/specs/media.yaml';
const image = { repository: 'example/media', tag: '1' };
const runtime = (service: Partial<ServiceSpec>) => normalizeRuntime({ image, ...service }, WHERE, 'services.server.');

describe('normalizeRuntime', () => {
  it('asks for nothing by default', () => {
    expect(runtime({})).toMatchObject({ hasComposeDevices: false, hasHostDevices: false, extendedResources: {}, gpu: null, hasGroupAdd: false, shm: null, hasExtraHosts: false, init: false, stopGracePeriod: null });
  });

  it("passes a device through on Compose, and asks Kubernetes for its device plugin's resource", () => {
    const r = runtime({ devices: [{ path: '/dev/dri', resource: 'gpu.intel.com/i915' }], groupAdd: [44, 105] });

    expect(r.composeDevices).toEqual(['/dev/dri:/dev/dri']);
    expect(r.hostDevices).toEqual([]);
    expect(r.extendedResources).toEqual({ 'gpu.intel.com/i915': '1' });
    expect(r.groupAdd).toEqual([44, 105]);
  });

  it('mounts a device without a plugin as a hostPath on Kubernetes, which needs privileged mode', () => {
    const r = runtime({ devices: [{ path: '/dev/ttyUSB0' }], security: { privileged: 'a USB radio stick' } });

    expect(r.hostDevices).toEqual([{ name: 'device-0', path: '/dev/ttyUSB0' }]);
    expect(r.composeDevices).toEqual(['/dev/ttyUSB0:/dev/ttyUSB0']);
  });

  it('refuses a device without a plugin on a service that is not privileged, naming both fixes', () => {
    expect(inputErrorOf(() => runtime({ devices: [{ path: '/dev/ttyUSB0' }] }))).toBe(
      `${WHERE}: services.server.devices[0] "/dev/ttyUSB0" has no device plugin resource, and a hostPath device on Kubernetes needs privileged mode; add services.server.security.privileged with its reason, or the device plugin's resource (e.g. resource: gpu.intel.com/i915)`,
    );
  });

  it.each([
    ['GPUs of NVIDIA', { gpus: { resource: 'nvidia.com/gpu', count: 2 } }, { extendedResources: { 'nvidia.com/gpu': '2' }, gpu: { count: 2, driver: 'nvidia' } }],
    ['/dev/shm', { shmSize: '128Mi' }, { shm: { size: '128Mi', composeSize: '128m' } }],
    ['host names, grouped by address', { extraHosts: { 'router.lan': '192.0.2.1', 'gw.lan': '192.0.2.1' } }, { hostAliases: [{ ip: '192.0.2.1', hostnames: ['router.lan', 'gw.lan'] }], hasExtraHosts: true }],
    ['an init process', { init: true }, { init: true }],
    ['a stop grace period', { stopGracePeriod: '1h2m3s' }, { stopGracePeriod: { compose: '1h2m3s', seconds: 3723 } }],
  ])('renders %s', (_what, service, expected) => {
    expect(runtime(service)).toMatchObject(expected);
  });
});
