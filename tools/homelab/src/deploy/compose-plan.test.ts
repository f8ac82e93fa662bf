import { describe, expect, it } from 'vitest';
import { displaced, parseCompose, planChanges, seconds, waitTimeoutSeconds } from './compose-plan';
import type { ContainerInfo } from './docker';

const RENDERED = `name: web-dev
services:
  web:
    image: homelab-test/busybox:2
    deploy:
      replicas: 3
    healthcheck:
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 10s
  db:
    image: postgres:16
    volumes:
      - type: volume
        source: data
        target: /var/lib/postgresql/data
    stop_grace_period: 1m30s
  cron:
    image: busybox:1
    container_name: cron
    deploy:
      replicas: 2
    healthcheck:
      disable: true
x-homelab:
  project: web-dev
  environment: dev
  secrets:
    keys: []
    services: []
`;

const model = parseCompose(RENDERED, 'dist/dev/compose/web/compose.yaml');

function container(service: string, overrides: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `${service}-${Math.random()}`,
    name: `web-dev-${service}-1`,
    service,
    status: 'running',
    running: true,
    restarting: false,
    exitCode: 0,
    restartCount: 0,
    configHash: `hash-${service}`,
    imageLabel: `sha256:${service}`,
    image: `sha256:${service}`,
    imageRef: 'x',
    labels: {},
    networkMode: 'host',
    addresses: [],
    ...overrides,
  };
}

const hashes = new Map([
  ['web', 'hash-web'],
  ['db', 'hash-db'],
  ['cron', 'hash-cron'],
]);
const images = new Map([
  ['homelab-test/busybox:2', 'sha256:web'],
  ['postgres:16', 'sha256:db'],
  ['busybox:1', 'sha256:cron'],
]);

describe('the rendered Compose file, as deploy reads it', () => {
  it('knows each service: replicas, volumes, fixed names, how long a healthy start may take', () => {
    expect(model.project).toBe('web-dev');
    expect(model.services.map((s) => [s.name, s.replicas, s.stateful, s.fixedName, s.healthSeconds, s.stopGraceSeconds])).toEqual([
      ['cron', 2, false, true, 0, 10],
      ['db', 1, true, false, 0, 90],
      ['web', 3, false, false, 10 + (1 + 2) * 4, 10],
    ]);
    expect(waitTimeoutSeconds(model)).toBe(30 + 15);
  });

  it('refuses a file without x-homelab (not rendered by build)', () => {
    expect(() => parseCompose('name: x\nservices: {}\n', 'dist/x.yaml')).toThrow(/dist\/x\.yaml was not rendered by this version of homelab .*run the build target again/);
  });

  it.each([
    ['10s', 10],
    ['1m30s', 90],
    ['500ms', 0.5],
    ['1h', 3600],
    [undefined, 7],
    ['soon', 7],
  ])('reads the duration %s as %s seconds', (value, expected) => {
    expect(seconds(value, 7)).toBe(expected);
  });
});

describe('the plan', () => {
  const plan = (containers: ContainerInfo[]) => Object.fromEntries(planChanges(model, containers, hashes, images).services.map((s) => [s.service.name, s.action]));
  const upToDate = () => [container('web'), container('web'), container('web'), container('db'), container('cron'), container('cron')];

  it('creates what does not run yet', () => {
    expect(plan([])).toEqual({ cron: 'create', db: 'create', web: 'create' });
  });

  it('changes nothing when every hash and image matches', () => {
    const result = planChanges(model, upToDate(), hashes, images);
    expect(result.changed).toBe(false);
    expect(plan(upToDate())).toEqual({ cron: 'unchanged', db: 'unchanged', web: 'unchanged' });
  });

  it('rolls a changed stateless service with replicas > 1, stops then starts one with volumes', () => {
    const changed = upToDate().map((c) => ({ ...c, configHash: 'old' }));
    expect(plan(changed)).toEqual({ cron: 'recreate', db: 'recreate-stateful', web: 'rolling' });
  });

  it('sees a tag that now points at another image as a change (Compose recreates then)', () => {
    const moved = upToDate().map((c) => (c.service === 'web' ? { ...c, imageLabel: 'sha256:old' } : c));
    const result = planChanges(model, moved, hashes, images).services.find((s) => s.service.name === 'web')!;
    expect(result.action).toBe('rolling');
    expect(result.why).toBe('image homelab-test/busybox:2 changed');
  });

  it('scales when only the number of running containers differs', () => {
    expect(plan([container('web'), container('db'), container('cron'), container('cron')]).web).toBe('scale');
  });

  it('lists containers of services no longer in the file as orphans', () => {
    const result = planChanges(model, [...upToDate(), container('old')], hashes, images);
    expect(result.orphans.map((c) => c.service)).toEqual(['old']);
    expect(result.changed).toBe(true);
  });

  describe('the running containers it stops or removes (what a deploy without a recorded version could not restore)', () => {
    const names = (containers: ContainerInfo[]) => displaced(planChanges(model, containers, hashes, images)).map((c) => c.service).sort();

    it('are none when only new services are created or nothing changes', () => {
      expect(names([])).toEqual([]);
      expect(names(upToDate())).toEqual([]);
      expect(names([container('web'), container('web'), container('web')])).toEqual([]);
    });

    it('are those replaced, scaled down or orphaned, when they run', () => {
      const changed = upToDate().map((c) => (c.service === 'web' ? c : { ...c, configHash: 'old' }));
      expect(names(changed)).toEqual(['cron', 'cron', 'db']);
      expect(names([...upToDate(), container('web')])).toEqual(['web', 'web', 'web', 'web']);
      expect(names([...upToDate(), container('old')])).toEqual(['old']);
      expect(names([...upToDate(), container('old', { running: false, status: 'exited' })])).toEqual([]);
    });
  });
});
