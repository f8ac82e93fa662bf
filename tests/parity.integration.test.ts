import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeApp } from '../tools/homelab/src/app/normalize';
import { diskHost } from '../tools/homelab/src/host';
import { parseWorkspaceConfig } from '../tools/homelab/src/spec/io';
import type { AppSpec } from '../tools/homelab/src/spec/types';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { composeForm } from './support/hostile';
import { inputErrorOf, stackSpec, STACKS_DIR, WIKI_SPEC_FILE, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from './support/workspace';

/**
 * Both platforms run the same stack: every full-form spec that uses only what homelab renders
 * is synced into a workspace, every overlay is built with the real `kubectl kustomize` and every
 * environment merged with the real `docker compose config`, and both results, read back, carry the
 * same services, images, entrypoints and commands, env keys, ports with their protocol, mounts and
 * start order. CI never skips this file: without the tools it fails there (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

/**
 * Census stacks (tests/support/fixtures/stacks) that use fields homelab does not render yet, with
 * what they wait for. Each is checked to be refused, naming such a field, so the list cannot go
 * stale: when a feature lands, its stack fails here until it moves to the rendered ones.
 */
const PENDING: Record<string, string> = {
  'dns-filter': 'ports published on the host (publish), extraHosts, security opt-ins (runAsRoot, writableRootFilesystem, capabilities)',
  files: 'kind: cron (the Compose scheduler is not decided yet), security opt-ins (runAsRoot, writableRootFilesystem)',
  'home-automation': 'devices, init, stopGracePeriod, security opt-ins (privileged, hostNetwork, runAsRoot, writableRootFilesystem), environments.<env>.node',
  media: 'devices (a device plugin resource), groupAdd',
  photos: 'devices, shmSize, security opt-ins (writableRootFilesystem)',
  workflows: 'per-service overrides (environments.<env>.services), security opt-ins (writableRootFilesystem)',
};

/** The stacks both platforms render today: the census stacks not pending, and the wiki that uses every rendered field. */
const RENDERED = [
  ...fs
    .readdirSync(STACKS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .filter((name) => !(name in PENDING))
    .map((name) => stackSpec(name)),
  stackSpec(WIKI_SPEC_FILE),
];
const ENVS = ['dev', 'prod'];
const ROWS = RENDERED.flatMap((spec) => ENVS.map((env) => ({ spec, env, label: `${spec.name}/${env}` })));

describe('census stacks that wait for features', () => {
  it.each(Object.entries(PENDING))('%s is refused until homelab renders %s', (name) => {
    const spec = stackSpec(name);

    expect(inputErrorOf(() => normalizeApp(spec, parseWorkspaceConfig(WORKSPACE_YAML), new Map()))).toContain('which homelab does not render yet');
  });

  it('lists every census stack either as rendered or as pending', () => {
    const census = fs.readdirSync(STACKS_DIR).filter((f) => f.endsWith('.yaml')).length;

    expect(RENDERED.length - 1 + Object.keys(PENDING).length).toBe(census);
    expect(RENDERED.length).toBeGreaterThan(1);
  });
});

let root = '';
beforeAll(() => {
  root = makeDiskWorkspace('parity', WORKSPACE_YAML);
  const host = diskHost(root);
  for (const spec of RENDERED) writeSpec(host, spec);
  syncAll(host);
});
afterAll(() => removeDir(root));

type Obj = Record<string, any>;

/** What one service runs, as either platform's rendered result says it. */
interface Running {
  image: string;
  entrypoint: string[] | null;
  command: string[] | null;
  env: string[];
  /** Keys read from the app's secrets (Kubernetes: secretKeyRef or envFrom; Compose: the env file's keys). */
  secrets: string[];
  ports: string[];
  mounts: string[];
  /** Start level: 0 without dependencies, else one more than the highest of its dependencies. */
  level: number;
}

function kustomize(app: string, env: string): Obj[] {
  const result = run('kubectl', ['kustomize', path.join(root, 'applications/kubernetes/overlays', env, app)]);
  expect(result.stderr, 'kubectl kustomize stderr').toBe('');
  expect(result.status, result.stderr).toBe(0);
  return parseDocs(result.stdout);
}

function composeConfig(app: string, env: string): Obj {
  const files = [`applications/compose/base/${app}/compose.yaml`, `applications/compose/environments/${env}/${app}/compose.generated.yaml`, `applications/compose/environments/${env}/${app}/compose.override.yaml`];
  const result = run('docker', ['compose', ...files.flatMap((f) => ['-f', path.join(root, f)]), 'config', '--format', 'json'], { env: { ...process.env, HOMELAB_ENV_FILE: undefined } });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** The keys of the app's secrets, as `.env.example` lists them for Compose. */
function envExampleKeys(app: string): string[] {
  const file = path.join(root, `applications/compose/base/${app}/.env.example`);
  return fs.existsSync(file) ? [...fs.readFileSync(file, 'utf8').matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]) : [];
}

function kubernetesServices(objects: Obj[]): Map<string, Running> {
  const secretKeys = objects.filter((o) => o.kind === 'Secret' || o.kind === 'ExternalSecret').flatMap((o) => (o.spec?.data ?? []).map((d: Obj) => String(d.secretKey)));
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
  const result = new Map<string, Running>();
  for (const w of workloads) {
    const pod = w.spec.template.spec;
    const container = pod.containers[0];
    const emptyDirs = new Set((pod.volumes ?? []).filter((v: Obj) => v.emptyDir && !v.emptyDir.medium).map((v: Obj) => v.name));
    const env = (container.env ?? []) as Obj[];
    result.set(container.name, {
      image: container.image,
      entrypoint: container.command ?? null,
      command: container.args ?? null,
      env: env.filter((e) => e.valueFrom === undefined).map((e) => String(e.name)).sort(),
      secrets: (container.envFrom ? secretKeys : env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => String(e.name))).sort(),
      ports: (container.ports ?? []).map((p: Obj) => `${p.containerPort}/${String(p.protocol ?? 'TCP').toLowerCase()}`).sort(),
      mounts: (container.volumeMounts ?? []).filter((m: Obj) => !emptyDirs.has(m.name)).map((m: Obj) => `${m.mountPath}${m.readOnly ? ':ro' : ''}`).sort(),
      level: Number(w.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0),
    });
  }
  return result;
}

function composeServices(config: Obj, app: string): Map<string, Running> {
  const services = config.services as Record<string, Obj>;
  // `docker compose config` leaves out an env file that does not exist: the rendered file says who reads one.
  const rendered = parseDocs(fs.readFileSync(path.join(root, `applications/compose/base/${app}/compose.yaml`), 'utf8'))[0].services as Record<string, Obj>;
  const levels = new Map<string, number>();
  const level = (name: string): number => {
    if (!levels.has(name)) {
      const deps = Object.keys(services[name].depends_on ?? {});
      levels.set(name, deps.length === 0 ? 0 : 1 + Math.max(...deps.map(level)));
    }
    return levels.get(name)!;
  };
  const result = new Map<string, Running>();
  for (const [name, s] of Object.entries(services)) {
    const configs = ((s.configs ?? []) as Obj[]).map((c) => `${c.target}:ro`);
    result.set(name, {
      image: s.image,
      entrypoint: s.entrypoint ?? null,
      command: s.command ?? null,
      env: Object.keys(s.environment ?? {}).sort(),
      secrets: rendered[name]?.env_file ? envExampleKeys(app) : [],
      ports: ((s.expose ?? []) as (string | number)[]).map((p) => (String(p).includes('/') ? String(p) : `${p}/tcp`)).sort(),
      mounts: [...((s.volumes ?? []) as Obj[]).map((v) => `${v.target}${v.read_only ? ':ro' : ''}`), ...configs].sort(),
      level: level(name),
    });
  }
  return result;
}

describe.skipIf(kubectl.skip || compose.skip)('both platforms run the same stack', () => {
  it.each(ROWS)('builds and merges $label, with the same services, images, commands, env keys, ports, mounts and start order', ({ spec, env }) => {
    const k8s = kubernetesServices(kustomize(spec.name, env));
    const docker = composeServices(composeConfig(spec.name, env), spec.name);
    const expected = Object.keys((spec as Extract<AppSpec, { services: object }>).services).sort();

    expect([...k8s.keys()].sort()).toEqual(expected);
    expect([...docker.keys()].sort()).toEqual(expected);
    for (const name of expected) {
      const a = k8s.get(name)!;
      const b = docker.get(name)!;
      expect({ service: name, ...a, secrets: undefined }).toEqual({ service: name, ...b, secrets: undefined });
      // Compose cannot pick keys from an env file: a service that reads secrets sees all of its app's keys.
      expect(b.secrets, `${name}: Compose secrets`).toEqual(expect.arrayContaining(a.secrets));
      expect(a.secrets.length > 0, `${name}: reads secrets on both or neither`).toBe(b.secrets.length > 0);
    }
  });

  it('carries the wiki stack with every kind of workload, volume and start condition through both tools', () => {
    const objects = kustomize('wiki', 'prod');
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment/cache', 'StatefulSet/web', 'StatefulSet/indexer', 'StatefulSet/db', 'Job/migrate', 'ConfigMap/wiki-settings', 'PersistentVolumeClaim/wiki-uploads']));
    const config = composeConfig('wiki', 'prod');
    expect(config.services.web.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, cache: { condition: 'service_started' } });
    expect(config.services.migrate.depends_on).toMatchObject({ db: { condition: 'service_healthy' } });
    expect(config.services.migrate.labels['homelab.kind']).toBe('job');
    // `docker compose config` writes a literal `$` escaped again, as the rendered file does.
    expect(config.services.web.environment.PRICE).toBe(composeForm('$5'));
    expect(config.volumes.legacy).toMatchObject({ name: 'wiki-legacy-data', external: true });
    expect(config.configs.settings.content).toBe('title: Wiki\nlanguage: en\n');
  });
});
