import type { ComposeEnvValue, ComposeMount, ComposeService, ComposeSource } from '../../tools/homelab/src/import/model';
import { normalizeApp } from '../../tools/homelab/src/app/normalize';
import type { NormalizedApp } from '../../tools/homelab/src/app/normalized';
import { appPaths } from '../../tools/homelab/src/project/paths';
import { parseAppSpec, parseWorkspaceConfig, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import type { FullAppSpec } from '../../tools/homelab/src/spec/types';
import { WORKSPACE_YAML } from './workspace';

/**
 * Builders of resolved Compose stacks (`ComposeSource`, the model between reading a stack and
 * mapping it) for the tests of import/map: what `docker compose config` would give, written in
 * TypeScript, so a mapping test needs no reader and no file.
 */

/** A service in Compose's canonical long form, every list and map empty unless given. */
export function composeService(fields: Partial<ComposeService> = {}): ComposeService {
  return {
    image: 'example/app:1.0.0',
    environment: {},
    ports: [],
    expose: [],
    volumes: [],
    tmpfs: [],
    depends_on: {},
    networks: { default: null },
    cap_add: [],
    cap_drop: [],
    devices: [],
    group_add: [],
    extra_hosts: {},
    labels: {},
    configs: [],
    secrets: [],
    other: {},
    ...fields,
  };
}

/** A stack of these services (each built with composeService), in the folder `/srv/stacks/<name>`. */
export function composeSource(services: Record<string, Partial<ComposeService>>, fields: Partial<ComposeSource> = {}): ComposeSource {
  const name = fields.name ?? 'stack';
  return {
    name,
    directory: `/srv/stacks/${name}`,
    files: ['compose.yaml'],
    services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, composeService(v)])),
    volumes: {},
    networks: { default: {} },
    configs: {},
    secrets: {},
    variables: {},
    ignored: [],
    ...fields,
  };
}

/** `environment:` values written in the Compose file as literals (null: declared without a value and unset). */
export function literalEnv(values: Record<string, string | null>): Record<string, ComposeEnvValue> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v, variables: [], from: { environment: true as const } }]));
}

/** An environment value written as `${variable}` (or another template of it), interpolated to `value`. */
export function fromVariable(variable: string, value: string, template = `\${${variable}}`): ComposeEnvValue {
  return { value, template, variables: [variable], from: { environment: true } };
}

/** A bind mount of `written` (as the file writes it), resolved against the stack's folder as Compose does. */
export function bindMount(written: string, target: string, fields: Partial<ComposeMount> = {}, directory = '/srv/stacks/stack'): ComposeMount {
  const source = written.startsWith('/') ? written : `${directory}/${written.replace(/^\.\//, '')}`;
  return { type: 'bind', source, written_source: written, target, ...fields };
}

/** A named volume mounted at `target`. */
export function volumeMount(source: string, target: string, fields: Partial<ComposeMount> = {}): ComposeMount {
  return { type: 'volume', source, target, ...fields };
}

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);

/**
 * Checks an imported spec as `nx g` does: written by the serializer, read back through the app
 * schema, and normalized against a test workspace (config files beside the spec read from
 * `files`).
 */
export function checkImportedSpec(spec: FullAppSpec, files: Record<string, string> = {}): NormalizedApp {
  const reread = parseAppSpec(stringifyAppSpec(spec), appPaths(spec.name).spec);
  const dir = appPaths(spec.name).specFiles;
  return normalizeApp(reread, workspace, new Map(), (file) => files[file.startsWith(`${dir}/`) ? file.slice(dir.length + 1) : file] ?? null);
}
