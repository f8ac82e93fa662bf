import { describe, expect, it } from 'vitest';
import { versionOf } from './compose';
import { age, formatStatusJson, formatStatusTable, statusReasons } from './format';
import type { StatusReport, StatusRow } from './types';

const NOW = new Date('2026-11-30T12:00:00Z');

function row(overrides: Partial<StatusRow>): StatusRow {
  return {
    project: 'web',
    layer: 'applications',
    environment: 'dev',
    platform: 'compose',
    deployed: true,
    wantedVersion: '1.2.0',
    runningVersion: '1.2.0',
    health: 'healthy',
    services: [{ name: 'web', wantedImage: 'ghcr.io/acme/web:1.2.0', runningImage: 'ghcr.io/acme/web:1.2.0', health: 'healthy', state: 'running, healthy', restarts: 0 }],
    drift: [],
    lastDeploy: { at: '2026-11-30T09:00:00Z', commit: '0123456789abcdef0123456789abcdef01234567' },
    lastBackup: null,
    problems: [],
    ok: true,
    ...overrides,
  };
}

function report(rows: StatusRow[]): StatusReport {
  return { generatedAt: NOW.toISOString(), commit: null, environments: ['dev', 'prod'], rows, ok: rows.every((r) => r.ok) };
}

describe('the status table', () => {
  it('prints one line per row with its columns, aligned, and says ok when every row is', () => {
    const text = formatStatusTable(report([row({}), row({ project: 'photos', environment: 'prod', deployed: false, health: 'not-deployed', runningVersion: null, lastDeploy: null, services: [] })]), NOW);
    const lines = text.split('\n');

    expect(lines[0].split(/\s{2,}/)).toEqual(['PROJECT', 'ENV', 'PLATFORM', 'WANTED', 'RUNNING', 'HEALTH', 'DRIFT', 'LAST DEPLOY', 'BACKUP']);
    expect(lines[1].split(/\s{2,}/)).toEqual(['web', 'dev', 'compose', '1.2.0', '1.2.0', 'healthy', '-', '3h ago 0123456', '-']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['photos', 'prod', 'compose', '1.2.0', '-', 'not deployed', '-', '-', '-']);
    // Columns start at the same place on every line.
    expect(lines[1].indexOf('compose')).toBe(lines[0].indexOf('PLATFORM'));
    expect(lines[2].indexOf('compose')).toBe(lines[0].indexOf('PLATFORM'));
    expect(text.trimEnd().split('\n').pop()).toBe('ok: 2 row(s) healthy and in step, or not deployed');
  });

  it('prints each problem on an indented line under its row, and the drift count, backup age and a dirty deploy', () => {
    const bad = row({
      health: 'unhealthy',
      drift: [{ service: 'web', what: 'env LOG_LEVEL', wanted: '"info"', running: '"debug"' }],
      lastDeploy: { at: '2026-11-28T12:00:00Z', commit: null, dirty: true },
      lastBackup: { at: '2026-11-25T03:00:00Z', schedule: '0 3 * * *', healthy: false },
      problems: ['web: unhealthy (running, health check failing)', 'drift: web env LOG_LEVEL: git renders "info", runs "debug"'],
      ok: false,
    });
    const lines = formatStatusTable(report([bad]), NOW).split('\n');

    expect(lines[1].split(/\s{2,}/)).toEqual(['web', 'dev', 'compose', '1.2.0', '1.2.0', 'unhealthy', '1', '2d ago dirty', '5d ago (stale)']);
    expect(lines.slice(2, 4)).toEqual(['    web: unhealthy (running, health check failing)', '    drift: web env LOG_LEVEL: git renders "info", runs "debug"']);
    expect(lines.filter((l) => l.startsWith('not ok'))).toEqual(['not ok: 1 of 1 row(s) have problems']);
  });

  it('says so when no project has files for the environments asked', () => {
    expect(formatStatusTable(report([]), NOW)).toBe('no project has files for these environments\n');
  });
});

describe('the status JSON', () => {
  it('is the report itself, every field kept', () => {
    const r = report([row({ lastBackup: { at: null, schedule: '0 3 * * *', healthy: false }, ok: false, problems: ['backup: none'] })]);
    expect(JSON.parse(formatStatusJson(r))).toEqual(r);
  });
});

describe('the reasons status exits 1 with', () => {
  it('names each problem of each row that is not ok, one line each, and nothing of the ok rows', () => {
    const r = report([row({}), row({ project: 'api', ok: false, problems: ['api: stopped (exited (137))', 'drift: api image: git renders a:2, runs a:1'] })]);
    expect(statusReasons(r)).toEqual(['api (dev): api: stopped (exited (137))', 'api (dev): drift: api image: git renders a:2, runs a:1']);
  });
});

describe('ages and versions', () => {
  it.each([
    ['2026-11-30T11:59:20Z', '40s'],
    ['2026-11-30T11:48:00Z', '12m'],
    ['2026-11-30T07:00:00Z', '5h'],
    ['2026-11-27T12:00:00Z', '3d'],
    ['2026-12-01T00:00:00Z', '0s'],
  ])('%s is %s before now', (at, expected) => {
    expect(age(at, NOW)).toBe(expected);
  });

  it.each([
    ['ghcr.io/acme/web:1.2.0', '1.2.0'],
    ['registry.local:5000/web', 'latest'],
    ['homelab-test/busybox:1', '1'],
    [`ghcr.io/acme/web:1.2.0@sha256:${'ab'.repeat(32)}`, `sha256:${'ab'.repeat(6)}`],
  ])('the version of %s is %s', (ref, expected) => {
    expect(versionOf(ref)).toBe(expected);
  });
});
