import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../../tests/support/spec';
import { NO_HEALTH } from './health';
import { NO_REPLICA_SPEC } from './replicas';
import { normalizeOverrides, type OverrideBase } from './overrides';
import { normalizeSecurity } from './security';

const WHERE = 'applications/specs/workflows.yaml';
const service = (name: string, kind: OverrideBase['kind'] = 'Deployment', schedule: string | null = null): OverrideBase => ({
  name,
  kind,
  replicas: 1,
  env: [{ name: 'MODE', value: 'queue' }],
  imageSpec: { repository: 'example/workflows', tag: '1.97.1' },
  resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  security: normalizeSecurity({}),
  health: NO_HEALTH,
  schedule,
  selector: { 'app.kubernetes.io/name': 'workflows', 'app.kubernetes.io/component': name },
  replicaSpec: NO_REPLICA_SPEC,
  spread: null,
});
const SERVICES = [service('main'), service('worker'), service('migrate', 'Job'), service('sweep', 'CronJob', '0 3 * * *')];

describe('normalizeOverrides', () => {
  it('lists only the services an environment changes, with what it changes', () => {
    const [worker, ...rest] = normalizeOverrides(WHERE, 'prod', { services: { worker: { replicas: 4, env: { DEBUG: '1' }, image: { tag: '1.98.0' } } } }, SERVICES, false);

    expect(rest).toEqual([]);
    expect(worker).toMatchObject({
      name: 'worker',
      replicasChanged: true,
      replicas: 4,
      envChanged: true,
      env: [
        { name: 'DEBUG', value: '1' },
        { name: 'MODE', value: 'queue' },
      ],
      imageChanged: true,
      image: 'example/workflows:1.98.0',
      resourcesChanged: false,
      node: null,
      hasTemplate: true,
      hasContainer: true,
      composeChanged: true,
    });
  });

  it('merges resources over the service, in both notations', () => {
    const [main] = normalizeOverrides(WHERE, 'prod', { services: { main: { resources: { limits: { memory: '1Gi', cpu: '2' } } } } }, SERVICES, false);

    expect(main.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '1Gi', cpu: '2' } });
    expect(main.compose).toEqual({ memoryLimit: '1g', memoryReservation: '64m', cpus: '2' });
  });

  it('pins every workload, jobs included, to the node of the environment, on Kubernetes only', () => {
    const patches = normalizeOverrides(WHERE, 'prod', { node: 'nuc' }, SERVICES, false);

    expect(patches.map((p) => [p.name, p.node, p.hasContainer, p.composeChanged])).toEqual([
      ['main', 'nuc', false, false],
      ['worker', 'nuc', false, false],
      ['migrate', 'nuc', false, false],
      ['sweep', 'nuc', false, false],
    ]);
  });

  it("changes a cron service's schedule, and nothing when the environment repeats it", () => {
    expect(normalizeOverrides(WHERE, 'prod', { services: { sweep: { schedule: '*/10 * * * *' } } }, SERVICES, false)).toMatchObject([
      { name: 'sweep', isCron: true, scheduleChanged: true, schedule: '*/10 * * * *', hasTemplate: false, composeChanged: true },
    ]);
    expect(normalizeOverrides(WHERE, 'prod', { services: { sweep: { schedule: '0 3 * * *' } } }, SERVICES, false)).toEqual([]);
  });

  it("applies the shorthand's replicas and env to its one service", () => {
    expect(normalizeOverrides(WHERE, 'dev', { replicas: 2 }, [service('web')], true)).toMatchObject([{ name: 'web', replicas: 2, replicasChanged: true, envChanged: false }]);
  });

  it.each([
    ['a service the app does not have', { services: { nope: { replicas: 2 } } }, false, `${WHERE}: environments.prod.services.nope: "nope" is not a service of the app; use one of "main", "worker", "migrate", "sweep"`],
    ['a schedule of a service that runs all the time', { services: { main: { schedule: '0 3 * * *' } } }, false, `${WHERE}: environments.prod.services.main.schedule: "main" is not a cron service, so it runs on no schedule; remove the override or set services.main.kind: cron`],
    ['replicas of a job', { services: { migrate: { replicas: 2 } } }, false, `${WHERE}: environments.prod.services.migrate.replicas: "migrate" runs to completion (kind job) and has no replicas; remove replicas`],
    ['an image tagged latest', { services: { main: { image: { tag: 'latest' } } } }, false, `${WHERE}: environments.prod.services.main.image "example/workflows:latest" uses the tag "latest"`],
    ['service overrides of a shorthand spec', { services: { web: { replicas: 2 } } }, true, `${WHERE}: environments.prod.services overrides services of the full form, but this spec is the shorthand; set environments.prod.replicas or env instead`],
  ])('refuses %s', (_what, override, shorthand, message) => {
    expect(inputErrorOf(() => normalizeOverrides(WHERE, 'prod', override, shorthand ? [service('web')] : SERVICES, shorthand))).toContain(message);
  });
});
