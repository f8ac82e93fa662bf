import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import YAML from 'yaml';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { runInWorker } from '../../tools/homelab/src/deploy/launch';
import { type Action, type DeployOptions, resolveRequest } from '../../tools/homelab/src/deploy/request';
import { diskHost } from '../../tools/homelab/src/host';
import { run, type RunResult } from '../support/tools';
import { copyWorkspace, makeTempDir } from '../support/workspace';
import { nxTestEnv } from '../support/nx';

/**
 * A temporary copy of the workspace for deploy tests, with generated apps whose test-only
 * settings live where a user puts theirs: the environment's compose.override.yaml
 * (host networking bound to 127.0.0.1, `init`, a port per test, quick health checks).
 * Every deploy writes its private env files under `tmp`, which the tests check is empty.
 */
export class DeployWorkspace {
  readonly root: string;
  /** TMPDIR of every deploy: where the private env files live while a deploy runs. */
  readonly tmp: string;
  private readonly projects = new Set<string>();

  private constructor(prefix: string) {
    this.root = makeTempDir(prefix);
    copyWorkspace(this.root);
    // validate's policy rightly flags the test-only host networking of the overrides; this
    // suite is about deploy, so build does not wait for validate here (targetDefaults win
    // over the plugin's dependsOn).
    const nxJson = JSON.parse(fs.readFileSync(path.join(this.root, 'nx.json'), 'utf8'));
    nxJson.targetDefaults = { build: { dependsOn: [] } };
    fs.writeFileSync(path.join(this.root, 'nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
    this.tmp = path.join(this.root, '.tmp');
    fs.mkdirSync(this.tmp);
    // No image can be pulled here: the image deploy sets new volumes' owner with is the local busybox,
    // and the scheduler (of cron services and backups) the local stand-in with busybox crond and the docker CLI.
    // The backups' restic repositories in the workspace's own folder, never in the machine's /var/backups.
    const repositories = path.join(this.tmp, 'restic-repositories');
    fs.mkdirSync(repositories);
    this.settings((config) => {
      config.compose = { ...config.compose, volumeOwner: { image: VOLUME_OWNER_TEST_IMAGE }, scheduler: { image: 'homelab-test/docker-cli:1' } };
      config.backup = { ...config.backup, target: config.backup?.target ?? { path: repositories } };
    });
  }

  static create(prefix: string): DeployWorkspace {
    return new DeployWorkspace(prefix);
  }

  /** Generates an app (as `nx g homelab:app` does), optionally with more replicas. */
  addApp(options: { name: string; image: string; port: number; secrets?: string[]; volumes?: string; replicas?: number }): void {
    const host = diskHost(this.root);
    generateApp(host, { name: options.name, image: options.image, port: options.port, secrets: options.secrets?.join(','), volumes: options.volumes });
    if (options.replicas !== undefined) {
      this.editSpec(options.name, (spec) => {
        spec.replicas = options.replicas;
      });
    }
  }

  /** Writes a spec where a user keeps it, as they write it, and renders it (`nx sync`). */
  addSpec(name: string, text: string): void {
    fs.writeFileSync(path.join(this.root, `applications/specs/${name}.yaml`), text);
    syncAll(diskHost(this.root));
    this.clearDist();
  }

  /** Changes an app's spec and re-renders it (`nx sync`). */
  editSpec(name: string, edit: (spec: any) => void): void {
    const file = path.join(this.root, `applications/specs/${name}.yaml`);
    const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
    const spec = doc.toJS();
    edit(spec);
    fs.writeFileSync(file, YAML.stringify(spec));
    syncAll(diskHost(this.root));
    this.clearDist();
  }

  /**
   * A workspace for tests that write the rendered file deploy reads (dist/) themselves: the
   * app's folders (deploy resolves the project and its environments from them), and one
   * environment, dev, deployed straight to the test cluster.
   */
  static forRenderedApp(prefix: string, app: string): DeployWorkspace {
    const ws = new DeployWorkspace(prefix);
    ws.directKubernetes();
    ws.addApp({ name: app, image: 'homelab-test/busybox:1', port: 8080 });
    return ws;
  }

  /** homelab.yaml with one environment, dev (namespace suffix -dev), deployed straight to the cluster of kube context `context`, without ArgoCD. */
  directKubernetes(context = 'homelab-test'): void {
    this.settings((config) => {
      config.environments = [{ name: 'dev', namespaceSuffix: '-dev', kubernetes: { argocd: false, context } }];
    });
  }

  /** Changes the workspace settings (homelab.yaml), as a user edits them. */
  settings(edit: (config: any) => void): void {
    const file = path.join(this.root, 'homelab.yaml');
    const config = YAML.parse(fs.readFileSync(file, 'utf8'));
    edit(config);
    fs.writeFileSync(file, YAML.stringify(config));
  }

  /** Writes the user's compose.override.yaml of an app in an environment. */
  override(app: string, env: string, service: Record<string, unknown>, layer = 'applications'): void {
    const file = path.join(this.root, `${layer}/compose/environments/${env}/${app}/compose.override.yaml`);
    fs.writeFileSync(file, YAML.stringify({ services: { [app]: service } }));
    this.clearDist();
  }

  /** dist/ is what deploy applies; tests change sources, so they drop it (deploy renders it again). */
  clearDist(): void {
    fs.rmSync(path.join(this.root, 'dist'), { recursive: true, force: true });
  }

  /** Remembers a compose project to remove in cleanup(). */
  track(project: string): void {
    this.projects.add(project);
  }

  /**
   * Runs a deploy (or down, or restore-drill) the way the executor does, in the deploy worker,
   * without Nx around it: resolve the request, start the worker, relay its output.
   */
  async deploy(project: string, options: Partial<DeployOptions> & { env: string }, env: NodeJS.ProcessEnv = {}, action: Action = 'deploy'): Promise<RunResult> {
    const request = resolveRequest(this.root, project, { layer: 'applications', ...options }, action);
    if (request.platform === 'compose') this.track(composeProject(this, project, options.env));
    // A drill's scratch project, should it be left behind.
    if (action === 'restore-drill') this.track(`${composeProject(this, project, options.env)}-drill`);
    const stdout = collect();
    const stderr = collect();
    const status = await runInWorker(request, { stdout: stdout.stream, stderr: stderr.stream, env: { ...process.env, TMPDIR: this.tmp, ...env } });
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** `npx nx ...` in the workspace, as a user runs it (no daemon, no TUI, no cloud). */
  nx(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
    return run('npx', ['nx', ...args, '--output-style=static'], { cwd: this.root, env: { ...NX_ENV, TMPDIR: this.tmp, ...env }, timeout: 300_000 });
  }

  /** Starts `npx nx ...` in its own process group (so a test can send it a Ctrl-C). */
  nxSpawn(args: string[], env: NodeJS.ProcessEnv = {}) {
    return spawn('npx', ['nx', ...args], { cwd: this.root, env: { ...NX_ENV, TMPDIR: this.tmp, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * homelab's files left in the deploys' temp folder: none, the private env files are gone.
   * (The TypeScript loader of the deploy worker keeps its own cache there.)
   */
  leftovers(): string[] {
    return fs.readdirSync(this.tmp).filter((entry) => entry.startsWith('homelab-'));
  }

  /** Removes every container and volume of the tracked projects, then the workspace. */
  cleanup(): void {
    for (const project of this.projects) removeProject(project);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** The Compose project name of an app in an environment (from its generated file). */
export function composeProject(ws: DeployWorkspace, app: string, env: string, layer = 'applications'): string {
  const text = fs.readFileSync(path.join(ws.root, `${layer}/compose/environments/${env}/${app}/compose.generated.yaml`), 'utf8');
  return (YAML.parse(text) as { name: string }).name;
}

/** The local stand-in for homelab.yaml `compose.volumeOwner.image` (busybox, as the default is). */
export const VOLUME_OWNER_TEST_IMAGE = 'homelab-test/busybox:1';

export const NX_ENV: NodeJS.ProcessEnv = nxTestEnv({ CI: '' });

/** Test-only settings for a service of the test image: host network on 127.0.0.1:<port>, quick health checks. */
export function busyboxOverride(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    network_mode: 'host',
    init: true,
    command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www'],
    healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/healthz`], interval: '1s', timeout: '2s', retries: 3, start_period: '10s' },
    stop_grace_period: '2s',
    ...extra,
  };
}

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  running: boolean;
  health?: string;
  env: string[];
}

/** The containers of a Compose project, from the real engine. */
export function containers(project: string): ContainerState[] {
  const ids = run('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`]).stdout.trim().split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const raw = JSON.parse(run('docker', ['inspect', ...ids]).stdout) as any[];
  return raw
    .map((c) => ({ id: c.Id, name: c.Name.slice(1), image: c.Config.Image, running: c.State.Running, health: c.State.Health?.Status, env: c.Config.Env ?? [] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Waits until every container of a project is running and healthy (or the time is up). */
export async function waitHealthy(project: string, count: number, seconds = 60): Promise<ContainerState[]> {
  const until = Date.now() + seconds * 1000;
  let now = containers(project);
  while (Date.now() < until) {
    now = containers(project);
    if (now.length === count && now.every((c) => c.running && (c.health === undefined || c.health === 'healthy'))) return now;
    await sleep(250);
  }
  return now;
}

/** GET http://127.0.0.1:<port><path>: the body, or null when nothing answers. */
export async function httpGet(port: number, urlPath = '/healthz'): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

export function removeProject(project: string): void {
  const ids = run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).stdout.trim().split('\n').filter(Boolean);
  if (ids.length > 0) run('docker', ['rm', '-f', ...ids]);
  const volumes = run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]).stdout.trim().split('\n').filter(Boolean);
  if (volumes.length > 0) run('docker', ['volume', 'rm', '-f', ...volumes]);
  // The record a deploy leaves for homelab status (deploy/compose-record.ts).
  const records = run('docker', ['volume', 'ls', '-q', '--filter', `label=homelab.deploy.project=${project}`]).stdout.trim().split('\n').filter(Boolean);
  if (records.length > 0) run('docker', ['volume', 'rm', '-f', ...records]);
  // An engine has room for about 30 bridge networks: one left per run soon fills it.
  const networks = run('docker', ['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]).stdout.trim().split('\n').filter(Boolean);
  if (networks.length > 0) run('docker', ['network', 'rm', ...networks]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * A name for a test app that no other test run on the same engine uses (Compose project
 * names are global to the engine, and several test runs may share it).
 */
export function uniqueName(base: string): string {
  return `hlt-${base}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Ports on 127.0.0.1 that are free right now, one per replica or environment of a test. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * A Unix socket in front of the real Docker Engine that passes every request through,
 * except that the engine "goes away" (the connection is cut) on a request whose line
 * matches `cut`: how a daemon that dies or restarts between two calls looks to the
 * Docker CLI. The engine and the CLI are real; only the cut is staged, because a real
 * daemon cannot be made to fail one kind of request on demand.
 */
export async function engineThatFailsOn(dir: string, cut: RegExp): Promise<{ host: string; cuts: () => number; close: () => Promise<void> }> {
  const target = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  const socket = path.join(dir, `engine-${process.pid}-${Math.random().toString(36).slice(2, 6)}.sock`);
  let count = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      const lines = chunk.toString('latin1').split('\r\n');
      if (lines.some((l) => cut.test(l))) {
        count += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return {
    host: `unix://${socket}`,
    cuts: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
