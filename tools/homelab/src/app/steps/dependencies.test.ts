import { describe, expect, it } from 'vitest';
import { inputErrorOf, stackSpec } from '../../../../../tests/support/spec';
import type { AppSpec, ServiceSpec } from '../../spec/types';
import { orderServices } from './dependencies';
import { normalizeServices } from './services';
import { normalizeStorage } from './storage';

const where = 'applications/specs/stack.yaml';
const image = { repository: 'example/app', tag: '1.0.0' };
const http = { ports: [{ name: 'http', port: 80, http: true }] };
const servicesOf = (spec: AppSpec) => normalizeServices(spec, normalizeStorage(spec, where), where).services;
const order = (services: Record<string, Partial<ServiceSpec>>) =>
  orderServices(servicesOf({ name: 'stack', services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { image, ...v }])) } as AppSpec), where);

describe('orderServices', () => {
  it('levels the workflow stack: database and queue first, then the migration, the editor, its workers', () => {
    const result = orderServices(servicesOf(stackSpec('workflows')), where);

    expect(Object.fromEntries([...result].map(([name, o]) => [name, [o.level, o.syncWave]]))).toEqual({
      postgres: [0, null],
      redis: [0, null],
      migrate: [1, '1'],
      main: [2, '2'],
      worker: [3, '3'],
    });
    expect(result.get('main')?.composeDependsOn).toEqual([
      { service: 'migrate', condition: 'service_completed_successfully', checkedOutside: false },
      { service: 'redis', condition: 'service_healthy', checkedOutside: false },
    ]);
  });

  it('renders healthy on a service probed from outside as service_started (Compose cannot see that check)', () => {
    const result = order({ web: { dependsOn: { api: 'healthy' } }, api: { ...http, health: { http: { path: '/' }, probe: 'outside' } } });

    expect(result.get('web')?.composeDependsOn).toEqual([{ service: 'api', condition: 'service_started', checkedOutside: true }]);
  });

  it('gives services without dependencies level 0 and no sync wave', () => {
    expect([...order({ a: {}, b: {} }).values()].map((o) => [o.level, o.syncWave, o.composeDependsOn])).toEqual([
      [0, null, []],
      [0, null, []],
    ]);
  });

  it.each([
    ['an unknown service', { web: { dependsOn: { db: 'started' as const } } }, `${where}: services.web.dependsOn.db: "db" is not a service of the app; use one of (none: the app has one service) or remove it`],
    ['a cycle', { a: { dependsOn: { b: 'started' as const } }, b: { dependsOn: { c: 'started' as const } }, c: { dependsOn: { a: 'started' as const } } }, `${where}: services.c.dependsOn makes a cycle (a -> b -> c -> a); remove one of these dependencies`],
    ['a service waiting for itself', { a: { dependsOn: { a: 'started' as const } } }, `${where}: services.a.dependsOn makes a cycle (a -> a); remove one of these dependencies`],
    ['completed on a long-running service', { web: { dependsOn: { db: 'completed' as const } }, db: {} }, `${where}: services.web.dependsOn.db is "completed", but "db" is a long-running service that never completes; use healthy or started, or make db kind: job`],
    ['healthy on a service without a check', { web: { dependsOn: { db: 'healthy' as const } }, db: { health: { probe: 'none' as const } } }, `${where}: services.web.dependsOn.db is "healthy", but "db" has no health check; use started, or give services.db.health a check`],
    ['started on a job', { web: { dependsOn: { migrate: 'started' as const } }, migrate: { kind: 'job' as const } }, `${where}: services.web.dependsOn.migrate is "started", but "migrate" is a job; use completed (it waits until the job exited 0)`],
    ['a cron service', { web: { dependsOn: { cron: 'completed' as const } }, cron: { kind: 'cron' as const, schedule: '* * * * *' } }, `${where}: services.web.dependsOn.cron: "cron" is a cron service, which runs on its schedule and never starts at deploy; remove it from dependsOn`],
  ])('refuses %s in one line naming the value and the fix', (_label, services, message) => {
    const error = inputErrorOf(() => order(services));

    expect(error).toBe(message);
  });
});
