import type { StatusReport, StatusRow } from '../../tools/homelab/src/status/types';

/**
 * StatusReports for the status page's tests, built by hand as the readers would return them:
 * the page only renders a report, so these stand in for what a Compose host or a cluster says.
 */

/** Text that would become markup if the page did not escape it. */
export const HOSTILE = `<script>document.title="pwned"</script><img src=x onerror=alert(1)>"'&amp;</td></tr></table>`;

export const GENERATED_AT = '2026-11-30T12:00:00.000Z';
export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A deployed, healthy, in-step row; override what a case changes. */
export function row(over: Partial<StatusRow> & Pick<StatusRow, 'project' | 'environment'>): StatusRow {
  const image = `example/${over.project}:${over.wantedVersion ?? '1.0.0'}`;
  return {
    layer: 'applications',
    platform: 'compose',
    deployed: true,
    wantedVersion: '1.0.0',
    runningVersion: '1.0.0',
    health: 'healthy',
    services: [{ name: 'web', wantedImage: image, runningImage: image, health: 'healthy', state: 'running' }],
    drift: [],
    lastDeploy: { at: '2026-11-30T09:30:00.000Z', commit: 'fedcba9876543210fedcba9876543210fedcba98' },
    lastBackup: null,
    problems: [],
    ok: true,
    ...over,
  };
}

export function report(rows: StatusRow[], environments = [...new Set(rows.map((r) => r.environment))]): StatusReport {
  return { generatedAt: GENERATED_AT, commit: COMMIT, environments, rows, ok: rows.every((r) => r.ok) };
}

/** Two deployed apps, both healthy and in step, and one never deployed (ok without --require-deployed). */
export function okReport(): StatusReport {
  return report([
    row({ project: 'gitea', environment: 'prod', wantedVersion: '1.22.3', runningVersion: '1.22.3' }),
    row({ project: 'whoami', environment: 'prod', wantedVersion: 'v1.10.4', runningVersion: 'v1.10.4', lastBackup: { at: '2026-11-30T03:00:00.000Z', schedule: '0 3 * * *', healthy: true } }),
    row({ project: 'whoami', environment: 'dev', deployed: false, runningVersion: null, health: 'not-deployed', services: [], lastDeploy: null }),
  ]);
}

/**
 * Every kind of row on both platforms: healthy, unhealthy, stopped, drifted, starting, not deployed,
 * unknown, a stale backup, ArgoCD out of sync, and a project and a problem whose text is HOSTILE.
 */
export function mixedReport(): StatusReport {
  return report(
    [
      row({ project: 'gitea', environment: 'dev', wantedVersion: '1.22.3', runningVersion: '1.22.3' }),
      row({
        project: 'gitea',
        environment: 'prod',
        platform: 'kubernetes',
        wantedVersion: '1.22.3',
        runningVersion: '1.22.2',
        health: 'healthy',
        drift: [
          { service: 'Deployment/gitea', what: 'image', wanted: 'gitea/gitea:1.22.3', running: 'gitea/gitea:1.22.2' },
          { service: 'Deployment/gitea', what: 'env GITEA_SECRET', wanted: '***', running: '***' },
        ],
        argocd: { application: 'gitea-prod', sync: 'OutOfSync', health: 'Healthy' },
        problems: ['drift: Deployment/gitea image is gitea/gitea:1.22.2, git renders gitea/gitea:1.22.3', 'ArgoCD gitea-prod is OutOfSync'],
        ok: false,
      }),
      row({
        project: 'immich',
        environment: 'prod',
        wantedVersion: 'v1.120.0',
        runningVersion: 'v1.120.0',
        health: 'unhealthy',
        services: [
          { name: 'server', wantedImage: 'ghcr/immich-server:v1.120.0', runningImage: 'ghcr/immich-server:v1.120.0', health: 'unhealthy', state: 'running', restarts: 4 },
          { name: 'database', wantedImage: 'postgres:15', runningImage: 'postgres:15', health: 'healthy', state: 'running' },
        ],
        lastBackup: { at: '2026-11-20T03:00:00.000Z', schedule: '0 3 * * *', healthy: false },
        problems: ['server is unhealthy: its health check fails (4 restarts)', 'the last backup is 10 d old, more than twice its schedule 0 3 * * *'],
        ok: false,
      }),
      row({
        project: 'jellyfin',
        environment: 'prod',
        wantedVersion: '10.10.3',
        runningVersion: null,
        health: 'stopped',
        services: [{ name: 'jellyfin', wantedImage: 'jellyfin/jellyfin:10.10.3', runningImage: null, health: 'stopped', state: 'exited (137)' }],
        problems: ['jellyfin is stopped: exited (137)'],
        ok: false,
      }),
      row({
        project: 'paperless',
        environment: 'dev',
        platform: 'kubernetes',
        deployed: false,
        runningVersion: null,
        health: 'not-deployed',
        services: [],
        lastDeploy: null,
      }),
      row({
        project: 'traefik',
        environment: 'prod',
        layer: 'infrastructure',
        platform: 'kubernetes',
        wantedVersion: 'v3.2.1',
        runningVersion: 'v3.2.1',
        health: 'starting',
        argocd: { application: 'traefik-prod', sync: 'Synced', health: 'Progressing' },
        problems: ['Deployment/traefik is starting: 1/2 ready'],
        ok: false,
      }),
      row({
        project: 'vault',
        environment: 'prod',
        platform: 'kubernetes',
        deployed: true,
        runningVersion: null,
        health: 'unknown',
        services: [],
        lastDeploy: null,
        problems: ['the cluster could not be asked: connection refused'],
        ok: false,
      }),
      row({
        project: HOSTILE,
        environment: 'prod',
        lastDeploy: { at: '2026-11-28T12:00:00.000Z', commit: null, dirty: true },
        drift: [{ service: HOSTILE, what: 'config', wanted: HOSTILE, running: 'x' }],
        problems: [`the label says ${HOSTILE}`],
        ok: false,
      }),
    ],
    ['dev', 'prod'],
  );
}
