/**
 * `readComposeSource`: a Compose stack resolved the way `docker compose config` resolves it
 * (include, extends, interpolation, env_file, long syntax), in pure TypeScript, with where each
 * environment value came from. No Docker is needed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDotenv, DotenvSyntaxError } from '../../dotenv';
import { InputError } from '../../errors';
import type { ComposeEnvValue, ComposeFileObject, ComposeNetwork, ComposeService, ComposeSource, ComposeVariable, ComposeVolume } from '../model';
import { substitute, TemplateError, type VariableUse } from './interpolate';
import { goString, keyValues, loadService, mergeService, type EnvDecl, type LoadedService, type ServiceContext } from './service';
import { checkSize, parseComposeYaml, type YamlValue } from './yaml';

export interface ReadComposeOptions {
  /** `--env-file` files (relative to the current folder): they replace the `.env` beside the Compose file. */
  envFiles?: string[];
  /** The process environment Compose would see (default: `process.env`); it wins over `.env`. */
  environment?: Record<string, string | undefined>;
}

/** A variable's value in a project's environment, and where it came from. */
type Env = Map<string, { value: string; source: 'env-file' | 'environment' }>;

const TOP_LEVEL = new Set(['version', 'name', 'include', 'services', 'volumes', 'networks', 'configs', 'secrets']);

/** What a project (the main file, or an included one) declares. */
interface Project {
  services: Map<string, LoadedService>;
  /** Services of included projects, already resolved in their own environment. */
  imported: Map<string, ComposeService>;
  volumes: Record<string, ComposeVolume>;
  networks: Record<string, ComposeNetwork>;
  configs: Record<string, ComposeFileObject>;
  secrets: Record<string, ComposeFileObject>;
  name?: string;
}

/** The services of a resolved project, environment merged. */
interface Resolved extends Omit<Project, 'services' | 'imported'> {
  services: Map<string, ComposeService>;
}

/**
 * Reads a Compose file and everything it references into a {@link ComposeSource}.
 * Refuses, in one line naming the file and the fix: unreadable or oversized files, hostile YAML,
 * a top level that is not a map, a file without `services:`, include and extends cycles, a
 * `${VAR:?}` whose variable is unset. No variable's value appears in an error.
 *
 * @example
 * const source = readComposeSource('stacks/photos/compose.yaml', { environment: { TZ: 'UTC' } });
 * source.services.server.environment.DB_PASSWORD // { value: '…', template: '${DB_PASSWORD}', variables: ['DB_PASSWORD'], from: { environment: true } }
 */
export function readComposeSource(file: string, options: ReadComposeOptions = {}): ComposeSource {
  return new Reader(path.resolve(file), options).read();
}

class Reader {
  private readonly directory: string;
  private readonly home: string;
  private readonly process: Record<string, string>;
  private readonly files: string[] = [];
  private readonly variables: Record<string, ComposeVariable> = {};
  private readonly ignored: ComposeSource['ignored'] = [];
  /** Files read for `extends: file:`, by absolute path: their services before extends is applied. */
  private readonly extendedFiles = new Map<string, { services: Map<string, LoadedService>; shown: string }>();

  constructor(
    private readonly main: string,
    private readonly options: ReadComposeOptions,
  ) {
    this.directory = path.dirname(main);
    this.process = {};
    for (const [k, v] of Object.entries(options.environment ?? process.env)) if (v !== undefined) this.process[k] = v;
    this.home = this.process.HOME ?? os.homedir();
  }

  read(): ComposeSource {
    this.noteFile(this.main);
    const env: Env = new Map();
    const envFiles = this.options.envFiles?.map((f) => path.resolve(f)) ?? this.defaultEnvFiles(this.directory);
    for (const f of envFiles) {
      if (!isFile(f)) throw new InputError(`env file ${this.show(f)} does not exist; give an existing --env-file`);
    }
    this.readProjectEnv(envFiles, env);
    for (const [k, v] of Object.entries(this.process)) env.set(k, { value: v, source: 'environment' });
    const project = this.readProject(this.main, this.directory, env, [], true);
    if (project.services.size === 0) throw new InputError(`${this.show(this.main)} declares no services; give the stack's Compose file`);
    const services: Record<string, ComposeService> = {};
    for (const name of [...project.services.keys()].sort()) services[name] = project.services.get(name) as ComposeService;
    return {
      name: projectName(env.get('COMPOSE_PROJECT_NAME')?.value || project.name || path.basename(this.directory)),
      directory: this.directory,
      files: this.files.map((f) => path.relative(this.directory, f)),
      services,
      volumes: project.volumes,
      networks: project.networks,
      configs: project.configs,
      secrets: project.secrets,
      variables: this.variables,
      ignored: this.ignored,
    };
  }

  private show(file: string): string {
    const rel = path.relative(this.directory, file);
    return rel === '' ? file : rel;
  }

  private noteFile(file: string): void {
    if (!this.files.includes(file)) this.files.push(file);
  }

  private defaultEnvFiles(dir: string): string[] {
    const dotenv = path.join(dir, '.env');
    return isFile(dotenv) ? [dotenv] : [];
  }

  /** Reads `.env` (or `--env-file`s) into `env`: each value interpolated from the process environment, then earlier values. */
  private readProjectEnv(files: string[], env: Env, outer?: Env): void {
    for (const file of files) {
      const known = (name: string) => outer?.get(name)?.value ?? this.process[name] ?? env.get(name)?.value;
      for (const { entry } of this.readEnvText(file, known)) {
        if (entry.value !== undefined && !outer?.has(entry.key)) env.set(entry.key, { value: entry.value, source: 'env-file' });
      }
    }
  }

  /**
   * Reads one dotenv file strictly, with the variables each value used; errors name the file and
   * line, never a value.
   */
  private readEnvText(file: string, lookup: (name: string) => string | undefined, onUse: (use: VariableUse) => void = () => undefined) {
    this.noteFile(file);
    const shown = this.show(file);
    checkSize(shown, fs.statSync(file).size);
    const text = fs.readFileSync(file, 'utf8');
    // readDotenv calls expand once for each interpolated value, in order.
    const usesPerValue: string[][] = [];
    try {
      const entries = readDotenv(text, {
        strict: true,
        lookup,
        expand: (written, earlier) => {
          const variables: string[] = [];
          usesPerValue.push(variables);
          return substitute(written, (name) => lookup(name) ?? earlier.get(name), (use) => {
            onUse(use);
            if (!variables.includes(use.name)) variables.push(use.name);
          });
        },
      });
      return entries.map((entry) => ({ entry, variables: entry.interpolated && entry.written !== undefined ? (usesPerValue.shift() ?? []) : [] }));
    } catch (error) {
      if (error instanceof DotenvSyntaxError) throw new InputError(`${shown}: ${error.message}`);
      if (error instanceof TemplateError) throw templateError(shown, 'a value', error);
      throw error;
    }
  }

  /** Reads a project: its file(s), what they include, extends applied, environments merged. */
  private readProject(file: string, dir: string, env: Env, chain: string[], main: boolean, more: string[] = []): Resolved {
    let project = this.readFile(file, dir, env, chain, main);
    for (const extra of more) project = mergeProjects(project, this.readFile(extra, dir, env, chain, false), this.show(extra));
    const services = new Map<string, ComposeService>(project.imported);
    for (const [name, loaded] of project.services) services.set(name, this.resolveEnvironment(loaded, env));
    const { imported, ...rest } = project;
    void imported;
    return { ...rest, services };
  }

  /** Reads one file of a project: interpolated, includes imported, services in long form with extends applied. */
  private readFile(file: string, dir: string, env: Env, chain: string[], main: boolean): Project {
    const shown = this.show(file);
    const docs = this.parse(file);
    let project: Project | undefined;
    for (const doc of docs) {
      if (doc === null) continue;
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new InputError(`${shown}: the top level is not a map, so this is not a Compose file; give the stack's compose.yaml`);
      const hasServices = doc.services !== undefined && doc.services !== null;
      if (hasServices && (typeof doc.services !== 'object' || Array.isArray(doc.services))) throw new InputError(`${shown}: services is not a map, so this is not a Compose file; write services: as a map of service names`);
      if (!hasServices && (!main || doc.include === undefined)) throw new InputError(`${shown}: has no services: map, so this is not a Compose file; give the stack's compose.yaml`);
      const next = this.readDocument(doc, file, dir, env, chain);
      project = project ? mergeProjects(project, next, shown) : next;
    }
    if (!project) throw new InputError(`${shown}: is empty, so this is not a Compose file; give the stack's compose.yaml`);
    return project;
  }

  private parse(file: string): YamlValue[] {
    const shown = this.show(file);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch (error) {
      throw new InputError(`${shown}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of an existing Compose file`);
    }
    checkSize(shown, size);
    this.noteFile(file);
    return parseComposeYaml(fs.readFileSync(file, 'utf8'), shown);
  }

  private readDocument(doc: Record<string, YamlValue>, file: string, dir: string, env: Env, chain: string[]): Project {
    const shown = this.show(file);
    const lookup = (name: string) => env.get(name)?.value;
    const record = (use: VariableUse) => this.record(use, env);
    const raw = interpolateTree(doc, [], shown, lookup, record) as Record<string, unknown>;
    for (const key of Object.keys(raw)) {
      if (key === 'version') this.ignored.push({ path: 'version', reason: `obsolete: Compose ignores it (in ${shown})` });
      else if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) this.ignored.push({ path: key, reason: `not a Compose top-level key (in ${shown})` });
    }
    const ctx: ServiceContext = { file: shown, dir, home: this.home };
    const loaded = new Map<string, LoadedService>();
    for (const [name, value] of Object.entries((raw.services ?? {}) as Record<string, unknown>)) loaded.set(name, loadService(name, value, ctx));
    const project: Project = {
      services: this.applyExtends(file, loaded, dir, env),
      imported: new Map(),
      volumes: topLevel(raw.volumes, 'volumes', ctx) as Record<string, ComposeVolume>,
      networks: topLevel(raw.networks, 'networks', ctx) as Record<string, ComposeNetwork>,
      configs: topLevel(raw.configs, 'configs', ctx) as Record<string, ComposeFileObject>,
      secrets: topLevel(raw.secrets, 'secrets', ctx) as Record<string, ComposeFileObject>,
    };
    if (typeof raw.name === 'string') project.name = raw.name;
    for (const included of this.includes(raw.include, file, dir, env, [...chain, file])) importProject(project, included, shown);
    return project;
  }

  /** `include:` entries (short and long form): each a project of its own, with its own `.env` under the includer's environment. */
  private includes(value: unknown, file: string, dir: string, env: Env, chain: string[]): Resolved[] {
    if (value === undefined || value === null) return [];
    const shown = this.show(file);
    if (!Array.isArray(value)) throw new InputError(`${shown}: include is not a list; write include: as a list of files`);
    return value.map((entry, i) => {
      const spec = typeof entry === 'string' ? { path: entry } : (entry as Record<string, unknown>);
      const paths = (Array.isArray(spec?.path) ? spec.path : [spec?.path]).map((p) => (typeof p === 'string' ? path.resolve(dir, p) : undefined));
      if (paths.length === 0 || paths.some((p) => p === undefined)) throw new InputError(`${shown}: include[${i}] names no file; write path: <file>`);
      const [first, ...rest] = paths as string[];
      if (chain.includes(first)) {
        throw new InputError(`${shown}: include cycle ${[...chain, first].map((f) => this.show(f)).join(' -> ')}; remove one of these includes`);
      }
      const projectDir = typeof spec.project_directory === 'string' ? path.resolve(dir, spec.project_directory) : path.dirname(first);
      const envFiles = spec.env_file === undefined || spec.env_file === null ? this.defaultEnvFiles(projectDir) : (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f) => path.resolve(dir, goString(f)));
      for (const f of envFiles) if (!isFile(f)) throw new InputError(`${shown}: include[${i}] env_file ${this.show(f)} does not exist; create it or remove it`);
      const includeEnv: Env = new Map();
      this.readProjectEnv(envFiles, includeEnv, env);
      for (const [k, v] of env) includeEnv.set(k, v);
      return this.readProject(first, projectDir, includeEnv, chain, false, rest);
    });
  }

  /** Applies `extends` to the services of one file (same-file bases, and bases in other files). */
  private applyExtends(file: string, services: Map<string, LoadedService>, dir: string, env: Env): Map<string, LoadedService> {
    const out = new Map<string, LoadedService>();
    for (const name of services.keys()) out.set(name, this.extended(file, services, name, dir, env, []));
    return out;
  }

  private extended(file: string, services: Map<string, LoadedService>, name: string, dir: string, env: Env, chain: string[]): LoadedService {
    const service = services.get(name) as LoadedService;
    if (!service.extends) return service;
    const shown = this.show(file);
    const key = `${file}#${name}`;
    if (chain.includes(key)) {
      const names = [...chain, key].map((k) => k.split('#').pop()).join(' -> ');
      throw new InputError(`${shown}: extends cycle ${names}; make one of these services stop extending the next`);
    }
    const ref = service.extends.service;
    let base: LoadedService;
    if (service.extends.file !== undefined) {
      const other = path.resolve(dir, service.extends.file);
      const loaded = this.extendedFile(other, env);
      if (!loaded.services.has(ref)) throw new InputError(`${shown}: services.${name}.extends names service ${ref}, which ${loaded.shown} does not declare; name one of its services`);
      base = this.extended(other, loaded.services, ref, path.dirname(other), env, [...chain, key]);
    } else {
      if (!services.has(ref)) throw new InputError(`${shown}: services.${name}.extends names service ${ref}, which this file does not declare; name one of its services or add file:`);
      base = this.extended(file, services, ref, dir, env, [...chain, key]);
    }
    const merged = mergeService(base, service);
    delete merged.extends;
    return merged;
  }

  /** A file read for `extends: file:`: interpolated with the extending project's environment, its paths relative to its own folder. */
  private extendedFile(file: string, env: Env): { services: Map<string, LoadedService>; shown: string } {
    const cached = this.extendedFiles.get(file);
    if (cached) return cached;
    const shown = this.show(file);
    const services = new Map<string, LoadedService>();
    for (const doc of this.parse(file)) {
      if (doc === null) continue;
      if (typeof doc !== 'object' || Array.isArray(doc) || !doc.services || typeof doc.services !== 'object' || Array.isArray(doc.services)) {
        throw new InputError(`${shown}: has no services: map, so this is not a Compose file to extend; name a Compose file`);
      }
      const raw = interpolateTree(doc, [], shown, (name) => env.get(name)?.value, (use) => this.record(use, env)) as Record<string, unknown>;
      const ctx: ServiceContext = { file: shown, dir: path.dirname(file), home: this.home };
      for (const [name, value] of Object.entries(raw.services as Record<string, unknown>)) {
        const loaded = loadService(name, value, ctx);
        services.set(name, services.has(name) ? mergeService(services.get(name) as LoadedService, loaded) : loaded);
      }
    }
    const result = { services, shown };
    this.extendedFiles.set(file, result);
    return result;
  }

  /** env_files (in order, later wins) under `environment:`; a key declared without a value takes the project's variable. */
  private resolveEnvironment(loaded: LoadedService, env: Env): ComposeService {
    const service: ComposeService = { ...loaded.service, environment: {} };
    const lookup = (name: string) => env.get(name)?.value;
    for (const ref of loaded.envFiles) {
      if (!isFile(ref.path)) {
        if (!ref.required) continue;
        throw new InputError(`${ref.declared} names ${this.show(ref.path)}, which does not exist; create it, or write it as { path: …, required: false }`);
      }
      const from = { envFile: this.show(ref.path) };
      for (const { entry, variables } of this.readEnvText(ref.path, lookup, (use) => this.record(use, env))) {
        if (entry.value === undefined) continue;
        const value: ComposeEnvValue = { value: entry.value, variables, from };
        if (variables.length > 0) value.template = entry.written;
        service.environment[entry.key] = value;
      }
    }
    for (const [key, decl] of loaded.env) {
      const value: ComposeEnvValue = { value: decl.value ?? lookup(key) ?? null, variables: decl.variables, from: { environment: true } };
      if (decl.template !== undefined) value.template = decl.template;
      service.environment[key] = value;
    }
    if (Object.keys(service.networks).length === 0 && service.network_mode === undefined) service.networks = { default: null };
    return service;
  }

  /** Records a variable the files used: its value and where it came from (the first use decides, except that a default beats unset). */
  private record(use: VariableUse, env: Env): void {
    const known = env.get(use.name);
    const entry: ComposeVariable = use.fallback !== undefined ? { value: use.fallback, source: 'default' } : known ? { value: known.value, source: known.source } : { source: 'unset' };
    const previous = this.variables[use.name];
    if (!previous || (previous.source === 'unset' && entry.source !== 'unset')) this.variables[use.name] = entry;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Compose's project name: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
function projectName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

function templateError(file: string, where: string, error: TemplateError): InputError {
  if (error.kind === 'required') {
    return new InputError(`${file}: required variable ${error.variable} is missing a value${error.reason ? ` (${error.reason})` : ''} in ${where}; set ${error.variable} in .env or the environment`);
  }
  return new InputError(`${file}: ${where} has an invalid interpolation; close each \${ and write $$ for a literal $`);
}

/**
 * Interpolates every string of a file's tree (keys stay as written; `x-` extensions are dropped
 * first). A service's `environment:` becomes a map of EnvDecl that keeps each value's template.
 */
function interpolateTree(value: unknown, at: string[], file: string, lookup: (name: string) => string | undefined, record: (use: VariableUse) => void): unknown {
  const where = () => at.join('.') || 'the top level';
  const sub = (text: string, variables?: string[]) => {
    try {
      return substitute(text, lookup, (use) => {
        record(use);
        if (variables && !variables.includes(use.name)) variables.push(use.name);
      });
    } catch (error) {
      if (error instanceof TemplateError) throw templateError(file, where(), error);
      throw error;
    }
  };
  if (typeof value === 'string') return sub(value);
  if (at.length === 3 && at[0] === 'services' && at[2] === 'environment' && value !== null && typeof value === 'object') {
    return environment(value as Record<string, unknown> | unknown[], sub);
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, [...at.slice(0, -1), `${at[at.length - 1] ?? ''}[${i}]`], file, lookup, record));
  if (value === null || typeof value !== 'object') return value;
  // Extensions sit at the top level, in a service and in a top-level resource.
  const extensible = at.length === 0 || (at.length === 2 && ['services', 'volumes', 'networks', 'configs', 'secrets'].includes(at[0]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (extensible && k.startsWith('x-')) continue;
    out[k] = interpolateTree(v, [...at, k], file, lookup, record);
  }
  return out;
}

/** `environment:` as a list (`KEY=value`, `KEY`) or a map, each value interpolated with its template kept. */
function environment(value: Record<string, unknown> | unknown[], sub: (text: string, variables?: string[]) => string): Map<string, EnvDecl> {
  const out = new Map<string, EnvDecl>();
  const decl = (raw: unknown): EnvDecl => {
    if (raw === null || raw === undefined) return { value: null, variables: [] };
    if (typeof raw !== 'string') return { value: goString(raw), variables: [] };
    const variables: string[] = [];
    const interpolated = sub(raw, variables);
    return variables.length > 0 ? { value: interpolated, template: raw, variables } : { value: interpolated, variables };
  };
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = goString(item);
      const eq = text.indexOf('=');
      if (eq < 0) out.set(sub(text), { value: null, variables: [] });
      else out.set(sub(text.slice(0, eq)), decl(text.slice(eq + 1)));
    }
    return out;
  }
  for (const [k, v] of Object.entries(value)) out.set(k, decl(v));
  return out;
}

/** A top-level `volumes:`/`networks:`/`configs:`/`secrets:` map: each entry a map (null stands for `{}`). */
function topLevel(value: unknown, kind: string, ctx: ServiceContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${ctx.file}: ${kind} is not a map; write ${kind}: as a map of names`);
  for (const [name, spec] of Object.entries(value as Record<string, unknown>)) {
    const s = (spec ?? {}) as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s)) throw new InputError(`${ctx.file}: ${kind}.${name} is not a map; write its settings as a map`);
    const entry: Record<string, unknown> = { ...s };
    if (s.external !== undefined) entry.external = s.external === true || ['true', 'yes', 'on', 'y'].includes(String(s.external).toLowerCase());
    if (s.labels !== undefined) entry.labels = keyValues(s.labels, `${kind}.${name}.labels`, ctx);
    if (s.driver_opts !== undefined) entry.driver_opts = keyValues(s.driver_opts, `${kind}.${name}.driver_opts`, ctx);
    if ((kind === 'configs' || kind === 'secrets') && typeof s.file === 'string') entry.file = path.resolve(ctx.dir, s.file);
    out[name] = entry;
  }
  return out;
}

/** Adds an included project's resources; a name both declare is refused, as Compose refuses it. */
function importProject(target: Project, included: Resolved, file: string): void {
  for (const [name, service] of included.services) {
    if (target.services.has(name) || target.imported.has(name)) throw new InputError(`${file}: service ${name} is declared both here and in an included file; rename one of them`);
    target.imported.set(name, service);
  }
  for (const kind of ['volumes', 'networks', 'configs', 'secrets'] as const) {
    for (const [name, spec] of Object.entries(included[kind])) {
      if (name in target[kind] && JSON.stringify(target[kind][name]) !== JSON.stringify(spec)) {
        throw new InputError(`${file}: ${kind}.${name} is declared differently here and in an included file; keep one declaration`);
      }
      (target[kind] as Record<string, unknown>)[name] = spec;
    }
  }
}

/** Merges a later document or override file over a project (services by the merge rules, resources by name). */
function mergeProjects(base: Project, over: Project, file: string): Project {
  const services = new Map(base.services);
  for (const [name, s] of over.services) services.set(name, services.has(name) ? mergeService(services.get(name) as LoadedService, s) : s);
  const imported = new Map(base.imported);
  for (const [name, s] of over.imported) {
    if (imported.has(name) || services.has(name)) throw new InputError(`${file}: service ${name} is declared by two included files; rename one of them`);
    imported.set(name, s);
  }
  return {
    services,
    imported,
    volumes: { ...base.volumes, ...over.volumes },
    networks: { ...base.networks, ...over.networks },
    configs: { ...base.configs, ...over.configs },
    secrets: { ...base.secrets, ...over.secrets },
    name: over.name ?? base.name,
  };
}
