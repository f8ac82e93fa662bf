import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { checkAppName } from '../app/options';
import { assertNameFree, readWorkspace, renderAppWithSpec } from '../app/plan';
import { ADOPTED_KEY } from '../deploy/compose-plan';
import { addLocalSecrets, LOCAL_SECRETS_DIR } from '../deploy/secrets';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { type ApplyResult, applyRendered } from '../project/owned';
import { applyApp } from '../component/sync';
import { appPaths, environmentPaths } from '../project/paths';
import type { RenderedFile } from '../render/engine';
import { stagedHost } from '../staged';
import { dockerLines } from '../tool-env';
import type { WorkspaceConfig } from '../spec/types';
import { readComposeSource } from './compose/read';
import { mapComposeSource, type PathKind } from './map';
import type { ComposeSource } from './model';

/** The options of `nx g homelab:import` and `plop import` (generators/import/schema.json). */
export interface ImportOptions {
  /** The app's name. */
  name: string;
  /** The Compose file to import (relative to the current folder, or absolute). */
  file: string;
  /** Env files to interpolate with instead of the `.env` beside the Compose file, comma-separated. */
  envFile?: string | string[];
  /** Refuse the import when anything is not carried over. */
  strict?: boolean;
  /** The environment that takes over the stack's volumes when it has some on this Docker host; `none` to start on new ones. Default: the first environment. */
  adopt?: string;
}

/** What the Docker engine holds of the source stack; null when no engine answers here. */
export interface EngineView {
  /** The names of the volumes that exist. */
  volumes(): string[] | null;
}

export interface ImportContext {
  /** The folder relative paths are read from (where the command runs). */
  cwd: string;
  /** The variables Compose would interpolate with besides the env files (the process environment). */
  environment: Record<string, string | undefined>;
  /** The Docker engine, to find a running stack's volumes; null: none is looked for. */
  engine: EngineView | null;
}

/** The import, planned: every file and every line, nothing written yet. */
export interface ImportPlan {
  files: RenderedFile[];
  secretValues: Map<string, string>;
  lines: string[];
}

/**
 * Reads the stack, maps it to a spec, renders every file in memory (the spec, the files beside it,
 * both trees, the override that takes over a running stack's volumes) and returns them with the
 * report. Nothing is written, and every refusal is one line (docs/import.md).
 */
export function planImport(host: FileHost, options: ImportOptions, ctx: ImportContext): ImportPlan {
  const name = checkAppName(options.name);
  const workspace = readWorkspace(host);
  assertNameFree(host, name, false);
  const adoptIn = adoptEnvironment(options.adopt, workspace);
  if (typeof options.file !== 'string' || options.file.trim() === '') {
    throw new InputError('--file is missing; name the Compose file to import, e.g. --file ~/stacks/photos/compose.yaml');
  }
  const file = path.resolve(ctx.cwd, options.file);
  if (!fs.existsSync(file)) throw new InputError(`--file ${show(options.file)} does not exist; name the stack's Compose file (compose.yaml)`);
  const envFiles = listOption(options.envFile).map((f) => path.resolve(ctx.cwd, f));
  for (const f of envFiles) if (!fs.existsSync(f)) throw new InputError(`--env-file ${show(path.relative(ctx.cwd, f))} does not exist; name the stack's .env, or leave the option out to use the .env beside the Compose file`);

  const source = readComposeSource(file, { envFiles: envFiles.length > 0 ? envFiles : undefined, environment: ctx.environment });
  const mapped = mapComposeSource(source, { app: name, strict: Boolean(options.strict), statPath });

  const staged = stagedHost(host);
  const paths = appPaths(name);
  for (const copy of mapped.files) {
    const from = path.resolve(source.directory, copy.source);
    let content: string;
    try {
      content = fs.readFileSync(from, 'utf8');
    } catch {
      throw new InputError(`configs: ${show(copy.source)} cannot be read; put the file where the stack names it and import again`);
    }
    staged.write(`${paths.specFiles}/${copy.file}`, content);
  }
  const rendered = renderAppWithSpec(staged, mapped.spec, workspace);
  const besideSpec: RenderedFile[] = mapped.files.map((copy) => ({ path: `${paths.specFiles}/${copy.file}`, content: staged.read(`${paths.specFiles}/${copy.file}`) ?? '', owner: 'user' }));

  const lines = [...mapped.lines];
  const adoption = adoptIn === null ? null : adoptVolumes(source, mapped.volumeSources, ctx.engine);
  if (adoption === null) {
    if (adoptIn === null && Object.keys(mapped.volumeSources).length > 0) lines.push(`note: --adopt none: the app starts on new volumes; the stack's own volumes are left as they are`);
  } else if (adoption.volumes.length === 0) {
    lines.push(`note: ${adoption.why}`);
  } else {
    const override = `${environmentPaths('applications', name, adoptIn!).composeEnv}/compose.override.yaml`;
    const at = rendered.findIndex((f) => f.path === override);
    if (at === -1) throw new Error(`internal error: ${override} was not rendered`);
    rendered[at] = { ...rendered[at], content: withAdoption(rendered[at].content, source.name, adoption.volumes) };
    lines.push(
      `adopts the stack's volumes in ${adoptIn}: ${adoption.volumes.map((v) => `${v.volume} is ${v.existing}`).join(', ')} (in ${override}); stop the stack (docker compose -p ${source.name} stop) before the first deploy, which refuses while it runs`,
    );
  }
  const secretValues = new Map(Object.entries(mapped.secretValues));
  if (secretValues.size > 0) lines.push(`${secretValues.size} secret value(s) of the stack go to ${LOCAL_SECRETS_DIR}/${name}.env (mode 0600, git-ignored), which deploy reads for keys the environment does not set`);
  return { files: [...besideSpec, ...rendered], secretValues, lines };
}

/**
 * Plans the import, then writes it: the files on the host (the Nx Tree or the disk), and, when
 * `writeSecrets` runs (after Nx wrote the Tree; never in a dry run), the secret values to the
 * app's local secrets file.
 */
export function generateImport(host: FileHost, options: ImportOptions, ctx: ImportContext): { result: ApplyResult; lines: string[]; writeSecrets: (root: string) => void } {
  const plan = planImport(host, options, ctx);
  // The app's files and the platform's that name it (the applications AppProject), written together.
  const result = applyApp(host, plan.files, options.name);
  return {
    result,
    lines: plan.lines,
    writeSecrets: (root) => {
      if (plan.secretValues.size > 0) addLocalSecrets(root, options.name, plan.secretValues);
    },
  };
}

/** The engine of this machine, through the docker CLI; null when it does not answer. */
export function localEngine(context?: string): EngineView {
  return {
    volumes: () => dockerLines(['volume', 'ls', '--format', '{{.Name}}'], context),
  };
}

function adoptEnvironment(adopt: string | undefined, workspace: WorkspaceConfig): string | null {
  const names = workspace.environments.map((e) => e.name);
  if (adopt === undefined || adopt === '') return names[0] ?? null;
  if (adopt === 'none') return null;
  if (!names.includes(adopt)) throw new InputError(`--adopt ${show(adopt)} is not an environment of homelab.yaml (${names.join(', ')}); name one, or none to start the app on new volumes`);
  return adopt;
}

interface Adoption {
  volumes: { volume: string; existing: string }[];
  why: string;
}

/** The app volumes whose source volume exists on the engine, by the name Compose gave it. */
function adoptVolumes(source: ComposeSource, volumeSources: Record<string, string>, engine: EngineView | null): Adoption {
  if (Object.keys(volumeSources).length === 0) return { volumes: [], why: 'the stack has no named volumes to take over (bind mounts keep their host folders)' };
  const existing = engine?.volumes() ?? null;
  if (existing === null) return { volumes: [], why: `no Docker engine answered here, so no volume of the stack ${source.name} was looked for: if it runs elsewhere, copy its volumes before the first deploy` };
  const volumes = Object.entries(volumeSources)
    .map(([volume, key]) => ({ volume, existing: source.volumes[key]?.name ?? `${source.name}_${key}` }))
    .filter((v) => existing.includes(v.existing));
  return { volumes, why: `no volume of the stack ${source.name} exists on this Docker host: the app starts on new volumes` };
}

/** The scaffolded override of the adopting environment, with the stack taken over (docs/deploy.md, "Taking over a stack that already runs"). */
function withAdoption(override: string, project: string, volumes: Adoption['volumes']): string {
  const doc: YAML.Document = YAML.parseDocument(override);
  if (!YAML.isMap(doc.contents)) throw new Error('internal error: the scaffolded compose.override.yaml is not a map');
  const adopted = doc.createPair(ADOPTED_KEY, { project });
  if (YAML.isScalar(adopted.key)) {
    adopted.key.commentBefore = ` Taken over from the Compose project ${project} that ran on this Docker host (nx g homelab:import):\n its volumes keep their data; deploy refuses while it still runs (docs/deploy.md).`;
  }
  doc.contents.items.push(adopted, doc.createPair('volumes', Object.fromEntries(volumes.map((v) => [v.volume, { name: v.existing }]))));
  return doc.toString({ lineWidth: 0 });
}

function statPath(absolute: string): PathKind | undefined {
  try {
    const stat = fs.statSync(absolute);
    return stat.isSocket() ? 'socket' : stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined;
  } catch {
    return 'missing';
  }
}

function listOption(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}
