import { JOB_KIND_LABEL, RUNS_TO_COMPLETION, SCHEDULE_LABEL } from '../app/steps/compose';
import { DeployError } from './errors';
import type { RunOptions, ToolRunner } from './process';

/** A container of a Compose project, as `docker inspect` reports it. */
export interface ContainerInfo {
  id: string;
  name: string;
  service: string;
  status: string;
  running: boolean;
  restarting: boolean;
  exitCode: number;
  /** How often Docker restarted it (restart policy): a container that exits at once keeps restarting. */
  restartCount: number;
  /** healthy | unhealthy | starting, or undefined without a health check. */
  health?: string;
  /** Output of the last health probe, when there is one. */
  lastProbe?: string;
  /** com.docker.compose.config-hash: Compose recreates a container when this changes. */
  configHash: string;
  /** com.docker.compose.image: the image ID Compose created it from. */
  imageLabel: string;
  /** The image ID the container runs. */
  image: string;
  /** When it last stopped (ISO 8601; Docker's zero time `0001-01-01T00:00:00Z` for a container that never ran). */
  finishedAt: string;
  /** The image reference of its configuration. */
  imageRef: string;
  /** Its labels (homelab.health.* asks deploy to probe it from outside). */
  labels: Record<string, string>;
  /** host, bridge, a network name, none, container:<id>. */
  networkMode: string;
  /** Its environment as `KEY=value` lines (the image's own included): status compares it, never prints a secret's value. */
  env?: string[];
  /** Its command (Config.Cmd), as the engine runs it. */
  command?: string[];
  /** Its IP addresses, one per network it joined. */
  addresses: string[];
  /** When it was created (ISO 8601): Compose recreates a container only when its configuration changes. */
  created?: string;
}

/**
 * The Docker CLI of one environment: the local engine, DOCKER_HOST, or the environment's
 * docker context (`compose.context` in homelab.yaml), passed as `--context` to every call.
 */
export class Docker {
  constructor(
    readonly tools: ToolRunner,
    readonly context?: string,
  ) {}

  /** Where the engine is, for messages. */
  where(env: NodeJS.ProcessEnv): string {
    if (this.context) return `docker context ${this.context}`;
    if (env.DOCKER_HOST) return `DOCKER_HOST=${env.DOCKER_HOST}`;
    return 'the local engine';
  }

  args(args: readonly string[]): string[] {
    return this.context ? ['--context', this.context, ...args] : [...args];
  }

  run(args: readonly string[], options?: RunOptions) {
    return this.tools.run('docker', this.args(args), options);
  }

  ok(args: readonly string[], what: string, options?: RunOptions) {
    return this.tools.ok('docker', this.args(args), what, options);
  }

  /**
   * The engine and Compose versions; a one-line DeployError when the daemon cannot be
   * reached or Compose v2 is missing.
   */
  async versions(where: string): Promise<{ engine: string; compose: string }> {
    const [server, compose] = await Promise.all([
      this.run(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 30_000 }),
      this.run(['compose', 'version', '--short'], { timeoutMs: 30_000 }),
    ]);
    if (server.code !== 0 || server.stdout.trim() === '') {
      // A remote engine is not this machine's to start: setup:engines only helps the local one.
      const fix = this.context
        ? `check \`docker --context ${this.context} info\` (create the context with \`docker context create ${this.context} --docker host=ssh://user@host\`) or change compose.context in homelab.yaml`
        : 'start it (npm run setup:engines) or set DOCKER_HOST';
      throw new DeployError(`Docker daemon unreachable at ${where}: ${this.tools.tail(server, 1)}; ${fix}`);
    }
    if (compose.code !== 0 || !/^v?[2-9]\./.test(compose.stdout.trim())) {
      throw new DeployError(`Docker Compose v2 is missing (\`docker compose version\`: ${this.tools.tail(compose, 1)}); install the Compose v2 plugin (npm run setup:engines)`);
    }
    return { engine: server.stdout.trim(), compose: compose.stdout.trim().replace(/^v/, '') };
  }

  /** The ID of a local image, or null when it is not present. */
  async imageId(ref: string, options?: RunOptions): Promise<string | null> {
    const result = await this.run(['image', 'inspect', '--format', '{{.Id}}', ref], options);
    if (result.code === 0) return result.stdout.trim();
    if (/no such image/i.test(result.stderr)) return null;
    throw new DeployError(`docker image inspect ${ref} failed: ${this.tools.tail(result)}`);
  }

  /** Whether a network of this name exists on the engine. */
  async networkExists(name: string, options?: RunOptions): Promise<boolean> {
    const result = await this.run(['network', 'inspect', '--format', '{{.Name}}', name], options);
    if (result.code === 0) return true;
    if (/no such network|not found/i.test(result.stderr)) return false;
    throw new DeployError(`docker network inspect ${name} failed: ${this.tools.tail(result)}`);
  }

  /** Every container of a Compose project, running or not, sorted by service and name. */
  async containers(project: string, options?: RunOptions): Promise<ContainerInfo[]> {
    const ids = (await this.ok(['ps', '-a', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`], 'docker ps', options))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (ids.length === 0) return [];
    const result = await this.run(['inspect', ...ids], options);
    // A container removed between ps and inspect: inspect prints the others and fails
    // naming it. Any other failure (the engine went away, an API error) is an error: read
    // as "no containers", it would plan to create a stack that runs.
    const failures = result.stderr.split('\n').filter((l) => l.trim() !== '' && !/no such (object|container)/i.test(l));
    let raw: InspectedContainer[] | undefined;
    try {
      raw = JSON.parse(result.stdout.trim() || '[]') as InspectedContainer[];
    } catch {
      raw = undefined;
    }
    if (!Array.isArray(raw) || (result.code !== 0 && (failures.length > 0 || result.stdout.trim() === ''))) {
      throw new DeployError(`docker inspect of the containers of compose project ${project} failed: ${this.tools.tail(result)}`);
    }
    return raw.map(toInfo).sort((a, b) => (a.service === b.service ? a.name.localeCompare(b.name) : a.service.localeCompare(b.service)));
  }

  /** The last lines a container logged (stdout and stderr). */
  async logs(id: string, lines: number, options?: RunOptions): Promise<string[]> {
    const result = await this.run(['logs', '--tail', String(lines), id], options);
    return `${result.stdout}${result.stderr}`
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
  }

  /** Stops (with a grace period) and removes containers. */
  async stopAndRemove(ids: string[], graceSeconds: number, options?: RunOptions): Promise<void> {
    if (ids.length === 0) return;
    await this.run(['stop', '-t', String(graceSeconds), ...ids], options);
    await this.ok(['rm', '-f', ...ids], 'docker rm', options);
  }

  async forceRemove(ids: string[], options?: RunOptions): Promise<void> {
    if (ids.length === 0) return;
    await this.run(['rm', '-f', ...ids], options);
  }
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Image: string;
  Created?: string;
  RestartCount?: number;
  Config: { Image: string; Labels: Record<string, string> | null; Env?: string[] | null; Cmd?: string[] | null };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    FinishedAt?: string;
    Health?: { Status: string; Log?: { Output: string; ExitCode: number }[] };
  };
}

function toInfo(c: InspectedContainer): ContainerInfo {
  const labels = c.Config.Labels ?? {};
  const probes = c.State.Health?.Log ?? [];
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    service: labels['com.docker.compose.service'] ?? '',
    status: c.State.Status,
    running: c.State.Running,
    restarting: c.State.Restarting,
    exitCode: c.State.ExitCode,
    restartCount: c.RestartCount ?? 0,
    health: c.State.Health?.Status,
    lastProbe: probes.length > 0 ? probes[probes.length - 1].Output.trim() : undefined,
    configHash: labels['com.docker.compose.config-hash'] ?? '',
    imageLabel: labels['com.docker.compose.image'] ?? '',
    finishedAt: c.State.FinishedAt ?? '',
    image: c.Image,
    imageRef: c.Config.Image,
    labels,
    networkMode: c.HostConfig?.NetworkMode ?? '',
    env: c.Config.Env ?? [],
    command: c.Config.Cmd ?? [],
    addresses: Object.values(c.NetworkSettings?.Networks ?? {})
      .map((n) => n.IPAddress ?? '')
      .filter((ip) => ip !== ''),
    created: c.Created,
  };
}

/**
 * A container that is as it should be: it runs and, when it has a health check, is healthy;
 * or it is a one-shot job (label `homelab.kind: job`) that exited with 0, which is done, not down;
 * or it belongs to a cron service, which the scheduler starts on its schedule: created, running
 * or exited with any code, it is never down (its last run shows in the plan, see describeRun).
 */
export function isUp(c: ContainerInfo): boolean {
  if (isCron(c) || hasCompleted(c)) return true;
  return c.running && !c.restarting && (c.health === undefined || c.health === 'healthy');
}

// The labels render gives every Compose service of kind `job` or `cron` (its kind, a cron service's schedule); its containers carry them.
export { JOB_KIND_LABEL, SCHEDULE_LABEL };

/** The container of a job or an init container (label `homelab.kind: job` or `init`, see compose-plan.ts): it runs to completion. */
export function isJob(c: ContainerInfo): boolean {
  return (RUNS_TO_COMPLETION as readonly string[]).includes(c.labels[JOB_KIND_LABEL] ?? '');
}

/** The container of a cron service (label `homelab.kind: cron`) or a backup mover (`backup`): created by deploy, started by the app's scheduler. */
export function isCron(c: ContainerInfo): boolean {
  return c.labels[JOB_KIND_LABEL] === 'cron' || c.labels[JOB_KIND_LABEL] === 'backup';
}

/** The last run of a cron service's container, in a few words: never ran, running now, or how and when it ended. */
export function describeRun(c: ContainerInfo): string {
  if (c.running) return 'running now (started by the scheduler)';
  if (c.status === 'created' || c.finishedAt === '' || c.finishedAt.startsWith('0001-')) return 'never ran yet';
  return `last run exited with code ${c.exitCode} at ${c.finishedAt.replace(/\.\d+Z$/, 'Z')}`;
}

/** A job's container that ran to the end with exit code 0. */
export function hasCompleted(c: ContainerInfo): boolean {
  return isJob(c) && !c.running && !c.restarting && c.status === 'exited' && c.exitCode === 0;
}

/** What is wrong with a container, in a few words. */
export function describeState(c: ContainerInfo): string {
  if (isCron(c)) return describeRun(c);
  // Docker resets the exit code when it restarts a container: show it only when it is there.
  if (c.restarting || (c.restartCount > 0 && !isUp(c))) return `keeps restarting (${c.restartCount} restart(s)${c.running ? '' : `, last exit code ${c.exitCode}`})`;
  if (hasCompleted(c)) return 'completed (exited with code 0)';
  if (!c.running) return c.status === 'created' ? 'was created but never started' : `exited with code ${c.exitCode}`;
  if (c.health === 'unhealthy') return 'is unhealthy';
  if (c.health === 'starting') return 'did not become healthy in time';
  return 'is running';
}
