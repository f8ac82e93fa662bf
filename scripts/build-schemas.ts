/**
 * Builds the strict schemas `homelab validate` checks Kubernetes and Compose files with, and
 * compiles them ahead of time (ajv standalone), so validation needs no network, no build
 * step and no schema compilation at run time. A maintainer's script: its output is committed,
 * and `npm ci` never needs Go.
 *
 *   npx tsx scripts/crds/fetch.ts && npx tsx scripts/build-schemas.ts   # rewrites tools/homelab/schemas/{kubernetes,compose}/
 *
 * Sources (scripts/crds/fetch.ts downloads them from the Go module proxy into a cache outside the
 * repository; this script runs the fetch first, which is instant once they are cached):
 * - Kubernetes core kinds: the OpenAPI v3 documents of k8s.io/kubernetes (api/openapi-spec/v3) at
 *   KUBERNETES.version, with every field the API has (`description` of a PriorityClass, the
 *   JSONSchemaProps of a CRD, `x-kubernetes-*` fields included).
 * - CRDs: every catalog CRD source at its pinned version (tools/homelab/src/component/catalog.ts,
 *   `crdSources()`), converted the way `homelab schemas add` converts a CRD (validate/crd.ts), with
 *   `metadata` checked against the real ObjectMeta. BUNDLED_CRD_KINDS lists the kinds bundled.
 * - Hand-written: tools/homelab/schemas/handwritten/kustomize.json (Kustomization, Component; no CRD exists).
 * - Compose: the compose-spec JSON schema that dclint 3.1.0 ships (MIT), fetched with `npm pack`,
 *   copied to tools/homelab/schemas/compose/compose-spec.json without its `$schema` line.
 *
 * Strict like `kubeconform -strict` (see tools/homelab/src/validate/strictify.ts): every object
 * schema that lists `properties` and says nothing about other keys gets `additionalProperties: false`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { crdSources } from '../tools/homelab/src/component/catalog';
import { readCrdFile } from '../tools/homelab/src/validate/crd';
import { strictify } from '../tools/homelab/src/validate/strictify';
import { fetchAll, type Fetched, KUBERNETES } from './crds/fetch';

const ROOT = path.resolve(__dirname, '..');
const SCHEMAS = path.join(ROOT, 'tools/homelab/schemas');
const OUT_K8S = path.join(SCHEMAS, 'kubernetes');
const OUT_COMPOSE = path.join(SCHEMAS, 'compose');
const HANDWRITTEN = path.join(SCHEMAS, 'handwritten');

/** The npm package the Compose schema is taken from, pinned. */
export const COMPOSE_SOURCE = 'dclint@3.1.0';

/** The Kubernetes source, as index.json and the docs name it. */
export const CORE_SOURCE = `${KUBERNETES.module}@${KUBERNETES.version}`;

/** Core kinds: apiVersion/kind -> definition id in the Kubernetes OpenAPI. */
const CORE_KINDS: Record<string, string> = Object.fromEntries(
  [
    ['v1', 'core', ['Pod', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'PersistentVolumeClaim', 'PersistentVolume', 'Namespace', 'Endpoints', 'LimitRange', 'ResourceQuota', 'ReplicationController', 'PodTemplate']],
    ['apps/v1', 'apps', ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision']],
    ['batch/v1', 'batch', ['Job', 'CronJob']],
    ['networking.k8s.io/v1', 'networking', ['Ingress', 'IngressClass', 'NetworkPolicy']],
    ['rbac.authorization.k8s.io/v1', 'rbac', ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']],
    ['policy/v1', 'policy', ['PodDisruptionBudget']],
    ['storage.k8s.io/v1', 'storage', ['StorageClass', 'CSIDriver', 'VolumeAttachment']],
    ['autoscaling/v2', 'autoscaling', ['HorizontalPodAutoscaler']],
    ['autoscaling/v1', 'autoscaling', ['HorizontalPodAutoscaler']],
    ['scheduling.k8s.io/v1', 'scheduling', ['PriorityClass']],
    ['coordination.k8s.io/v1', 'coordination', ['Lease']],
    ['discovery.k8s.io/v1', 'discovery', ['EndpointSlice']],
    ['apiextensions.k8s.io/v1', 'apiextensions', ['CustomResourceDefinition']],
    ['admissionregistration.k8s.io/v1', 'admissionregistration', ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']],
  ].flatMap(([apiVersion, group, kinds]) =>
    (kinds as string[]).map((kind) => {
      const version = (apiVersion as string).split('/').pop()!;
      const id =
        group === 'apiextensions'
          ? `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${kind}`
          : `io.k8s.api.${group}.${version}.${kind}`;
      return [`${apiVersion}/${kind}`, id];
    }),
  ),
);

/**
 * The CRD kinds bundled (`<group>/<version>/<Kind>`): every kind a generator emits and the ones
 * written beside them. Any other kind of the same CRDs is one `homelab schemas add` away (the
 * fetched files are in the cache). Big kinds each get their own module, loaded on first use.
 */
export const BUNDLED_CRD_KINDS: readonly string[] = [
  ...['Application', 'ApplicationSet', 'AppProject'].map((k) => `argoproj.io/v1alpha1/${k}`),
  ...['Certificate', 'CertificateRequest', 'Issuer', 'ClusterIssuer'].map((k) => `cert-manager.io/v1/${k}`),
  ...['Cluster', 'ScheduledBackup', 'Backup', 'Database', 'Pooler'].map((k) => `postgresql.cnpg.io/v1/${k}`),
  'barmancloud.cnpg.io/v1/ObjectStore',
  ...['ExternalSecret', 'SecretStore', 'ClusterSecretStore', 'ClusterExternalSecret', 'PushSecret'].map((k) => `external-secrets.io/v1${k === 'PushSecret' ? 'alpha1' : ''}/${k}`),
  ...['HTTPRoute', 'Gateway', 'GatewayClass', 'GRPCRoute'].map((k) => `gateway.networking.k8s.io/v1/${k}`),
  'gateway.networking.k8s.io/v1beta1/ReferenceGrant',
  ...['Schedule', 'Backup', 'Restore', 'Check', 'Prune'].map((k) => `k8up.io/v1/${k}`),
  ...['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'Probe'].map((k) => `monitoring.coreos.com/v1/${k}`),
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig',
  ...['IngressRoute', 'IngressRouteTCP', 'IngressRouteUDP', 'Middleware', 'MiddlewareTCP', 'TLSOption', 'TLSStore', 'TraefikService', 'ServersTransport', 'ServersTransportTCP'].map((k) => `traefik.io/v1alpha1/${k}`),
  ...['Schedule', 'Backup', 'Restore', 'BackupStorageLocation', 'VolumeSnapshotLocation'].map((k) => `velero.io/v1/${k}`),
  ...['ReplicationSource', 'ReplicationDestination'].map((k) => `volsync.backube/v1alpha1/${k}`),
];

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
/** Timestamps the API server reads `null` into (an unset time): `kubectl create --dry-run -o yaml` writes `creationTimestamp: null`. */
const NULLABLE_TIMES = ['io.k8s.apimachinery.pkg.apis.meta.v1.Time', 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime'];
/** Keywords that say nothing about validity: a lone `$ref` wrapped in `allOf` with only these beside it is the `$ref`. */
const ANNOTATIONS = new Set(['description', 'default', 'example', 'title']);

type Json = any;

function npmPack(spec: string, dir: string): string {
  const out = execFileSync('npm', ['pack', spec, '--pack-destination', dir, '--json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const file = JSON.parse(out)[0].filename as string;
  const dest = path.join(dir, file.replace(/\.tgz$/, ''));
  fs.mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['xzf', path.join(dir, file), '-C', dest]);
  return path.join(dest, 'package');
}

/**
 * One OpenAPI v3 schema of the Kubernetes API as a schema ajv resolves among the others:
 * `#/components/schemas/<id>` references become `<id>#`, and `allOf: [{$ref}]` (how v3 attaches a
 * description or default to a reference) becomes the reference. Field names are never touched.
 */
export function fromOpenApi(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(fromOpenApi);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string') out[k] = `${v.replace(/^#\/components\/schemas\//, '')}#`;
    else if (k === 'properties' || k === 'patternProperties') out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, sub]) => [p, fromOpenApi(sub)]));
    else if (k === 'enum' || k === 'required' || k === 'default' || k === 'example') out[k] = v;
    else out[k] = fromOpenApi(v);
  }
  if (Array.isArray(out.allOf) && out.allOf.length === 1 && typeof out.allOf[0]?.$ref === 'string' && Object.keys(out).every((k) => k === 'allOf' || ANNOTATIONS.has(k))) {
    return { $ref: out.allOf[0].$ref };
  }
  return out;
}

/**
 * Lets every optional field of a Kubernetes API schema be `null`, as the API server reads it (a
 * null field is an unset field) and as generated YAML writes an empty list (`ingress:`). Objects
 * already accept null (strictify); this covers the other types. Required fields stay non-null.
 */
export function nullableOptional(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(nullableOptional);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties') {
      const required = new Set(Array.isArray(schema.required) ? schema.required : []);
      out[k] = Object.fromEntries(
        Object.entries(v as Json).map(([p, sub]: [string, Json]) => {
          const inner = nullableOptional(sub);
          return [p, !required.has(p) && typeof inner?.type === 'string' ? { ...inner, nullable: true } : inner];
        }),
      );
    } else if (k === 'enum' || k === 'required' || k === 'default' || k === 'example') out[k] = v;
    else out[k] = nullableOptional(v);
  }
  return out;
}

/** Every schema of the Kubernetes OpenAPI v3 documents, by id (the documents repeat shared ones identically). */
function readOpenApi(dir: string): Record<string, Json> {
  const defs: Record<string, Json> = {};
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const [id, schema] of Object.entries(doc.components?.schemas ?? {})) defs[id] ??= nullableOptional(fromOpenApi(schema));
  }
  for (const id of NULLABLE_TIMES) defs[id] = { ...defs[id], nullable: true };
  return defs;
}

interface CrdKind {
  key: string;
  schema: Json;
  source: string;
}

/**
 * Every served version of every fetched CRD, converted by `homelab schemas add` itself (in a
 * throw-away workspace), with `metadata` pointing at the real ObjectMeta.
 */
function readCrds(fetched: Fetched): Map<string, CrdKind> {
  const kinds = new Map<string, CrdKind>();
  for (const source of fetched.sources) {
    for (const file of fs.readdirSync(source.dir).filter((f) => f.endsWith('.yaml')).sort()) {
      const stem = file.replace(/\.ya?ml$/, '');
      const inModule = source.paths.find((p) => path.basename(p).replace(/\.ya?ml$/, '') === stem) ?? `${source.paths[0]}/${file}`;
      for (const converted of readCrdFile(path.join(source.dir, file), file)) {
        const schema = structuredClone(converted.schema) as any;
        delete schema.$comment;
        schema.properties.metadata = { $ref: `${OBJECT_META}#` };
        const key = `${schema.properties.apiVersion.enum[0]}/${schema.properties.kind.enum[0]}`;
        kinds.set(key, { key, schema, source: `${source.module}@${source.version} ${inModule}` });
      }
    }
  }
  return kinds;
}

/**
 * Drops the `pattern`s JavaScript cannot compile: CRDs are validated by Go's regexp, whose
 * syntax (e.g. the `(?i)` flag) JavaScript lacks. The API server still checks them.
 */
export function dropGoOnlyPatterns(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(dropGoOnlyPatterns);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'pattern' && typeof v === 'string') {
      try {
        new RegExp(v, 'u');
        out[k] = v;
      } catch {
        // Go-only syntax: left to the API server.
      }
    } else if (k === 'enum' || k === 'required' || k === 'default' || k === 'example' || k === 'const') out[k] = v;
    else out[k] = dropGoOnlyPatterns(v);
  }
  return out;
}

/** Sub-schemas smaller than this (as JSON) stay inline: a function call costs more than the check. */
const SHARE_MIN_CHARS = 400;

/**
 * Gives every sub-schema that occurs more than once in `defs` (a CRD repeats the same pod
 * template or Application spec many times) one definition `shared.<hash>`, referenced from each
 * place: ajv then emits its validator once instead of once per occurrence. Expects strict schemas.
 */
export function shareRepeats(defs: Record<string, Json>): Record<string, Json> {
  const key = (s: Json) => JSON.stringify(s);
  const counts = new Map<string, number>();
  const schemaChildren = (s: Json, visit: (child: Json) => Json): Json => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
    const out: Json = { ...s };
    for (const k of ['properties', 'patternProperties', 'definitions']) {
      if (out[k] && typeof out[k] === 'object') out[k] = Object.fromEntries(Object.entries(out[k]).map(([n, sub]) => [n, visit(sub)]));
    }
    for (const k of ['additionalProperties', 'items', 'not']) if (out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])) out[k] = visit(out[k]);
    for (const k of ['allOf', 'anyOf', 'oneOf', 'items']) if (Array.isArray(out[k])) out[k] = out[k].map(visit);
    return out;
  };
  const count = (s: Json): Json => {
    schemaChildren(s, count);
    if (s && typeof s === 'object' && !Array.isArray(s)) {
      const k = key(s);
      if (k.length >= SHARE_MIN_CHARS) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return s;
  };
  for (const d of Object.values(defs)) schemaChildren(d, count);
  const shared: Record<string, Json> = {};
  const replace = (s: Json): Json => {
    const inner = schemaChildren(s, replace);
    const k = key(s);
    if ((counts.get(k) ?? 0) < 2) return inner;
    const id = `shared.${sha256(k).slice(0, 16)}`;
    shared[id] ??= inner;
    return { $ref: `${id}#` };
  };
  const out = Object.fromEntries(Object.entries(defs).map(([id, d]) => [id, schemaChildren(d, replace)]));
  return { ...out, ...shared };
}

/** The ids a schema refers to. */
function refsOf(schema: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => refsOf(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace(/#$/, ''));
      else refsOf(v, out);
    }
  }
  return out;
}

/** The ids of `ids` and of every definition they refer to, directly or not. */
export function reachable(defs: Record<string, Json>, ids: readonly string[]): Set<string> {
  const reach = new Set<string>();
  const queue = [...ids];
  while (queue.length) {
    const id = queue.pop()!;
    if (reach.has(id)) continue;
    if (!defs[id]) throw new Error(`missing definition ${id}`);
    reach.add(id);
    queue.push(...refsOf(defs[id]));
  }
  return reach;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Hash of the in-repo inputs (this script, the conversion code, the hand-written schemas and
 * the pinned sources), so a test can tell that the committed output is stale without Go.
 */
export function inputsHash(): string {
  const files = fs.readdirSync(HANDWRITTEN).filter((f) => f.endsWith('.json')).sort();
  const parts = files.map((f) => `${f}\n${fs.readFileSync(path.join(HANDWRITTEN, f), 'utf8')}`);
  for (const code of ['scripts/build-schemas.ts', 'tools/homelab/src/validate/strictify.ts', 'tools/homelab/src/validate/crd.ts']) parts.push(fs.readFileSync(path.join(ROOT, code), 'utf8'));
  parts.push(JSON.stringify({ kubernetes: KUBERNETES, crds: crdSources(), compose: COMPOSE_SOURCE }));
  return sha256(parts.join('\n---\n'));
}

/**
 * Hash of the fetched source files themselves (the OpenAPI documents and every CRD file), so a
 * test with the cache at hand can tell that the committed output was built from exactly them.
 */
export function sourcesHash(fetched: Fetched): string {
  const dirs = [fetched.openapi, ...fetched.sources.map((s) => s.dir)];
  const parts = dirs.flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => /\.(json|yaml)$/.test(f))
      .sort()
      .map((f) => `${path.basename(dir)}/${f} ${sha256(fs.readFileSync(path.join(dir, f), 'utf8'))}`),
  );
  return sha256(parts.join('\n'));
}

/** The strict definitions of every bundled kind, by id, and each kind (`<apiVersion>/<Kind>`) with its definition id and source. */
export interface StrictKinds {
  defs: Record<string, Json>;
  kinds: Record<string, { id: string; source: string }>;
}

/**
 * Every bundled kind's strict, JavaScript-compilable schema, from the fetched sources: what
 * `homelab validate` checks with, before it is compiled. scripts/kubeconform/schemas.ts writes
 * kubeconform's schema folder from the same definitions.
 */
export function strictKinds(fetched: Fetched): StrictKinds {
  const defs = readOpenApi(fetched.openapi);
  const kinds: Record<string, { id: string; source: string }> = {};
  for (const [key, id] of Object.entries(CORE_KINDS)) {
    if (!defs[id]) throw new Error(`${CORE_SOURCE} has no ${id}`);
    kinds[key] = { id, source: `${CORE_SOURCE} ${KUBERNETES.path}` };
  }
  const crds = readCrds(fetched);
  for (const key of BUNDLED_CRD_KINDS) {
    const crd = crds.get(key);
    if (!crd) throw new Error(`no fetched CRD serves ${key}; fix BUNDLED_CRD_KINDS or the catalog's crdSources`);
    const id = `crd.${key.replace(/\//g, '.')}`;
    defs[id] = crd.schema;
    kinds[key] = { id, source: crd.source };
  }
  for (const file of fs.readdirSync(HANDWRITTEN).filter((f) => f.endsWith('.json')).sort()) {
    const hw = JSON.parse(fs.readFileSync(path.join(HANDWRITTEN, file), 'utf8'));
    Object.assign(defs, hw.definitions);
    for (const [key, id] of Object.entries(hw.kinds as Record<string, string>)) kinds[key] = { id, source: `hand-written (schemas/handwritten/${file})` };
  }
  // Strict and JavaScript-compilable.
  for (const id of Object.keys(defs)) defs[id] = dropGoOnlyPatterns(strictify(defs[id]));
  return { defs, kinds };
}

function main(): void {
  const fetched = fetchAll({ log: (line) => console.error(line) });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-schemas-'));
  try {
    const { defs, kinds } = strictKinds(fetched);
    // Each repeated sub-schema once.
    Object.assign(defs, shareRepeats(defs));

    // Only the definitions the chosen kinds reach.
    const needed = reachable(defs, Object.values(kinds).map((k) => k.id));

    // Compose: the compose-spec schema dclint ships, without $schema (ajv draft-07 default).
    const dclint = npmPack(COMPOSE_SOURCE, tmp);
    const composeText = fs.readFileSync(path.join(dclint, 'schemas/compose.schema.json'), 'utf8');
    const { $schema: _drop, ...compose } = JSON.parse(composeText);
    fs.mkdirSync(OUT_COMPOSE, { recursive: true });
    fs.writeFileSync(path.join(OUT_COMPOSE, 'compose-spec.json'), `${JSON.stringify(compose, null, 2)}\n`);
    fs.writeFileSync(
      path.join(OUT_COMPOSE, 'NOTICE.md'),
      `# compose-spec.json\n\nThe Compose Specification JSON schema (compose-spec/compose-spec, Apache-2.0), as shipped by\n${COMPOSE_SOURCE} (MIT, Copyright (c) 2024 Sergey Kupletsky), without its \`$schema\` line.\nRegenerated by \`npx tsx scripts/build-schemas.ts\`.\n`,
    );

    // One module per bundle, loaded on first use: the core kinds (with the hand-written ones),
    // Compose, and each CRD API group on its own, so a run that sees only Deployments never loads
    // ApplicationSet's validator code.
    const bundles: Record<string, { ids: string[]; exports: Record<string, string> }> = {};
    const index: Record<string, { module: string; export: string; source: string }> = {};
    for (const [key, { id, source }] of Object.entries(kinds).sort()) {
      // One module per CRD API group: its kinds share sub-schemas (Issuer and ClusterIssuer are one schema).
      const bundle = id.startsWith('crd.') ? `crd-${key.split('/')[0].replace(/[^A-Za-z0-9.-]/g, '-').toLowerCase()}` : 'core';
      const name = `k_${key.replace(/[^A-Za-z0-9]/g, '_')}`;
      bundles[bundle] ??= { ids: [], exports: {} };
      bundles[bundle].ids.push(id);
      bundles[bundle].exports[name] = id;
      index[key] = { module: bundle, export: name, source };
    }
    fs.rmSync(OUT_K8S, { recursive: true, force: true });
    fs.mkdirSync(OUT_K8S, { recursive: true });
    const header = `// Generated by scripts/build-schemas.ts from ${CORE_SOURCE}, the catalog's CRDs, schemas/handwritten and ${COMPOSE_SOURCE}. Do not edit.\n`;
    const newAjv = () =>
      new Ajv({ code: { source: true, optimize: 1 }, allErrors: true, messages: false, strict: false, validateFormats: false, allowUnionTypes: true, inlineRefs: false });
    let total = 0;
    const write = (name: string, code: string) => {
      fs.writeFileSync(path.join(OUT_K8S, `${name}.js`), header + code);
      total += code.length;
    };
    for (const [name, bundle] of Object.entries(bundles)) {
      const ajv = newAjv();
      for (const id of [...reachable(defs, bundle.ids)].sort()) ajv.addSchema(defs[id], id);
      write(name, standaloneCode(ajv, bundle.exports));
    }
    const composeAjv = newAjv();
    composeAjv.addSchema(compose, 'compose');
    write('compose', standaloneCode(composeAjv, { compose: 'compose' }));
    const sources = { kubernetes: `${CORE_SOURCE} ${KUBERNETES.path}`, crds: Object.fromEntries(fetched.sources.map((s) => [s.project, `${s.module}@${s.version}`])), compose: COMPOSE_SOURCE };
    fs.writeFileSync(
      path.join(OUT_K8S, 'index.json'),
      `${JSON.stringify({ generatedBy: 'scripts/build-schemas.ts', inputsHash: inputsHash(), sourcesHash: sourcesHash(fetched), sources, kinds: index }, null, 2)}\n`,
    );
    console.log(`${Object.keys(index).length} kinds, ${needed.size} definitions, ${Object.keys(bundles).length + 1} modules, ${(total / 1024).toFixed(0)} KiB`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) main();
