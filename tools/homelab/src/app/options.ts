import { InputError, show } from '../errors';
import { parseImageRef } from '../spec/image';
import { quantityBytes } from '../spec/quantity';
import type { AppSpec, ShorthandAppSpec, WorkspaceConfig } from '../spec/types';

/** What `nx g homelab:app` and `plop app` take (generators/app/schema.json). */
export interface AppOptions {
  name: string;
  image: string;
  port: number | string;
  secrets?: string | string[];
  volumes?: string | string[];
  host?: string;
  environments?: string | string[];
  force?: boolean;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,51}[a-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VOLUME_NAME = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
const MOUNT_PATH = /^\/[A-Za-z0-9_./-]{0,254}$/;
/** A lower-case fully qualified host name, optionally a wildcard (`*.example.org`): the schema's `hostname`. */
export const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Accepts "a,b", ["a","b"] or ["a,b"] (Nx passes repeated flags as arrays). */
export function splitList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export function checkAppName(name: unknown): string {
  if (typeof name !== 'string' || !DNS_LABEL.test(name)) {
    throw new InputError(
      `app name ${show(name)} is not a DNS-1123 label; use 1-53 lower-case letters, digits and '-', starting with a letter (e.g. "whoami")`,
    );
  }
  return name;
}

export function checkPort(port: unknown): number {
  const n = typeof port === 'number' ? port : /^[0-9]+$/.test(String(port ?? '')) ? Number(port) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InputError(`--port ${show(port)} is not a port; use a whole number from 1 to 65535 (the port the container listens on)`);
  }
  return n;
}

export function checkHost(host: string, where = '--host'): string {
  if (host.length > 253 || !HOSTNAME.test(host)) {
    throw new InputError(`${where} ${show(host)} is not a host name; use a lower-case fully qualified name such as "whoami.home.example.org"`);
  }
  return host;
}

/**
 * Parses `name:size:/mount` entries.
 * @example parseVolumes('data:1Gi:/data') // [{ name: 'data', size: '1Gi', mountPath: '/data', backup: true }]
 */
export function parseVolumes(value: string | string[] | undefined): NonNullable<ShorthandAppSpec['volumes']> {
  return splitList(value).map((entry) => {
    const parts = entry.split(':');
    if (parts.length !== 3) {
      throw new InputError(`--volumes entry ${show(entry)} is not name:size:/mount; write e.g. "data:1Gi:/data"`);
    }
    const [name, size, mountPath] = parts;
    if (!VOLUME_NAME.test(name)) {
      throw new InputError(`--volumes name ${show(name)} is invalid; use 1-32 lower-case letters, digits and '-', starting with a letter`);
    }
    quantityBytes(size, `--volumes size of ${name}`);
    if (!MOUNT_PATH.test(mountPath) || mountPath.split('/').includes('..')) {
      throw new InputError(`--volumes mount path ${show(mountPath)} is invalid; use an absolute path of letters, digits, '_', '.', '-' and '/' without ".."`);
    }
    return { name, size, mountPath, backup: true };
  });
}

/**
 * Turns generator answers into a spec: every answer is checked here, before anything
 * is rendered or written, and every default the spec shows is spelled out.
 */
/** `--secrets`: environment variable names, each once. */
export function parseSecretKeys(value: string | string[] | undefined): string[] {
  const secretKeys = splitList(value);
  for (const key of secretKeys) {
    if (!ENV_KEY.test(key)) {
      throw new InputError(`--secrets key ${show(key)} is not an environment variable name; use letters, digits and '_', not starting with a digit`);
    }
  }
  const dupSecret = secretKeys.find((k, i) => secretKeys.indexOf(k) !== i);
  if (dupSecret) throw new InputError(`--secrets key ${show(dupSecret)} is listed twice; list each key once`);
  return secretKeys;
}

/** `--environments`: one or more environments of homelab.yaml. */
export function chosenEnvironments(value: string | string[], workspace: WorkspaceConfig): string[] {
  const known = workspace.environments.map((e) => e.name);
  const chosen = splitList(value);
  if (chosen.length === 0) {
    throw new InputError(`--environments is empty; list one or more of ${known.map((e) => show(e)).join(', ')}`);
  }
  for (const env of chosen) {
    if (!known.includes(env)) {
      throw new InputError(
        `--environments ${show(env)} is not an environment of this workspace; use one of ${known.map((e) => show(e)).join(', ')} or add it with nx g homelab:environment`,
      );
    }
  }
  return chosen;
}

export function specFromOptions(options: AppOptions, workspace: WorkspaceConfig): AppSpec {
  const name = checkAppName(options.name);
  const image = parseImageRef(String(options.image ?? ''), '--image');
  const port = checkPort(options.port);

  const secretKeys = parseSecretKeys(options.secrets);
  const volumes = parseVolumes(options.volumes);
  const host = options.host ? checkHost(String(options.host)) : undefined;
  const chosen = options.environments === undefined ? workspace.environments.map((e) => e.name) : chosenEnvironments(options.environments, workspace);

  const spec: ShorthandAppSpec = {
    name,
    image,
    ports: [{ name: 'http', port, http: true }],
  };
  // One store entry per app (a Kubernetes Secret, a Vault path, a 1Password item) holding one
  // property per key: the layout most External Secrets providers share.
  if (secretKeys.length > 0) spec.secrets = secretKeys.map((key) => ({ key, remoteKey: name, property: key }));
  if (volumes.length > 0) spec.volumes = volumes;
  spec.resources = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } };
  // New apps are probed from outside the container on Compose: that works with any image that
  // serves HTTP, also one without wget or a shell (FROM scratch, distroless), such as the
  // README's traefik/whoami. A spec without health.probe keeps the in-container check (exec).
  spec.health = { http: { path: '/' }, probe: 'outside', startGraceSeconds: 30 };
  if (host) spec.ingress = { host, tls: true };
  spec.replicas = 1;
  spec.monitoring = { alerts: true, dashboard: true };
  spec.environments = Object.fromEntries(chosen.map((env) => [env, {}]));
  return spec;
}
