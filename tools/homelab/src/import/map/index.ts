import { checkAppName } from '../../app/options';
import { InputError, show } from '../../errors';
import type { AppSpec, FullAppSpec, HealthSpec, PortSpec, ResourceList, ServiceSpec } from '../../spec/types';
import type { ComposeSource } from '../model';
import { couldBeSecret, isCredentialKey } from './classify';
import { mapEnvironment } from './env';
import { httpCheckPort, mapHealth } from './health';
import { mapImage } from './image';
import { readLabels } from './labels';
import { mapOtherKeys } from './other';
import { ABSOLUTE_PATH } from './patterns';
import { mapPorts } from './ports';
import { ImportReport } from './report';
import { mapRuntime } from './runtime';
import { mapSecurity } from './security';
import { awaitedToComplete, mapDependsOn, serviceKind } from './services';
import { type ConfigFileCopy, type StatPath, StorageMapper } from './storage';

export type { ConfigFileCopy, PathKind, StatPath } from './storage';

export interface ImportOptions {
  /** The app's name (its spec's `name`; the secrets' `remoteKey`). */
  app: string;
  /** Refuse the import when any source key is not carried over. */
  strict?: boolean;
  /** What a bind source is on the machine that holds the stack (a file, a folder, a socket), so a file bind is `type: File`; without it, known host files are. */
  statPath?: StatPath;
}

/** What an import writes: the spec (to git), the secret values (to the local secrets file only), the files beside the spec, and the report. */
export interface ImportResult {
  spec: FullAppSpec;
  /** Key → value of every key of the app's Secret, for the git-ignored local secrets file deploy reads (mode 0600). Never written to git or printed. */
  secretValues: Record<string, string>;
  /** The report: `not carried over: …`, `warning: …` and `note: …` lines. */
  lines: string[];
  /** Config files to copy beside the spec (applications/specs/<app>/<file>). */
  files: ConfigFileCopy[];
  /** App volume → the key of the source's named volume it was made from (persistent volumes only): what the import adopts of a running stack. */
  volumeSources: Record<string, string>;
}

const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The memory limit of an imported service whose source sets none: room for what homelab owners run (databases, ML workers, media servers), with a warning to set the real need. */
export const IMPORTED_MEMORY_LIMIT = '4Gi';

/**
 * Maps a resolved Compose stack to a full-form app spec (docs/import.md, "How a Compose file
 * becomes a spec"). Every key of the source is carried into the spec or listed on one line of
 * the report; nothing is dropped silently. Refusals (a service built from source without an
 * image, a placeholder value, a service name Kubernetes cannot take, two values for one secret
 * key, a secret's value outside the secrets) are one-line InputErrors naming the service and
 * key, never a secret's value. With `strict`, a `not carried over` line is a refusal too.
 * Pure: reads nothing but `source` (and `statPath`, when given), writes nothing.
 */
export function mapComposeSource(source: ComposeSource, options: ImportOptions): ImportResult {
  const app = checkAppName(options.app);
  const report = new ImportReport();
  const names = Object.keys(source.services);
  if (names.length === 0) throw new InputError(`the stack ${show(source.files[0] ?? source.name)} has no services; import a Compose file that defines services`);
  for (const name of names) {
    if (!SERVICE_NAME.test(name)) {
      throw new InputError(`services.${name}: ${show(name)} is not a name Kubernetes can give a Service (lower-case letters, digits and '-', starting with a letter); rename the service in the source, and where other services reach it, and import again`);
    }
  }
  for (const { path, reason } of source.ignored) report.note(`${path} set aside by the reader (${reason})`);

  const env = mapEnvironment(source, app, report);
  const storage = new StorageMapper(source, report, options.statPath);
  const awaited = awaitedToComplete(source);
  const unpinned: string[] = [];
  const unprobed: string[] = [];
  const unlimited: string[] = [];
  const composePatch: Record<string, Record<string, unknown>> = {};
  let ingress: FullAppSpec['ingress'];
  const services: Record<string, ServiceSpec> = {};

  for (const [name, svc] of Object.entries(source.services)) {
    const at = `services.${name}`;
    const labels = readLabels(name, svc, report);
    const kind = serviceKind(name, svc, labels, awaited, report);
    const longRunning = kind === 'service';
    const image = mapImage(name, svc, report, unpinned);
    const security = mapSecurity(name, svc, report);
    const tcpPorts = [...svc.ports.filter((p) => p.protocol === 'tcp').map((p) => p.target), ...svc.expose.filter((e) => /^[0-9]+(\/tcp)?$/.test(e)).map((e) => parseInt(e, 10))];
    const httpPort = labels.httpPort ?? (labels.route && new Set(tcpPorts).size === 1 ? tcpPorts[0] : undefined) ?? httpCheckPort(svc);
    let ports: PortSpec[] = mapPorts(name, svc, report, httpPort, security.hostNetwork !== undefined);
    if (labels.httpPort !== undefined && !ports.some((p) => p.http)) ports.push({ name: 'http', port: labels.httpPort, http: true });
    if (!longRunning && ports.length > 0) {
      report.notCarried(`${at}.ports`, `a ${kind} runs to completion and is not reached: the spec gives it no ports`);
      ports = [];
    }
    const health: HealthSpec | undefined = mapHealth(name, svc, report, longRunning, unprobed);
    const runtime = mapRuntime(name, svc, report);
    const other = mapOtherKeys(name, svc, report, kind === 'cron');
    const replicas = runtime.replicas ?? other.replicas;
    if (!longRunning && replicas !== undefined) report.notCarried(`${at}.deploy.replicas`, `a ${kind} runs once: the spec gives it no replicas`);
    let resources = mergeResources(runtime.resources, other);
    if (!resources?.limits?.memory) {
      // The source runs without a limit: homelab's 256Mi default would kill a database or an ML worker that ran fine.
      unlimited.push(name);
      resources = { ...resources, limits: { ...resources?.limits, memory: IMPORTED_MEMORY_LIMIT } };
    }
    const mounts = storage.mountsOf(name, svc);
    readNetworks(name, svc, source, report);

    if (labels.route) {
      const port = ports.find((p) => p.http);
      if (ingress) report.notCarried(labels.route.at, `a second routed service: the spec routes one host (${ingress.host}) to one service`);
      else if (!port || !longRunning) report.notCarried(labels.route.at, 'the router names no port of the service (traefik.http.services.<s>.loadbalancer.server.port) and it has no single one: add the port and ingress.port');
      else ingress = { host: labels.route.host, ...(labels.route.tls ? { tls: true } : {}), service: name, port: port.name };
    }
    const patch = { ...(Object.keys(labels.carried).length > 0 ? { labels: labels.carried } : {}), ...other.patch };
    if (Object.keys(patch).length > 0) {
      composePatch[name] = patch;
      report.note(`${at}: ${Object.keys(patch).join(', ')} carried to Compose as written, in patches.compose (Kubernetes has no counterpart: validate warns parity/patch)`);
    }
    const serviceEnv = env.services[name];
    services[name] = clean({
      ...(kind !== 'service' ? { kind } : {}),
      ...(kind === 'cron' ? { schedule: labels.schedule } : {}),
      image,
      entrypoint: list(svc.entrypoint, `${at}.entrypoint`, report),
      command: list(svc.command, `${at}.command`, report),
      workingDir: workingDir(svc.working_dir, `${at}.working_dir`, report),
      env: Object.keys(serviceEnv.env).length > 0 ? serviceEnv.env : undefined,
      secrets: serviceEnv.secrets.length > 0 ? serviceEnv.secrets : undefined,
      ports: ports.length > 0 ? ports : undefined,
      health,
      resources,
      replicas: longRunning ? replicas : undefined,
      mounts: mounts.length > 0 ? mounts : undefined,
      dependsOn: mapDependsOn(name, svc, report),
      devices: runtime.devices,
      gpus: runtime.gpus ?? other.gpus,
      groupAdd: runtime.groupAdd,
      shmSize: runtime.shmSize,
      extraHosts: runtime.extraHosts,
      init: runtime.init,
      stopGracePeriod: runtime.stopGracePeriod,
      security: Object.keys(security).length > 0 ? security : undefined,
    }) as ServiceSpec;
  }
  settleConditions(services, report);
  storage.reportUnused();
  if (unlimited.length > 0) {
    report.warn(`${unlimited.map((s) => `services.${s}`).join(', ')} set no memory limit in the source: each gets ${IMPORTED_MEMORY_LIMIT} (not homelab's 256Mi default, which would stop what ran fine before); set resources.limits.memory to what each needs`);
  }

  const disable = [
    ...(unpinned.length > 0 ? [{ rule: 'policy/image-tag', reason: cut(`imported: the source stack runs ${unpinned.join(', ')} on an unpinned image (latest); pin a tag or digest`) }] : []),
    ...(unprobed.length > 0 ? [{ rule: 'policy/probes', reason: cut(`imported: the source stack has no health check for ${unprobed.join(', ')}`) }] : []),
  ];
  const spec: FullAppSpec = clean({
    name: app,
    description: cut(`Imported from ${source.files[0] ?? 'a Compose stack'}`, 500),
    services,
    volumes: Object.keys(storage.volumes).length > 0 ? storage.volumes : undefined,
    secrets: env.secrets.length > 0 ? env.secrets : undefined,
    ingress,
    policy: disable.length > 0 ? { disable } : undefined,
    patches: Object.keys(composePatch).length > 0 ? { compose: { services: composePatch } } : undefined,
  }) as FullAppSpec;

  guardSecrets(spec, report, env.values, source);
  const notCarried = report.notCarriedLines;
  if (options.strict && notCarried.length > 0) {
    throw new InputError(`--strict: ${notCarried[0]}${notCarried.length > 1 ? ` (and ${notCarried.length - 1} more not carried over)` : ''}; carry it into the source in a form the spec holds, or import without --strict and add it by hand`);
  }
  return { spec, secretValues: env.values, lines: report.lines, files: storage.files, volumeSources: storage.fromNamed };
}

/** `healthy` on a service without a health check (its test was not CMD or CMD-SHELL) waits for its start; `started` on a job waits for it to complete. */
function settleConditions(services: Record<string, ServiceSpec>, report: ImportReport): void {
  for (const [name, svc] of Object.entries(services)) {
    for (const [dep, condition] of Object.entries(svc.dependsOn ?? {})) {
      const target = services[dep];
      if (!target) continue;
      const at = `services.${name}.depends_on.${dep}`;
      if (condition === 'healthy' && (target.health === undefined || target.health.probe === 'none') && (target.kind ?? 'service') === 'service') {
        svc.dependsOn![dep] = 'started';
        report.notCarried(at, `service_healthy on ${dep}, whose health check is not carried over: it waits for the start`);
      } else if (condition !== 'completed' && target.kind === 'job') {
        svc.dependsOn![dep] = 'completed';
        report.notCarried(at, `${condition} on ${dep}, a job: the spec waits for a job to complete`);
      }
    }
  }
}

function readNetworks(service: string, svc: ComposeSource['services'][string], source: ComposeSource, report: ImportReport): void {
  for (const [network, settings] of Object.entries(svc.networks)) {
    const at = `services.${service}.networks.${network}`;
    if (source.networks[network]?.external) {
      report.notCarried(at, "an external network: the app's services share the app's network; another app is reached through ingress or a published port");
      continue;
    }
    if (settings?.aliases?.length) report.notCarried(`${at}.aliases`, 'services are reached by their names; an alias is another name the spec does not give');
    if (settings?.ipv4_address) report.notCarried(`${at}.ipv4_address`, 'the spec does not fix addresses');
  }
  if (service === Object.keys(source.services)[0]) {
    const custom = Object.entries(source.networks).filter(([name, n]) => name !== 'default' && !n.external).map(([name]) => name);
    if (custom.length > 0) report.note(`networks ${custom.join(', ')}: every service of the app shares one network in the spec`);
  }
}

function mergeResources(fromDeploy: ServiceSpec['resources'], other: { limits?: ResourceList; requests?: ResourceList }): ServiceSpec['resources'] {
  const limits = { ...other.limits, ...fromDeploy?.limits };
  const requests = { ...other.requests, ...fromDeploy?.requests };
  const out = { ...(Object.keys(requests).length > 0 ? { requests } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  return Object.keys(out).length > 0 ? out : undefined;
}

function list(value: string[] | undefined, at: string, report: ImportReport): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0) {
    report.notCarried(at, "an empty list: the spec keeps the image's own");
    return undefined;
  }
  return value;
}

function workingDir(value: string | undefined, at: string, report: ImportReport): string | undefined {
  if (value === undefined || ABSOLUTE_PATH.test(value)) return value;
  report.notCarried(at, 'not an absolute path the spec takes (letters, digits, _ . / @ + -)');
  return undefined;
}

const cut = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/** Drops the undefined fields, so the spec serializes without them. */
function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The spec goes to git: refuses one that holds a secret's value anywhere (a password passed in
 * `command`, a token in a label, a config's content), naming where and whose, never the value.
 * The secrets are the values of the app's secret keys and of the stack's credential-named variables.
 * The report is checked too (its lines never quote values; this keeps it so).
 */
function guardSecrets(spec: AppSpec, report: ImportReport, values: Record<string, string>, source: ComposeSource): void {
  const secrets = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) if (value.length >= 6) secrets.set(value, key);
  for (const [name, variable] of Object.entries(source.variables)) {
    const value = variable.value;
    if (value !== undefined && value.length >= 6 && isCredentialKey(name) && couldBeSecret(value) && !secrets.has(value)) secrets.set(value, name);
  }
  if (secrets.size === 0) return;
  const visit = (node: unknown, at: string): void => {
    if (typeof node === 'string') {
      for (const [value, key] of secrets) {
        if (node.includes(value)) {
          throw new InputError(
            `${at} holds the value of the secret ${key}, and the spec is committed to git; make the service read it from its environment (the spec's secrets, e.g. sh -c '… "$${key}"') in the source, and import again`,
          );
        }
      }
      return;
    }
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${at}[${i}]`));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) visit(v, at === '' ? k : `${at}.${k}`);
  };
  visit(spec, '');
  for (const line of report.lines) visit(line, 'the import report');
}
