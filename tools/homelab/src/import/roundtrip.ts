import YAML from 'yaml';
import { SCHEDULER } from '../app/steps/pending';
import { show } from '../errors';
import { formatImageRef, splitImageRef } from '../spec/image';
import type { AppSpec, SecretSpec } from '../spec/types';
import { classifyEnv, isCredentialKey } from './map/classify';

/**
 * The round trip of an import (docs/import.md, "Round trip"): does the imported app, merged for
 * one environment as build renders it, start the services the source started? It compares the
 * source's `docker compose config --format json` with the app's merged Compose (build's
 * `renderCompose`, with its `x-homelab` metadata), service by service, on the fields in
 * {@link COMPARED}. A difference is one line naming the service, the field and both values (a
 * secret is compared by its key only, and a value that may be a credential is never shown).
 *
 * What homelab changes on purpose is not a difference: {@link KNOWN_ADDITIONS} lists each such
 * change within the compared fields, and {@link NOT_COMPARED} each field the round trip leaves
 * out and why. The additions found are returned beside the differences, one line each, so a
 * reader sees them rather than having them ignored.
 *
 * Pure: reads nothing but its arguments.
 */

/** The fields compared, per service (besides the service names). */
export const COMPARED = [
  'image',
  'command',
  'entrypoint',
  'environment',
  'ports',
  'mounts',
  'user',
  'cap_add',
  'cap_drop',
  'privileged',
  'read_only',
  'network_mode',
  'depends_on',
] as const;

/** What homelab adds or changes on purpose within the compared fields: found, they are additions, not differences. */
export const KNOWN_ADDITIONS = {
  scheduler: `the service ${SCHEDULER}: an app with cron services or backups gets the Compose scheduler that starts them on their schedules (docs/deploy.md, "Cron services (schedules)"; docs/backup.md)`,
  mover: 'a backup mover: each backed-up volume gets the service backup-<volume> that copies it into its restic repository (docs/backup.md)',
  tmp: 'a tmpfs at /tmp: homelab mounts one in every service, so that a read-only root filesystem still has a scratch folder',
  sharedSecrets: "the secret keys of the app's other services: Compose cannot pick keys from an env file, so a service that reads the app's secrets sees every key of them",
  unsetSecret: 'a credential the source declares without a value (and does not set): the spec makes it a secret key, which deploy gives from the local secrets file or the store',
  userGroup: 'the group of a user given without one: the spec runs a uid with the group of the same number (root with group 0)',
} as const;

/** Fields of a service the round trip does not compare, and why: homelab renders each its own way on purpose. */
export const NOT_COMPARED: Record<string, string> = {
  labels: "homelab adds its own (homelab.app, logging, backup); the source's other labels are carried in patches.compose",
  healthcheck: 'homelab checks every service every 10 s, 5 s timeout, 3 retries, and runs a CMD-SHELL test as [CMD, sh, -c, …]; the import lists every setting it changes',
  logging: "homelab's logging (json-file, rotated) collects every container's output",
  restart: 'homelab restarts a long-running service unless-stopped; a job or cron service is not restarted',
  security_opt: 'homelab sets no-new-privileges on every service',
  deploy: "homelab sets a memory limit and request on every service (the spec's default limit where the source set none); the replicas and GPU reservations the source sets are kept",
  networks: "every service of the app joins the app's one network (network_mode is compared)",
  profiles: "the spec starts every service; a cron service is in homelab's cron profile",
  'port publishing mode': "Compose's ingress and host modes matter in swarm only",
};

export interface RoundTripInput {
  /** The source's `docker compose config --format json` (with every profile on), as printed. */
  source: string;
  /** The app's merged Compose in one environment, as build renders it (`renderCompose`, with `x-homelab`). */
  merged: string;
  /** The imported app's spec: which keys each service reads from the app's secrets. */
  spec: AppSpec;
}

export interface RoundTripResult {
  /** One line each: `services.<svc>.<field>: the source has …, the merged file has …`. Empty when the round trip holds. */
  differences: string[];
  /** The known additions found (KNOWN_ADDITIONS), one line each, naming the service. */
  additions: string[];
}

type Json = Record<string, unknown>;

/** Compares the source and the merged app, service by service (see the module's comment). */
export function compareRoundTrip(input: RoundTripInput): RoundTripResult {
  const source = JSON.parse(input.source) as Json;
  const merged = (YAML.parse(input.merged) ?? {}) as Json;
  const sourceServices = (source.services ?? {}) as Record<string, Json>;
  const mergedServices = (merged.services ?? {}) as Record<string, Json>;
  const metadata = (merged['x-homelab'] ?? {}) as { secrets?: { keys?: { key: string }[]; services?: string[] } };
  const envFileKeys = new Set((metadata.secrets?.keys ?? []).map((k) => k.key));
  const envFileServices = new Set(metadata.secrets?.services ?? []);
  const secretsOf = serviceSecrets(input.spec);
  const differences: string[] = [];
  const additions: string[] = [];

  for (const name of Object.keys(sourceServices)) {
    if (!(name in mergedServices)) differences.push(`services.${name}: the source has the service, the merged file has not`);
  }
  for (const name of Object.keys(mergedServices)) {
    if (name in sourceServices) continue;
    if (name === SCHEDULER && Object.values(mergedServices).some((s) => isCron(s) || isMover(s))) additions.push(`services.${name}: ${KNOWN_ADDITIONS.scheduler}`);
    else if (isMover(mergedServices[name])) additions.push(`services.${name}: ${KNOWN_ADDITIONS.mover}`);
    else differences.push(`services.${name}: the merged file has a service the source has not`);
  }

  for (const [name, from] of Object.entries(sourceServices)) {
    const to = mergedServices[name];
    if (to === undefined) continue;
    const at = `services.${name}`;
    const differ = (field: string, a: unknown, b: unknown) => differences.push(`${at}.${field}: the source has ${display(a)}, the merged file has ${display(b)}`);

    if (imageOf(from.image) !== imageOf(to.image)) differ('image', from.image, to.image);
    for (const field of ['command', 'entrypoint'] as const) {
      if (!sameJson(words(from[field]), words(to[field]))) differ(field, words(from[field]), words(to[field]));
    }
    const secrets = secretsOf.get(name) ?? new Set<string>();
    const readsEnvFile = envFileServices.has(name);
    compareEnvironment(at, environmentOf(from), environmentOf(to), { secrets, envFileKeys, readsEnvFile }, differences, additions);
    compareSet(`${at}.ports`, portsOf(from), portsOf(to), differences);
    compareMounts(at, mountsOf(from), mountsOf(to), differences, additions);
    compareUser(at, str(from.user), str(to.user), differences, additions);
    for (const field of ['cap_add', 'cap_drop'] as const) compareSet(`${at}.${field}`, capabilities(from[field]), capabilities(to[field]), differences);
    for (const field of ['privileged', 'read_only'] as const) {
      if (Boolean(from[field]) !== Boolean(to[field])) differ(field, Boolean(from[field]), Boolean(to[field]));
    }
    if ((str(from.network_mode) ?? '') !== (str(to.network_mode) ?? '')) differ('network_mode', from.network_mode ?? null, to.network_mode ?? null);
    compareSet(`${at}.depends_on`, dependsOn(from), dependsOn(to), differences);
  }
  return { differences, additions };
}

/** Each service's keys of the app's secrets, from the spec (the shorthand's one service reads them all). */
function serviceSecrets(spec: AppSpec): Map<string, Set<string>> {
  const keyOf = (s: string | SecretSpec) => (typeof s === 'string' ? s : s.key);
  if (!spec.services) return new Map([[spec.name, new Set((spec.secrets ?? []).map(keyOf))]]);
  return new Map(Object.entries(spec.services).map(([name, svc]) => [name, new Set((svc.secrets ?? []).map(keyOf))]));
}

function compareEnvironment(
  at: string,
  from: Map<string, string | null>,
  to: Map<string, string | null>,
  secrets: { secrets: Set<string>; envFileKeys: Set<string>; readsEnvFile: boolean },
  differences: string[],
  additions: string[],
): void {
  const viaEnvFile = (key: string) => secrets.secrets.has(key) && secrets.readsEnvFile && secrets.envFileKeys.has(key);
  for (const [key, value] of from) {
    const where = `${at}.environment.${key}`;
    if (secrets.secrets.has(key)) {
      if (to.has(key)) differences.push(`${where}: a secret of the spec, but the merged file gives it a value in plain environment`);
      else if (!viaEnvFile(key)) differences.push(`${where}: the source sets it, the merged file has it neither in its environment nor in the app's secrets env file`);
      else if (value === null) additions.push(`${where}: ${KNOWN_ADDITIONS.unsetSecret}`);
      continue;
    }
    // A key declared without a value and unset is passed to no container: it is not there.
    if (value === null) {
      if (to.has(key) && to.get(key) !== null) differences.push(`${where}: the source passes none (declared without a value, unset), the merged file has ${showEnv(key, to.get(key))}`);
      continue;
    }
    if (!to.has(key)) differences.push(`${where}: the source has ${showEnv(key, value)}, the merged file has none`);
    else if (to.get(key) !== value) {
      const hidden = isCredentialKey(key) || classifyEnv(key, value) === 'secret' || classifyEnv(key, to.get(key) ?? '') === 'secret';
      differences.push(hidden ? `${where}: the values differ (not shown: it may be a credential)` : `${where}: the source has ${show(value)}, the merged file has ${show(to.get(key))}`);
    }
  }
  for (const [key, value] of to) {
    if (!from.has(key) && value !== null) differences.push(`${at}.environment.${key}: the source has none, the merged file has ${showEnv(key, value)}`);
  }
  for (const key of secrets.secrets) {
    if (from.has(key)) continue;
    differences.push(`${at}.environment.${key}: the source has none, the spec reads it from the app's secrets`);
  }
  const others = secrets.readsEnvFile ? [...secrets.envFileKeys].filter((k) => !secrets.secrets.has(k) && !from.has(k)) : [];
  if (others.length > 0) additions.push(`${at}.environment: ${others.join(', ')}: ${KNOWN_ADDITIONS.sharedSecrets}`);
}

/** A value that may be a credential is not shown, whatever its key. */
function showEnv(key: string, value: string | null | undefined): string {
  if (value === null || value === undefined) return 'none';
  return isCredentialKey(key) || classifyEnv(key, value) === 'secret' ? 'a value (not shown: it may be a credential)' : show(value);
}

interface Mount {
  readOnly: boolean;
  /** The host folder or file of a bind mount. */
  bind?: string;
  /** A tmpfs from the service's `tmpfs:` list. */
  tmpfs: boolean;
}

function compareMounts(at: string, from: Map<string, Mount>, to: Map<string, Mount>, differences: string[], additions: string[]): void {
  for (const [target, mount] of from) {
    const other = to.get(target);
    const where = `${at}.mounts.${target}`;
    if (other === undefined) {
      differences.push(`${where}: the source mounts it, the merged file does not`);
      continue;
    }
    if (mount.readOnly !== other.readOnly) differences.push(`${where}: the source mounts it ${mount.readOnly ? 'read-only' : 'read-write'}, the merged file ${other.readOnly ? 'read-only' : 'read-write'}`);
    if (mount.bind !== undefined && other.bind !== undefined && mount.bind !== other.bind) differences.push(`${where}: the source binds ${show(mount.bind)}, the merged file ${show(other.bind)}`);
  }
  for (const [target, mount] of to) {
    if (from.has(target)) continue;
    if (target === '/tmp' && mount.tmpfs) additions.push(`${at}.mounts./tmp: ${KNOWN_ADDITIONS.tmp}`);
    else differences.push(`${at}.mounts.${target}: the source does not mount it, the merged file does`);
  }
}

function compareUser(at: string, from: string | undefined, to: string | undefined, differences: string[], additions: string[]): void {
  if ((from ?? '') === (to ?? '')) return;
  const [uid, gid] = (from ?? '').split(':');
  const numeric = uid === 'root' ? '0' : uid;
  if (from !== undefined && gid === undefined && /^[0-9]+$/.test(numeric) && to === `${numeric}:${numeric}`) {
    additions.push(`${at}.user: ${show(from)} runs as ${show(to)}: ${KNOWN_ADDITIONS.userGroup}`);
    return;
  }
  differences.push(`${at}.user: the source has ${display(from ?? null)}, the merged file has ${display(to ?? null)}`);
}

/** Lines of a set-valued field that only one side has. */
function compareSet(at: string, from: Set<string>, to: Set<string>, differences: string[]): void {
  const missing = [...from].filter((v) => !to.has(v));
  const extra = [...to].filter((v) => !from.has(v));
  if (missing.length > 0 || extra.length > 0) {
    differences.push(`${at}: the source has ${display([...from].sort())}, the merged file has ${display([...to].sort())}`);
  }
}

/** An image as Docker pulls it: an untagged reference is `:latest`. */
function imageOf(value: unknown): string {
  if (typeof value !== 'string') return '';
  try {
    const ref = splitImageRef(value, 'image');
    return formatImageRef(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref);
  } catch {
    return value;
  }
}

function isCron(service: Json): boolean {
  return (service.labels as Json | undefined)?.['homelab.kind'] === 'cron';
}

/** A backup mover homelab adds (`backup-<volume>`, labelled homelab.kind: backup). */
function isMover(service: Json): boolean {
  return (service.labels as Json | undefined)?.['homelab.kind'] === 'backup';
}

/** `docker compose config` prints each `$` of a value as `$$` (so the output reads back the same): one `$`. */
function unescape(value: string): string {
  return value.replace(/\$\$/g, '$');
}

function words(value: unknown): string[] | null {
  return Array.isArray(value) ? value.map((w) => unescape(String(w))) : typeof value === 'string' ? [unescape(value)] : null;
}

function environmentOf(service: Json): Map<string, string | null> {
  const env = (service.environment ?? {}) as Record<string, unknown>;
  return new Map(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? null : unescape(String(v))]));
}

/** Container ports (`80/tcp`), published or exposed, and where each is published (`127.0.0.1:8053->80/tcp`) off the host network. */
function portsOf(service: Json): Set<string> {
  const out = new Set<string>();
  const hostNetwork = service.network_mode === 'host';
  for (const p of (service.ports ?? []) as Json[]) {
    const port = `${p.target}/${p.protocol ?? 'tcp'}`;
    out.add(port);
    // On the host network a container's ports are the host's: Docker ignores what is published.
    if (p.published !== undefined && !hostNetwork) out.add(`${p.host_ip ?? '0.0.0.0'}:${p.published}->${port}`);
  }
  for (const e of (service.expose ?? []) as unknown[]) {
    const [port, protocol] = String(e).split('/');
    out.add(`${port}/${protocol ?? 'tcp'}`);
  }
  return out;
}

/** Every path mounted into the container: volumes and binds, tmpfs, Compose configs and secrets. */
function mountsOf(service: Json): Map<string, Mount> {
  const out = new Map<string, Mount>();
  for (const v of (service.volumes ?? []) as Json[]) {
    out.set(String(v.target), { readOnly: v.read_only === true, tmpfs: false, ...(v.type === 'bind' ? { bind: String(v.source) } : {}) });
  }
  for (const t of (service.tmpfs ?? []) as string[]) out.set(t.split(':')[0], { readOnly: false, tmpfs: true });
  for (const [kind, base] of [['configs', '/'], ['secrets', '/run/secrets/']] as const) {
    for (const c of (service[kind] ?? []) as Json[]) out.set(String(c.target ?? `${base}${c.source}`), { readOnly: true, tmpfs: false });
  }
  return out;
}

function capabilities(value: unknown): Set<string> {
  return new Set(((value ?? []) as string[]).map((c) => c.toUpperCase().replace(/^CAP_/, '')));
}

function dependsOn(service: Json): Set<string> {
  const deps = service.depends_on;
  if (Array.isArray(deps)) return new Set(deps.map((d) => `${d}: service_started`));
  return new Set(Object.entries((deps ?? {}) as Record<string, Json>).map(([d, v]) => `${d}: ${v?.condition ?? 'service_started'}`));
}

function str(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function display(value: unknown): string {
  return value === null || value === undefined ? 'none' : typeof value === 'string' ? show(value) : JSON.stringify(value);
}
