import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateApp } from '../tools/homelab/src/app/generate';
import { backupAlertRules } from '../tools/homelab/src/app/steps/signals';
import { diskHost } from '../tools/homelab/src/host';
import { generateInit } from '../tools/homelab/src/platform/init';
import { requirePromtool } from './support/promtool';
import { run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, workspaceYamlWith } from './support/workspace';

/**
 * The stale-backup alert (`<App>BackupStale`, docs/backup.md "The alert") as the real Prometheus
 * evaluates it: `promtool test rules` (built from Prometheus' Go module at the version the catalog
 * pins, scripts/promtool/build.sh) runs the rendered rule files against series that make it fire
 * and series that keep it quiet. The series are those VolSync's controller, kube-state-metrics and
 * the Compose backup mover write; none of them runs here (no image can be pulled), so they are
 * written out, by their real names and labels (VolSync v0.14.0 internal/controller/metrics.go).
 *
 * The app backs up daily (`0 3 * * *`): the alert fires once the last success is older than 48 h.
 */
const promtool = requirePromtool();

const HOMELAB_YAML = workspaceYamlWith((c) => {
  c.environments = [{ name: 'dev', namespaceSuffix: '-dev' }, { name: 'prod', protected: true }];
});
let dir = '';

/** `v` repeated for `minutes` one-minute samples (promtool's expanding notation `v x n` is n+1 samples). */
const minutes = (v: number, count: number) => `${v}x${count - 1}`;
const DAY = 24 * 60;

/** Runs `promtool test rules` on the rule groups with the tests; its status and output. */
function promtoolTest(groups: unknown, tests: unknown[]): { status: number | null; output: string } {
  const rules = path.join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(rules, YAML.stringify({ groups }));
  const file = `${rules}.test.yaml`;
  fs.writeFileSync(file, YAML.stringify({ rule_files: [path.basename(rules)], evaluation_interval: '1m', tests }));
  const result = run(promtool.path, ['test', 'rules', file], { cwd: dir });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** The expected firing alert of volume `data` of files in dev: the rule's labels and annotations, with the series' labels. */
function firing(seriesLabels: Record<string, string>) {
  return {
    exp_labels: { severity: 'warning', app: 'files', environment: 'dev', ...seriesLabels },
    exp_annotations: {
      summary: 'files-dev: no successful backup of volume data for 2d (twice the interval of its schedule 0 3 * * *)',
      runbook: 'applications/runbooks/files.md',
    },
  };
}

/** The alert rules homelab rendered for files in dev: Compose's rule file, or the groups of the PrometheusRule. */
function rendered(platform: 'compose' | 'kubernetes'): any[] {
  const file = platform === 'compose' ? 'applications/compose/monitoring/rules/dev/files.yaml' : 'applications/kubernetes/overlays/dev/files/generated/prometheusrule.yaml';
  const doc = parseDocs(fs.readFileSync(path.join(dir, file), 'utf8'))[0];
  return platform === 'compose' ? doc.groups : doc.spec.groups;
}

describe.skipIf(promtool.skip)('an app whose backups stop is noticed: <App>BackupStale, checked by promtool', () => {
  beforeAll(() => {
    dir = makeDiskWorkspace('backup-alerts', HOMELAB_YAML);
    const host = diskHost(dir);
    generateInit(host, {});
    generateApp(host, { name: 'files', image: 'traefik/whoami:v1.10.4', port: 80, volumes: 'data:1Gi:/data' });
  }, 120_000);
  afterAll(() => removeDir(dir));

  describe('on Compose: the mover writes homelab_backup_last_success_timestamp_seconds{app,env,volume} after each backup', () => {
    const series = 'homelab_backup_last_success_timestamp_seconds{app="files", env="dev", volume="data"}';
    const scheduler = 'container_last_seen{container_label_com_docker_compose_project="files-dev", container_label_com_docker_compose_service="scheduler", container_label_homelab_app="files"}';

    it('stays quiet while a backup succeeds every day, fires 48 h after the last one', () => {
      const result = promtoolTest(rendered('compose'), [
        {
          interval: '1m',
          input_series: [
            // Daily backups for three days: the value is the time of the last one.
            { series: 'homelab_backup_last_success_timestamp_seconds{app="files", env="dev", volume="data", job="node-exporter"}', values: [0, 1, 2].map((d) => minutes(d * 86400, DAY)).join(' ') },
            { series: scheduler, values: minutes(1, 3 * DAY) },
          ],
          alert_rule_test: [{ eval_time: '71h', alertname: 'FilesBackupStale', exp_alerts: [] }],
        },
        {
          interval: '1m',
          input_series: [
            // One backup at 24 h, then none: stale from 72 h.
            { series, values: `${minutes(0, DAY)} ${minutes(86400, 3 * DAY)}` },
            { series: scheduler, values: minutes(1, 4 * DAY) },
          ],
          alert_rule_test: [
            { eval_time: '71h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '73h', alertname: 'FilesBackupStale', exp_alerts: [firing({ app: 'files', env: 'dev', volume: 'data' })] },
          ],
        },
      ]);
      expect(result.status, result.output).toBe(0);
    });

    it('fires when a volume was never backed up while its scheduler and node-exporter ran for 48 h, and not before', () => {
      const result = promtoolTest(rendered('compose'), [
        {
          interval: '1m',
          input_series: [
            { series: scheduler, values: minutes(1, 3 * DAY) },
            { series: 'up{job="node-exporter", instance="node-exporter:9100"}', values: minutes(1, 3 * DAY) },
          ],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'FilesBackupStale', exp_alerts: [] },
            // absent() carries the selector's labels, the rule adds its own.
            { eval_time: '49h', alertname: 'FilesBackupStale', exp_alerts: [firing({ app: 'files', env: 'dev', volume: 'data' })] },
          ],
        },
        {
          interval: '1m',
          // node-exporter is down (it serves the series): no series of any app is no news of their backups.
          input_series: [
            { series: scheduler, values: minutes(1, 3 * DAY) },
            { series: 'up{job="node-exporter", instance="node-exporter:9100"}', values: minutes(0, 3 * DAY) },
          ],
          alert_rule_test: [{ eval_time: '49h', alertname: 'FilesBackupStale', exp_alerts: [] }],
        },
      ]);
      expect(result.status, result.output).toBe(0);
    });
  });

  describe("on Kubernetes: VolSync's volsync_sync_duration_seconds_count counts each completed sync of the ReplicationSource", () => {
    const labels = { role: 'source', obj_namespace: 'files-dev', obj_name: 'files-data', method: 'restic' };
    const series = `volsync_sync_duration_seconds_count{role="source", obj_namespace="files-dev", obj_name="files-data", method="restic"}`;

    it('stays quiet while a sync completes every day, fires 48 h after the last one', () => {
      const result = promtoolTest(rendered('kubernetes'), [
        {
          interval: '1m',
          input_series: [{ series, values: [0, 1, 2, 3].map((n) => minutes(n, DAY)).join(' ') }],
          alert_rule_test: [{ eval_time: '95h', alertname: 'FilesBackupStale', exp_alerts: [] }],
        },
        {
          interval: '1m',
          // One sync at 24 h, then none (the controller still reports the count).
          input_series: [{ series, values: `${minutes(0, DAY)} ${minutes(1, 3 * DAY)}` }],
          alert_rule_test: [
            { eval_time: '71h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '73h', alertname: 'FilesBackupStale', exp_alerts: [firing(labels)] },
          ],
        },
        {
          interval: '1m',
          // The controller restarted at 30 h (its count starts again from 0): the sync at 24 h still counts until 72 h.
          input_series: [{ series, values: `${minutes(0, DAY)} ${minutes(1, 6 * 60)} ${minutes(0, 3 * DAY)}` }],
          alert_rule_test: [
            { eval_time: '71h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '73h', alertname: 'FilesBackupStale', exp_alerts: [firing(labels)] },
          ],
        },
      ]);
      expect(result.status, result.output).toBe(0);
    });

    it('does not fire on a Prometheus with less history than the window (just installed, or its data lost)', () => {
      const result = promtoolTest(rendered('kubernetes'), [
        {
          interval: '1m',
          // No sync ever completed in the 40 h Prometheus has seen; it cannot tell whether one did in the 8 h before.
          input_series: [{ series, values: `_x${8 * 60 - 1} ${minutes(0, 3 * DAY)}` }],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '57h', alertname: 'FilesBackupStale', exp_alerts: [firing(labels)] },
          ],
        },
      ]);
      expect(result.status, result.output).toBe(0);
    });

    it("fires for a dump CronJob on kube-state-metrics' last successful time, and for one that never succeeded", () => {
      const groups = [
        {
          name: 'files.dev',
          rules: backupAlertRules('kubernetes', {
            app: 'files',
            env: 'dev',
            scope: 'files-dev',
            schedule: '0 3 * * *',
            intervalSeconds: 86400,
            scheduler: 'scheduler',
            volumes: [{ name: 'db', replicationSource: null, dumpCronJob: 'files-db-dump' }],
          }).map((r) => ({ alert: r.alert, expr: r.expr, for: r.for, labels: { severity: r.severity } })),
        },
      ];
      const job = { namespace: 'files-dev', cronjob: 'files-db-dump' };
      const selector = 'namespace="files-dev", cronjob="files-db-dump"';
      const result = promtoolTest(groups, [
        {
          interval: '1m',
          input_series: [
            { series: `kube_cronjob_created{${selector}}`, values: minutes(0, 4 * DAY) },
            // Succeeded at 24 h, then never again.
            { series: `kube_cronjob_status_last_successful_time{${selector}}`, values: `_x${DAY - 1} ${minutes(86400, 3 * DAY)}` },
          ],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '71h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '73h', alertname: 'FilesBackupStale', exp_alerts: [{ exp_labels: { severity: 'warning', ...job } }] },
          ],
        },
        {
          interval: '1m',
          // Created at 0, never succeeded: stale from 48 h.
          input_series: [{ series: `kube_cronjob_created{${selector}}`, values: minutes(0, 3 * DAY) }],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'FilesBackupStale', exp_alerts: [] },
            { eval_time: '49h', alertname: 'FilesBackupStale', exp_alerts: [{ exp_labels: { severity: 'warning', ...job } }] },
          ],
        },
      ]);
      expect(result.status, result.output).toBe(0);
    });
  });

  it('fails in promtool when the expectation is wrong, so the checks above can fail', () => {
    const result = promtoolTest(rendered('compose'), [
      {
        interval: '1m',
        input_series: [{ series: 'homelab_backup_last_success_timestamp_seconds{app="files", env="dev", volume="data"}', values: minutes(0, 2 * DAY) }],
        // Stale at 47 h? No: the alert must not be there, so expecting it fails.
        alert_rule_test: [{ eval_time: '47h', alertname: 'FilesBackupStale', exp_alerts: [firing({ app: 'files', env: 'dev', volume: 'data' })] }],
      },
    ]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('FilesBackupStale');
  });
});
