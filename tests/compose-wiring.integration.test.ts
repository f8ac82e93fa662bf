import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateApp } from '../tools/homelab/src/app/generate';
import { generateInfra } from '../tools/homelab/src/component/generate';
import { Docker } from '../tools/homelab/src/deploy/docker';
import { ensureNetworks } from '../tools/homelab/src/deploy/networks';
import { ToolRunner } from '../tools/homelab/src/deploy/process';
import { Reporter } from '../tools/homelab/src/deploy/progress';
import { diskHost } from '../tools/homelab/src/host';
import { generateInit } from '../tools/homelab/src/platform/init';
import { composeFiles } from '../tools/homelab/src/project/paths';
import { NETWORK_LABEL } from '../tools/homelab/src/project/networks';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, removeDir, workspaceYamlWith } from './support/workspace';

/**
 * Compose apps wired to the shared components (docs/infrastructure.md, "Compose wiring"), checked
 * in the files the real `docker compose config` merges and, for networks and aliases, in containers
 * the real engine creates. What cannot run here: no Traefik, Prometheus, PostgreSQL or Alloy image
 * can be pulled, and this engine has no bridge to the outside (dockerd --bridge=none), so no request
 * is routed, scraped or resolved: routing rules, scrape relabelling and log discovery are checked
 * as configuration; the containers are created (`docker compose create`), never started.
 *
 * The environments have names of their own, so the networks this file creates (`homelab-<env>`)
 * are no other test's.
 */
const compose = requireTool('docker compose');

const tag = Math.random().toString(36).slice(2, 6).replace(/^[0-9]/, 'x');
const DEV = `wd${tag}`;
const PROD = `wp${tag}`;
const HOMELAB_YAML = workspaceYamlWith((c) => {
  c.environments = [
    { name: DEV, namespaceSuffix: `-${DEV}` },
    { name: PROD, namespaceSuffix: `-${PROD}`, protected: true },
  ];
});

type Obj = Record<string, any>;
let root = '';
const projects: string[] = [];
/** `homelab` may be there already (shared by every homelab of this engine): removed only when this file created it. */
let createdInfraNetwork = false;

beforeAll(() => {
  if (compose.skip) return;
  root = makeDiskWorkspace('wiring', HOMELAB_YAML);
  const host = diskHost(root);
  generateInit(host, {});
  for (const component of ['ingress', 'monitoring', 'logging', 'postgres'] as const) generateInfra(host, { component, email: 'admin@example.org' });
  generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 80, host: 'web.home.example.org' });
  writeSpec(host, specOf('metered', { ports: [{ name: 'http', port: 8080, http: true }, { name: 'metrics', port: 9100 }], monitoring: { metrics: { port: 'metrics' } } }));
  writeSpec(host, specOf('notes', { dependsOn: ['postgres'] }));
  writeSpec(host, specOf('lonely'));
  writeSpec(host, specOf('open', { network: { allowInternet: true } }));
  writeSpec(host, specOf('shown', { ports: [{ name: 'http', port: 8080, http: true, publish: { port: 18080 } }] }));
  syncAll(host);
});

afterAll(() => {
  for (const project of projects) run('docker', ['compose', '-p', project, 'down', '--remove-orphans']);
  for (const env of [DEV, PROD]) run('docker', ['network', 'rm', `homelab-${env}`]);
  if (createdInfraNetwork) run('docker', ['network', 'rm', 'homelab']);
  removeDir(root);
});

/** The merged Compose of a project in an environment, as the real `docker compose config` resolves it. */
function merged(layer: 'applications' | 'infrastructure', name: string, env: string, extra: string[] = []): { status: number | null; doc: Obj; stderr: string } {
  const files = existing(layer, name, env);
  const result = run('docker', ['compose', ...[...files, ...extra].flatMap((f) => ['-f', path.join(root, f)]), 'config'], { cwd: root });
  return { status: result.status, doc: result.status === 0 ? (YAML.parse(result.stdout) as Obj) : {}, stderr: result.stderr };
}

/** The Compose files of a project in an environment that exist, in merge order. */
const existing = (layer: 'applications' | 'infrastructure', name: string, env: string) => composeFiles(layer, name, env).filter((f) => fs.existsSync(path.join(root, f)));

const networksOf = (doc: Obj, service: string) => Object.keys(doc.services[service].networks ?? {}).sort();

describe.skipIf(compose.skip)('an app on Compose joins the network of its environment exactly when it needs a shared component', () => {
  it.each([
    ['web', 'has a host (Traefik routes to it)'],
    ['metered', 'serves metrics (Prometheus scrapes it)'],
    ['notes', 'depends on postgres'],
  ])('%s, which %s: its default network and homelab-<env>, declared external, in each environment', (app) => {
    for (const env of [DEV, PROD]) {
      const { status, doc, stderr } = merged('applications', app, env);

      expect(status, stderr).toBe(0);
      expect(networksOf(doc, app)).toEqual(['default', `homelab-${env}`]);
      expect(doc.networks[`homelab-${env}`]).toEqual({ name: `homelab-${env}`, external: true });
      // Never another environment's network.
      expect(Object.keys(doc.networks).filter((n) => n.startsWith('homelab-'))).toEqual([`homelab-${env}`]);
    }
  });

  it.each(['lonely', 'open', 'shown'])('%s, which needs none: on its own default network only', (app) => {
    const { status, doc, stderr } = merged('applications', app, DEV);

    expect(status, stderr).toBe(0);
    expect(networksOf(doc, app)).toEqual(['default']);
    expect(Object.keys(doc.networks)).toEqual(['default']);
  });

  it('routes the host on the environment network, with TLS', () => {
    const dev = merged('applications', 'web', DEV).doc.services.web.labels;
    const prod = merged('applications', 'web', PROD).doc.services.web.labels;

    expect(dev).toMatchObject({ 'traefik.enable': 'true', 'traefik.docker.network': `homelab-${DEV}`, [`traefik.http.routers.web-${DEV}.tls.certresolver`]: 'letsencrypt' });
    expect(prod).toMatchObject({ 'traefik.docker.network': `homelab-${PROD}`, [`traefik.http.routers.web-${PROD}.tls.certresolver`]: 'letsencrypt' });
    expect(dev[`traefik.http.routers.web-${DEV}.rule`]).toMatch(/^Host\(`.+`\)$/);
  });

  it('closes egress with an internal default network (network.allowInternet false), unless the spec opens it or a port is published', () => {
    expect(merged('applications', 'lonely', DEV).doc.networks.default).toMatchObject({ internal: true });
    expect(merged('applications', 'web', DEV).doc.networks.default).toMatchObject({ internal: true });
    expect(merged('applications', 'open', DEV).doc.networks.default.internal).toBeUndefined();
    expect(merged('applications', 'shown', DEV).doc.networks.default.internal).toBeUndefined();
  });

  it('labels every service for log shipping, and Alloy ships the logs of exactly those containers', () => {
    for (const app of ['web', 'notes', 'lonely']) expect(merged('applications', app, DEV).doc.services[app].labels).toMatchObject({ logging: 'promtail', 'logging.job': app });
    const alloy = fs.readFileSync(path.join(root, 'infrastructure/compose/base/logging/config.alloy'), 'utf8');

    expect(alloy).toMatch(/discovery\.docker "containers" \{[^}]*filter \{\s*name\s*=\s*"label"\s*values\s*=\s*\["logging=promtail"\]/);
    expect(alloy).toMatch(/loki\.source\.docker "containers" \{[^}]*targets\s*=\s*discovery\.docker\.containers\.targets/);
  });

  it("gives way to compose.override.yaml: network_mode needs `networks: !reset {}` beside it, which Compose refuses to leave out", () => {
    const override = path.join(root, 'override-host.yaml');
    fs.writeFileSync(override, 'services:\n  web:\n    network_mode: host\n');
    const refused = merged('applications', 'web', DEV, ['override-host.yaml']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('mutually exclusive `network_mode` and `networks`');

    fs.writeFileSync(override, 'services:\n  web:\n    network_mode: host\n    networks: !reset {}\n');
    const { status, doc, stderr } = merged('applications', 'web', DEV, ['override-host.yaml']);
    expect(status, stderr).toBe(0);
    expect(doc.services.web.network_mode).toBe('host');
    expect(doc.services.web.networks).toBeUndefined();
    expect(doc.networks).toBeUndefined();
  });
});

describe.skipIf(compose.skip)('the infrastructure that serves apps joins the network of every environment it serves', () => {
  it.each([
    ['ingress', 'traefik'],
    ['monitoring', 'prometheus'],
    ['postgres', 'postgres'],
  ])('%s: %s on homelab and on homelab-<env> of both environments (installed once, by the protected one)', (component, service) => {
    const { status, doc, stderr } = merged('infrastructure', component, PROD);

    expect(status, stderr).toBe(0);
    expect(networksOf(doc, service)).toEqual(['homelab', `homelab-${DEV}`, `homelab-${PROD}`].sort());
    for (const env of [DEV, PROD]) expect(doc.networks[`homelab-${env}`]).toEqual({ name: `homelab-${env}`, external: true });
    expect(fs.existsSync(path.join(root, `infrastructure/compose/environments/${DEV}/${component}`))).toBe(false);
  });

  it('leaves the other services on homelab alone', () => {
    const { doc } = merged('infrastructure', 'monitoring', PROD);

    expect(networksOf(doc, 'grafana')).toEqual(['homelab']);
    expect(networksOf(doc, 'alertmanager')).toEqual(['homelab']);
    expect(networksOf(merged('infrastructure', 'logging', PROD).doc, 'alloy')).toEqual(['homelab']);
  });

  it("answers as PostgreSQL does on Kubernetes: postgres-rw.<namespace>.svc on each environment's network", () => {
    const { doc } = merged('infrastructure', 'postgres', PROD);

    for (const env of [DEV, PROD]) {
      expect(doc.services.postgres.networks[`homelab-${env}`].aliases).toEqual(['postgres-rw.postgres.svc', 'postgres-rw.postgres.svc.cluster.local']);
    }
  });

  it("scrapes apps on their environment's network, once each: Prometheus keeps homelab-<env>, drops a container's other networks", () => {
    const prometheus = YAML.parse(fs.readFileSync(path.join(root, 'infrastructure/compose/base/monitoring/prometheus.yml'), 'utf8')) as Obj;
    const job = prometheus.scrape_configs.find((j: Obj) => j.job_name === 'compose');
    const keep = job.relabel_configs.find((r: Obj) => r.action === 'keep' && r.source_labels[0] === '__meta_docker_network_name');
    // Prometheus anchors a relabel regex at both ends.
    const kept = (network: string) => new RegExp(`^(?:${keep.regex})$`).test(network);

    expect([`homelab-${DEV}`, `homelab-${PROD}`].every(kept)).toBe(true);
    expect(['homelab', `metered-${DEV}_default`, `metered-${PROD}_default`, 'bridge', 'host'].some(kept)).toBe(false);
  });
});

describe.skipIf(compose.skip)('on the real engine', () => {
  const lines: string[] = [];
  const docker = new Docker(new ToolRunner(process.env));
  const report = new Reporter((line) => lines.push(line));

  it('deploy creates a missing homelab-<env> once, internal and labelled, and leaves it on the next run', async () => {
    const networks = [`homelab-${DEV}`, `homelab-${PROD}`, `someapp-${DEV}_default`];

    expect(await ensureNetworks(docker, networks, report)).toEqual([`homelab-${DEV}`, `homelab-${PROD}`]);
    expect(await ensureNetworks(docker, networks, report)).toEqual([]);
    const inspected = JSON.parse(run('docker', ['network', 'inspect', `homelab-${DEV}`]).stdout) as Obj[];
    expect(inspected[0]).toMatchObject({ Internal: true, Driver: 'bridge', Labels: { [NETWORK_LABEL]: `homelab-${DEV}` } });
    // Another project's network is that project's to create.
    expect(run('docker', ['network', 'inspect', `someapp-${DEV}_default`]).status).not.toBe(0);
    expect(lines.filter((l) => l.startsWith('[network]'))).toEqual([
      `[network]  homelab-${DEV}: created (internal: no route out of this host)`,
      `[network]  homelab-${PROD}: created (internal: no route out of this host)`,
    ]);
  });

  it('warns when a homelab-<env> network that exists is not internal', async () => {
    const name = `homelab-${DEV}x`;
    run('docker', ['network', 'create', name]);
    try {
      lines.length = 0;
      expect(await ensureNetworks(docker, [name], report)).toEqual([]);
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^warning: +network ${name} exists but is not internal: .+docker network rm ${name}`))]);
    } finally {
      run('docker', ['network', 'rm', name]);
    }
  });

  it("creates an app's and PostgreSQL's containers with the networks and the Kubernetes name the files give them", () => {
    // No PostgreSQL image here: the stand-in image is set where a user would, in the override file.
    const override = path.join(root, 'infrastructure/compose/environments', PROD, 'postgres/compose.override.yaml');
    fs.writeFileSync(override, 'services:\n  postgres:\n    image: homelab-test/busybox:1\n');
    if (run('docker', ['network', 'inspect', 'homelab']).status !== 0) createdInfraNetwork = run('docker', ['network', 'create', '--label', `${NETWORK_LABEL}=homelab`, 'homelab']).status === 0;
    const create = (layer: 'applications' | 'infrastructure', name: string, env: string, project: string) => {
      projects.push(project);
      const files = existing(layer, name, env).flatMap((f) => ['-f', path.join(root, f)]);
      const result = run('docker', ['compose', ...files, 'create', '--pull', 'never'], { cwd: root });
      expect(result.status, result.stderr).toBe(0);
      const ids = run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).stdout.trim().split('\n');
      return (JSON.parse(run('docker', ['inspect', ...ids]).stdout) as Obj[])[0].NetworkSettings.Networks as Obj;
    };

    const web = create('applications', 'web', DEV, `web-${DEV}`);
    const postgres = create('infrastructure', 'postgres', PROD, `postgres-${PROD}`);

    expect(Object.keys(web).sort()).toEqual([`homelab-${DEV}`, `web-${DEV}_default`]);
    expect(Object.keys(postgres).sort()).toEqual(['homelab', `homelab-${DEV}`, `homelab-${PROD}`]);
    expect(postgres[`homelab-${DEV}`].Aliases).toEqual(expect.arrayContaining(['postgres-rw.postgres.svc', 'postgres-rw.postgres.svc.cluster.local']));
    const defaultNetwork = JSON.parse(run('docker', ['network', 'inspect', `web-${DEV}_default`]).stdout) as Obj[];
    expect(defaultNetwork[0].Internal).toBe(true);
  });
});
