import { parseYamlDocument } from '../spec/io';
import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { CATALOG } from '../component/catalog';
import { findException, type PolicyException } from '../project/exceptions';
import { type FileKind, projectOfPath } from './classify';
import { checkSet, type SetContext } from './consistency';
import { privateKeyOffsets } from './credentials';
import { entriesOf } from './listing';
import type { Finding } from './findings';
import { type Issue, isObj, type K8sObject, type Obj, type PolicySubject, WORKLOAD_KINDS } from './objects';
import { composePolicy, kubernetesPolicy } from './policy';
import { isPolicyRule, type RuleClass } from './rules';
import { checkKubernetes, isList, schemaIssues } from './schema-check';
import { perRun } from './run-memo';
import { SchemaRegistry } from './schemas';
import { checkSchema, type SchemaName } from '../spec/schema';
import { type DocPath, type FileBytes, finding, LIMITS, lineColAt, Locator, parseYaml, readText, type SourceFile } from './source';

export type CheckClass = RuleClass;
/** The offline checks, all on by default. `server` is not one: it asks a cluster, only with `--server-dry-run`. */
export const ALL_CHECKS: readonly CheckClass[] = ['parse', 'schema', 'render', 'consistency', 'policy'];

export interface EngineOptions {
  /** The workspace root (holds homelab.yaml), or null outside a homelab workspace. */
  workspaceRoot: string | null;
  /** Which classes of checks run (parse always does). */
  checks?: ReadonlySet<CheckClass>;
  /**
   * Keep every parsed document after its file is checked (default). The standalone command
   * turns it off when nothing will be rendered: only the objects set checks need are kept, so
   * 10,000 documents do not all stay on the heap.
   */
  retainDocs?: boolean;
  maxFileBytes?: number;
  /** The files the project's check has read already (validate/project.ts): not read again. */
  bytes?: FileBytes;
}

/** A source file with its absolute path, as the engine keeps it. */
export interface Source extends SourceFile {
  abs: string;
  /** Rendered output: where its findings are mapped back to. */
  rendered?: { fallback: Source; candidates: K8sObject[] };
}

/**
 * The validation engine: parse -> schema -> policy per file, consistency per set of objects,
 * rendered output checked like source and mapped back to source lines. It collects findings;
 * it never throws for bad input.
 */
export class Engine {
  readonly findings: Finding[] = [];
  files = 0;
  documents = 0;
  readonly schemas: SchemaRegistry;
  readonly checks: ReadonlySet<CheckClass>;
  readonly locator = new Locator();
  private readonly disabled = new Map<string, Map<string, string>>();
  /** The policy exceptions of each app checked (its spec's opt-ins), by `applications/<name>`. */
  private readonly appExceptions = new Map<string, PolicyException[]>();
  private storeNames: Set<string> | null | undefined;
  private readonly patchFiles = new Map<string, Set<string>>();
  /** Every file parsed in this run, by absolute path. */
  readonly loaded = new Map<string, Source>();

  constructor(readonly options: EngineOptions) {
    this.schemas = new SchemaRegistry(options.workspaceRoot, (problem) => this.report(finding(problem.file, 'schema/custom-invalid', problem.message)));
    this.checks = options.checks ?? new Set(ALL_CHECKS);
  }

  has(check: CheckClass): boolean {
    return this.checks.has(check);
  }

  /** Adds a finding, unless it is a policy rule the owning app's spec turns off. */
  report(f: Finding | null, abs?: string): void {
    if (!f) return;
    if (isPolicyRule(f.rule)) {
      if (!this.has('policy')) return;
      if (abs && this.disabledRules(abs).has(f.rule)) return;
    }
    this.findings.push(f);
  }

  /** Policy rules an app's spec turns off (`policy.disable`), by the file's owner. */
  disabledRules(abs: string): ReadonlyMap<string, string> {
    const root = this.options.workspaceRoot;
    if (!root) return NONE_DISABLED;
    const owner = projectOfPath(path.relative(root, abs).split(path.sep).join('/'));
    if (!owner) return NONE_DISABLED;
    const key = `${owner.layer}/${owner.name}`;
    let rules = this.disabled.get(key);
    if (!rules) {
      rules = new Map();
      try {
        const spec = jsyaml.load(fs.readFileSync(path.join(root, owner.layer, 'specs', `${owner.name}.yaml`), 'utf8')) as Obj;
        for (const d of Array.isArray(spec?.policy?.disable) ? spec.policy.disable : []) {
          if (isObj(d) && typeof d.rule === 'string' && typeof d.reason === 'string' && d.reason.trim() !== '') rules.set(d.rule, d.reason);
        }
      } catch {
        // An unreadable spec disables nothing; its own validation reports it.
      }
      this.disabled.set(key, rules);
    }
    return rules;
  }

  /** Reads and parses a YAML file; a file that cannot be parsed is one finding and null. */
  load(abs: string, label: string, compose = false): Source | null {
    this.files++;
    const text = readText(abs, label, this.options.maxFileBytes ?? LIMITS.maxFileBytes, this.options.bytes);
    if (typeof text !== 'string') {
      this.report(text);
      return null;
    }
    const parsed = parseYaml(text, label, compose);
    if ('rule' in parsed) {
      this.report(parsed);
      return null;
    }
    this.documents += parsed.docs.filter((d) => d !== null && d !== undefined).length;
    if (this.has('policy')) {
      for (const offset of privateKeyOffsets(text)) {
        const { line, col } = lineColAt(text, offset);
        this.report(finding(label, 'policy/private-key', 'a PEM private key block is committed here; move the key to the secret store and delete it from git history', line, col), abs);
      }
    }
    const src: Source = { ...parsed, abs };
    this.loaded.set(abs, src);
    return src;
  }

  /**
   * A file that is not YAML (a runbook, an env file, a .pem): only searched for private keys.
   * Binary, oversized or non-UTF-8 files are skipped quietly — they are not ours to parse.
   */
  scanText(abs: string, label: string): void {
    if (!this.has('policy') || BINARY_EXT.test(abs)) return;
    const text = readText(abs, label, this.options.maxFileBytes ?? LIMITS.maxFileBytes, this.options.bytes);
    if (typeof text !== 'string') return;
    this.files++;
    for (const offset of privateKeyOffsets(text)) {
      const { line, col } = lineColAt(text, offset);
      this.report(finding(label, 'policy/private-key', 'a PEM private key block is committed here; move the key to the secret store and delete it from git history', line, col), abs);
    }
  }

  /** Gives an issue its line: in its source, or, for rendered output, in the source object it came from. */
  resolve(issue: Issue): void {
    const src = issue.target.source as Source;
    const fullPath = [...issue.target.base, ...issue.path];
    if (src.rendered) {
      const { kind, metadata } = issue.target.obj;
      // Between equal matches, a file of the overlay that rendered the object (prod's own generated
      // files for prod's output) beats one of another overlay that renders an object of the same name.
      const overlayDir = path.dirname(src.rendered.fallback.abs) + path.sep;
      const own = (c: K8sObject) => (c.source as Source).abs?.startsWith(overlayDir) ?? false;
      let best: { t: K8sObject; line: number; col: number; depth: number } | null = null;
      for (const c of src.rendered.candidates) {
        if (c.obj.kind !== kind || c.obj.metadata?.name !== metadata?.name) continue;
        const at = this.locator.locate(c.source, c.doc, [...c.base, ...issue.path], issue.key);
        const better =
          !best || at.depth > best.depth || (at.depth === best.depth && ((best.t.patch && !c.patch) || (best.t.patch === c.patch && own(c) && !own(best.t))));
        if (better) best = { t: c, ...at };
      }
      if (best) {
        const s = best.t.source as Source;
        this.report(this.withException({ file: s.file, line: best.line, col: best.col, rule: issue.rule, message: issue.message, severity: severityFor(issue.rule) }, s.abs, issue.about), s.abs);
      } else {
        const fb = src.rendered.fallback;
        this.report(this.withException({ file: fb.file, line: 1, col: 1, rule: issue.rule, message: `${issue.message} (in the rendered output)`, severity: severityFor(issue.rule) }, fb.abs, issue.about), fb.abs);
      }
      return;
    }
    const at = this.locator.locate(src, issue.target.doc, fullPath, issue.key);
    this.report(this.withException({ file: src.file, line: at.line, col: at.col, rule: issue.rule, message: issue.message, severity: severityFor(issue.rule) }, src.abs, issue.about), src.abs);
  }

  /** Records the policy exceptions of an app (app/steps/exceptions.ts: its spec's opt-ins), for the findings on its files. */
  allow(app: string, exceptions: PolicyException[]): void {
    this.appExceptions.set(`applications/${app}`, exceptions);
  }

  /**
   * A policy finding the owning project allows for its service stays visible: a warning that
   * quotes the reason and where it is recorded, the same in both front doors. A catalog
   * component's exceptions (`policyExceptions` in tools/homelab/src/component/catalog.ts) cover
   * its Compose services; an app's (allow) cover each service on both platforms. A rule that
   * does not apply to the service (notApplicable), or recorded by homelab for a service it adds
   * itself (quiet: the scheduler, the backup movers), is not reported at all.
   */
  private withException(f: Finding, abs: string, about: PolicySubject | undefined): Finding | null {
    const root = this.options.workspaceRoot;
    if (!root || !about || !isPolicyRule(f.rule)) return f;
    const owner = projectOfPath(path.relative(root, abs).split(path.sep).join('/'), (name) => (this.appExceptions.has(`applications/${name}`) ? 'applications' : 'infrastructure'));
    if (!owner) return f;
    const catalog = owner.layer === 'infrastructure' && Object.hasOwn(CATALOG, owner.name) ? CATALOG[owner.name as keyof typeof CATALOG].policyExceptions : undefined;
    // An app's init container or sidecar is covered by the exceptions of its Compose service, `<service>-<container>`.
    const service = !catalog && about.pod !== undefined ? `${about.pod}-${about.service}` : about.service;
    const allowed = findException(catalog ?? this.appExceptions.get(`${owner.layer}/${owner.name}`) ?? [], service, f.rule, about.subject);
    if (!allowed) return f;
    if (allowed.notApplicable || allowed.quiet) return null;
    return { ...f, severity: 'warning', message: `${f.message.replace(/;[^;]*$/, '')}: allowed by ${allowed.by ?? `the catalog for ${owner.name}`} (${allowed.reason})` };
  }

  /** The Kubernetes objects of a parsed file; `List` items one by one. Non-objects are findings. */
  objectsOf(src: Source, patch: boolean): K8sObject[] {
    const out: K8sObject[] = [];
    src.docs.forEach((doc, i) => {
      if (doc === null || doc === undefined) return;
      if (!isObj(doc)) {
        const at = this.locator.locate(src, i, []);
        this.report(finding(src.file, 'parse/not-an-object', `document ${i + 1} is a ${Array.isArray(doc) ? 'list' : typeof doc}, not a Kubernetes object; make it a mapping with apiVersion and kind`, at.line, at.col), src.abs);
        return;
      }
      if (isList(doc)) {
        (doc.items as unknown[]).forEach((item, j) => {
          if (isObj(item)) out.push({ obj: item, source: src, doc: i, base: ['items', j], patch });
          else this.resolve({ rule: 'parse/not-an-object', message: `item ${j} of the ${doc.kind} is not an object; make it a Kubernetes object`, target: { obj: doc, source: src, doc: i, base: [], patch }, path: ['items', j] });
        });
        return;
      }
      out.push({ obj: doc, source: src, doc: i, base: [], patch });
    });
    return out;
  }

  /** Schema and policy checks of objects. */
  checkObjects(objects: K8sObject[], options: { policy: boolean }): void {
    for (const t of objects) {
      if (this.has('schema')) for (const issue of checkKubernetes(t, this.schemas)) this.resolve(issue);
      if (options.policy && this.has('policy') && !t.patch) for (const issue of kubernetesPolicy(t)) this.resolve(issue);
    }
  }

  /** A Kubernetes manifest file: parse, schema, policy. Returns its objects for set checks. */
  checkKubernetesFile(abs: string, label: string, options: { policy?: boolean } = {}): K8sObject[] {
    const src = this.load(abs, label);
    if (!src) return [];
    const base = path.basename(abs);
    const isKustomization = /^kustomization\.ya?ml$/i.test(base);
    if (isKustomization) {
      src.docs = src.docs.map((d) => (isObj(d) && d.kind === undefined && d.apiVersion === undefined ? { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...d } : d));
    }
    const objects = this.objectsOf(src, this.isPatch(abs));
    this.checkObjects(objects, { policy: options.policy ?? true });
    if (this.options.retainDocs === false && !isKustomization) {
      // The parsed documents are no longer needed here, nor the positions of those no set check looks at.
      src.docs = [];
      const kept = objects.filter((t) => SET_KINDS.has(t.obj.kind));
      src.positions?.retainOnly(new Set(kept.map((t) => t.doc)));
      return kept;
    }
    return objects;
  }

  /** Is this file a patch of a kustomization beside (or above) it? Patches are partial objects. */
  isPatch(abs: string): boolean {
    if (/(^|[-_.])patch(es)?([-_.]|$)/i.test(path.basename(abs).replace(/\.ya?ml$/, ''))) return true;
    const dir = path.dirname(abs);
    let patches = this.patchFiles.get(dir);
    if (!patches) {
      patches = new Set();
      for (const name of ['kustomization.yaml', 'kustomization.yml']) {
        const k = path.join(dir, name);
        const text = this.textIfThere(k);
        if (text === null) continue;
        try {
          const doc = jsyaml.load(text) as Obj;
          const entries: unknown[] = [...(Array.isArray(doc?.patches) ? doc.patches.map((p: Obj) => p?.path) : []), ...(Array.isArray(doc?.patchesStrategicMerge) ? doc.patchesStrategicMerge : [])];
          for (const e of entries) if (typeof e === 'string') patches.add(path.resolve(dir, e));
        } catch {
          // The kustomization's own check reports it.
        }
      }
      this.patchFiles.set(dir, patches);
    }
    return patches.has(abs);
  }

  /** A file's text, or null when it is not there (or cannot be read): through the project's bytes when it has them, so a file is read once. */
  textIfThere(abs: string): string | null {
    if (!this.options.bytes) {
      try {
        return fs.readFileSync(abs, 'utf8');
      } catch {
        return null;
      }
    }
    return this.options.bytes.text(abs);
  }

  /** A Compose file: parse and schema (policy only on merged output, or when asked). */
  checkComposeFile(abs: string, label: string, options: { policy?: boolean } = {}): Source | null {
    const src = this.load(abs, label, true);
    if (!src) return null;
    src.docs.forEach((doc, i) => {
      if (doc === null || doc === undefined) return;
      const target: K8sObject = { obj: isObj(doc) ? doc : {}, source: src, doc: i, base: [], patch: false };
      if (!isObj(doc)) {
        this.resolve({ rule: 'parse/not-an-object', message: 'a Compose file must be a mapping (services:, volumes:, …)', target, path: [] });
        return;
      }
      if (this.has('schema')) {
        const validate = this.schemas.compose();
        if (!validate(doc)) for (const issue of schemaIssues(validate.errors ?? [], target, 'Compose file')) this.resolve(issue);
      }
      if (options.policy) for (const p of composePolicy(doc)) this.resolve({ ...p, target });
    });
    return src;
  }

  /** An app spec, homelab.yaml, a component spec or a secret store spec against its schema. */
  checkSpecFile(abs: string, label: string, kind: SpecKind): Source | null {
    const src = this.load(abs, label);
    if (!src) return null;
    const docs = src.docs.filter((d) => d !== null && d !== undefined);
    const target: K8sObject = { obj: {}, source: src, doc: 0, base: [], patch: false };
    if (docs.length !== 1 || !isObj(docs[0])) {
      this.resolve({ rule: 'spec/invalid', message: `${kind === 'workspace' ? 'homelab.yaml' : 'a spec'} must hold exactly one YAML mapping; keep one document`, target, path: [] });
      return src;
    }
    if (!this.has('schema')) return src;
    // homelab reads its specs with the yaml package (YAML 1.2 core, spec/io.ts), which differs from
    // js-yaml on a few plain scalars (js-yaml reads `0b101` as the number 5): judge the document
    // homelab reads, so validate never refuses a spec that renders, nor passes one that does not.
    const doc = asHomelabReadsIt(src.text, label) ?? docs[0];
    // The problems in the words nx g and nx sync use (spec/problems.ts), each at its key or value.
    for (const p of checkSchema(SPEC_SCHEMAS[kind], doc)) {
      this.resolve({ rule: p.rule, message: p.message, target: { ...target, obj: doc as Obj, doc: src.docs.indexOf(docs[0]) }, path: p.path, key: p.key });
    }
    return src;
  }

  /** A file checked for YAML syntax only (a Helm values file, a Compose config file): no schema is known for it. */
  checkYamlFile(abs: string, label: string): Source | null {
    return this.load(abs, label);
  }

  /** A JSON schema under schemas/custom: it must compile, as a document of its kind would need it to. */
  checkCustomSchemaFile(rel: string): void {
    this.files++;
    this.schemas.checkCustom(rel);
  }

  /** Checks one file by its kind (classify.ts); returns its Kubernetes objects, for set checks. */
  checkFile(abs: string, label: string, kind: FileKind, options: { policy?: boolean; composePolicy?: boolean } = {}): { objects: K8sObject[]; compose?: Source } {
    switch (kind) {
      case 'skip':
        this.scanText(abs, label);
        return { objects: [] };
      case 'kubernetes':
        return { objects: this.checkKubernetesFile(abs, label, { policy: options.policy }) };
      case 'compose': {
        const compose = this.checkComposeFile(abs, label, { policy: options.composePolicy });
        return { objects: [], compose: compose ?? undefined };
      }
      case 'compose-config':
      case 'helm-values':
        this.checkYamlFile(abs, label);
        return { objects: [] };
      case 'custom-schema':
        this.checkCustomSchemaFile(label);
        return { objects: [] };
      default:
        this.checkSpecFile(abs, label, kind);
        return { objects: [] };
    }
  }

  /**
   * Rendered Kubernetes output (a kustomize build): every object schema- and policy-checked,
   * the set checked for consistency, findings mapped back to the source objects.
   */
  checkRenderedKubernetes(rendered: { output: string; json?: true }, fallback: Source, candidates: K8sObject[], ctx: SetContext): K8sObject[] {
    const parsed = rendered.json ? renderedObjects(rendered.output, `${fallback.file} (rendered)`) : parseYaml(rendered.output, `${fallback.file} (rendered)`);
    if ('rule' in parsed) {
      this.report({ ...parsed, file: fallback.file }, fallback.abs);
      return [];
    }
    const src: Source = { ...parsed, abs: fallback.abs, rendered: { fallback, candidates } };
    const objects = this.objectsOf(src, false);
    this.checkObjects(objects, { policy: true });
    if (this.has('consistency') || this.has('policy')) for (const issue of checkSet(objects, ctx)) this.resolve(issue);
    return objects;
  }

  /** Merged Compose output: schema and policy, mapped back to the files merged (the last that has the path wins). */
  /** `output`: `docker compose config`'s text, or the same model merged in process (compose-merge.ts). */
  checkRenderedCompose(output: string | Obj, sources: Source[], fallback: Source): Obj | null {
    let doc: unknown = output;
    try {
      if (typeof output === 'string') doc = jsyaml.load(output);
    } catch {
      return null;
    }
    if (!isObj(doc)) return null;
    const issues = this.has('policy') ? composePolicy(doc) : [];
    for (const issue of issues) this.reportComposeIssue(issue.rule, issue.message, issue.path, sources, fallback, issue.about, doc);
    return doc;
  }

  /** `merged`: the merged document `p` is a path of, so that a list item merged by its target is found in the file that has it. */
  reportComposeIssue(rule: string, message: string, p: DocPath, sources: Source[], fallback: Source, about?: PolicySubject, merged?: Obj): void {
    let best: { s: Source; line: number; col: number; depth: number } | null = null;
    for (const s of sources) {
      const path = merged ? composeSourcePath(merged, s.docs[0], p) : p;
      if (path === null) continue;
      const at = this.locator.locate(s, 0, path);
      // Deepest match wins; a full match in a later file wins a tie (Compose merges later files over earlier ones).
      if (!best || at.depth > best.depth || (at.depth === best.depth && at.depth === p.length)) best = { s, ...at };
    }
    const s = best?.s ?? fallback;
    this.report(this.withException({ file: s.file, line: best?.line ?? 1, col: best?.col ?? 1, rule, message, severity: severityFor(rule) }, s.abs, about), s.abs);
  }

  /** Names of the secret stores under platform/secrets/stores (null outside a workspace). */
  stores(): Set<string> | null {
    if (this.storeNames !== undefined) return this.storeNames;
    const root = this.options.workspaceRoot;
    if (!root) return (this.storeNames = null);
    // Read once per validate run, not once per project (run-memo.ts); nobody adds to the set.
    return (this.storeNames = perRun(`stores:${root}`, () => {
      const names = new Set<string>();
      for (const file of walkYaml(path.join(root, 'platform/secrets/stores'))) {
        try {
          for (const doc of jsyaml.loadAll(fs.readFileSync(file, 'utf8')) as Obj[]) {
            if (isObj(doc) && /SecretStore$/.test(String(doc.kind)) && typeof doc.metadata?.name === 'string') names.add(doc.metadata.name);
          }
        } catch {
          // A broken store file is reported when it is validated itself.
        }
      }
      return names;
    }));
  }
}

/**
 * kustomize-batch's `--json` body (one JSON array of the overlay's objects) as a parsed source:
 * the documents `kubectl kustomize`'s YAML holds, without a YAML parse. Findings on rendered
 * objects are placed in their source files (resolve), never in this text, so it needs no
 * positions. Text that is not such an array is read as YAML, as any other output.
 */
function renderedObjects(output: string, file: string): SourceFile | Finding {
  let docs: unknown;
  try {
    docs = JSON.parse(output);
  } catch {
    return parseYaml(output, file);
  }
  return Array.isArray(docs) ? { file, text: output, docs } : parseYaml(output, file);
}

type SpecKind = 'app-spec' | 'workspace' | 'infra-spec' | 'store-spec';

/** A spec's one document as spec/io.ts reads it, or undefined where that parse fails (js-yaml's findings stand). */
function asHomelabReadsIt(text: string, label: string): unknown {
  try {
    return parseYamlDocument(text, label);
  } catch {
    return undefined;
  }
}

/** The schema of each kind of spec (spec/schema.ts). */
const SPEC_SCHEMAS: Record<SpecKind, SchemaName> = { 'app-spec': 'app', workspace: 'workspace', 'infra-spec': 'infra', 'store-spec': 'secret-store' };

/** Kinds the consistency checks of a set look at: other objects need not be kept for them. */
/**
 * The path of a value of a merged Compose document in one of the files merged. Compose merges a
 * service's volumes, configs and secrets by their target, so the merged list's i-th item is, in a
 * file, the item with the same target, not its i-th: null when the file has no such item (it came
 * from another file). Other paths are the same in every file.
 * @example composeSourcePath({ v: [{ target: '/a' }, { target: '/b' }] }, { v: [{ target: '/b' }] }, ['v', 1]) // ['v', 0]
 */
export function composeSourcePath(merged: unknown, source: unknown, p: DocPath): DocPath | null {
  const out: DocPath = [];
  let m: unknown = merged;
  let s: unknown = source;
  const at = (v: unknown, seg: string | number): unknown => (Array.isArray(v) || isObj(v) ? (v as Record<string | number, unknown>)[seg] : undefined);
  for (const seg of p) {
    const key = typeof seg === 'number' && Array.isArray(m) && Array.isArray(s) ? mergeTarget(m[seg]) : null;
    if (key !== null) {
      const i = (s as unknown[]).findIndex((item) => mergeTarget(item) === key);
      if (i < 0) return null;
      out.push(i);
      m = at(m, seg);
      s = at(s, i);
      continue;
    }
    out.push(seg);
    m = at(m, seg);
    s = at(s, seg);
  }
  return out;
}

/** What Compose merges a list item by: the target of a volume, config or secret (long or short syntax); null for other items. */
function mergeTarget(item: unknown): string | null {
  if (isObj(item) && typeof item.target === 'string') return item.target;
  if (typeof item === 'string' && item.includes(':')) return item.split(':')[1];
  return null;
}

/** What disabledRules gives a file no app owns: one map for all (a new one a finding was 3.5 MB of 16,670 findings' garbage). */
const NONE_DISABLED: ReadonlyMap<string, string> = new Map();

const SET_KINDS = new Set([...WORKLOAD_KINDS, 'Service', 'ServiceMonitor', 'PersistentVolumeClaim', 'ReplicationSource', 'ReplicationDestination', 'ExternalSecret', 'SecretStore', 'Secret', 'NetworkPolicy']);

function severityFor(rule: string): 'error' | 'warning' {
  return finding('', rule, '').severity;
}

const BINARY_EXT = /\.(png|jpe?g|gif|ico|webp|pdf|zip|gz|tgz|xz|bz2|zst|woff2?|ttf|otf|mp[34]|wasm|so|dylib|exe|bin|jar|class)$/i;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage']);

/** Every .yaml/.yml file below a folder (dot-folders, node_modules and dist skipped), sorted. */
export function walkYaml(dir: string): string[] {
  return walkFiles(dir).filter((f) => /\.ya?ml$/.test(f));
}

/** Every file below a folder (dot-folders, node_modules and dist skipped; dot-files such as .env.example included), sorted. */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  // Listed once per validate run (listing.ts): the drift check and the checks list the same folders.
  for (const e of entriesOf(dir) ?? []) {
    const p = path.join(dir, e.name);
    if (e.dir) {
      if (!e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) out.push(...walkFiles(p));
    } else if (e.file) out.push(p);
  }
  return out;
}
