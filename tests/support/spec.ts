import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { expect } from 'vitest';
import { InputError } from '../../tools/homelab/src/errors';
import { parseAppSpec, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import type { AppSpec, ShorthandAppSpec } from '../../tools/homelab/src/spec/types';
import { appPaths } from '../../tools/homelab/src/project/paths';
import type { FileHost } from '../../tools/homelab/src/host';
import type { RenderedFile } from '../../tools/homelab/src/render/engine';

/** A minimal valid spec (what a hand-written spec looks like), with overrides. */
export function specOf(name: string, overrides: Partial<ShorthandAppSpec> = {}): ShorthandAppSpec {
  return {
    name,
    image: { repository: 'traefik/whoami', tag: 'v1.10.4' },
    ports: [{ name: 'http', port: 8080, http: true }],
    ...overrides,
  };
}

/** Writes a spec where `nx g homelab:app` would, as the serializer writes it. */
export function writeSpec(target: Tree | FileHost, spec: AppSpec): string {
  const file = appPaths(spec.name).spec;
  target.write(file, stringifyAppSpec(spec));
  return file;
}

/** The full-featured answers used across tests: secrets, two volumes, a host. */
export const VAULT_ANSWERS = {
  name: 'vault',
  image: 'ghcr.io/example/vault:1.2.3',
  port: 8080,
  secrets: 'API_TOKEN,DB_PASSWORD',
  volumes: 'data:1Gi:/data,cache:512Mi:/var/cache/vault',
  host: 'vault.home.example.org',
} as const;

/** The census stacks (tests/support/fixtures/stacks): specs of the full form written for real stacks. */
export const STACKS_DIR = path.resolve(__dirname, 'fixtures/stacks');

/** A full-form spec that uses every field homelab renders today (tests/support/fixtures/full-form/wiki.yaml). */
export const WIKI_SPEC_FILE = path.resolve(__dirname, 'fixtures/full-form/wiki.yaml');

/** A census stack's spec (e.g. `stackSpec('photos')`), or a spec file, read as `homelab` reads a spec. */
export function stackSpec(name: string): AppSpec {
  const file = name.endsWith('.yaml') ? name : path.join(STACKS_DIR, `${name}.yaml`);
  return parseAppSpec(fs.readFileSync(file, 'utf8'), `applications/specs/${path.basename(file)}`);
}

/**
 * Census stacks that use fields homelab does not render yet, with what they wait for. The parity
 * test checks each is refused, naming such a field, so the list cannot go stale: when a feature
 * lands, its stack fails there until it moves to the rendered ones.
 */
export const PENDING_STACKS: Record<string, string> = {};

/** The full-form stacks both platforms render today: the census stacks not pending, and the wiki that uses every rendered field. */
export function renderedStacks(): AppSpec[] {
  return [
    ...fs
      .readdirSync(STACKS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .filter((name) => !(name in PENDING_STACKS))
      .map((name) => stackSpec(name)),
    stackSpec(WIKI_SPEC_FILE),
  ];
}

/** A stack that uses the escape hatch on both platforms, a config file beside its spec and a schedule per environment (tests/support/fixtures/patched). */
export const PATCHED_DIR = path.resolve(__dirname, 'fixtures/patched');

/** The relay stack's spec, and the files beside it (its folder named like the app) by workspace path. */
export function patchedStack(): { spec: AppSpec; files: Record<string, string> } {
  const spec = stackSpec(path.join(PATCHED_DIR, 'relay.yaml'));
  const dir = path.join(PATCHED_DIR, spec.name);
  const files = Object.fromEntries(fs.readdirSync(dir).map((f) => [`${appPaths(spec.name).specFiles}/${f}`, fs.readFileSync(path.join(dir, f), 'utf8')]));
  return { spec, files };
}

/** Writes the relay stack into a workspace: its spec and the files beside it. */
export function writePatchedStack(target: Tree | FileHost): AppSpec {
  const { spec, files } = patchedStack();
  writeSpec(target, spec);
  for (const [file, content] of Object.entries(files)) target.write(file, content);
  return spec;
}

/** The environments a spec renders to: those it lists, else both of the fresh homelab (dev, prod). */
export function environmentsOf(spec: AppSpec): string[] {
  return spec.environments ? Object.keys(spec.environments) : ['dev', 'prod'];
}

/** The message of the InputError a call throws (the test fails when it throws nothing or something else). */
export function inputErrorOf(fn: () => unknown): string {
  return thrownInputError(fn).message;
}

/** The InputError a call throws, with its validate rule (the test fails when it throws nothing or something else). */
export function thrownInputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected the call to throw');
}

/**
 * A spec with five mistakes (issue 13), one a line: a port above 65535, a port given as text, an
 * unknown key, an image tagged latest and a dependsOn of a service that does not exist. Three
 * are the schema's, two normalize's: all five are reported at once, each at its line.
 */
export const FIVE_MISTAKES = {
  name: 'shop',
  text: [
    'name: shop',
    'services:',
    '  web:',
    '    image: { repository: traefik/whoami, tag: latest }',
    '    ports:',
    '      - { name: http, port: 70000, http: true }',
    '    dependsOn: { db: healthy }',
    '    colour: blue',
    '  worker:',
    '    image: { repository: traefik/whoami, tag: v1.10.4 }',
    '    ports:',
    '      - { name: metrics, port: "9090" }',
    '',
  ].join('\n'),
  /** `line:col: message` of each mistake, in the order of the file. */
  problems: [
    '4:12: services.web.image "traefik/whoami:latest" uses the tag "latest", which moves under you; pin a version tag or a digest',
    '6:29: services.web.ports[0].port: 70000 is above 65535; use a whole number from 1 to 65535',
    '7:22: services.web.dependsOn.db: "db" is not a service of the app; use one of "worker" or remove it',
    '8:5: services.web.colour: unknown field; remove it or fix its spelling',
    '12:32: services.worker.ports[0].port: "9090" is text; write a whole number without quotes: 9090',
  ],
} as const;

/** The content of one file of a render; throws naming the files rendered when it is not among them. */
export function contentOf(files: RenderedFile[], file: string): string {
  const found = files.find((f) => f.path === file);
  if (!found) throw new Error(`${file} was not rendered; rendered: ${files.map((f) => f.path).join(', ')}`);
  return found.content;
}
