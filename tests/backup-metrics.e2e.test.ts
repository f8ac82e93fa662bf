import { afterAll, describe, expect, it } from 'vitest';
import { Docker } from '../tools/homelab/src/deploy/docker';
import { ToolRunner } from '../tools/homelab/src/deploy/process';
import { Reporter } from '../tools/homelab/src/deploy/progress';
import { ensureVolumes } from '../tools/homelab/src/deploy/shared-volumes';
import { BACKUP_METRIC, BACKUP_METRIC_SCRIPT, VOLUME_LABEL } from '../tools/homelab/src/project/backup-metrics';
import { requirePromtool } from './support/promtool';
import { requireTool, run } from './support/tools';

/**
 * How a Compose backup tells Prometheus it succeeded (docs/backup.md, "The alert"), on the real
 * Docker Engine: deploy creates the shared metrics volume, and the mover's lines
 * (BACKUP_METRIC_SCRIPT) write the node-exporter textfile into it, which Prometheus' own
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

/** Runs the mover's lines in a container: `mount` is `-v` arguments; the environment a mover of files in dev has. */
function mover(mount: string[]) {
  return run('docker', [
    'run', '--rm', '--network', 'none', ...mount,
    '-e', 'HOMELAB_APP=files', '-e', 'HOMELAB_ENV=dev', '-e', 'HOMELAB_PROJECT=files-dev', '-e', 'HOMELAB_VOLUME=data',
    IMAGE, 'sh', '-c', BACKUP_METRIC_SCRIPT,
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
