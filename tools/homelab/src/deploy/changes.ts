import YAML from 'yaml';
import { ensureRendered } from '../build/dist';
import { type ComposeModel, type ServicePlan, describePlan, parseCompose } from './compose-plan';
import { compareWithEngine, CONFIG_DIGEST_LABEL, type DeployContext } from './compose';
import { type ContainerInfo, Docker } from './docker';
import { HomelabError } from '../errors';
import { DeployError } from './errors';
import { kubectlCommands, Kubectl, type Manifest, parseManifests, prepareManifests, pruneSelection, stringifyManifests } from './kubernetes';
import { label, type DeployRequest } from './request';
import { makeMasker, SecretScratch } from './secrets';
import { StateDir } from './state';

/**
 * `nx run <project>:diff --env E`: what a deploy would change against what runs now.
 *
 * The exit code follows `git diff --exit-code`: 0 when a deploy would change nothing, 1 when it
 * would change something (or may: a service that reads secret values, with no earlier deploy
 * recorded on this machine to compare its definition with), 2 on errors (DeployError). Jobs,
 * which every deploy of a changed stack (Compose) or every deploy (Kubernetes) runs again, are
 * listed but do not count as a change on their own.
 */
export async function runDiff(req: DeployRequest, ctx: DeployContext): Promise<number> {
  const who = label(req);
  try {
    return await (req.platform === 'compose' ? composeDiff(req, ctx) : kubernetesDiff(req, ctx));
  } catch (error) {
    // Every failure of a diff is an error (exit 2), never "something would change" (1).
    if (!(error instanceof HomelabError)) throw error;
    throw new DeployError(error.message.startsWith(who) ? error.message : `${who}: ${error.message}`, 2);
  }
}

/** A service's settings as a deploy would run them and as its container runs them, in comparable words. */
interface Settings {
  image: string;
  env: Map<string, string>;
  ports: string[];
  mounts: string[];
  command?: string[];
  configDigest?: string;
}

/**
 * Compose: the plan `deploy --dry-run` makes (compareWithEngine: config hashes and image IDs
 * against the containers of the project, no secret value read), one line per service: created,
 * recreated with why (image, environment names with non-secret values, ports, volumes, command,
 * config files), scaled, removed, or left as it is.
 */
async function composeDiff(req: DeployRequest, ctx: DeployContext): Promise<number> {
  const { report } = ctx;
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'compose');
  const model = parseCompose(rendered.text, rendered.relative);
  const docker = new Docker(ctx.tools, req.settings.compose?.context);
  await docker.versions(docker.where(ctx.env));
  const previousText = new StateDir(req.root, req.env, req.project).read('compose.yaml');
  const scratch = new SecretScratch(ctx.tmpDir);
  try {
    const { plan, unknown, resolved } = await compareWithEngine(req, docker, scratch, rendered, model, previousText, report, true);
    report.line(`diff ${req.project} (${req.env}) on compose: ${rendered.relative} against compose project ${model.project} at ${docker.where(ctx.env)}`);
    const desired = desiredSettings(resolved ?? '', model);
    const secret = secretNames(model);
    const previousEnv = previousText === null ? null : previousEnvironment(previousText);
    let changes = plan.orphans.length > 0;
    for (const s of plan.services) {
      const name = s.service.name;
      if (unknown.has(name) && s.why === 'configuration changed') {
        changes = true;
        report.line(`? ${name}: may be recreated: it reads secret values, and no earlier deploy is recorded here to compare its definition with (a secret value is never read by diff)`);
        continue;
      }
      // A job runs again with every deploy that changes the stack: that alone is no change.
      if (s.action === 'run' && s.why.startsWith('every deploy')) {
        report.line(`  ${name}: job, runs again with the deploy (${s.why})`);
        continue;
      }
      if (s.action === 'unchanged') {
        report.line(`  ${describePlan(s)}`);
        continue;
      }
      changes = true;
      report.line(`${s.action === 'create' ? '+' : '~'} ${describePlan(s)}`);
      if (s.action === 'recreate' || s.action === 'recreate-stateful' || s.action === 'rolling') {
        const want = desired.get(name);
        if (want && s.current[0]) for (const line of await whyRecreated(docker, s, want, secret, model.project, previousEnv?.get(name) ?? null)) report.detail(line);
      }
    }
    for (const o of plan.orphans) report.line(`- ${o.name}: remove (service ${o.service} is no longer in the file)`);
    report.line(changes ? `a deploy would change ${req.project} in ${req.env} (exit 1)` : `${req.project} in ${req.env} runs what a deploy would run: nothing to change`);
    return changes ? 1 : 0;
  } finally {
    scratch.remove();
  }
}

/** The environment names each service of the last deploy recorded here set (`environment:` of its rendered file). */
function previousEnvironment(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  try {
    const doc = (YAML.parse(text) ?? {}) as { services?: Record<string, { environment?: Record<string, unknown> | string[] }> };
    for (const [name, s] of Object.entries(doc.services ?? {})) {
      const env = s?.environment;
      out.set(name, new Set(Array.isArray(env) ? env.map((e) => String(e).split('=')[0]) : Object.keys(env ?? {})));
    }
  } catch {
    // An unreadable record says nothing about removals.
  }
  return out;
}

/** The names of the secret keys of the app, and of the values derived from them (the database's URL): their values are never shown. */
function secretNames(model: ComposeModel): Set<string> {
  const names = new Set(model.meta.secrets.keys.map((k) => k.key));
  if (model.database) {
    names.add(model.database.password.key);
    for (const k of Object.values(model.database.env ?? {})) if (typeof k === 'string') names.add(k);
  }
  return names;
}

/** Each service's settings of `docker compose config` (the rendered file as a deploy resolves it, without secret values). */
export function desiredSettings(resolved: string, model: ComposeModel): Map<string, Settings> {
  const doc = (YAML.parse(resolved || '{}') ?? {}) as { services?: Record<string, ResolvedService> };
  const out = new Map<string, Settings>();
  for (const [name, s] of Object.entries(doc.services ?? {})) {
    const env = new Map<string, string>();
    for (const [k, v] of Object.entries(s.environment ?? {})) env.set(k, v === null || v === undefined ? '' : literal(String(v)));
    out.set(name, {
      image: s.image ?? '',
      env,
      ports: s.network_mode === 'host' ? [] : (s.ports ?? []).map((p) => describePort(p.host_ip, p.published === undefined ? undefined : String(p.published), String(p.target), p.protocol)).sort(),
      mounts: (s.volumes ?? []).map((v) => describeMount(v.type, v.type === 'volume' ? volumeName(v.source, model.project) : v.source, v.target, Boolean(v.read_only))).sort(),
      command: Array.isArray(s.command) ? s.command.map((c) => literal(String(c))) : undefined,
      configDigest: model.services.find((m) => m.name === name)?.configDigest,
    });
  }
  return out;
}

/** A value of `docker compose config` as the container gets it: Compose prints a `$` as `$$`, so that its output reads back the same. */
function literal(value: string): string {
  return value.replace(/\$\$/g, '$');
}

interface ResolvedService {
  image?: string;
  environment?: Record<string, unknown>;
  network_mode?: string;
  ports?: { host_ip?: string; published?: string | number; target: number | string; protocol?: string }[];
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  command?: unknown[];
}

/** A named volume of the project as the engine names it (`<project>_<name>`); an external one keeps its own name. */
function volumeName(source: string | undefined, project: string): string {
  return source === undefined ? '' : source.startsWith(`${project}_`) || source.includes('/') ? source : `${project}_${source}`;
}

function describePort(hostIp: string | undefined, published: string | undefined, target: string, protocol = 'tcp'): string {
  return `${hostIp ? `${hostIp}:` : ''}${published ?? ''}->${target}/${protocol}`;
}

function describeMount(type: string, source: string | undefined, target: string, readOnly: boolean): string {
  return `${type} ${source ?? ''} -> ${target}${readOnly ? ' (read-only)' : ''}`;
}

interface InspectedRun {
  Image: string;
  Config: { Image: string; Env?: string[] | null; Cmd?: string[] | null; Labels?: Record<string, string> | null };
  HostConfig?: { NetworkMode?: string; PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null };
  Mounts?: { Type: string; Name?: string; Source?: string; Destination: string; RW: boolean }[];
}

/**
 * Why a running container would be replaced, one line per difference: the image, each environment
 * variable (a secret key by name only; a value only when the spec renders it, so visible in git),
 * ports, volumes, the command, the config files. A difference the fields above do not show (a
 * setting Compose hashes that diff does not compare) is named as such.
 */
async function whyRecreated(docker: Docker, s: ServicePlan, want: Settings, secret: Set<string>, project: string, previousEnv: Set<string> | null): Promise<string[]> {
  const container: ContainerInfo = s.current[0];
  const raw = await docker.ok(['inspect', container.id], `docker inspect ${container.name}`);
  const [run] = JSON.parse(raw) as InspectedRun[];
  const lines: string[] = [];
  if (run.Config.Image !== want.image) lines.push(`image: ${run.Config.Image} -> ${want.image}`);
  else if (s.why.startsWith('image')) lines.push(`image: ${want.image} now names another image (${short(run.Image)} -> a newer one)`);
  const have = new Map((run.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  for (const [k, v] of [...want.env].sort(([a], [b]) => a.localeCompare(b))) {
    const old = have.get(k);
    if (old === v) continue;
    if (secret.has(k)) lines.push(`env ${k}: ${old === undefined ? 'added' : 'changed'} (a secret: value not shown)`);
    else if (old === undefined) lines.push(`env ${k}: added (${JSON.stringify(v)})`);
    else lines.push(`env ${k}: ${JSON.stringify(old)} -> ${JSON.stringify(v)}`);
  }
  // Removed: what the last deploy recorded here set and a deploy would no longer set (the engine and the image add variables of their own).
  for (const k of [...(previousEnv ?? [])].sort()) if (!want.env.has(k) && have.has(k)) lines.push(`env ${k}: removed`);
  const ports = run.HostConfig?.NetworkMode === 'host' ? [] : Object.entries(run.HostConfig?.PortBindings ?? {}).flatMap(([target, binds]) => (binds ?? []).map((b) => describePort(b.HostIp, b.HostPort, target.split('/')[0], target.split('/')[1]))).sort();
  for (const line of listChanges('port', ports, want.ports)) lines.push(line);
  const mounts = (run.Mounts ?? []).map((m) => describeMount(m.Type, m.Type === 'volume' ? m.Name : m.Source, m.Destination, !m.RW)).sort();
  for (const line of listChanges('volume', mounts, want.mounts.map((m) => m.replace(/^volume (\S+)/, (_x, n: string) => `volume ${volumeName(n, project)}`)))) lines.push(line);
  if (want.command && JSON.stringify(run.Config.Cmd ?? []) !== JSON.stringify(want.command)) lines.push(`command: ${JSON.stringify(run.Config.Cmd ?? [])} -> ${JSON.stringify(want.command)}`);
  if ((run.Config.Labels ?? {})[CONFIG_DIGEST_LABEL] !== want.configDigest && want.configDigest !== undefined) lines.push('config files: their content changed');
  if (lines.length === 0) lines.push('other settings: Compose\'s configuration hash differs in a setting diff does not compare (see `docker compose config`)');
  return lines;
}

function listChanges(what: string, before: string[], after: string[]): string[] {
  return [...before.filter((b) => !after.includes(b)).map((b) => `${what} removed: ${b}`), ...after.filter((a) => !before.includes(a)).map((a) => `${what} added: ${a}`)];
}

function short(id: string): string {
  return id.replace('sha256:', '').slice(0, 12);
}

/**
 * Kubernetes: `kubectl diff --server-side --field-manager=homelab` of the rendered overlay (as
 * deploy applies it: its labels and namespace) against the cluster of the environment's kube
 * context: the API server computes what an apply would change. Secret data is never printed
 * (maskSecretData), Jobs are left out (a deploy deletes and creates them again), and in the
 * direct mode the labelled objects a deploy would prune are listed.
 */
async function kubernetesDiff(req: DeployRequest, ctx: DeployContext): Promise<number> {
  const { report, tools } = ctx;
  const who = label(req);
  const rendered = ensureRendered(req.root, req.layer, req.project, req.env, 'kubernetes');
  const docs = parseManifests(rendered.text, rendered.relative);
  const namespace = req.kubernetes.namespace;
  const prepared = req.kubernetes.argocd ? withNamespace(docs, namespace) : prepareManifests(docs, { project: req.project, env: req.env, namespace });
  const kubectl = ctx.env.HOMELAB_KUBECTL || 'kubectl';
  const context = req.kubernetes.context ? ['--context', req.kubernetes.context] : [];
  report.line(`diff ${req.project} (${req.env}) on kubernetes: ${rendered.relative} against namespace ${namespace} (${req.kubernetes.context ? `context ${req.kubernetes.context}` : 'the current kube context'})`);
  const jobs = prepared.filter((d) => d.kind === 'Job');
  const applied = prepared.filter((d) => d.kind !== 'Job');
  // The server can only judge objects of a namespace that exists: before the first deploy, everything is new.
  if (!(await new Kubectl(ctx, req.kubernetes.context).namespaceExists(namespace, `${who}: kubectl get namespace ${namespace}`))) {
    report.line(`+ namespace ${namespace}: does not exist; a deploy would create it and every object of ${rendered.relative}:`);
    for (const d of prepared) report.line(`+ ${d.kind.toLowerCase()}/${d.metadata.name}${d.metadata.namespace ? ` in ${d.metadata.namespace}` : ''}: create`);
    report.line(`a deploy would change ${req.project} in ${req.env} (exit 1)`);
    return 1;
  }
  const result = await tools.run(kubectl, [...context, ...kubectlCommands.diff()], { input: stringifyManifests(applied), timeoutMs: 120_000 });
  if (result.code !== 0 && result.code !== 1) throw new DeployError(`${who}: kubectl diff failed: ${maskSecretData(tools.tail(result), makeMasker(renderedSecretValues(applied)))}`, 2);
  const mask = makeMasker(renderedSecretValues(applied));
  const shown = maskSecretData(result.stdout, mask);
  for (const line of shown.replace(/\n$/, '').split('\n')) if (line !== '') report.detail(line);
  let changes = result.code === 1;
  for (const j of jobs) report.line(`  job/${j.metadata.name}: deleted and created again by every deploy (not counted as a change)`);
  if (!req.kubernetes.argocd) {
    const kinds = [...new Set(applied.map((d) => `${d.apiVersion.includes('/') ? d.apiVersion.split('/')[0] : 'core'}/${d.apiVersion.includes('/') ? d.apiVersion.split('/')[1] : d.apiVersion}/${d.kind}`))].filter((k) => !/\/(PersistentVolumeClaim|Namespace)$/.test(k));
    const record = new StateDir(req.root, req.env, req.project).readJson<{ kinds?: string[] }>('kubernetes.json');
    const pruneKinds = [...new Set([...kinds, ...(record?.kinds ?? [])])].filter((k) => !/\/(PersistentVolumeClaim|Namespace)$/.test(k)).sort();
    const live = await new Kubectl(ctx, req.kubernetes.context).list(pruneKinds, { selector: `homelab.dev/app=${req.project},homelab.dev/environment=${req.env}` }, `${who}: kubectl get`);
    const stale = pruneSelection(live, prepared, pruneKinds);
    for (const s of stale) report.line(`- ${s.kind.toLowerCase()}/${s.name}${s.namespace ? ` in ${s.namespace}` : ''}: a deploy would delete it (no longer rendered)`);
    if (stale.length > 0) changes = true;
  }
  report.line(changes ? `a deploy would change ${req.project} in ${req.env} (exit 1)` : `${req.project} in ${req.env} matches what a deploy would apply: nothing to change`);
  return changes ? 1 : 0;
}

/** The objects with the environment's namespace where they have none (ArgoCD's destination), without deploy's labels: ArgoCD applies them. */
function withNamespace(docs: Manifest[], namespace: string): Manifest[] {
  return prepareManifests(docs, { project: '', env: '', namespace }).map((d, i) => {
    const { labels: _added, ...metadata } = d.metadata;
    return { ...d, metadata: docs[i].metadata.labels ? { ...metadata, labels: docs[i].metadata.labels } : metadata } as Manifest;
  });
}

/** The values of the rendered Secrets (data decoded, stringData as is): masked wherever they would appear. */
function renderedSecretValues(docs: Manifest[]): string[] {
  const values: string[] = [];
  for (const d of docs) {
    if (d.kind !== 'Secret') continue;
    for (const v of Object.values((d.data as Record<string, string>) ?? {})) values.push(String(v), Buffer.from(String(v), 'base64').toString('utf8'));
    for (const v of Object.values((d.stringData as Record<string, string>) ?? {})) values.push(String(v));
  }
  return values;
}

/**
 * A `kubectl diff` output with no Secret data in it: in each file of a Secret (kubectl names the
 * files `<version>.Secret.<namespace>.<name>`), every value under `data:` and `stringData:` becomes
 * `***` (kubectl masks data itself since 1.24, not what a block scalar or stringData spells), and
 * `mask` hides the rendered values wherever else they appear.
 */
export function maskSecretData(diff: string, mask: (text: string) => string = (t) => t): string {
  const out: string[] = [];
  let inSecret = false;
  let dataIndent = -1;
  let keyIndent = -1;
  for (const line of diff.split('\n')) {
    if (/^diff /.test(line)) {
      inSecret = /\.Secret\./.test(line);
      dataIndent = -1;
      out.push(line);
      continue;
    }
    if (!inSecret || /^(---|\+\+\+|@@) /.test(line)) {
      out.push(mask(line));
      continue;
    }
    const sign = line.slice(0, 1);
    const body = line.slice(1);
    const indent = body.length - body.trimStart().length;
    if (dataIndent >= 0 && body.trim() !== '' && indent <= dataIndent) dataIndent = -1;
    const section = /^(\s*)(data|stringData):\s*(.*)$/.exec(body);
    if (section) {
      dataIndent = section[1].length;
      keyIndent = -1;
      out.push(section[3] === '' || section[3] === '{}' ? mask(line) : `${sign}${section[1]}${section[2]}: ***`);
      continue;
    }
    if (dataIndent >= 0) {
      const entry = /^(\s*)([^:\s][^:]*):(.*)$/.exec(body);
      if (entry && (keyIndent < 0 || entry[1].length === keyIndent)) {
        keyIndent = entry[1].length;
        out.push(`${sign}${entry[1]}${entry[2]}: ***`);
      }
      // The lines of a block scalar's value, deeper than its key: dropped.
      continue;
    }
    out.push(mask(line));
  }
  return out.join('\n');
}
