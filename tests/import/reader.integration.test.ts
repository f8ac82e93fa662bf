/**
 * The oracle of the Compose reader: for every stack of tests/support/fixtures/import, the real
 * `docker compose config --format json` (no Docker Engine needed) and readComposeSource must agree
 * on what the import uses. Both see the same explicit process environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readComposeSource } from '../../tools/homelab/src/import/compose/read';
import type { ComposeSource } from '../../tools/homelab/src/import/model';
import { requireTool, runOk } from '../support/tools';

const compose = requireTool('docker compose');
const FIXTURES = path.join(__dirname, '../support/fixtures/import');

/** Each stack, with the environment and env files both readers get. */
const STACKS: { stack: string; environment: Record<string, string>; envFiles?: string[] }[] = [
  { stack: 'gallery', environment: {} },
  // A process variable wins over .env.
  { stack: 'resolver', environment: { VIRTUAL_HOST: 'dns.process.example.org' } },
  { stack: 'house', environment: {} },
  { stack: 'templating', environment: { MODE: 'worker' }, envFiles: ['vars.env'] },
  // The round trip's stacks (tests/import/roundtrip.integration.test.ts): configs, a cron service's labels, and two the import refuses.
  { stack: 'chores', environment: {} },
  { stack: 'build-only', environment: {} },
  { stack: 'placeholder-image', environment: {} },
];

/** A fixed, hermetic process environment: `~` is /home/importer on both sides. */
function processEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/importer', ...extra };
}

type Json = Record<string, unknown>;

/** Compose prints each `$` of a value as `$$` (so the output can be read again): undo it. */
function unescape(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\$/g, '$');
  if (Array.isArray(value)) return value.map(unescape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescape(v)]));
  return value;
}

/** Drops what is absent in one form and empty in the other (null, undefined, [], {}). */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(compact);
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

/** `docker compose config --format json` in the model's shape, where the two print the same thing differently. */
function fromCompose(project: Json): { services: Record<string, Json>; volumes: Json } {
  const services: Record<string, Json> = {};
  for (const [name, raw] of Object.entries(project.services as Record<string, Json>)) {
    const s = unescape(raw) as Json;
    const reservations = ((s.deploy as Json | undefined)?.resources as Json | undefined)?.reservations as Json | undefined;
    services[name] = {
      ...s,
      environment: Object.fromEntries(Object.entries((s.environment ?? {}) as Json).map(([k, v]) => [k, { value: v }])),
      // Compose 2.26 prints extra_hosts as `name=address` strings; the model holds a map.
      extra_hosts: Object.fromEntries(((s.extra_hosts ?? []) as string[]).map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)])),
      // `gpus:` is printed on its own (count -1 is all); the model holds it as the GPU reservation it stands for.
      gpus: [
        ...((reservations?.devices ?? []) as Json[]),
        ...((s.gpus ?? []) as Json[]).map((g) => ({ count: g.count === -1 ? 'all' : g.count, capabilities: g.capabilities ?? ['gpu'] })),
      ],
    };
  }
  return { services, volumes: (project.volumes ?? {}) as Json };
}

/** readComposeSource's result, with the GPU reservations where the comparison looks for them. */
function fromReader(source: ComposeSource): { services: Record<string, Json>; volumes: Json } {
  const services: Record<string, Json> = {};
  for (const [name, s] of Object.entries(source.services)) services[name] = { ...s, gpus: s.deploy?.resources?.reservations?.devices ?? [] };
  return { services, volumes: source.volumes };
}

/** The fields the import relies on, the same way from both sides. */
function comparable(s: Json) {
  const list = (key: string) => (s[key] ?? []) as Json[];
  return compact({
    image: s.image,
    command: s.command,
    entrypoint: s.entrypoint,
    working_dir: s.working_dir,
    user: s.user,
    // A variable declared without a value and unset is null on both sides: keep that one visible.
    environment: Object.fromEntries(Object.entries(s.environment as Record<string, Json>).map(([k, v]) => [k, v.value ?? 'null'])),
    ports: list('ports').map((p) => ({ target: p.target, published: p.published, host_ip: p.host_ip, protocol: p.protocol })),
    volumes: list('volumes').map((v) => ({ type: v.type, source: v.source, target: v.target, read_only: v.read_only || undefined })),
    depends_on: Object.fromEntries(Object.entries((s.depends_on ?? {}) as Record<string, Json>).map(([k, v]) => [k, v.condition])),
    cap_add: [...((s.cap_add ?? []) as string[])].sort(),
    privileged: s.privileged,
    network_mode: s.network_mode,
    devices: s.devices,
    extra_hosts: s.extra_hosts,
    tmpfs: s.tmpfs,
    healthcheck: (s.healthcheck as Json | undefined)?.test,
    labels: s.labels,
    gpus: list('gpus').map((d) => ({ count: d.count, capabilities: d.capabilities })),
  });
}

/** Top-level volumes: their names, and which are external. */
function volumeNames(volumes: Json) {
  return Object.fromEntries(Object.entries(volumes as Record<string, Json>).map(([k, v]) => [k, { external: v.external ?? false }]));
}

describe.skipIf(compose.skip)('readComposeSource agrees with docker compose config', () => {
  it('has a fixture folder for every stack it lists, and lists every fixture folder', () => {
    expect(fs.readdirSync(FIXTURES).sort()).toEqual(STACKS.map((s) => s.stack).sort());
  });

  it.each(STACKS)('$stack', ({ stack, environment, envFiles }) => {
    const dir = path.join(FIXTURES, stack);
    const file = path.join(dir, 'compose.yaml');
    const env = processEnv(environment);
    const envArgs = (envFiles ?? []).flatMap((f) => ['--env-file', path.join(dir, f)]);
    const oracle = JSON.parse(runOk('docker', ['compose', '-f', file, ...envArgs, '--profile', '*', 'config', '--format', 'json'], { cwd: dir, env })) as Json;
    const source = readComposeSource(file, { environment: env, envFiles: envFiles?.map((f) => path.join(dir, f)) });
    expect(source.name).toBe(oracle.name);
    expect(Object.keys(source.services).sort()).toEqual(Object.keys(oracle.services as Json).sort());
    const expected = fromCompose(oracle);
    const actual = fromReader(source);
    for (const name of Object.keys(expected.services)) expect(comparable(actual.services[name]), `services.${name}`).toEqual(comparable(expected.services[name]));
    expect(volumeNames(actual.volumes)).toEqual(volumeNames(expected.volumes));
  });
});
