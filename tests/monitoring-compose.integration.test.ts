import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../tools/homelab/src/app/generate';
import { generateInfra } from '../tools/homelab/src/component/generate';
import { diskHost } from '../tools/homelab/src/host';
import { generateInit } from '../tools/homelab/src/platform/init';
import { requirePromtool } from './support/promtool';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir } from './support/workspace';

/**
 * Resource monitoring on Compose, checked with the real `docker compose config` and Prometheus'
 * own `promtool`: the monitoring stack with its host and container exporters, the Prometheus that
 * scrapes them and loads the apps' alert rules, the Grafana that provisions the apps' dashboards.
 *
 * What cannot run here: no image of Prometheus, Grafana, node-exporter or Grafana Alloy can be
 * pulled on this machine, so the exporters are never started and no series is scraped. The
 * stack is checked as Compose merges it, the rule files and Prometheus' configuration as
 * promtool (built from Prometheus' Go module at the pinned version, scripts/promtool/build.sh)
 * reads them, and the queries by the labels cAdvisor keeps (tools/homelab/src/app/steps/signals.test.ts).
 */
const compose = requireTool('docker compose');
const promtool = requirePromtool();

let dir: string;
const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const MONITORING = 'infrastructure/compose';

/** The merged Compose project of a component or app in one environment, as deploy merges it. */
function merged(layer: 'applications' | 'infrastructure', name: string, env: string): any {
  const files = [`${layer}/compose/base/${name}/compose.yaml`, `${layer}/compose/environments/${env}/${name}/compose.generated.yaml`, `${layer}/compose/environments/${env}/${name}/compose.override.yaml`];
  const result = run('docker', ['compose', '--env-file', '/dev/null', ...files.flatMap((f) => ['-f', f]), 'config'], { cwd: dir });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return parseDocs(result.stdout)[0];
}

describe.skipIf(compose.skip)('resource monitoring on Compose', () => {
  beforeAll(() => {
    dir = makeDiskWorkspace('monitoring-compose');
    const host = diskHost(dir);
    generateInit(host, {});
    generateInfra(host, { component: 'monitoring' });
    generateApp(host, { name: 'wiki', image: 'traefik/whoami:v1.10.4', port: 80 });
  }, 120_000);
  afterAll(() => removeDir(dir));

  it('merges the monitoring stack clean, with a node exporter and cAdvisor on the shared network', () => {
    const stack = merged('infrastructure', 'monitoring', 'prod');
    expect(Object.keys(stack.services).sort()).toEqual(['alertmanager', 'cadvisor', 'grafana', 'node-exporter', 'prometheus']);
    expect(stack.services['node-exporter'].image).toBe('prom/node-exporter:v1.9.1');
    expect(stack.services.cadvisor.image).toBe('grafana/alloy:v1.9.2');
    // The exporters are on the infrastructure's network, where Prometheus scrapes them; Prometheus also on each environment's, where it scrapes the apps.
    for (const service of ['node-exporter', 'cadvisor']) expect(Object.keys(stack.services[service].networks)).toEqual(['homelab']);
    expect(Object.keys(stack.services.prometheus.networks).sort()).toEqual(['homelab', 'homelab-dev', 'homelab-prod']);
    expect(stack.services['node-exporter'].volumes).toContainEqual(expect.objectContaining({ type: 'bind', source: '/', target: '/host', read_only: true }));
    expect(stack.services.cadvisor.volumes.map((v: any) => v.target)).toEqual(['/var/run/docker.sock', '/sys', '/var/lib/docker', '/rootfs']);
  });

  it("lets node-exporter read the backup movers' textfiles: homelab-backup-metrics, external (deploy creates it), read-only", () => {
    const stack = merged('infrastructure', 'monitoring', 'prod');
    const exporter = stack.services['node-exporter'];
    expect(exporter.command).toEqual(['--path.rootfs=/host', '--collector.textfile.directory=/var/lib/node-exporter/textfile']);
    expect(exporter.volumes).toContainEqual({ type: 'volume', source: 'backup-metrics', target: '/var/lib/node-exporter/textfile', read_only: true });
    expect(stack.volumes['backup-metrics']).toEqual({ name: 'homelab-backup-metrics', external: true });
  });

  it("mounts the rule folder of each environment the Docker host runs into Prometheus, and the dashboards folder into Grafana, from this repository's applications/compose/monitoring", () => {
    const stack = merged('infrastructure', 'monitoring', 'prod');
    const binds = (service: string) => stack.services[service].volumes.filter((v: any) => v.type === 'bind' && v.source.startsWith(dir));
    expect(binds('prometheus')).toEqual(
      ['prod', 'dev'].map((env) => ({
        type: 'bind',
        source: path.join(dir, 'applications/compose/monitoring/rules', env),
        target: `/etc/prometheus/rules/${env}`,
        read_only: true,
        bind: { create_host_path: true },
      })),
    );
    expect(binds('grafana')).toEqual([
      { type: 'bind', source: path.join(dir, 'applications/compose/monitoring/dashboards'), target: '/etc/grafana/dashboards/homelab', read_only: true, bind: { create_host_path: true } },
    ]);
    // The app's files are where those mounts look, and only there: Prometheus takes each environment's folder.
    expect(fs.readdirSync(path.join(dir, 'applications/compose/monitoring/rules')).sort()).toEqual(['dev', 'prod']);
    expect(fs.readdirSync(path.join(dir, 'applications/compose/monitoring/dashboards'))).toEqual(['wiki.json']);
    expect(parseDocs(read(`${MONITORING}/base/monitoring/prometheus.yml`))[0].rule_files).toEqual(['/etc/prometheus/rules/dev/*.yaml', '/etc/prometheus/rules/prod/*.yaml']);
  });

  it('keeps the app itself as it was: its merged project gains no mount and no service', () => {
    const app = merged('applications', 'wiki', 'dev');
    expect(Object.keys(app.services)).toEqual(['wiki']);
    expect(app.services.wiki.labels['homelab.app']).toBe('wiki');
  });

  it.skipIf(promtool.skip)("passes Prometheus' own checks: the app's rule files of every environment, and the Compose Prometheus' configuration", () => {
    const rules = ['dev', 'prod'].map((env) => path.join(dir, `applications/compose/monitoring/rules/${env}/wiki.yaml`));
    const checked = run(promtool.path, ['check', 'rules', ...rules]);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout.match(/SUCCESS: 2 rules found/g)).toHaveLength(2);
    // The configuration as Prometheus reads it in its container, with the rule folders where the mounts put them.
    const etc = path.join(dir, 'prometheus-etc');
    fs.mkdirSync(path.join(etc, 'rules/dev'), { recursive: true });
    fs.copyFileSync(rules[0], path.join(etc, 'rules/dev/wiki.yaml'));
    const config = read(`${MONITORING}/base/monitoring/prometheus.yml`).replaceAll('- /etc/prometheus/rules/', `- ${etc}/rules/`);
    fs.writeFileSync(path.join(etc, 'prometheus.yml'), config);
    const result = run(promtool.path, ['check', 'config', path.join(etc, 'prometheus.yml')]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS: 1 rule files found');
  });

  it.skipIf(promtool.skip)("refuses a broken rule in promtool's check, so the check above can fail", () => {
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, read('applications/compose/monitoring/rules/dev/wiki.yaml').replace('or vector(0)) < 1', 'or vector(0) < 1'));
    const result = run(promtool.path, ['check', 'rules', broken]);
    expect(result.status).not.toBe(0);
  });
});
