import { describe, expect, it } from 'vitest';
import { BACKUP_METRIC } from '../../project/backup-metrics';
import { ALERTS, alertRules, backupAlertName, backupAlertRules, backupAlertVolumes, cadvisorLabel, COMPOSE_CONTAINER_LABELS, grafanaDashboard, SIGNALS, type SignalPlatform } from './signals';

const WEB = { kind: 'Deployment' as const, name: 'web' };
const DB = { kind: 'StatefulSet' as const, name: 'db' };
const PLATFORMS: SignalPlatform[] = ['kubernetes', 'compose'];

/** The label names a PromQL expression selects by (`name="value"` and `name=~"..."` matchers). */
const matchedLabels = (expr: string) => [...expr.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)=~?"/g)].map((m) => m[1]);
const queriesOf = (json: string) => (JSON.parse(json).panels as { targets: { expr: string }[] }[]).map((p) => p.targets[0].expr);

describe('the signals of an app, one description for both platforms', () => {
  it('keeps the Kubernetes alerts of every existing spec as they were (kube-state-metrics, by namespace and workload)', () => {
    expect(alertRules('kubernetes', 'wiki-dev', [WEB, DB])).toEqual([
      {
        alert: 'HomelabAppDown',
        expr: 'kube_deployment_status_replicas_available{namespace="wiki-dev", deployment="web"} < 1',
        for: '5m',
        severity: 'critical',
        summary: 'web has no ready replica in wiki-dev',
      },
      {
        alert: 'HomelabAppRestarting',
        expr: 'increase(kube_pod_container_status_restarts_total{namespace="wiki-dev", container="web"}[15m]) > 3',
        for: '0m',
        severity: 'warning',
        summary: 'web restarted more than 3 times in 15 minutes in wiki-dev',
      },
      expect.objectContaining({ alert: 'HomelabAppDown', expr: 'kube_statefulset_status_replicas_ready{namespace="wiki-dev", statefulset="db"} < 1' }),
      expect.objectContaining({ alert: 'HomelabAppRestarting', expr: 'increase(kube_pod_container_status_restarts_total{namespace="wiki-dev", container="db"}[15m]) > 3' }),
    ]);
  });

  it('writes the same alerts against cAdvisor on Compose, by the Compose project and service', () => {
    expect(alertRules('compose', 'wiki-dev', [WEB])).toEqual([
      {
        alert: 'HomelabAppDown',
        // No kube-state-metrics on Docker: a running container is one cAdvisor sees, none at all counts as 0.
        expr: '(count(container_last_seen{container_label_com_docker_compose_project="wiki-dev", container_label_com_docker_compose_service="web"}) or vector(0)) < 1',
        for: '5m',
        severity: 'critical',
        summary: 'web has no ready replica in wiki-dev',
      },
      {
        alert: 'HomelabAppRestarting',
        // A restarted container gets a new cgroup: its CPU counter starts again from 0.
        expr: 'resets(container_cpu_usage_seconds_total{container_label_com_docker_compose_project="wiki-dev", container_label_com_docker_compose_service="web"}[15m]) > 3',
        for: '0m',
        severity: 'warning',
        summary: 'web restarted more than 3 times in 15 minutes in wiki-dev',
      },
    ]);
  });

  it.each(PLATFORMS)('gives %s the same alerts, names, severities and waits', (platform) => {
    const rules = alertRules(platform, 'wiki', [WEB, DB]);
    expect(rules.map((r) => [r.alert, r.severity, r.for])).toEqual([WEB, DB].flatMap(() => ALERTS.map((a) => [a.alert, a.severity, a.for])));
  });

  it('selects on Compose only by labels the cadvisor service keeps, and on Kubernetes by none of them', () => {
    const kept = Object.values(COMPOSE_CONTAINER_LABELS).map(cadvisorLabel);
    const compose = [...alertRules('compose', 'wiki', [WEB, DB]).map((r) => r.expr), ...queriesOf(grafanaDashboard('compose', 'wiki', WEB))];
    for (const expr of compose) for (const label of matchedLabels(expr)) expect(kept, expr).toContain(label);
    const kubernetes = [...alertRules('kubernetes', 'wiki', [WEB, DB]).map((r) => r.expr), ...queriesOf(grafanaDashboard('kubernetes', 'wiki', WEB))];
    for (const expr of kubernetes) {
      expect(expr).not.toContain('container_label_');
      for (const label of matchedLabels(expr)) expect(['namespace', 'container', 'deployment', 'statefulset']).toContain(label);
    }
  });

  it('names a label as cAdvisor does: container_label_ and every other character an underscore', () => {
    expect(cadvisorLabel('com.docker.compose.project')).toBe('container_label_com_docker_compose_project');
    expect(cadvisorLabel('homelab.app')).toBe('container_label_homelab_app');
  });

  it.each([
    ['kubernetes', 'namespace', 'label_values(kube_pod_info{pod=~"web-.*"}, namespace)', 'namespace="$namespace", container="web"'],
    ['compose', 'project', 'label_values(container_last_seen{container_label_homelab_app="wiki"}, container_label_com_docker_compose_project)', 'container_label_com_docker_compose_project="$project", container_label_com_docker_compose_service="web"'],
  ] as const)('draws the %s dashboard from the same panels, with a %s variable', (platform, variable, query, selector) => {
    const dashboard = JSON.parse(grafanaDashboard(platform, 'wiki', WEB));
    expect(dashboard.uid).toBe('homelab-wiki');
    expect(dashboard.panels.map((p: { title: string }) => p.title)).toEqual(SIGNALS.map((s) => s.title));
    expect(dashboard.templating.list[1]).toMatchObject({ name: variable, query });
    const [, , cpu, memory] = queriesOf(grafanaDashboard(platform, 'wiki', WEB));
    // CPU and memory are cAdvisor's series on both platforms: only the selector differs.
    expect(cpu).toBe(`sum(rate(container_cpu_usage_seconds_total{${selector}}[5m]))`);
    expect(memory).toBe(`sum(container_memory_working_set_bytes{${selector}})`);
  });

  it('keeps the Kubernetes dashboard of every existing spec as it was', () => {
    expect(queriesOf(grafanaDashboard('kubernetes', 'wiki', DB))).toEqual([
      'kube_statefulset_status_replicas_ready{namespace="$namespace", statefulset="db"}',
      'sum(increase(kube_pod_container_status_restarts_total{namespace="$namespace", container="db"}[1h]))',
      'sum(rate(container_cpu_usage_seconds_total{namespace="$namespace", container="db"}[5m]))',
      'sum(container_memory_working_set_bytes{namespace="$namespace", container="db"})',
    ]);
  });
});

describe('the stale-backup alert of an app (<App>BackupStale)', () => {
  const target = {
    app: 'photo-library',
    env: 'dev',
    scope: 'photo-library-dev',
    schedule: '0 */6 * * *',
    intervalSeconds: 6 * 3600,
    scheduler: 'scheduler',
    volumes: [{ name: 'data', replicationSource: 'photo-library-data', dumpCronJob: null }],
  };

  it('is named after the app in PascalCase', () => {
    expect(backupAlertName('photo-library')).toBe('PhotoLibraryBackupStale');
    expect(backupAlertName('files')).toBe('FilesBackupStale');
  });

  it("watches twice the schedule's interval on VolSync's count of completed syncs, once Prometheus has a window of history", () => {
    const synced = 'volsync_sync_duration_seconds_count{role="source", obj_namespace="photo-library-dev", obj_name="photo-library-data"}';
    expect(backupAlertRules('kubernetes', target)).toEqual([
      {
        alert: 'PhotoLibraryBackupStale',
        expr: `increase(${synced}[12h]) == 0 and on (obj_namespace, obj_name) present_over_time(${synced}[10m] offset 12h)`,
        for: '0m',
        severity: 'warning',
        summary: 'photo-library-dev: no successful backup of volume data for 12h (twice the interval of its schedule 0 */6 * * *)',
      },
    ]);
  });

  it("watches a dump CronJob on kube-state-metrics, and a volume with neither a ReplicationSource nor a CronJob not at all on Kubernetes", () => {
    const rules = backupAlertRules('kubernetes', { ...target, volumes: [{ name: 'db', replicationSource: null, dumpCronJob: 'photo-library-db-dump' }, { name: 'x', replicationSource: null, dumpCronJob: null }] });
    expect(rules.map((r) => r.expr)).toEqual([
      'time() - kube_cronjob_status_last_successful_time{namespace="photo-library-dev", cronjob="photo-library-db-dump"} > 43200 or (time() - kube_cronjob_created{namespace="photo-library-dev", cronjob="photo-library-db-dump"} > 43200 unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{namespace="photo-library-dev", cronjob="photo-library-db-dump"})',
    ]);
  });

  it("watches the mover's metric on Compose, and a volume never backed up while the scheduler and node-exporter run for the window", () => {
    const series = `${BACKUP_METRIC}{app="photo-library", env="dev", volume="data"}`;
    expect(backupAlertRules('compose', target).map((r) => [r.expr, r.for])).toEqual([
      [`time() - ${series} > 43200`, '0m'],
      [`absent(${series}) and on () count(container_last_seen{container_label_com_docker_compose_project="photo-library-dev", container_label_com_docker_compose_service="scheduler"}) > 0 and on () up{job="node-exporter"} == 1`, '12h'],
    ]);
  });

  describe('what each platform watches', () => {
    const volumes = [
      { name: 'data', claimName: 'files-data', dump: false },
      { name: 'db', claimName: 'files-db', dump: true },
    ];

    it("watches a file-copied volume by its ReplicationSource, a dump volume and the app's database by their dump CronJobs on Kubernetes; on Compose what the movers back up", () => {
      expect(backupAlertVolumes({ app: 'files', provider: 'volsync', volumes, database: true, composeVolumes: ['data', 'db', 'database'] })).toEqual({
        kubernetes: [
          { name: 'data', replicationSource: 'files-data', dumpCronJob: null },
          { name: 'db', replicationSource: null, dumpCronJob: 'files-db-dump' },
          { name: 'database', replicationSource: null, dumpCronJob: 'files-database-dump' },
        ],
        compose: ['data', 'db', 'database'].map((name) => ({ name, replicationSource: null, dumpCronJob: null })),
      });
    });

    it.each(['velero', 'k8up'] as const)('watches no file-copied volume with %s, whose metrics it does not read; the dump CronJobs still', (provider) => {
      expect(backupAlertVolumes({ app: 'files', provider, volumes, database: false, composeVolumes: ['data'] }).kubernetes).toEqual([{ name: 'db', replicationSource: null, dumpCronJob: 'files-db-dump' }]);
    });
  });
});
