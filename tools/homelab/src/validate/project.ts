import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { checkAppSpec, readWorkspace } from '../app/plan';
import { SCRATCH_LABEL } from '../app/steps/compose';
import { appPolicyExceptions } from '../app/steps/exceptions';
import { HomelabError, InputError } from '../errors';
import { SpecError } from '../spec/problems';
import { diskHost, type FileHost, readOnceHost } from '../host';
// Static: under Nx the TypeScript loader is gone by the time a task runs, so a lazy require of a .ts module fails.
import { validateComponent } from '../component/validate';
import { checkDrift } from '../project/drift';
import { describeOrphan, findOrphans } from '../project/orphans';
import { projectEnvironments } from '../project/environments';
import { renderApp } from '../render/app';
import { classify, isHomelabContent, PLATFORM_PROJECT, projectOfPath, type ProjectRef } from './classify';
import { type CheckClass, Engine, type Source, walkFiles, walkYaml } from './engine';
import { type Finding, formatFinding, sortFindings } from './findings';
import { isObj, type K8sObject, list, type Obj, podOf } from './objects';
import { inProcessMerge, plannedMerge } from './compose-merge';
import { composeConfig, findKustomizer, hasCompose, kustomize, type RenderJob } from './kustomize-compose';
import { classOfRule } from './rules';
import type { ClusterDryRun } from './server';
import { FileBytes, finding } from './source';
import { entriesOf, existsAt, isFileAt } from './listing';
import { outsideProbe } from '../spec/health';
import { autoscaleFindings } from './autoscale';
import { patchFindings } from './patches';
import { placementFindings } from './placement';
import { networkIssues } from './networks';
import type { NormalizedApp } from '../app/normalized';
import { gatewayIssues } from './gateways';
import { perRun } from './run-memo';
import type { WorkspaceConfig } from '../spec/types';
import { positionIn } from '../spec/locate';
import { hostCollisions, workspaceClaims } from '../workspace/hosts';
import YAML from 'yaml';

export type { Finding };
export { formatFinding };

type Layer = ProjectRef['layer'];

/** The layers of Nx projects: apps, components, and the one `platform` project. */
export type ProjectLayer = Layer | 'platform';

export { PLATFORM_PROJECT };

export interface ProjectCheckOptions {
  /** Which classes of checks run (parse always does); all by default. */
  checks?: ReadonlySet<CheckClass>;
  maxFileBytes?: number;
  /** `--server-dry-run`: every rendered overlay is also sent to this cluster (needs `server` in checks). */
  server?: ClusterDryRun;
}

export interface ProjectResult {
  findings: Finding[];
  files: number;
  documents: number;
}

/**
 * Every check of one app or component (the Nx `validate` target): the spec against its
 * schema, spec-owned files against what the spec renders, every file of the project parsed
 * and schema-checked, each environment rendered once (kustomize overlay, Compose merge) and
 * the rendered objects checked for schema, policy and consistency, ArgoCD applications,
 * secrets and Kubernetes/Compose parity. Collects every finding, sorted.
 */
export function validateProject(workspaceRoot: string, layer: ProjectLayer, name: string): Finding[] {
  return checkProject(workspaceRoot, layer, name).findings;
}

/**
 * validateProject with its counts, for `homelab validate`, which runs exactly this for every
 * project it is given a file of (so both front doors agree).
 */
export function checkProject(workspaceRoot: string, layer: ProjectLayer, name: string, options: ProjectCheckOptions = {}): ProjectResult {
  // An app's rendered files are read to compare with its render, then parsed: read once for both.
  const bytes = new FileBytes();
  const engine = new Engine({ workspaceRoot, checks: options.checks, maxFileBytes: options.maxFileBytes, bytes });
  let findings: Finding[];
  if (layer === 'platform') {
    checkPlatform(engine, workspaceRoot, options.server);
    findings = engine.findings;
  } else if (layer === 'infrastructure') {
    findings = checkComponent(engine, workspaceRoot, name, options.server);
  } else {
    const specFile = `applications/specs/${name}.yaml`;
    engine.checkSpecFile(path.join(workspaceRoot, specFile), specFile, 'app-spec');
    const app = checkSync(engine, workspaceRoot, name, specFile, bytes);
    checkProjectFiles(engine, workspaceRoot, layer, name, options.server, app);
    findings = app ? engine.findings : engine.findings.filter((f) => !f.rule.startsWith('sync/'));
  }
  const kept = findings.filter((f) => classOfRule(f.rule) === 'parse' || engine.has(classOfRule(f.rule)));
  return { findings: sortFindings(kept), files: engine.files, documents: engine.documents };
}

/**
 * An infrastructure component: the spec against its schema, the infrastructure model's own
 * checks (validateComponent: catalog, pins, drift, platform), then every file of the
 * component like an app's, with the catalog's policy exceptions.
 */
function checkComponent(engine: Engine, root: string, name: string, server?: ClusterDryRun): Finding[] {
  const specFile = `infrastructure/specs/${name}.yaml`;
  engine.checkSpecFile(path.join(root, specFile), specFile, 'infra-spec');
  const specReported = engine.findings.some((f) => f.file === specFile);
  for (const f of validateComponent(root, name)) {
    // A schema problem of the spec is already a finding with its line.
    if (!(specReported && f.rule === 'spec/invalid')) engine.report({ ...f, line: f.line ?? 1, col: f.col ?? 1 });
  }
  checkProjectFiles(engine, root, 'infrastructure', name, server);
  return engine.findings;
}

/**
 * The owner of a workspace-relative path of the homelab content: an app or component whose
 * spec exists, the `platform` project, or null: a file of the app and component trees (an ArgoCD
 * Application of an environment included) that no spec owns, which no Nx project checks.
 */
export function ownerOf(root: string, rel: string): ProjectRef | typeof PLATFORM_PROJECT | null {
  const hasSpec = (layer: Layer, name: string) => existsAt(path.join(root, layer, 'specs', `${name}.yaml`));
  const owner = projectOfPath(rel, (name) => (hasSpec('applications', name) ? 'applications' : hasSpec('infrastructure', name) ? 'infrastructure' : null));
  if (owner) return hasSpec(owner.layer, owner.name) ? owner : null;
  if (/^platform\/argocd\/applications\/[^/]+\//.test(rel)) return null;
  return rel === 'homelab.yaml' || rel.startsWith('platform/') || rel.startsWith('schemas/custom/') ? PLATFORM_PROJECT : null;
}

/** The files of the `platform` project, absolute, sorted. */
export function platformFiles(root: string): string[] {
  const candidates = [path.join(root, 'homelab.yaml'), ...walkFiles(path.join(root, 'platform')), ...walkFiles(path.join(root, 'schemas/custom'))];
  return candidates.filter((abs) => {
    const rel = path.relative(root, abs).split(path.sep).join('/');
    return existsAt(abs) && isHomelabContent(rel) && ownerOf(root, rel) === PLATFORM_PROJECT;
  });
}

/**
 * The `platform` project: each of its files by its kind (homelab.yaml and the store specs
 * against their schemas, manifests parsed and schema-checked, custom schemas compiled), its
 * kustomizations (bootstrap, stores) built and checked, its ArgoCD Applications' paths.
 */
function checkPlatform(engine: Engine, root: string, server?: ClusterDryRun): void {
  const canRender = engine.has('render') && findKustomizer() !== null;
  const objects: K8sObject[] = [];
  const kustomizations: string[] = [];
  for (const abs of platformFiles(root)) {
    const rel = path.relative(root, abs).split(path.sep).join('/');
    const checked = engine.checkFile(abs, rel, classify(rel, true), { policy: !canRender, composePolicy: !hasCompose() });
    objects.push(...checked.objects);
    if (/^kustomization\.ya?ml$/.test(path.basename(abs)) && checked.objects.some((t) => t.obj.kind === 'Kustomization')) kustomizations.push(path.dirname(abs));
  }
  checkArgo(engine, root, objects);
  // No Nx project checks the files of a spec that is gone: the platform project names each.
  for (const orphan of findOrphans(runHost(root))) {
    for (const file of orphan.owned) engine.report(finding(file, 'sync/orphan', describeOrphan(orphan), 1));
  }
  if (engine.has('render')) renderKustomizations(engine, kustomizations, objects, root, (abs) => path.relative(root, abs).split(path.sep).join('/'), true, server);
}

/** Builds the top-most kustomizations (those no other one of the set includes) and checks their output (and, given a cluster, sends it there). */
export function renderKustomizations(engine: Engine, dirs: string[], candidates: K8sObject[], cwd: string, label: (abs: string) => string, inWorkspace: boolean, server?: ClusterDryRun): void {
  if (dirs.length === 0) return;
  const included = new Set<string>();
  for (const dir of dirs) {
    const k = engine.loaded.get(path.join(dir, 'kustomization.yaml')) ?? engine.loaded.get(path.join(dir, 'kustomization.yml'));
    const doc = k?.docs.find(isObj) as Obj | undefined;
    for (const entry of [...(Array.isArray(doc?.resources) ? doc.resources : []), ...(Array.isArray(doc?.components) ? doc.components : [])]) {
      if (typeof entry === 'string') included.add(path.resolve(dir, entry));
    }
  }
  for (const dir of dirs) {
    if (included.has(dir)) continue;
    const kfile = fs.existsSync(path.join(dir, 'kustomization.yaml')) ? path.join(dir, 'kustomization.yaml') : path.join(dir, 'kustomization.yml');
    const fallback = engine.loaded.get(kfile);
    if (!fallback) continue;
    if (!findKustomizer()) {
      engine.report(finding(fallback.file, 'render/tool-missing', 'neither `kubectl` nor `kustomize` is installed, so this kustomization was not built; install one, or pass --skip render'));
      continue;
    }
    const result = kustomize(dir, cwd);
    if (!result.ok) {
      engine.report(finding(fallback.file, 'render/kustomize', `kustomize build of ${label(dir)} failed: ${result.error}; fix the kustomization`));
      continue;
    }
    const rendered = engine.checkRenderedKubernetes(result, fallback, candidates, { stores: engine.stores(), secretProducers: inWorkspace, networkPolicy: inWorkspace });
    if (server) for (const issue of server.check(rendered, label(dir))) engine.resolve(issue);
  }
}

/** The specs and homelab.yaml, which every project of a run reads (run-memo.ts), read once per run. */
const SHARED_FILES = /^(?:homelab\.yaml|(?:applications|infrastructure)\/specs\/[^/]+\.yaml)$/;

/**
 * The workspace as a validate run reads it: each spec and homelab.yaml read once per run, not once
 * per project, and folders listed once, their files' types and existence told by the listing
 * (listing.ts) rather than a stat each.
 */
function runHost(root: string): FileHost {
  return perRun(`host:${root}`, () => {
    const disk = diskHost(root);
    const abs = (file: string) => path.join(root, file);
    const listed: FileHost = {
      ...disk,
      list: (dir) => (entriesOf(abs(dir)) ?? []).map((e) => e.name),
      isFile: (file) => isFileAt(abs(file)),
      exists: (file) => existsAt(abs(file)),
    };
    return readOnceHost(listed, (file) => SHARED_FILES.test(file));
  });
}

/** homelab.yaml, parsed once per run (it throws, and is read again, when it does not parse). */
function runWorkspace(root: string): WorkspaceConfig {
  return perRun(`workspace:${root}`, () => readWorkspace(runHost(root)));
}

/**
 * A project's environments, listed once per run: a batch asks for them when it lists the overlays
 * to build, again for the Compose merges to plan, and in the checks (each a folder listing and a
 * few stats per environment).
 */
function environmentsOf(root: string, layer: ProjectLayer & ('applications' | 'infrastructure'), name: string) {
  return perRun(`environments:${root}:${layer}:${name}`, () => projectEnvironments(runHost(root), layer, name));
}

/** Spec schema, render, drift, stale files, store and dependencies (what `nx sync:check` sees, and more); the normalized app, or null when the spec cannot be rendered. */
function checkSync(engine: Engine, root: string, name: string, specFile: string, bytes: FileBytes): NormalizedApp | null {
  // Each rendered file is read to compare (renderApp's parsedElsewhere, then checkDrift): once,
  // and through the project's bytes, which its parse (checkProjectFiles) reads again.
  const run = runHost(root);
  const host = readOnceHost({ ...run, read: (file) => (SHARED_FILES.test(file) ? run.read(file) : bytes.text(path.join(root, file))) }, () => true);
  let files;
  let app;
  try {
    const text = host.read(specFile);
    if (text === null) throw new InputError(`${specFile} is missing; restore it from git`);
    // A dependency without a component spec is one of its problems, under its own rule (deps/unknown-component).
    app = checkAppSpec(host, text, specFile, runWorkspace(root)).app;
    // A rendered file equal to the one on disk, in the trees checkProjectFiles reads, is parsed there.
    files = renderApp(app, undefined, (file, content) => checkedWithProject('applications', name, file) && host.read(file) === content);
    engine.allow(name, appPolicyExceptions(app));
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    // Every problem of the spec at its line, worded as nx g and nx sync word it (app/check.ts);
    // its schema problems are the spec file's own findings already, and are reported once.
    const problems = error instanceof SpecError ? error.problems : [{ file: '', rule: 'spec/invalid' as const, message: error.message }];
    for (const p of problems) {
      const match = p.file === '' ? /^([^:\s]+\.yaml):(\d+):(\d+)?/.exec(p.message) : null;
      engine.report(p.file === '' ? finding(match?.[1] ?? specFile, p.rule, p.message, match ? Number(match[2]) : 1, match?.[3] ? Number(match[3]) : 1) : finding(p.file, p.rule, p.message, p.line, p.col));
    }
    return null;
  }
  for (const f of checkDrift(host, { layer: 'applications', name }, files)) engine.report(finding(f.file, f.rule, f.message, f.line));
  if (engine.has('consistency')) for (const f of hostFindings(host, root, name, specFile)) engine.report(f);
  if (engine.has('consistency')) for (const f of patchFindings(app.patches, specFile, host.read(specFile) ?? '')) engine.report(f);
  if (engine.has('consistency')) for (const f of quotaFindings(app, specFile, host.read(specFile) ?? '')) engine.report(f);
  if (engine.has('consistency')) for (const f of autoscaleFindings(app, specFile, host.read(specFile) ?? '')) engine.report(f);
  if (engine.has('consistency')) {
    // The environments with Compose files: there the Docker host is the placement (parity/placement).
    const composeEnvironments = environmentsOf(root, 'applications', name).filter((e) => e.compose).map((e) => e.env);
    for (const f of placementFindings(app, composeEnvironments, specFile, host.read(specFile) ?? '')) engine.report(f);
  }
  if ((app.secrets.enabled || app.backup.enabled) && !engine.stores()!.has(app.secrets.store)) {
    engine.report(
      finding(specFile, 'secrets/store-missing', `ClusterSecretStore "${app.secrets.store}" (homelab.yaml secrets.store) is not defined under platform/secrets/stores; add it with nx g homelab:secret-store`),
    );
  }
  return app;
}

/** homelab.yaml, or null when it does not read (the spec's checks report that). */
function workspaceOrNull(root: string): WorkspaceConfig | null {
  try {
    return runWorkspace(root);
  } catch (error) {
    if (error instanceof HomelabError) return null;
    throw error;
  }
}

/**
 * hosts/collision: each pair of claimants of one host on one cluster or Docker host that this
 * app is one of (docs/spec.md, "Hosts"), at the line of this app's host in its spec.
 */
function hostFindings(host: FileHost, root: string, name: string, specFile: string): Finding[] {
  const collisions = perRun(`host-collisions:${root}`, () => hostCollisions(workspaceClaims(host, runWorkspace(root)))).filter((c) => c.first.app === name || c.second.app === name);
  // The spec is parsed for positions only when there is a finding to place (most apps have none).
  if (collisions.length === 0) return [];
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(host.read(specFile) ?? '', { lineCounter: lc });
  return collisions.map((c) => {
      const mine = c.second.app === name ? c.second : c.first;
      const own = positionIn(doc, lc, ['environments', mine.env, 'host']);
      const at = own?.depth === 3 ? own : positionIn(doc, lc, ['ingress', 'host']);
      return finding(specFile, 'hosts/collision', c.message, at?.line ?? 1, at?.col ?? 1);
    });
}

/**
 * quota/exceeded: an owner's budget (the spec's `quota`, `environments.<env>.quota`) below what
 * the app needs at its peak in an environment (app/steps/quota.ts, without the headroom), at
 * the line of the field that set it: pods beyond it would be refused by the quota admission.
 */
function quotaFindings(app: NormalizedApp, specFile: string, text: string): Finding[] {
  if (app.environments.every((env) => env.quota.exceeded.length === 0)) return [];
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc });
  return app.environments.flatMap((env) =>
    env.quota.exceeded.map((e) => {
      const at = positionIn(doc, lc, e.field.split('.'));
      return finding(
        specFile,
        'quota/exceeded',
        `${app.name} needs ${e.key} ${e.need} at its peak in ${env.name}, but ${e.field} is ${e.quota}, so the quota would refuse some of its pods; raise ${e.field} to at least ${e.need}, or lower the services' resources or replicas there`,
        at?.line ?? 1,
        at?.col ?? 1,
      );
    }),
  );
}

/** Whether checkProjectFiles parses this workspace-relative file of the project (its trees, its ArgoCD Applications). */
export function checkedWithProject(layer: Layer, name: string, file: string): boolean {
  const [tree, ...rest] = file.split('/');
  if (tree === 'platform') return rest.length === 4 && rest[0] === 'argocd' && rest[1] === 'applications' && rest[3] === `${name}.yaml`;
  if (tree !== layer) return false;
  const [platform, kind, ...under] = rest;
  if (platform === 'compose' && kind === 'monitoring') return under.length === 3 && under[0] === 'rules' && under[2] === `${name}.yaml`;
  if (kind === 'base') return (platform === 'kubernetes' || platform === 'compose') && under[0] === name && under.length > 1;
  if ((platform === 'kubernetes' && kind === 'overlays') || (platform === 'compose' && kind === 'environments')) return under[1] === name && under.length > 2;
  return false;
}

interface ProjectFiles {
  k8s: Map<string, K8sObject[]>;
  sources: Map<string, Source>;
}

/** Parse, schema (and, where nothing renders, policy) of every file of the project; then render and cross-checks (an app's networks against its normalized `app`). */
function checkProjectFiles(engine: Engine, root: string, layer: Layer, name: string, server?: ClusterDryRun, app?: NormalizedApp | null): void {
  const canRender = engine.has('render') && findKustomizer() !== null;
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const files: ProjectFiles = { k8s: new Map(), sources: new Map() };
  const dirs = [`${layer}/kubernetes/base/${name}`, `${layer}/compose/base/${name}`];
  for (const env of listDirs(path.join(root, layer, 'kubernetes/overlays'))) dirs.push(`${layer}/kubernetes/overlays/${env}/${name}`);
  for (const env of listDirs(path.join(root, layer, 'compose/environments'))) dirs.push(`${layer}/compose/environments/${env}/${name}`);
  const argo = listDirs(path.join(root, 'platform/argocd/applications'))
    .map((env) => path.join(root, 'platform/argocd/applications', env, `${name}.yaml`))
    .filter((f) => existsAt(f));
  const runbook = [path.join(root, layer, 'runbooks', `${name}.md`)].filter((f) => existsAt(f));
  // Its alerts for the Compose Prometheus of each environment (monitoring/rules/<env>/<name>.yaml): parsed here, like its other files.
  const rules = listDirs(path.join(root, layer, 'compose/monitoring/rules'))
    .map((env) => path.join(root, layer, 'compose/monitoring/rules', env, `${name}.yaml`))
    .filter((f) => existsAt(f));
  for (const abs of [...dirs.flatMap((d) => walkFiles(path.join(root, d))), ...argo, ...rules, ...runbook]) {
    const label = rel(abs);
    const kind = classify(label, true);
    const checked = engine.checkFile(abs, label, kind, {
      policy: !canRender || label.startsWith('platform/'),
      composePolicy: !hasCompose() && /\/compose\/base\//.test(label),
    });
    if (kind === 'kubernetes') files.k8s.set(label, checked.objects);
    if (checked.compose) files.sources.set(label, checked.compose);
  }
  const allObjects = [...files.k8s.values()].flat();
  checkArgo(engine, root, [...files.k8s.entries()].filter(([f]) => f.startsWith('platform/')).flatMap(([, o]) => o));
  // A component's Compose secrets and its chart's Secrets are wired by the infrastructure model (validateComponent).
  if (layer === 'applications') checkEnvExample(engine, root, layer, name, allObjects);
  if (!engine.has('render')) return;

  for (const { env, kubernetes, overlay, compose, composeFiles } of environmentsOf(root, layer, name)) {
    let rendered: K8sObject[] | null = null;
    if (kubernetes) {
      const fallback = engine.loaded.get(path.join(root, overlay, 'kustomization.yaml'));
      if (fallback) {
        const result = canRender ? kustomize(overlay, root) : null;
        if (!result) {
          engine.report(finding(fallback.file, 'render/tool-missing', 'neither `kubectl` nor `kustomize` is installed, so the overlay was not built; install one (`npm run setup:engines`)'));
        } else if (!result.ok) {
          engine.report(finding(fallback.file, 'render/kustomize', `kustomize build of ${overlay} failed: ${result.error}; fix the kustomization`));
        } else {
          rendered = engine.checkRenderedKubernetes(result, fallback, allObjects, { stores: engine.stores(), secretProducers: true, networkPolicy: true });
          if (server) for (const issue of server.check(rendered, overlay, destinationOf(allObjects, overlay))) engine.resolve(issue);
          const workspace = layer === 'applications' && engine.has('consistency') ? workspaceOrNull(root) : null;
          if (workspace) for (const issue of gatewayIssues(root, workspace, env, rendered)) engine.resolve(issue);
        }
      }
    }
    if (!compose) continue;
    const present = composeFiles;
    const sources = present.map((f) => files.sources.get(f)).filter((s): s is Source => s !== undefined);
    if (sources.length !== present.length) continue;
    const fallback = sources[sources.length - 1];
    if (!hasCompose()) {
      engine.report(finding(fallback.file, 'render/tool-missing', '`docker compose` is not installed, so the Compose files were not merged; install it (`npm run setup:engines`)'));
      continue;
    }
    // The files homelab renders merge in process (compose-merge.ts); anything else by `docker compose config`.
    const inProcess = inProcessMerge(present.map((f) => path.join(root, f)));
    const merged = inProcess.ok ? { ok: true as const, output: inProcess.doc } : composeConfig(present, root);
    if (!merged.ok) {
      engine.report(finding(fallback.file, 'render/compose', `docker compose config of ${name} in ${env} failed: ${merged.error}; fix the Compose files`));
      continue;
    }
    const doc = engine.checkRenderedCompose(merged.output, sources, fallback);
    if (doc && rendered && engine.has('consistency')) {
      checkParity(engine, rendered, doc, sources, fallback);
      checkHostParity(engine, rendered, doc, sources, fallback);
    }
    if (doc && app && engine.has('consistency')) for (const issue of networkIssues(app, env, doc)) engine.reportComposeIssue(issue.rule, issue.message, issue.path, sources, fallback);
  }
}

/**
 * The kustomize and Compose calls validateProject will make for a project (of the `kinds` asked
 * for), so a batch can start them all concurrently (kustomize-compose.ts prerender) before checking
 * projects one by one. Listing the Compose calls parses the project's Compose files (plannedMerge).
 * None for a project whose renders cannot even be listed (an unreadable spec or homelab.yaml): its
 * own check reports why, and makes what it can itself.
 */
export function projectRenderJobs(root: string, layer: ProjectLayer, name: string, kinds: readonly RenderJob['kind'][] = ['kustomize', 'compose']): RenderJob[] {
  if (layer === 'platform') return [];
  try {
    return environmentsOf(root, layer, name).flatMap(({ kubernetes, overlay, compose, composeFiles }): RenderJob[] => [
      ...(kinds.includes('kustomize') && kubernetes && findKustomizer() ? [{ kind: 'kustomize' as const, dir: overlay, cwd: root }] : []),
      ...(kinds.includes('compose') && compose && hasCompose() && !plannedMerge(composeFiles.map((f) => path.join(root, f))) ? [{ kind: 'compose' as const, files: composeFiles, cwd: root }] : []),
    ]);
  } catch {
    return [];
  }
}

/** The namespace the ArgoCD Application that deploys `overlay` (a workspace-relative folder) deploys into. */
function destinationOf(objects: K8sObject[], overlay: string): string | undefined {
  const app = objects.find(({ obj }) => obj.kind === 'Application' && [obj.spec?.source, ...list(obj.spec?.sources)].some((s) => isObj(s) && s.path === overlay));
  const namespace = app?.obj.spec?.destination?.namespace;
  return typeof namespace === 'string' ? namespace : undefined;
}

/** ArgoCD Applications: their path exists, and their AppProject does once any AppProject is defined. */
function checkArgo(engine: Engine, root: string, objects: K8sObject[]): void {
  if (!engine.has('consistency')) return;
  let projects: Map<string, { server: string; namespace: string }[]> | undefined;
  for (const t of objects) {
    if (t.obj.kind !== 'Application') continue;
    const sources = [...(isObj(t.obj.spec?.source) ? [[t.obj.spec.source, ['spec', 'source']] as const] : []), ...list(t.obj.spec?.sources).map((s, i) => [s, ['spec', 'sources', i]] as const)];
    for (const [s, p] of sources) {
      if (typeof s.path === 'string' && s.chart === undefined && !existsAt(path.join(root, s.path))) {
        engine.resolve({ rule: 'argocd/path-missing', message: `Application ${t.obj.metadata?.name} deploys ${s.path}, which does not exist in this repository; fix spec.source.path or add the overlay`, target: t, path: [...p, 'path'] });
      }
    }
    projects ??= perRun(`app-projects:${root}`, () => appProjects(root));
    const project = t.obj.spec?.project;
    if (projects.size > 0 && typeof project === 'string' && project !== 'default' && !projects.has(project)) {
      engine.resolve({ rule: 'argocd/project-missing', message: `Application ${t.obj.metadata?.name} uses AppProject "${project}", which platform/argocd does not define (${[...projects.keys()].join(', ')}); add it or fix spec.project`, target: t, path: ['spec', 'project'] });
    }
    // ArgoCD refuses to sync what its AppProject does not admit: say so before a push does.
    const destinations = typeof project === 'string' ? projects.get(project) : undefined;
    const { server, namespace } = isObj(t.obj.spec?.destination) ? t.obj.spec.destination : ({} as Obj);
    if (destinations && typeof server === 'string' && typeof namespace === 'string' && !admits(destinations, server, namespace)) {
      engine.resolve({
        rule: 'argocd/destination',
        message: `Application ${t.obj.metadata?.name} deploys to namespace ${namespace} on ${server}, which AppProject "${project}" does not admit; run \`npx nx sync\` (the project names every app's namespaces), or fix spec.destination`,
        target: t,
        path: ['spec', 'destination'],
      });
    }
  }
}

/**
 * Whether an AppProject's destinations admit a server and namespace as ArgoCD matches them: a
 * glob pattern admits, a `!` pattern that matches denies, whatever the order.
 */
export function admits(destinations: { server: string; namespace: string }[], server: string, namespace: string): boolean {
  const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
  const here = destinations.filter((d) => glob(d.server, server));
  if (here.some((d) => d.namespace.startsWith('!') && glob(d.namespace.slice(1), namespace))) return false;
  return here.some((d) => !d.namespace.startsWith('!') && glob(d.namespace, namespace));
}

/**
 * The AppProjects of platform/argocd, each with its destinations. Only a file whose text names
 * `AppProject` (or holds a backslash, for an escaped kind) is parsed: the others are the apps'
 * Applications, a thousand at 500 apps, and parsing them all was most of a one-app validate's checks.
 */
function appProjects(root: string): Map<string, { server: string; namespace: string }[]> {
  const names = new Map<string, { server: string; namespace: string }[]>();
  for (const file of walkYaml(path.join(root, 'platform/argocd'))) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      if (!text.includes('AppProject') && !text.includes('\\')) continue;
      for (const doc of jsyaml.loadAll(text) as Obj[]) {
        if (isObj(doc) && doc.kind === 'AppProject' && typeof doc.metadata?.name === 'string') names.set(doc.metadata.name, list(doc.spec?.destinations).map((d) => ({ server: String(d.server ?? ''), namespace: String(d.namespace ?? '') })));
      }
    } catch {
      // reported when that file is validated
    }
  }
  return names;
}

/** Compose's .env.example lists exactly the keys the app's ExternalSecret produces. */
function checkEnvExample(engine: Engine, root: string, layer: Layer, name: string, objects: K8sObject[]): void {
  if (!engine.has('consistency')) return;
  const label = `${layer}/compose/base/${name}/.env.example`;
  const abs = path.join(root, label);
  const es = objects.find((t) => t.obj.kind === 'ExternalSecret' && (t.obj.spec?.target?.name ?? t.obj.metadata?.name) === `${name}-secrets` && t.source.file.startsWith(`${layer}/kubernetes/base/`));
  const esKeys = es ? list(es.obj.spec?.data).map((d) => String(d.secretKey)) : [];
  // Read through the project's bytes: the drift check has read it.
  const text = engine.textIfThere(abs);
  if (text === null) {
    if (!existsAt(abs)) {
      if (es && esKeys.length) engine.report(finding(es.source.file, 'secrets/env-example', `${label} is missing but ExternalSecret ${name}-secrets has keys ${esKeys.join(', ')}; run \`npx nx sync\``));
    }
    // One that is there but cannot be read is its own check's finding (parse/unreadable).
    return;
  }
  const lines = text.split('\n');
  const keys = new Map<string, number>();
  lines.forEach((l, i) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(l);
    if (m) keys.set(m[1], i + 1);
  });
  for (const k of esKeys) if (!keys.has(k)) engine.report(finding(label, 'secrets/env-example', `key ${k} of ExternalSecret ${name}-secrets is missing here; add \`${k}=\` so Compose reads the same secrets`));
  const backup = backupKeys(engine, root, layer, name);
  for (const [k, line] of keys) if (!esKeys.includes(k) && !backup.has(k)) engine.report(finding(label, 'secrets/env-example', `key ${k} is not produced by ExternalSecret ${name}-secrets on Kubernetes; add it to the spec's secrets or remove it`, line));
}

/**
 * The backups' keys (RESTIC_PASSWORD, and the S3 keys of an S3 target) that an environment's
 * compose.generated.yaml names in `x-homelab-backup`: the Compose movers read them from the same env
 * file as the app's secrets, though they come from the repositories' store entry, not the app's ExternalSecret.
 */
function backupKeys(engine: Engine, root: string, layer: Layer, name: string): Set<string> {
  const keys = new Set<string>();
  for (const env of listDirs(path.join(root, layer, 'compose/environments'))) {
    // As checkProjectFiles parsed it; one that did not parse is that file's finding.
    const doc = engine.loaded.get(path.join(root, layer, 'compose/environments', env, name, 'compose.generated.yaml'))?.docs[0];
    for (const k of list(isObj(doc) ? doc['x-homelab-backup']?.keys : undefined)) if (typeof k?.key === 'string') keys.add(k.key);
  }
  return keys;
}

/**
 * Kubernetes and Compose run the same services: each Compose service against the container of
 * the same name (every service of the full form; the shorthand's one, named after the app; an
 * init container or sidecar `<name>` of a service's pod against the Compose service
 * `<service>-<name>`): image, ports, health check, env names and mounts. Ports belong to the
 * network a pod's containers share: the pod's containers' against its service's `expose` (a
 * sidecar in the service's network has none of its own). A Compose service without a container
 * of its name (the scheduler of cron services, which Kubernetes does not need) is not compared.
 */
function checkParity(engine: Engine, rendered: K8sObject[], compose: Obj, sources: Source[], fallback: Source): void {
  const containers = new Map<string, { c: Obj; pod: Obj; podPorts: Obj[] | null }>();
  // Plain values a container reads whole from a Secret an ExternalSecret writes from literals (an app's database: host, port, name, user).
  const literalSecretEnv = new Map<string, string[]>();
  for (const t of rendered) {
    if (t.obj.kind !== 'ExternalSecret' || !isObj(t.obj.spec) || !isObj(t.obj.spec.target)) continue;
    const data = isObj(t.obj.spec.target.template) && isObj(t.obj.spec.target.template.data) ? t.obj.spec.target.template.data : {};
    const name = String(t.obj.spec.target.name ?? t.obj.metadata?.name);
    literalSecretEnv.set(name, Object.entries(data).filter(([, v]) => !String(v).includes('{{')).map(([k]) => k));
  }
  for (const t of rendered) {
    const pod = podOf(t.obj);
    if (!pod) continue;
    const [main, ...sidecars] = list(pod.spec.containers);
    if (!main || typeof main.name !== 'string' || containers.has(main.name)) continue;
    containers.set(main.name, { c: main, pod: pod.spec, podPorts: list(pod.spec.containers).flatMap((c) => list(c.ports)) });
    for (const c of [...list(pod.spec.initContainers), ...sidecars]) if (typeof c.name === 'string') containers.set(`${main.name}-${c.name}`, { c, pod: pod.spec, podPorts: null });
  }
  const volumes = isObj(compose.volumes) ? compose.volumes : {};
  const scratch = new Set(Object.entries(volumes).filter(([, v]) => isObj(v) && isObj(v.labels) && String(v.labels[SCRATCH_LABEL]) === 'true').map(([name]) => name));
  for (const [name, svc] of Object.entries(isObj(compose.services) ? compose.services : {})) {
    const k8s = containers.get(name);
    if (isObj(svc) && k8s) checkServiceParity(name, k8s, svc, scratch, literalSecretEnv, (rule, message, p) => engine.reportComposeIssue(rule, message, ['services', name, ...p], sources, fallback));
  }
}

/** The hosts of a Traefik router rule (`Host(\`a\`) || Host(\`b\`)`). */
const ruleHosts = (rule: string) => [...rule.matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]);

/**
 * parity/host: the hosts an environment's Ingress or HTTPRoute serves on Kubernetes are the
 * hosts its Traefik routers serve on Compose. Both come from the app's host in that environment
 * (docs/spec.md, "Hosts"), so a difference is a hand edit of one side (an overlay patch, a label
 * in compose.override.yaml) that the other platform does not have.
 */
function checkHostParity(engine: Engine, rendered: K8sObject[], compose: Obj, sources: Source[], fallback: Source): void {
  const k8s = new Set<string>();
  for (const { obj } of rendered) {
    if (obj.kind === 'Ingress') for (const r of list(obj.spec?.rules)) if (typeof r.host === 'string') k8s.add(r.host);
    if (obj.kind === 'HTTPRoute' && Array.isArray(obj.spec?.hostnames)) for (const h of obj.spec.hostnames) if (typeof h === 'string') k8s.add(h);
  }
  const routed: { service: string; hosts: string[] }[] = [];
  for (const [service, svc] of Object.entries(isObj(compose.services) ? compose.services : {})) {
    const labels = isObj(svc) && isObj(svc.labels) ? svc.labels : {};
    const hosts = Object.entries(labels).filter(([k]) => /^traefik\.http\.routers\.[^.]+\.rule$/.test(k)).flatMap(([, v]) => ruleHosts(String(v)));
    if (hosts.length > 0) routed.push({ service, hosts });
  }
  const onCompose = new Set(routed.flatMap((r) => r.hosts));
  const onlyK8s = [...k8s].filter((h) => !onCompose.has(h)).sort();
  const onlyCompose = [...onCompose].filter((h) => !k8s.has(h)).sort();
  if (onlyK8s.length === 0 && onlyCompose.length === 0) return;
  const differs = [onlyK8s.length ? `only Kubernetes routes ${onlyK8s.join(', ')}` : '', onlyCompose.length ? `only Compose routes ${onlyCompose.join(', ')}` : ''].filter(Boolean).join('; ');
  const at = routed.find((r) => r.hosts.some((h) => onlyCompose.includes(h))) ?? routed[0];
  engine.reportComposeIssue(
    'parity/host',
    `hosts differ: ${differs}; both platforms route the app's host in this environment from the spec (ingress.host, environments.<env>.host, homelab.yaml hostPattern), so set it there and run \`npx nx sync\` instead of editing one side`,
    at ? ['services', at.service, 'labels'] : ['services'],
    sources,
    fallback,
  );
}

function checkServiceParity(name: string, k8s: { c: Obj; pod: Obj; podPorts: Obj[] | null }, svc: Obj, scratch: Set<string>, literalSecretEnv: Map<string, string[]>, report: (rule: string, message: string, p: (string | number)[]) => void): void {
  const { c, pod } = k8s;
  const service = `service ${name}: `;
  if (c.image !== svc.image) report('parity/image', `${service}Compose runs ${svc.image ?? 'no image'} but Kubernetes runs ${c.image}; both come from the spec's image, run \`npx nx sync\` or fix the override`, ['image']);
  // A pod's ports are its network's: its containers' together, Compose's service (a sidecar joins its network and has none).
  const k8sPorts = new Set((k8s.podPorts ?? list(c.ports)).map((p) => Number(p.containerPort)));
  const composePorts = new Set([...(Array.isArray(svc.expose) ? svc.expose.map((p: unknown) => Number(String(p).split('/')[0])) : []), ...list(svc.ports).map((p) => Number(p.target))]);
  const same = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));
  const joinsNetwork = k8s.podPorts === null && String(svc.network_mode ?? '').startsWith('service:');
  if (!joinsNetwork && !same(k8sPorts, composePorts)) report('parity/ports', `${service}Compose exposes ${[...composePorts].join(', ') || 'no port'} but Kubernetes declares ${[...k8sPorts].join(', ') || 'none'}; keep the spec's ports the one source of both`, ['expose']);
  const k8sHealth = isObj(c.readinessProbe) || isObj(c.livenessProbe);
  const composeHealth = (isObj(svc.healthcheck) && svc.healthcheck.disable !== true) || outsideProbe(isObj(svc.labels) ? svc.labels : null) !== null;
  if (k8sHealth !== composeHealth) report('parity/health', `${service}${k8sHealth ? 'Kubernetes has probes but Compose has no healthcheck' : 'Compose has a healthcheck but Kubernetes has no probes'}; set health in the spec for both`, ['healthcheck']);
  const k8sEnv = new Set([
    ...list(c.env).filter((e) => e.valueFrom === undefined).map((e) => String(e.name)),
    ...list(c.envFrom).flatMap((e) => (isObj(e.secretRef) ? (literalSecretEnv.get(String(e.secretRef.name)) ?? []) : [])),
  ]);
  const env = svc.environment;
  const composeEnv = new Set<string>(Array.isArray(env) ? env.map((e: unknown) => String(e).split('=')[0]) : isObj(env) ? Object.keys(env) : []);
  const onlyK8s = [...k8sEnv].filter((k) => !composeEnv.has(k));
  const onlyCompose = [...composeEnv].filter((k) => !k8sEnv.has(k));
  if (onlyK8s.length || onlyCompose.length) {
    report('parity/env', `${service}environment differs: ${[onlyK8s.length ? `only Kubernetes sets ${onlyK8s.join(', ')}` : '', onlyCompose.length ? `only Compose sets ${onlyCompose.join(', ')}` : ''].filter(Boolean).join('; ')}; set env in the spec`, ['environment']);
  }
  // Memory and scratch volumes (emptyDir, tmpfs) are each platform's own; a config file is a Compose `configs` entry and a
  // mounted ConfigMap; a device is a Compose `devices` entry and, on Kubernetes, a hostPath mount or a device plugin's resource: not a mount.
  const devices = new Set([...list(svc.devices).map((d) => String(d.target ?? d.source)), ...(Array.isArray(svc.devices) ? svc.devices.filter((d: unknown) => typeof d === 'string').map((d: string) => d.split(':')[1] ?? d) : [])]);
  const emptyDirs = new Set(list(pod.volumes).filter((v) => isObj(v.emptyDir)).map((v) => v.name));
  const k8sMounts = new Set(list(c.volumeMounts).filter((m) => !emptyDirs.has(m.name) && !devices.has(String(m.mountPath))).map((m) => String(m.mountPath)));
  // A scratch volume (homelab.scratch) is the Compose form of an emptyDir that a pod's containers share.
  const composeMounts = new Set([...list(svc.volumes).filter((v) => v.type !== 'tmpfs' && !scratch.has(String(v.source))).map((v) => String(v.target)), ...list(svc.configs).map((cfg) => String(cfg.target))]);
  const onlyKm = [...k8sMounts].filter((m) => !composeMounts.has(m));
  const onlyCm = [...composeMounts].filter((m) => !k8sMounts.has(m));
  if (onlyKm.length || onlyCm.length) {
    report('parity/volumes', `${service}mounts differ: ${[onlyKm.length ? `only Kubernetes mounts ${onlyKm.join(', ')}` : '', onlyCm.length ? `only Compose mounts ${onlyCm.join(', ')}` : ''].filter(Boolean).join('; ')}; declare volumes in the spec`, ['volumes']);
  }
}

/** The folders in a folder, sorted; listed once per validate run (listing.ts). */
function listDirs(dir: string): string[] {
  return (entriesOf(dir) ?? []).filter((e) => e.dir).map((e) => e.name);
}
