import type { Tree } from '@nx/devkit';
import { stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import type { AppSpec } from '../../tools/homelab/src/spec/types';
import { appPaths } from '../../tools/homelab/src/project/paths';
import type { FileHost } from '../../tools/homelab/src/host';

/** A minimal valid spec (what a hand-written spec looks like), with overrides. */
export function specOf(name: string, overrides: Partial<AppSpec> = {}): AppSpec {
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
