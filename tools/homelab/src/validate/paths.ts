import { composeFiles, type Layer } from '../project/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { InputError, show } from '../errors';
import { checkSet } from './consistency';
import { classify, isHomelabContent } from './classify';
import { ALL_CHECKS, type CheckClass, Engine, type Source, walkFiles } from './engine';
import { type Finding, type ServerSummary, sortFindings } from './findings';
import { isObj, type K8sObject, type Obj } from './objects';
import { checkProject, ownerOf, PLATFORM_PROJECT, projectRenderJobs, type ProjectLayer, renderKustomizations } from './project';
import { composeConfig, describePrerender, hasCompose, prerender } from './kustomize-compose';
import { FilePool, threadsFor } from './parallel';
import { ClusterDryRun } from './server';
import { finding } from './source';
import { inValidateRun, inValidateRunAsync } from './run-memo';

export interface ValidatePathsOptions {
  /** Where relative paths start and what labels are relative to. */
  cwd: string;
  /** The homelab workspace (homelab.yaml); found upwards from cwd when undefined, none when null. */
  workspaceRoot?: string | null;
  checks?: ReadonlySet<CheckClass>;
  maxFileBytes?: number;
  /**
   * `--server-dry-run`: the cluster (ClusterDryRun.connect) every project's rendered overlays are
   * also sent to, or why it cannot be reached (one `server/unreachable` finding on homelab.yaml).
   */
  server?: ClusterDryRun | { unreachable: string };
}

export interface ValidateResult {
  findings: Finding[];
  files: number;
  documents: number;
  /** With a reachable cluster (`--server-dry-run`): what was sent to it. */
  server?: ServerSummary;
}

/** The nearest folder at or above `dir` that holds homelab.yaml, or null. */
export function findWorkspaceRoot(dir: string): string | null {
  let current = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(current, 'homelab.yaml'))) return current;
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/**
 * The file that stands for each named project in `homelab validate --projects`: an app's or a
 * component's spec, homelab.yaml for the platform project. validatePaths runs every check of the
 * project a file belongs to, so the answer is what the projects' Nx validate targets report. A name
 * that is no project of the workspace is refused, naming it.
 */
export function projectFiles(root: string, names: readonly string[]): string[] {
  return [...new Set(names)].map((name) => {
    if (name === PLATFORM_PROJECT) return 'homelab.yaml';
    for (const layer of ['applications', 'infrastructure'] as const) {
      const spec = `${layer}/specs/${name}.yaml`;
      if (fs.existsSync(path.join(root, spec))) return spec;
    }
    throw new InputError(`--projects ${show(name)}: no app, component or ${PLATFORM_PROJECT} of that name in this workspace (no applications/specs/${name}.yaml nor infrastructure/specs/${name}.yaml); name projects of \`npx nx show projects --withTarget validate\``);
  });
}

/**
 * `homelab validate [paths…]`: any files or folders — plain manifests, kustomize folders,
 * Compose files, specs. Inside a homelab workspace, files are classified as the Nx target
 * classifies them (classify.ts): a folder walk covers the homelab content (homelab.yaml,
 * applications/, infrastructure/, platform/, schemas/custom), and every project a given file
 * belongs to (an app, a component, or `platform`) runs exactly the Nx target's checks
 * (checkProject). Other files — outside a workspace, named outside the homelab content, or in
 * the app and component trees without a spec — are checked on their own: every file parsed and
 * schema-checked, manifests and Compose files policy-checked, plain manifests of one folder
 * checked as a set, kustomize folders (the top-most ones) built and their output checked,
 * Compose files merged per environment.
 */
export function validatePaths(inputs: string[], options: ValidatePathsOptions): ValidateResult {
  return runPlan(planPaths(inputs, options), options);
}

/**
 * validatePaths with the overlays of every project it checks built first, all in kustomize-batch
 * (or aggregate kustomize processes), and the Compose merges that need `docker compose config` run
 * beside them, as the batch executor does (kustomize-compose.ts prerender): each project's check
 * then takes its renders from there instead of starting one kustomize process per overlay. The
 * same findings as validatePaths (tests/validate/cli-prerender.test.ts); `homelab validate` runs this.
 */
export async function validatePathsPrerendered(inputs: string[], options: ValidatePathsOptions): Promise<ValidateResult> {
  return inValidateRunAsync(async () => {
    const plan = planPaths(inputs, options);
    const renders = options.checks?.has('render') ?? true;
    if (renders && plan.workspaceRoot && plan.projects.size > 0) {
      const root = plan.workspaceRoot;
      const jobs = [...plan.projects.values()].flatMap(({ layer, name }) => projectRenderJobs(root, layer, name));
      // A render that fails here is made again by its project's check, which reports it.
      const stats = jobs.length > 0 ? await prerender(jobs).catch(() => null) : null;
      // As the batch executor says it with HOMELAB_DEBUG (docs/validate.md): how the overlays were built.
      if (stats && process.env.HOMELAB_DEBUG) process.stderr.write(`${describePrerender(stats)}\n`);
    }
    return runPlan(plan, options);
  });
}

/** What validatePaths checks: the workspace, its projects among the paths, and the files no project owns. */
interface PathsPlan {
  workspaceRoot: string | null;
  projects: Map<string, { layer: ProjectLayer; name: string }>;
  loose: string[];
  label: (abs: string) => string;
  wsRel: (abs: string) => string;
}

function planPaths(inputs: string[], options: ValidatePathsOptions): PathsPlan {
  const cwd = options.cwd;
  const workspaceRoot = options.workspaceRoot === undefined ? findWorkspaceRoot(cwd) : options.workspaceRoot;
  const wsRel = (abs: string) => (workspaceRoot ? path.relative(workspaceRoot, abs).split(path.sep).join('/') : '..');
  const inContent = (abs: string) => {
    const rel = wsRel(abs);
    return !rel.startsWith('..') && isHomelabContent(rel);
  };
  const files: string[] = [];
  const given = inputs.length ? inputs : ['.'];
  for (const input of given) {
    const abs = path.resolve(cwd, input);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      throw new InputError(`${input}: no such file or folder; pass files or folders to validate`);
    }
    if (!stat.isDirectory()) files.push(abs);
    else {
      // A walk from the workspace root (or schemas/) covers the homelab content, not the tool's files.
      const rel = wsRel(abs);
      const holdsContent = !rel.startsWith('..') && (rel === '' || 'schemas/custom/'.startsWith(`${rel}/`));
      files.push(...walkFiles(abs).filter((f) => !holdsContent || inContent(f)));
    }
  }
  const unique = [...new Set(files)];
  const label = (abs: string) => {
    const rel = path.relative(cwd, abs).split(path.sep).join('/');
    return rel.startsWith('..') ? abs.split(path.sep).join('/') : rel;
  };

  const projects = new Map<string, { layer: ProjectLayer; name: string }>();
  const loose: string[] = [];
  for (const abs of unique) {
    const owner = workspaceRoot && inContent(abs) ? ownerOf(workspaceRoot, wsRel(abs)) : null;
    if (owner === PLATFORM_PROJECT) projects.set(PLATFORM_PROJECT, { layer: 'platform', name: PLATFORM_PROJECT });
    else if (owner) projects.set(`${owner.layer}/${owner.name}`, owner);
    else loose.push(abs);
  }
  return { workspaceRoot, projects, loose, label, wsRel };
}

/** Checks a plan: every project as the Nx target checks it, then the loose files by their kind. */
function runPlan(plan: PathsPlan, options: ValidatePathsOptions): ValidateResult {
  const { workspaceRoot, projects, loose, label, wsRel } = plan;
  const server = options.server instanceof ClusterDryRun ? options.server : undefined;
  const checks: ReadonlySet<CheckClass> | undefined = options.server ? new Set([...(options.checks ?? ALL_CHECKS), 'server']) : options.checks;
  // One run: what every project reads of the whole workspace is read once (run-memo.ts).
  const results: ValidateResult[] = inValidateRun(() =>
    [...projects.values()].map(({ layer, name }) => {
      const result = checkProject(workspaceRoot!, layer, name, { checks, maxFileBytes: options.maxFileBytes, server });
      // Project findings are workspace-relative; the command's are relative to where it runs.
      return { ...result, findings: result.findings.map((f) => ({ ...f, file: label(path.join(workspaceRoot!, f.file)) })) };
    }),
  );
  if (loose.length) results.push(validateFiles(loose, { ...options, workspaceRoot }, label, wsRel));
  if (options.server && !server && workspaceRoot) {
    const unreachable = (options.server as { unreachable: string }).unreachable;
    results.push({ files: 0, documents: 0, findings: [finding(label(path.join(workspaceRoot, 'homelab.yaml')), 'server/unreachable', unreachable)] });
  }
  // A finding two projects share (a broken custom schema both use) is printed once: sortFindings drops repeats.
  const findings = results.flatMap((r) => r.findings);
  const counts = { files: results.reduce((n, r) => n + r.files, 0), documents: results.reduce((n, r) => n + r.documents, 0) };
  return { findings: sortFindings(findings), ...counts, ...(server ? { server: server.sent } : {}) };
}

/** Files no project owns, each checked by its kind; folders of plain manifests as sets, kustomizations built, Compose merged. */
function validateFiles(unique: string[], options: ValidatePathsOptions & { workspaceRoot: string | null }, label: (abs: string) => string, wsRel: (abs: string) => string): ValidateResult {
  const { cwd, workspaceRoot } = options;
  // Rendered output is mapped back to source objects: keep them all only when something will render.
  const renders = (options.checks?.has('render') ?? true) && unique.some((f) => /^kustomization\.ya?ml$/i.test(path.basename(f)));
  const engine = new Engine({ workspaceRoot, checks: options.checks, maxFileBytes: options.maxFileBytes, retainDocs: renders });

  // Plain manifests (not kustomizations, not when something renders from them) may be checked on several threads (parallel.ts).
  const kinds = unique.map((abs) => {
    const rel = wsRel(abs);
    return classify(rel.startsWith('..') ? path.basename(abs) : rel, workspaceRoot !== null && !rel.startsWith('..'));
  });
  const shareable = renders ? [] : unique.flatMap((abs, i) => (kinds[i] === 'kubernetes' && !/^kustomization\.ya?ml$/i.test(path.basename(abs)) ? [i] : []));
  const threads = shareable.length > 1 ? threadsFor(() => shareable.reduce((n, i) => n + sizeOf(unique[i]), 0)) : 1;
  const pool = threads > 1 ? new FilePool(shareable.map((i) => ({ abs: unique[i], label: label(unique[i]) })), { workspaceRoot, checks: engine.checks, maxFileBytes: options.maxFileBytes }, threads - 1) : null;

  const objectsOf: K8sObject[][] = unique.map(() => []);
  const composeFiles: Source[] = [];
  const check = (i: number) => {
    const abs = unique[i];
    // Asked only of Compose files: finding out whether Compose is installed starts a `docker` process.
    const composePolicy = kinds[i] === 'compose' && !(engine.has('render') && hasCompose()) && !/override|generated/.test(path.basename(abs));
    const { objects, compose } = engine.checkFile(abs, label(abs), kinds[i], { composePolicy });
    if (compose) composeFiles.push(compose);
    objectsOf[i] = objects;
  };
  const pooled = new Set(pool ? shareable : []);
  for (let i = 0; i < unique.length; i++) if (!pooled.has(i)) check(i);
  if (pool) {
    for (let c = pool.claim(); c !== -1; c = pool.claim()) check(shareable[c]);
    // Each file's findings come from the one thread that checked it, in that thread's order: the sorted output is one thread's.
    const { shares, objects } = pool.gather();
    for (const share of shares) {
      engine.findings.push(...share.findings);
      engine.files += share.files;
      engine.documents += share.documents;
    }
    for (const { file, target } of objects) objectsOf[shareable[file]].push(target);
  }

  const byDir = new Map<string, K8sObject[]>();
  const kustomizations: string[] = [];
  const allObjects: K8sObject[] = [];
  unique.forEach((abs, i) => {
    if (kinds[i] !== 'kubernetes') return;
    const objects = objectsOf[i];
    for (const t of objects) allObjects.push(t);
    const dir = path.dirname(abs);
    if (/^kustomization\.ya?ml$/i.test(path.basename(abs))) {
      if (objects.some((t) => t.obj.kind === 'Kustomization')) kustomizations.push(dir);
    } else {
      const set = byDir.get(dir);
      if (set) for (const t of objects) set.push(t);
      else byDir.set(dir, [...objects]);
    }
  });

  // Plain manifests of one folder are one set (folders under a kustomization are checked rendered).
  if (engine.has('consistency')) {
    for (const [dir, objects] of byDir) {
      if (fs.existsSync(path.join(dir, 'kustomization.yaml')) || fs.existsSync(path.join(dir, 'kustomization.yml'))) continue;
      for (const issue of checkSet(objects, { stores: engine.stores(), secretProducers: false, networkPolicy: false })) {
        if (pool?.isRemote(issue.target)) pool.defer(issue);
        else engine.resolve(issue);
      }
    }
  }
  if (pool) engine.findings.push(...pool.finish());

  if (engine.has('render')) {
    renderKustomizations(engine, kustomizations, allObjects, cwd, label, workspaceRoot !== null);
    renderCompose(engine, composeFiles, workspaceRoot, label);
  }
  // Which way findings got their lines (bench:validate prints it): a re-parse is the slow fallback.
  if (process.env.HOMELAB_DEBUG?.split(',').includes('positions')) {
    const workers = pool?.positions() ?? { fromParse: 0, reparsed: 0 };
    process.stderr.write(`homelab: positions: ${engine.locator.fromParse + workers.fromParse} finding position(s) from the first parse, ${engine.locator.reparsed + workers.reparsed} by a re-parse\n`);
  }
  return { findings: engine.findings, files: engine.files, documents: engine.documents };
}

/**
 * Merges Compose files: files of the homelab layout per app and environment (base, generated,
 * override), any other Compose file on its own.
 */
function renderCompose(engine: Engine, sources: Source[], root: string | null, label: (abs: string) => string): void {
  if (sources.length === 0) return;
  const groups = new Map<string, string[]>();
  for (const s of sources) {
    const rel = root ? path.relative(root, s.abs).split(path.sep).join('/') : '';
    const m = /^(applications|infrastructure)\/compose\/(?:base|environments\/[^/]+)\/([^/]+)\//.exec(rel);
    if (!m || !root) {
      groups.set(s.abs, [s.abs]);
      continue;
    }
    const [, layer, app] = m;
    const envs = fs.existsSync(path.join(root, layer, 'compose/environments')) ? fs.readdirSync(path.join(root, layer, 'compose/environments')).sort() : [];
    const withApp = envs.filter((env) => fs.existsSync(path.join(root, layer, 'compose/environments', env, app, 'compose.generated.yaml')));
    const base = path.join(root, layer, 'compose/base', app, 'compose.yaml');
    if (withApp.length === 0) groups.set(base, [base]);
    for (const env of withApp) {
      // The project model's one Compose file list (with the spec's patch fragment), as build and deploy merge it.
      groups.set(`${layer}/${app}/${env}`, composeFiles(layer as Layer, app, env).map((f) => path.join(root, f)).filter((f) => fs.existsSync(f)));
    }
  }
  for (const files of groups.values()) {
    const merged = files.map((f) => engine.loaded.get(f) ?? loadQuiet(f, label(f))).filter((s): s is Source => s !== null);
    if (merged.length !== files.length) continue;
    const fallback = merged[merged.length - 1];
    if (!hasCompose()) {
      engine.report(finding(fallback.file, 'render/tool-missing', '`docker compose` is not installed, so the Compose files were not merged; install it, or pass --skip render'));
      return;
    }
    // Outside a workspace a Compose file is interpolated as `docker compose config` does it (its folder's .env).
    const result = composeConfig(files, path.dirname(files[0]), root ? 'homelab' : 'project');
    if (!result.ok) {
      engine.report(finding(fallback.file, 'render/compose', `docker compose config of ${merged.map((s) => s.file).join(' + ')} failed: ${result.error}; fix the Compose files`));
      continue;
    }
    engine.checkRenderedCompose(result.output, merged, fallback);
  }
}

/** A file's size in bytes (0 when it cannot be read: its check reports that). */
function sizeOf(abs: string): number {
  try {
    return fs.statSync(abs).size;
  } catch {
    return 0;
  }
}

/** A file merged with the ones given (e.g. the base of a given override): parsed, not counted or reported twice. */
function loadQuiet(abs: string, label: string): Source | null {
  try {
    const text = fs.readFileSync(abs, 'utf8');
    return { file: label, abs, text, docs: jsyaml.loadAll(text) as unknown[] };
  } catch {
    return null;
  }
}
