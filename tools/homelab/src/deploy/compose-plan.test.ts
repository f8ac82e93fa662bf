import { describe, expect, it } from 'vitest';
import { cronServices, describeLevels, describePlan, displaced, parseCompose, planChanges, seconds, startLevels, waitTimeoutSeconds } from './compose-plan';
import { type ContainerInfo, describeState, isUp } from './docker';
import { inNetworksOf } from './compose';

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
    finishedAt: '',
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

  it('reads the networks of the apps it depends on (external, marked x-homelab-app), and no other network', () => {
    const linked = parseCompose(
      `${RENDERED}networks:\n  app-api: { name: api-dev_default, external: true, x-homelab-app: api }\n  homelab-dev: { name: homelab-dev, external: true }\n  default: { name: web-dev_default }\n`,
      'dist/dev/compose/web/compose.yaml',
    );

    expect(linked.appNetworks).toEqual([{ network: 'api-dev_default', app: 'api' }]);
    expect(model.appNetworks).toEqual([]);
  });

  it("reads the shared volume deploy creates when missing (the backup movers' metrics), and no other volume", () => {
    const withVolumes = parseCompose(
      `${RENDERED}volumes:\n  backup-metrics: { name: homelab-backup-metrics, external: true }\n  media: { name: nas-media, external: true }\n  data: { name: web-dev_data }\n`,
      'dist/dev/compose/web/compose.yaml',
    );

    expect(withVolumes.sharedVolumes).toEqual(['homelab-backup-metrics']);
    expect(model.sharedVolumes).toEqual([]);
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

/** A stack of several services as render writes it (design: several services per app): depends_on in its long form, jobs labelled. */
const STACK = `name: photos-dev
services:
  server:
    image: homelab-test/busybox:1
    depends_on:
      database: { condition: service_healthy, required: true }
      migrate: { condition: service_completed_successfully, required: true }
      cache: { condition: service_started, required: true }
  worker:
    image: homelab-test/busybox:1
    depends_on: [database]
  migrate:
    image: homelab-test/busybox:1
    restart: "no"
    labels: { homelab.kind: job }
    depends_on:
      database: { condition: service_healthy, required: true }
  database:
    image: homelab-test/busybox:1
  cache:
    image: homelab-test/busybox:1
    labels: ["homelab.app=photos"]
x-homelab:
  project: photos-dev
  environment: dev
  secrets: { keys: [], services: [] }
`;

describe('the start order of a stack', () => {
  const stack = parseCompose(STACK, 'dist/dev/compose/photos/compose.yaml');
  const names = (levels: { name: string }[][]) => levels.map((l) => l.map((s) => s.name));
  const withDeps = (deps: Record<string, string[]>) => ({ ...stack, services: stack.services.map((s) => ({ ...s, dependsOn: deps[s.name] ?? [] })) });

  it('reads depends_on in its long and its short form, and the job label in a map or a list', () => {
    expect(stack.services.map((s) => [s.name, s.job, s.dependsOn])).toEqual([
      ['cache', false, []],
      ['database', false, []],
      ['migrate', true, ['database']],
      ['server', false, ['cache', 'database', 'migrate']],
      ['worker', false, ['database']],
    ]);
    const listed = parseCompose(STACK.replace('labels: { homelab.kind: job }', 'labels: ["homelab.kind=job"]'), 'x.yaml');
    expect(listed.services.find((s) => s.name === 'migrate')?.job).toBe(true);
  });

  it('puts each service one level after the last of its dependencies, whatever the condition', () => {
    const levels = startLevels(stack);

    expect(names(levels)).toEqual([['cache', 'database'], ['migrate', 'worker'], ['server']]);
    expect(describeLevels(levels)).toBe('1. cache, database  2. migrate (job), worker  3. server');
  });

  it('is one level for a file without depends_on (a stack of today)', () => {
    expect(names(startLevels(model))).toEqual([['cron', 'db', 'web']]);
  });

  it.each([
    [{ server: ['server'] }, /the services depend on each other in a cycle \(server -> server\); break it in the spec's dependsOn/],
    [{ cache: ['server'], server: ['worker'], worker: ['cache'] }, /cycle \(cache -> server -> worker -> cache\)/],
    [{ server: ['redis'] }, /^x\.yaml: service server depends on redis, which is not a service of the file; run the build target again$/],
  ])('refuses %j in one line naming the services', (deps, message) => {
    expect(() => startLevels(withDeps(deps), 'x.yaml')).toThrow(message);
  });
});

describe('the plan of a stack with a job', () => {
  const stack = parseCompose(STACK, 'dist/dev/compose/photos/compose.yaml');
  const stackHashes = new Map(stack.services.map((s) => [s.name, `hash-${s.name}`]));
  const stackImages = new Map([['homelab-test/busybox:1', 'sha256:img']]);
  const up = (service: string, overrides: Partial<ContainerInfo> = {}) => container(service, { imageLabel: 'sha256:img', image: 'sha256:img', ...overrides });
  const job = (overrides: Partial<ContainerInfo> = {}) => up('migrate', { running: false, status: 'exited', exitCode: 0, labels: { 'homelab.kind': 'job' }, ...overrides });
  const services = () => ['cache', 'database', 'server', 'worker'].map((s) => up(s));
  const actions = (containers: ContainerInfo[]) => Object.fromEntries(planChanges(stack, containers, stackHashes, stackImages).services.map((s) => [s.service.name, s.action]));

  it('takes a job whose container exited with 0 as done: a redeploy with no change changes nothing', () => {
    const result = planChanges(stack, [...services(), job()], stackHashes, stackImages);

    expect(result.changed).toBe(false);
    expect(actions([...services(), job()]).migrate).toBe('unchanged');
    expect(isUp(job())).toBe(true);
    expect(describeState(job())).toBe('completed (exited with code 0)');
  });

  it('runs the job again when anything else changes, and says why', () => {
    const result = planChanges(stack, [...services().map((c) => (c.service === 'server' ? { ...c, configHash: 'old' } : c)), job()], stackHashes, stackImages);
    const migrate = result.services.find((s) => s.service.name === 'migrate')!;

    expect(result.changed).toBe(true);
    expect(describePlan(migrate)).toBe('migrate: run the job again (every deploy that changes the stack runs its jobs again)');
  });

  it('runs a job again whose last run failed, and never takes it for a running service', () => {
    const failed = job({ exitCode: 3 });
    const result = planChanges(stack, [...services(), failed], stackHashes, stackImages);

    expect(result.changed).toBe(true);
    expect(describePlan(result.services.find((s) => s.service.name === 'migrate')!)).toBe('migrate: run the job again (its last run exited with code 3)');
    expect(isUp(failed)).toBe(false);
    expect(displaced(result)).toEqual([]);
  });

  it('takes a stopped container of a service that is not a job as down, exit code 0 or not', () => {
    const stopped = up('worker', { running: false, status: 'exited', exitCode: 0 });

    expect(isUp(stopped)).toBe(false);
    expect(actions([...services().filter((c) => c.service !== 'worker'), stopped, job()]).worker).toBe('scale');
  });
});

/** An app with a cron service as render writes it (design: "Cron on Compose"): profile cron, labels kind and schedule, a scheduler with its crontab. */
const CRON = `name: files-dev
services:
  server:
    image: homelab-test/busybox:1
  cleanup:
    image: homelab-test/busybox:1
    profiles: [cron]
    restart: "no"
    labels: { homelab.kind: cron, homelab.schedule: "*/5 * * * *" }
    depends_on:
      server: { condition: service_started, required: true }
  scheduler:
    image: homelab-test/docker-cli:1
    command: [crond, -f, -l, "6"]
    configs:
      - source: crontab
        target: /etc/crontabs/root
configs:
  crontab:
    content: |
      */5 * * * * docker start -a files-dev-cleanup-1
x-homelab:
  project: files-dev
  environment: dev
  secrets: { keys: [], services: [] }
`;

describe('an app with a cron service', () => {
  const app = parseCompose(CRON, 'dist/dev/compose/files/compose.yaml');
  const appHashes = new Map(app.services.map((s) => [s.name, `hash-${s.name}`]));
  const appImages = new Map([
    ['homelab-test/busybox:1', 'sha256:img'],
    ['homelab-test/docker-cli:1', 'sha256:cli'],
  ]);
  const up = (service: string, overrides: Partial<ContainerInfo> = {}) => container(service, { imageLabel: service === 'scheduler' ? 'sha256:cli' : 'sha256:img', ...overrides });
  const cron = (overrides: Partial<ContainerInfo> = {}) => up('cleanup', { running: false, status: 'created', labels: { 'homelab.kind': 'cron', 'homelab.schedule': '*/5 * * * *' }, finishedAt: '0001-01-01T00:00:00Z', ...overrides });
  const plan = (containers: ContainerInfo[], hashes = appHashes) => planChanges(app, containers, hashes, appImages);
  const line = (containers: ContainerInfo[], hashes = appHashes) => describePlan(plan(containers, hashes).services.find((s) => s.service.name === 'cleanup')!);

  it('reads the cron service, its schedule, and a digest of the crontab the scheduler mounts', () => {
    expect(app.services.map((s) => [s.name, s.cron, s.schedule, s.job])).toEqual([
      ['cleanup', true, '*/5 * * * *', false],
      ['scheduler', false, undefined, false],
      ['server', false, undefined, false],
    ]);
    const scheduler = app.services.find((s) => s.name === 'scheduler')!;
    expect(scheduler.configDigest).toMatch(/^[0-9a-f]{16}$/);
    const other = parseCompose(CRON.replace('      */5 * * * * docker', '      0 3 * * * docker'), 'x.yaml').services.find((s) => s.name === 'scheduler')!;
    expect(other.configDigest).not.toBe(scheduler.configDigest);
    expect(app.services.find((s) => s.name === 'server')!.configDigest).toBeUndefined();
  });

  it.each([
    ['labelled cron without the profile (up would start it)', CRON.replace('    profiles: [cron]\n', ''), /^x\.yaml: service cleanup is labelled homelab\.kind: cron but not in profiles: \["cron"\], so `docker compose up` would start it; run the build target again$/],
    ['in the cron profile without the label (nothing would start it)', CRON.replace('homelab.kind: cron, ', ''), /^x\.yaml: service cleanup is in the cron profile but not labelled homelab\.kind: cron, so nothing would ever start it; run the build target again$/],
    ['without a schedule', CRON.replace(', homelab.schedule: "*/5 * * * *"', ''), /^x\.yaml: cron service cleanup has no homelab\.schedule label; run the build target again$/],
  ])('refuses a service %s', (_, text, message) => {
    expect(() => parseCompose(text, 'x.yaml')).toThrow(message);
  });

  it('puts cron services on no level: deploy creates them after the levels, whatever they depend on', () => {
    expect(startLevels(app).map((l) => l.map((s) => s.name))).toEqual([['scheduler', 'server']]);
    expect(cronServices(app).map((s) => s.name)).toEqual(['cleanup']);
  });

  it('refuses a service that waits for a cron service, which never starts at deploy', () => {
    const waits = { ...app, services: app.services.map((s) => (s.name === 'server' ? { ...s, dependsOn: ['cleanup'] } : s)) };
    expect(() => startLevels(waits, 'x.yaml')).toThrow(/^x\.yaml: service server depends on cleanup, a cron service, which runs on its schedule and never starts at deploy; remove it from the spec's dependsOn$/);
  });

  it('creates a missing cron container without starting it, and says when it runs', () => {
    expect(line([up('server'), up('scheduler')])).toBe('cleanup: create: created, not started, runs on */5 * * * * (cron: the scheduler starts it)');
  });

  it.each([
    ['never ran', {}, 'never ran yet'],
    ['exited 0', { status: 'exited', exitCode: 0, finishedAt: '2026-11-29T14:37:01.123456789Z' }, 'last run exited with code 0 at 2026-11-29T14:37:01Z'],
    ['exited 3', { status: 'exited', exitCode: 3, finishedAt: '2026-11-29T14:37:01.5Z' }, 'last run exited with code 3 at 2026-11-29T14:37:01Z'],
    ['runs now', { status: 'running', running: true }, 'running now (started by the scheduler)'],
  ])('leaves an up-to-date cron container that %s alone, never down nor failed, and shows its last run', (_, overrides, run) => {
    const c = cron(overrides);
    const result = plan([up('server'), up('scheduler'), c]);

    expect(result.changed).toBe(false);
    expect(isUp(c)).toBe(true);
    expect(describeState(c)).toBe(run);
    expect(line([up('server'), up('scheduler'), c])).toBe(`cleanup: unchanged, runs on */5 * * * * (cron: ${run})`);
  });

  it('recreates a cron container whose configuration changed, not started, and says a run in progress is stopped', () => {
    const changed = new Map([...appHashes, ['cleanup', 'hash-new']]);
    expect(line([up('server'), up('scheduler'), cron()], changed)).toBe('cleanup: recreate (configuration changed): created, not started, runs on */5 * * * * (cron: the scheduler starts it)');
    expect(line([up('server'), up('scheduler'), cron({ running: true, status: 'running' })], changed)).toBe(
      'cleanup: recreate (configuration changed): created, not started, runs on */5 * * * * (cron: the scheduler starts it; its current run is stopped)',
    );
  });

  it('does not run a cron service again when the rest of the stack changes (jobs do, cron services wait for their schedule)', () => {
    const result = plan([up('server', { configHash: 'old' }), up('scheduler'), cron({ status: 'exited', exitCode: 1, finishedAt: '2026-11-29T14:37:01Z' })]);

    expect(result.changed).toBe(true);
    expect(result.services.find((s) => s.service.name === 'cleanup')!.action).toBe('unchanged');
  });
});

describe('inNetworksOf: a sidecar hashed as Compose hashes it', () => {
  const resolved = 'name: p\nservices:\n  web:\n    image: x:1\n  web-fetch:\n    image: x:1\n    network_mode: service:web\n  lone:\n    image: x:1\n    network_mode: service:gone\n';

  it('puts a service in the network of its service\'s running container, and leaves one whose service has no container', () => {
    const out = inNetworksOf(resolved, [{ id: 'abc123', service: 'web' } as ContainerInfo]);

    expect(out).toContain('network_mode: container:abc123');
    expect(out).toContain('network_mode: service:gone');
    expect(inNetworksOf(resolved, [])).toBe(resolved);
  });
});
