import { spawn } from 'node:child_process';
import { show } from '../errors';
import { ensureRendered } from '../build/dist';
import { parseCompose } from './compose-plan';
import { secretKeysOf, type DeployContext } from './compose';
import { databaseEnvValues } from './database';
import { Docker } from './docker';
import { DeployError } from './errors';
import { parseManifests, type Manifest } from './kubernetes';
import { label, type DeployRequest } from './request';
import { makeMasker, resolveSecrets } from './secrets';

/** What `nx run <project>:logs` asks for, checked (checkSince) before anything runs. */
export interface LogsOptions {
  follow?: boolean;
  /** A Go duration (`10m`, `2h`, `1h30m`) or an RFC 3339 time: what both `docker compose logs --since` and kubectl take. */
  since?: string;
  service?: string;
}

/** Where the lines go, and how a running `--follow` is stopped (the executor wires Ctrl-C to it). */
export interface LogsIO {
  out: (line: string) => void;
  /** Resolves when the caller wants the stream to end (SIGINT, SIGTERM): the tool is stopped and logs returns 0. */
  stopped?: Promise<void>;
}

/** How kubectl names `--since`: a duration, or a time with `--since-time`. */
export type Since = { flag: 'duration'; value: string } | { flag: 'time'; value: string };

const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:h|m|s|ms))+$/;
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$/;

/**
 * `--since` as both platforms take it: a Go duration (`30s`, `10m`, `2h`, `1h30m`) or an RFC 3339
 * time (`2026-11-30T10:00:00Z`). Anything else is refused in one line before a tool runs (docker
 * would also take a Unix time or a bare date, which kubectl refuses: one rule for both).
 */
export function checkSince(value: string | undefined, who: string): Since | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (DURATION.test(text)) return { flag: 'duration', value: text };
  if (RFC3339.test(text) && !Number.isNaN(Date.parse(text))) return { flag: 'time', value: text };
  throw new DeployError(`${who}: --since ${show(text)} is neither a duration nor an RFC 3339 time; use e.g. --since 10m, --since 2h or --since 2026-11-30T10:00:00Z`, 2);
}

/**
 * Splits a stream into lines and masks each whole line, so that a secret value the tool wrote
 * across two chunks is masked as well: nothing is written before its line is complete (or the
 * stream ended).
 */
export class LineMasker {
  private partial = '';

  constructor(
    private readonly mask: (text: string) => string,
    private readonly out: (line: string) => void,
  ) {}

  push(chunk: string): void {
    this.partial += chunk;
    const lines = this.partial.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.out(this.mask(clean(line)));
  }

  end(): void {
    if (this.partial !== '') this.out(this.mask(clean(this.partial)));
    this.partial = '';
  }
}

/**
 * A line as the tool meant it: Compose 2.26 starts each line of `logs --no-color` with the
 * terminal's erase-line sequence (ESC [2K) even when its output is a pipe; it and a trailing
 * carriage return are dropped.
 */
function clean(line: string): string {
  return line.replace(/\x1b\[2K/g, '').replace(/\r$/, '');
}

/**
 * `nx run <project>:logs --env E [--follow] [--since D] [--service S]`: the logs of the project's
 * services where the environment runs them, every line masked with the app's secret values
 * (longest first, as deploy masks its own output). Returns the exit code: 0 when the tool ended
 * well or was stopped (Ctrl-C on --follow), else the tool's failure as a DeployError.
 */
export async function runLogs(req: DeployRequest, options: LogsOptions, ctx: DeployContext, io: LogsIO): Promise<number> {
  const who = label(req);
  const since = checkSince(options.since, who);
  const plan = req.platform === 'compose' ? await composeLogsCommand(req, options, since, ctx, who) : await kubernetesLogsCommand(req, options, since, ctx, who);
  return stream(plan, ctx.env, io, who);
}

/** A logs command ready to run: argv (never a secret value in it) and the mask of its output. */
export interface LogsCommand {
  command: string;
  args: string[];
  mask: (text: string) => string;
  /** Says what a failure of the tool means, in one line. */
  failure: (stderr: string) => string;
  /** A line of the tool's stderr that says one stream failed while the others go on, in homelab's words; null for any other line. */
  streamError?: (line: string) => string | null;
}

/**
 * Compose: `docker compose -p <project> logs` on the environment's engine (its docker context,
 * as deploy reaches it). The project and its services come from the rendered file; the secret
 * values from the environment's source, as a deploy reads them.
 */
export async function composeLogsCommand(req: DeployRequest, options: LogsOptions, since: Since | undefined, ctx: DeployContext, who: string): Promise<LogsCommand> {
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'compose');
  const model = parseCompose(rendered.text, rendered.relative);
  const services = model.services.map((s) => s.name);
  if (options.service !== undefined && !services.includes(options.service)) {
    throw new DeployError(`${who}: --service ${show(options.service)} is not a service of ${req.project}; its services are ${services.join(', ')}`, 2);
  }
  const { values } = await resolveSecrets(secretKeysOf(model), req.compose.secrets, { app: req.project, env: req.env, root: req.root, processEnv: ctx.env, tools: ctx.tools });
  const password = model.database ? values.get(model.database.password.key) : undefined;
  const mask = makeMasker([...values.values(), ...(model.database && password !== undefined ? databaseEnvValues(model.database, password).values() : [])]);
  const docker = new Docker(ctx.tools, req.settings.compose?.context);
  const args = docker.args([
    'compose',
    '-p',
    model.project,
    'logs',
    '--no-color',
    ...(options.follow ? ['--follow'] : []),
    ...(since ? ['--since', since.value] : []),
    ...(options.service ? [options.service] : []),
  ]);
  return {
    command: 'docker',
    args,
    mask,
    failure: (stderr) => `docker compose logs of compose project ${model.project} at ${docker.where(ctx.env)} failed: ${mask(lastLine(stderr))}`,
  };
}

/** A workload of the rendered manifests and the labels of its pods: one "service" of the app on Kubernetes. */
export interface KubernetesService {
  name: string;
  labels: Record<string, string>;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

/**
 * The app's services on Kubernetes: each workload of the rendered overlay, named as the spec
 * names the service (`app.kubernetes.io/component` of its pods, else the workload's name), with
 * its pods' labels.
 */
export function kubernetesServices(docs: Manifest[]): KubernetesService[] {
  const out: KubernetesService[] = [];
  for (const d of docs) {
    if (!WORKLOAD_KINDS.has(d.kind)) continue;
    const spec = d.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
    const labels = (d.kind === 'CronJob' ? spec?.jobTemplate?.spec?.template : spec?.template)?.metadata?.labels ?? {};
    const name = labels['app.kubernetes.io/component'] ?? d.metadata.name;
    if (!out.some((s) => s.name === name)) out.push({ name, labels });
  }
  return out;
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
}

/**
 * Kubernetes: `kubectl logs` of the app's pods (the labels all its workloads' pods share, or with
 * --service the labels of that workload's pods) in its namespace, every container, each line prefixed with its pod and container, through the
 * environment's kube context. The mask holds the values of the namespace's Secrets (what the
 * pods were given), read through the API and never printed; when they cannot be read, no log
 * is shown unmasked.
 */
export async function kubernetesLogsCommand(req: DeployRequest, options: LogsOptions, since: Since | undefined, ctx: DeployContext, who: string): Promise<LogsCommand> {
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'kubernetes');
  const services = kubernetesServices(parseManifests(rendered.text, rendered.relative));
  const chosen = options.service === undefined ? undefined : services.find((s) => s.name === options.service);
  if (options.service !== undefined && !chosen) {
    throw new DeployError(`${who}: --service ${show(options.service)} is not a service of ${req.project}; its services are ${services.map((s) => s.name).join(', ') || '(none: it has no workload)'}`, 2);
  }
  const kubectl = ctx.env.HOMELAB_KUBECTL || 'kubectl';
  const context = req.kubernetes.context ? ['--context', req.kubernetes.context] : [];
  const namespace = req.kubernetes.namespace;
  const secrets = await ctx.tools.run(kubectl, [...context, 'get', 'secrets', '-n', namespace, '-o', 'json'], { timeoutMs: 60_000 });
  if (secrets.code !== 0) {
    throw new DeployError(`${who}: the Secrets of namespace ${namespace} cannot be read to mask their values in the logs (${lastLine(secrets.stderr)}); no log is shown unmasked: check the kube context ${req.kubernetes.context ?? '(current)'} and its rights`, 2);
  }
  const mask = makeMasker(secretValues(secrets.stdout));
  const selector = chosen?.labels ?? commonLabels(services, req.project);
  const args = [
    ...context,
    'logs',
    '-n',
    namespace,
    '-l',
    Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    '--all-containers',
    '--prefix',
    // Every line, as `docker compose logs` shows them (with a selector kubectl shows the last 10 only).
    '--tail=-1',
    // One pod whose logs cannot be fetched does not hide the others' (streamError reports it).
    '--ignore-errors',
    '--max-log-requests=20',
    ...(options.follow ? ['--follow'] : []),
    ...(since ? [since.flag === 'duration' ? `--since=${since.value}` : `--since-time=${since.value}`] : []),
  ];
  return {
    command: kubectl,
    args,
    mask,
    failure: (stderr) => `kubectl logs of the pods of ${req.project} in namespace ${namespace} failed: ${mask(lastLine(stderr))}`,
    streamError: (line) => {
      const failed = podLogError(line);
      return failed && mask(failed);
    },
  };
}

/**
 * A container whose logs the API server could not fetch, as kubectl reports it with
 * --ignore-errors (`error: Get "https://<node>:10250/containerLogs/<ns>/<pod>/<container>?…": <why>`),
 * in one line naming the pod and why; null for any other line.
 *
 * @example podLogError('error: Get "https://127.0.0.1:10250/containerLogs/web-dev/web-5d8-x2/web?tailLines=10": dial tcp 127.0.0.1:10250: connect: connection refused')
 * // 'pod web-5d8-x2 (container web): its node did not serve its logs: dial tcp 127.0.0.1:10250: connect: connection refused'
 */
export function podLogError(line: string): string | null {
  const match = /containerLogs\/[^/]+\/([^/]+)\/([^/?"]+)[^"]*":\s*(.*)$/.exec(line);
  if (!match) return null;
  return `pod ${match[1]} (container ${match[2]}): its node did not serve its logs: ${match[3].trim()}`;
}

/**
 * The labels every pod of the app carries: those all its workloads' pod templates share (the
 * app's `app.kubernetes.io/name`). Deploy labels the objects it applies with `homelab.dev/app` and
 * `homelab.dev/environment`, not the pods their controllers create; the namespace is the app's own.
 */
export function commonLabels(services: KubernetesService[], project: string): Record<string, string> {
  const [first, ...rest] = services;
  const common = Object.fromEntries(Object.entries(first?.labels ?? {}).filter(([k, v]) => rest.every((s) => s.labels[k] === v)));
  return Object.keys(common).length > 0 ? common : { 'app.kubernetes.io/name': project };
}

/** Every value of the Secrets of `kubectl get secrets -o json` (data decoded, stringData as is); never printed. */
export function secretValues(json: string): string[] {
  let list: { items?: { data?: Record<string, string>; stringData?: Record<string, string> }[] };
  try {
    list = JSON.parse(json || '{}');
  } catch {
    return [];
  }
  const values: string[] = [];
  for (const item of list.items ?? []) {
    for (const v of Object.values(item.data ?? {})) values.push(Buffer.from(v, 'base64').toString('utf8'));
    for (const v of Object.values(item.stringData ?? {})) values.push(v);
  }
  return values;
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines[lines.length - 1] ?? 'no output';
}

/**
 * Runs the logs command, masking line by line as the lines come (stdout and stderr each have
 * their own partial line), until it ends or `io.stopped` resolves: then its process group is
 * stopped and the result is 0. The tool runs in a process group of its own, so a Ctrl-C reaches
 * homelab, which ends it cleanly.
 */
function stream(plan: LogsCommand, env: NodeJS.ProcessEnv, io: LogsIO, who: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(plan.command, plan.args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const failed: string[] = [];
    // kubectl --ignore-errors writes a container's failure among the log lines, on stdout.
    const relay = (line: string) => {
      const failure = plan.streamError?.(line) ?? null;
      if (failure !== null) failed.push(failure);
      io.out(failure === null ? line : `error: ${failure}`);
    };
    const out = new LineMasker(plan.mask, relay);
    const err = new LineMasker(plan.mask, relay);
    let stderr = '';
    let stopped = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = `${stderr}${d}`.slice(-4096);
      err.push(d);
    });
    void io.stopped?.then(() => {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new DeployError(error.code === 'ENOENT' ? `${who}: \`${plan.command}\` is not installed or not on PATH; install it (npm run setup:engines) and retry` : `${who}: ${plan.command}: ${error.message}`, 2));
    });
    child.on('close', (code) => {
      out.end();
      err.end();
      if (stopped) resolve(0);
      else if (code !== 0) reject(new DeployError(`${who}: ${plan.failure(stderr)}`, 2));
      else if (failed.length > 0) reject(new DeployError(`${who}: ${failed[0]}${failed.length > 1 ? ` (and ${failed.length - 1} more container(s), above)` : ''}`, 2));
      else resolve(0);
    });
  });
}
