import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateApp } from '../tools/homelab/src/app/generate';
import { Docker } from '../tools/homelab/src/deploy/docker';
import { ToolRunner } from '../tools/homelab/src/deploy/process';
import { Reporter } from '../tools/homelab/src/deploy/progress';
import { ensureVolumes } from '../tools/homelab/src/deploy/shared-volumes';
import { diskHost } from '../tools/homelab/src/host';
import { generateInit } from '../tools/homelab/src/platform/init';
import { BACKUP_METRIC_SH } from '../tools/homelab/src/app/steps/compose-backup';
import { BACKUP_METRIC, BACKUP_METRICS_VOLUME, VOLUME_LABEL } from '../tools/homelab/src/project/backup-metrics';
import { composeFiles } from '../tools/homelab/src/project/paths';
import { requirePromtool } from './support/promtool';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, makeTempDir, parseDocs, removeDir, workspaceYamlWith } from './support/workspace';

/**
 * How a Compose backup tells Prometheus it succeeded (docs/backup.md, "The alert"), on the real
 * Docker Engine: deploy creates the shared metrics volume, and the mover's function
 * `write_backup_metric` (tools/homelab/src/app/backup/metrics.sh) writes the node-exporter textfile into it, which Prometheus' own
 * `promtool check metrics` reads as node-exporter's textfile collector would. The lines run in the
 * local busybox image (the restic test image has the same busybox applets). What cannot run here:
 * node-exporter (no image can be pulled), so the textfile is checked as a file.
 *
 * The volumes have names of this file's own, so no other test's (and no homelab's) are touched.
 */
const docker = requireTool('docker');
const promtool = requirePromtool();
const IMAGE = 'homelab-test/busybox:1';

const tag = Math.random().toString(36).slice(2, 8);
const volumes: string[] = [];
afterAll(() => {
  for (const v of volumes) run('docker', ['volume', 'rm', '-f', v]);
});

/** A fresh Docker volume of this file. */
function volume(name: string): string {
  const full = `hbm-${tag}-${name}`;
  volumes.push(full);
  return full;
}

/** Runs the mover's write_backup_metric in a container: `mount` is `-v` arguments; the environment a mover of files in dev has. */
function mover(mount: string[]) {
  return run('docker', [
    'run', '--rm', '--network', 'none', ...mount,
    '-e', 'HOMELAB_APP=files', '-e', 'HOMELAB_ENV=dev', '-e', 'HOMELAB_PROJECT=files-dev', '-e', 'HOMELAB_VOLUME=data',
    IMAGE, 'sh', '-c', `${BACKUP_METRIC_SH}write_backup_metric`,
  ]);
}

/** The files of a volume, and the content of one. */
const list = (v: string) => run('docker', ['run', '--rm', '--network', 'none', '-v', `${v}:/m`, IMAGE, 'ls', '-a', '/m']).stdout.split('\n').filter((f) => f !== '' && f !== '.' && f !== '..');
const cat = (v: string, file: string) => run('docker', ['run', '--rm', '--network', 'none', '-v', `${v}:/m`, IMAGE, 'cat', `/m/${file}`]).stdout;

describe.skipIf(docker.skip)("the backup movers' metrics on the real engine", () => {
  it('deploy creates a missing shared volume once, labelled, and leaves it on the next run', async () => {
    const name = volume('created');
    const lines: string[] = [];
    const engine = new Docker(new ToolRunner(process.env));
    const report = new Reporter((line) => lines.push(line));

    expect(await ensureVolumes(engine, [name], report)).toEqual([name]);
    expect(await ensureVolumes(engine, [name], report)).toEqual([]);
    const inspected = JSON.parse(run('docker', ['volume', 'inspect', name]).stdout);
    expect(inspected[0].Labels).toEqual({ [VOLUME_LABEL]: name });
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\[volume\\] +${name}: created$`))]);
  });

  it.skipIf(promtool.skip)("writes <project>-<volume>.prom with the time of the backup, as node-exporter's textfile collector reads it", () => {
    const metrics = volume('metrics');
    const before = Math.floor(Date.now() / 1000);
    const result = mover(['-v', `${metrics}:/metrics`]);
    const after = Math.ceil(Date.now() / 1000);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    // Only the file: the temporary one was renamed.
    expect(list(metrics)).toEqual(['files-dev-data.prom']);
    const text = cat(metrics, 'files-dev-data.prom');
    const checked = run(promtool.path, ['check', 'metrics'], { input: text });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    const sample = text.split('\n').find((l) => l.startsWith(BACKUP_METRIC))!;
    expect(sample).toMatch(new RegExp(`^${BACKUP_METRIC}\\{app="files",env="dev",volume="data"\\} \\d+$`));
    const value = Number(sample.split(' ')[1]);
    expect(value).toBeGreaterThanOrEqual(before - 2);
    expect(value).toBeLessThanOrEqual(after + 2);
  });

  it('replaces the file of an earlier backup, and leaves the files of other volumes alone', () => {
    const metrics = volume('again');
    run('docker', ['run', '--rm', '--network', 'none', '-v', `${metrics}:/m`, IMAGE, 'sh', '-c', 'echo old > /m/files-dev-data.prom; echo other > /m/files-dev-media.prom']);

    expect(mover(['-v', `${metrics}:/metrics`]).status).toBe(0);
    expect(list(metrics).sort()).toEqual(['files-dev-data.prom', 'files-dev-media.prom']);
    expect(cat(metrics, 'files-dev-data.prom')).toContain(BACKUP_METRIC);
    expect(cat(metrics, 'files-dev-media.prom')).toBe('other\n');
  });

  it('does nothing without /metrics (a mover that does not mount the volume)', () => {
    const result = mover([]);

    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('says in one line when it cannot write, does not fail the backup, and leaves no temporary file', () => {
    const metrics = volume('readonly');
    const result = mover(['-v', `${metrics}:/metrics:ro`]);

    expect(result.status).toBe(0);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('homelab-backup: could not write /metrics/files-dev-data.prom');
    expect(list(metrics)).toEqual([]);
  });
});

/**
 * The pieces fit: a generated app's own mover (restic/restic:0.18.0, the image setup-engines builds)
 * backs up a volume as `/homelab/backup` runs it, and writes its success into the host's shared
 * volume; the Compose rule homelab rendered for the app selects exactly that series.
 */
const restic = requireTool('docker compose');
const resticImage = run('docker', ['image', 'inspect', 'restic/restic:0.18.0']).status === 0;
describe.skipIf(restic.skip)("a generated app's mover writes the series its BackupStale rule watches", () => {
  const app = `bm${tag}`;
  const project = `${app}-dev`;
  let dir = '';
  let repository = '';
  let envFile = '';
  let createdShared = false;
  beforeAll(async () => {
    // Built by `npm run setup:engines` (scripts/setup-engines.sh): without it this part cannot run.
    if (!resticImage) throw new Error('no image restic/restic:0.18.0 on this engine; run npm run setup:engines');
    repository = makeTempDir('backup-metrics-repo');
    dir = makeDiskWorkspace(
      'backup-metrics',
      workspaceYamlWith((c) => {
        c.environments = [{ name: 'dev', namespaceSuffix: '-dev' }];
        c.backup = { ...c.backup, target: { path: repository } };
      }),
    );
    const host = diskHost(dir);
    generateInit(host, {});
    generateApp(host, { name: app, image: 'traefik/whoami:v1.10.4', port: 80, volumes: 'data:1Gi:/data' });
    envFile = path.join(dir, 'backup.env');
    fs.writeFileSync(envFile, 'RESTIC_PASSWORD=correct-horse-battery\n', { mode: 0o600 });
    // As deploy does before `up`: the shared volume, created when missing.
    createdShared = (await ensureVolumes(new Docker(new ToolRunner(process.env)), [BACKUP_METRICS_VOLUME], new Reporter(() => undefined))).length > 0;
  }, 120_000);
  afterAll(() => {
    if (!dir) return;
    run('docker', ['run', '--rm', '--network', 'none', '-v', `${BACKUP_METRICS_VOLUME}:/m`, IMAGE, 'rm', '-f', `/m/${project}-data.prom`]);
    run('docker', ['compose', '-p', project, ...composeArgs(), '--profile', 'backup', 'down', '--volumes'], { cwd: dir, env: { ...process.env, HOMELAB_ENV_FILE: envFile } });
    // The shared volume outlives projects: removed only when this file created it (and nothing else uses it by now).
    if (createdShared) run('docker', ['volume', 'rm', BACKUP_METRICS_VOLUME]);
    removeDir(dir);
    removeDir(repository);
  });
  const composeArgs = () => composeFiles('applications', app, 'dev').filter((f) => fs.existsSync(path.join(dir, f))).flatMap((f) => ['-f', f]);

  it.skipIf(promtool.skip)('backs up, writes <project>-<volume>.prom into homelab-backup-metrics, and the rendered rule fires on that series once it is 48 h old', () => {
    const env = { ...process.env, HOMELAB_ENV_FILE: envFile };
    // The app's project as deploy leaves it (its volume created), with a file in the volume: the app's data.
    const created = run('docker', ['compose', '-p', project, ...composeArgs(), 'up', '--no-start', app], { cwd: dir, env });
    expect(created.status, created.stderr).toBe(0);
    expect(run('docker', ['run', '--rm', '--network', 'none', '-v', `${project}_data:/d`, IMAGE, 'sh', '-c', 'echo notes > /d/notes.txt']).status).toBe(0);
    const before = Math.floor(Date.now() / 1000);
    const backup = run('docker', ['compose', '-p', project, ...composeArgs(), '--profile', 'backup', 'run', '--rm', '--no-deps', 'backup-data'], { cwd: dir, env });
    expect(backup.status, `${backup.stdout}\n---\n${backup.stderr}`).toBe(0);
    expect(backup.stdout).toContain('homelab-backup done data');

    const text = cat(BACKUP_METRICS_VOLUME, `${project}-data.prom`);
    expect(run(promtool.path, ['check', 'metrics'], { input: text }).status).toBe(0);
    const sample = text.split('\n').find((l) => l.startsWith(BACKUP_METRIC))!;
    expect(sample).toMatch(new RegExp(`^${BACKUP_METRIC}\\{app="${app}",env="dev",volume="data"\\} (\\d+)$`));
    expect(Number(sample.split(' ')[1])).toBeGreaterThanOrEqual(before - 2);

    // The series exactly as written (its time set to the test's start), against the rule file of the app in dev.
    const rules = path.join(dir, 'applications/compose/monitoring/rules/dev', `${app}.yaml`);
    const tests = path.join(dir, 'stale.test.yaml');
    const alert = `Bm${tag}BackupStale`;
    fs.writeFileSync(
      tests,
      YAML.stringify({
        rule_files: [rules],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [{ series: sample.replace(/ \d+$/, ''), values: `0x${3 * 24 * 60}` }],
            alert_rule_test: [
              { eval_time: '47h', alertname: alert, exp_alerts: [] },
              { eval_time: '49h', alertname: alert, exp_alerts: [{ exp_labels: { severity: 'warning', app, environment: 'dev', env: 'dev', volume: 'data' }, exp_annotations: parseDocs(fs.readFileSync(rules, 'utf8'))[0].groups[0].rules.find((r: { alert: string }) => r.alert === alert).annotations }] },
            ],
          },
        ],
      }),
    );
    const result = run(promtool.path, ['test', 'rules', tests]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});
