import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeApp } from '../tools/homelab/src/app/normalize';
import { diskHost } from '../tools/homelab/src/host';
import { parseWorkspaceConfig } from '../tools/homelab/src/spec/io';
import type { AppSpec } from '../tools/homelab/src/spec/types';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { composeForm } from './support/hostile';
import { composeFiles } from '../tools/homelab/src/project/paths';
import { environmentsOf, inputErrorOf, patchedStack, PENDING_STACKS as PENDING, renderedStacks, stackSpec, STACKS_DIR, writePatchedStack, writeSpec } from './support/spec';
import { requireTool, run } from './support/tools';
import { makeDiskWorkspace, parseDocs, removeDir, WORKSPACE_YAML } from './support/workspace';

/**
 * Both platforms run the same stack: every full-form spec that uses only what homelab renders
 * is synced into a workspace, every overlay is built with the real `kubectl kustomize` and every
 * environment merged with the real `docker compose config`, and both results, read back, carry the
 * same services (with their init containers, in order, and sidecars), images, entrypoints and
 * commands, env keys, ports with their protocol, mounts and start order. CI never skips this file: without the tools it fails there (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const RENDERED = renderedStacks();
// The relay stack patches each platform where the model does not reach: what the model covers must stay equal.
const PATCHED = patchedStack().spec;
const ROWS = [...RENDERED, PATCHED].flatMap((spec) => environmentsOf(spec).map((env) => ({ spec, env, label: `${spec.name}/${env}` })));

describe('census stacks that wait for features', () => {
  // Every census stack renders today; one listed in PENDING_STACKS gets a test here.
  for (const [name, waits] of Object.entries(PENDING)) {
    it(`${name} is refused until homelab renders ${waits}`, () => {
      expect(inputErrorOf(() => normalizeApp(stackSpec(name), parseWorkspaceConfig(WORKSPACE_YAML), new Map()))).toContain('which homelab does not render yet');
    });
  }

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
  writePatchedStack(host);
  syncAll(host);
});
afterAll(() => removeDir(root));

type Obj = Record<string, any>;

/** What one service, init container or sidecar runs, as either platform's rendered result says it. */
interface Running {
  image: string;
  entrypoint: string[] | null;
  command: string[] | null;
  env: string[];
  /** Keys read from the app's secrets (Kubernetes: secretKeyRef or envFrom; Compose: the env file's keys). */
  secrets: string[];
  /** The ports of its network: a pod's containers' together on the service (Compose: the service's), none on a sidecar, which joins it. */
  ports: string[];
  mounts: string[];
  /** Start level of a service: 0 without dependencies, else one more than the highest of its dependencies; null for a container of another's pod. */
  level: number | null;
  /** An init container's place among its service's (0 first), and the service it runs in (init containers and sidecars). */
  init: number | null;
  of: string | null;
}

function kustomize(app: string, env: string): Obj[] {
  const result = run('kubectl', ['kustomize', path.join(root, 'applications/kubernetes/overlays', env, app)]);
  expect(result.stderr, 'kubectl kustomize stderr').toBe('');
  expect(result.status, result.stderr).toBe(0);
  return parseDocs(result.stdout);
}

function composeConfig(app: string, env: string): Obj {
  // The files build, validate and deploy merge (the project model's list), those the app has.
  const files = composeFiles('applications', app, env).filter((f) => fs.existsSync(path.join(root, f)));
  // With the cron profile: `up` leaves the cron services out, the merged file keeps them.
  const result = run('docker', ['compose', ...files.flatMap((f) => ['-f', path.join(root, f)]), '--profile', 'cron', 'config', '--format', 'json'], { env: { ...process.env, HOMELAB_ENV_FILE: undefined } });
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
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'CronJob'].includes(o.kind));
  const result = new Map<string, Running>();
  for (const w of workloads) {
    const pod = (w.kind === 'CronJob' ? w.spec.jobTemplate.spec : w.spec).template.spec;
    const [main, ...sidecars] = pod.containers as Obj[];
    const emptyDirs = new Set((pod.volumes ?? []).filter((v: Obj) => v.emptyDir && !v.emptyDir.medium).map((v: Obj) => v.name));
    const running = (container: Obj, ports: Obj[], level: number | null, init: number | null, of: string | null): Running => {
      const env = (container.env ?? []) as Obj[];
      return {
        image: container.image,
        entrypoint: container.command ?? null,
        command: container.args ?? null,
        env: env.filter((e) => e.valueFrom === undefined).map((e) => String(e.name)).sort(),
        secrets: (container.envFrom ? secretKeys : env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => String(e.name))).sort(),
        ports: ports.map((p: Obj) => `${p.containerPort}/${String(p.protocol ?? 'TCP').toLowerCase()}`).sort(),
        mounts: (container.volumeMounts ?? []).filter((m: Obj) => !emptyDirs.has(m.name)).map((m: Obj) => `${m.mountPath}${m.readOnly ? ':ro' : ''}`).sort(),
        level,
        init,
        of,
      };
    };
    // A cron service runs on its schedule, outside the start order.
    const level = w.kind === 'CronJob' ? null : Number(w.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
    result.set(main.name, running(main, (pod.containers as Obj[]).flatMap((c) => c.ports ?? []), level, null, null));
    ((pod.initContainers ?? []) as Obj[]).forEach((c, i) => result.set(`${main.name}-${c.name}`, running(c, [], null, i, main.name)));
    for (const c of sidecars) result.set(`${main.name}-${c.name}`, running(c, [], null, null, main.name));
  }
  return result;
}

function composeServices(config: Obj, spec: Extract<AppSpec, { services: object }>, pluginDevices: Set<string>): Map<string, Running> {
  const app = spec.name;
  const services = config.services as Record<string, Obj>;
  // `docker compose config` leaves out an env file that does not exist: the rendered file says who reads one.
  const rendered = parseDocs(fs.readFileSync(path.join(root, `applications/compose/base/${app}/compose.yaml`), 'utf8'))[0].services as Record<string, Obj>;
  const isInit = (name: string) => services[name].labels?.['homelab.kind'] === 'init';
  const sidecarOf = (name: string) => /^service:(.+)$/.exec(String(services[name].network_mode ?? ''))?.[1] ?? null;
  // The service an init container runs before: the one that waits for it and is no init container itself.
  const initOf = (name: string): string | null => {
    const next = Object.keys(services).find((s) => Object.keys(services[s].depends_on ?? {}).includes(name) && !isInit(s));
    return next ?? null;
  };
  /** An init container's place: how many init containers it waits for. */
  const initIndex = (name: string): number => {
    const before = Object.keys(services[name].depends_on ?? {}).filter(isInit);
    return before.length === 0 ? 0 : 1 + Math.max(...before.map(initIndex));
  };
  // A service's level as Kubernetes has it: its own init containers run inside its pod, so they are seen through.
  const levels = new Map<string, number>();
  const reaches = (name: string): string[] => Object.keys(services[name].depends_on ?? {}).flatMap((d) => (isInit(d) ? reaches(d) : [d]));
  const level = (name: string): number => {
    if (!levels.has(name)) {
      const deps = [...new Set(reaches(name))];
      levels.set(name, deps.length === 0 ? 0 : 1 + Math.max(...deps.map(level)));
    }
    return levels.get(name)!;
  };
  const result = new Map<string, Running>();
  for (const [name, s] of Object.entries(services)) {
    // The scheduler is Compose's stand-in for the CronJob controller, not a service of the spec.
    if (name === 'scheduler' && (spec.services as Record<string, unknown>).scheduler === undefined) continue;
    const configs = ((s.configs ?? []) as Obj[]).map((c) => `${c.target}:ro`);
    // What Kubernetes mounts as volumes, Compose sets as options: /dev/shm (shm_size) and devices without a plugin (hostPath on Kubernetes).
    const shm = s.shm_size ? ['/dev/shm'] : [];
    const devices = ((s.devices ?? []) as (string | Obj)[]).map((d) => (typeof d === 'string' ? d.split(':')[1] : String(d.target)));
    const hostDevices = devices.filter((d) => !pluginDevices.has(`${name}:${d}`));
    const init = isInit(name);
    const sidecar = sidecarOf(name);
    result.set(name, {
      image: s.image,
      entrypoint: s.entrypoint ?? null,
      command: s.command ?? null,
      env: Object.keys(s.environment ?? {}).sort(),
      secrets: rendered[name]?.env_file ? envExampleKeys(app) : [],
      // Exposed to the app's network, and published on the host (a published port is exposed too).
      ports: [...new Set([...((s.expose ?? []) as (string | number)[]).map((p) => (String(p).includes('/') ? String(p) : `${p}/tcp`)), ...((s.ports ?? []) as Obj[]).map((p) => `${p.target}/${p.protocol ?? 'tcp'}`)])].sort(),
      mounts: [...((s.volumes ?? []) as Obj[]).map((v) => `${v.target}${v.read_only ? ':ro' : ''}`), ...configs, ...shm, ...hostDevices].sort(),
      level: init || sidecar !== null || (s.profiles ?? []).includes('cron') ? null : level(name),
      init: init ? initIndex(name) : null,
      of: init ? initOf(name) : sidecar,
    });
  }
  return result;
}

describe.skipIf(kubectl.skip || compose.skip)('both platforms run the same stack', () => {
  it.each(ROWS)('builds and merges $label, with the same services, init containers and sidecars, images, commands, env keys, ports, mounts and start order', ({ spec, env }) => {
    const k8s = kubernetesServices(kustomize(spec.name, env));
    // Devices a device plugin serves on Kubernetes are no mount there: <service>:<path> of each.
    const plugins = new Set(Object.entries((spec as Extract<AppSpec, { services: object }>).services).flatMap(([svc, s]) => (s.devices ?? []).filter((d) => d.resource).map((d) => `${svc}:${d.path}`)));
    const docker = composeServices(composeConfig(spec.name, env), spec as Extract<AppSpec, { services: object }>, plugins);
    // Every service, and each of its init containers and sidecars as `<service>-<name>`.
    const expected = Object.entries((spec as Extract<AppSpec, { services: object }>).services)
      .flatMap(([svc, s]) => [svc, ...(s.initContainers ?? []).map((c) => `${svc}-${c.name}`), ...Object.keys(s.sidecars ?? {}).map((c) => `${svc}-${c}`)])
      .sort();

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

  it('carries the init containers, in order, and the sidecars of the census stacks on both platforms, with an environment\'s image', () => {
    const files = kubernetesServices(kustomize('files', 'prod'));
    const media = kubernetesServices(kustomize('media', 'dev'));
    const filesCompose = composeServices(composeConfig('files', 'prod'), stackSpec('files') as Extract<AppSpec, { services: object }>, new Set());

    expect([files.get('app-fix-permissions'), files.get('app-write-config')].map((c) => [c?.init, c?.of, c?.image])).toEqual([
      [0, 'app', 'example/files:31.0.6-apache'],
      [1, 'app', 'example/files:31.0.6-apache'],
    ]);
    expect([filesCompose.get('app-fix-permissions'), filesCompose.get('app-write-config')].map((c) => [c?.init, c?.of, c?.image])).toEqual([
      [0, 'app', 'example/files:31.0.6-apache'],
      [1, 'app', 'example/files:31.0.6-apache'],
    ]);
    expect(media.get('server-exporter')).toMatchObject({ of: 'server', ports: [], mounts: ['/transcode:ro'] });
    expect(media.get('server')?.ports).toContain('9707/tcp');
  });

  it('carries each patch to its platform only, beside what the model keeps equal', () => {
    const objects = kustomize('relay', 'prod');
    const broker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'broker')!;
    const config = composeConfig('relay', 'prod');

    // Kubernetes gets the strategic merge patches (a container field merged by the container's name, every Service's annotation)...
    expect(broker.spec.template.spec).toMatchObject({ enableServiceLinks: false, containers: [{ name: 'broker', terminationMessagePolicy: 'FallbackToLogsOnError' }] });
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.annotations?.['example.org/shared'])).toEqual(['true']);
    expect(JSON.stringify(config.services.broker)).not.toContain('FallbackToLogsOnError');
    // ...and Compose the fragment, merged by Compose's rules over the rendered service.
    expect(config.services.broker).toMatchObject({ stop_signal: 'SIGINT', ulimits: { nofile: { soft: 65536, hard: 65536 } }, read_only: true, cap_drop: ['ALL'] });
    expect(broker.spec.template.spec.containers[0].stopSignal).toBeUndefined();
    // The config file beside the spec, and prod's schedule, on both.
    expect(objects.find((o) => o.kind === 'ConfigMap')!.data.config).toBe(config.configs.config.content);
    expect(objects.find((o) => o.kind === 'CronJob')!.spec.schedule).toBe(config.services.purge.labels['homelab.schedule']);
    expect(config.configs.crontab.content).toContain('30 2 * * 0 docker start -a relay');
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
    // prod overrides the indexer's image, env and memory on both platforms.
    const indexer = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'indexer')!.spec.template.spec.containers[0];
    expect([indexer.image, indexer.resources.limits.memory]).toEqual(['example/wiki:2.5.2', '1Gi']);
    expect(indexer.env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    expect([config.services.indexer.image, config.services.indexer.environment.LOG_LEVEL, config.services.indexer.deploy.resources.limits.memory]).toEqual(['example/wiki:2.5.2', 'debug', '1073741824']);
    // dev pins every workload to its node (Kubernetes only).
    const pinned = kustomize('wiki', 'dev').filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
    expect(pinned.map((o) => o.spec.template.spec.nodeSelector)).toEqual(pinned.map(() => ({ 'kubernetes.io/hostname': 'lab-1' })));
  });
});
