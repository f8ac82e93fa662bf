/**
 * Builds the strict schemas `homelab validate` checks Kubernetes and Compose files with, and
 * compiles them ahead of time (ajv standalone), so validation needs no network, no build
 * step and no schema compilation at run time.
 *
 *   npx tsx scripts/build-schemas.ts          # rewrites tools/homelab/schemas/{kubernetes,compose}/
 *
 * Sources (fetched with `npm pack`, so this script needs the npm registry; its output is committed):
 * - Kubernetes 1.27 core kinds: kubernetes-models 4.3.1 and @kubernetes-models/apimachinery 1.2.2,
 *   the last versions that ship plain JSON schema objects (5.x ships compiled, lenient validators).
 * - CRDs: @kubernetes-models/argo-cd 2.0.2, prometheus-operator 1.6.3, cert-manager 4.3.1 and
 *   gateway-api 0.5.1 (their last versions with plain schemas).
 * - Hand-written, partial: tools/homelab/schemas/handwritten/*.json (ExternalSecret v1, VolSync,
 *   Velero, k8up, Kustomization/Component), see the README there.
 * - Compose: the compose-spec JSON schema that dclint 3.1.0 ships (MIT), copied to
 *   tools/homelab/schemas/compose/compose-spec.json without its `$schema` line.
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
import { strictify } from '../tools/homelab/src/validate/strictify';

const ROOT = path.resolve(__dirname, '..');
const SCHEMAS = path.join(ROOT, 'tools/homelab/schemas');
const OUT_K8S = path.join(SCHEMAS, 'kubernetes');
const OUT_COMPOSE = path.join(SCHEMAS, 'compose');
const HANDWRITTEN = path.join(SCHEMAS, 'handwritten');

/** The npm packages schemas are taken from, pinned. */
export const SOURCES = {
  core: 'kubernetes-models@4.3.1',
  apimachinery: '@kubernetes-models/apimachinery@1.2.2',
  argocd: '@kubernetes-models/argo-cd@2.0.2',
  prometheus: '@kubernetes-models/prometheus-operator@1.6.3',
  certManager: '@kubernetes-models/cert-manager@4.3.1',
  gatewayApi: '@kubernetes-models/gateway-api@0.5.1',
  compose: 'dclint@3.1.0',
} as const;

/** Core kinds: apiVersion/kind -> definition id in kubernetes-models. */
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

/** CRD kinds from the CRD packages: package key -> [apiVersion, kind][] (file <group>/<version>/<Kind>.js). */
const CRD_KINDS: Record<string, [string, string][]> = {
  argocd: [['argoproj.io/v1alpha1', 'Application'], ['argoproj.io/v1alpha1', 'ApplicationSet'], ['argoproj.io/v1alpha1', 'AppProject']],
  prometheus: [['monitoring.coreos.com/v1', 'ServiceMonitor'], ['monitoring.coreos.com/v1', 'PodMonitor'], ['monitoring.coreos.com/v1', 'PrometheusRule'], ['monitoring.coreos.com/v1', 'Probe']],
  certManager: [['cert-manager.io/v1', 'Certificate'], ['cert-manager.io/v1', 'Issuer'], ['cert-manager.io/v1', 'ClusterIssuer'], ['cert-manager.io/v1', 'CertificateRequest']],
  gatewayApi: [['gateway.networking.k8s.io/v1', 'HTTPRoute'], ['gateway.networking.k8s.io/v1', 'Gateway'], ['gateway.networking.k8s.io/v1', 'GatewayClass']],
};

type Json = any;

function npmPack(spec: string, dir: string): string {
  const out = execFileSync('npm', ['pack', spec, '--pack-destination', dir, '--json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const file = JSON.parse(out)[0].filename as string;
  const dest = path.join(dir, file.replace(/\.tgz$/, ''));
  fs.mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['xzf', path.join(dir, file), '-C', dest]);
  return path.join(dest, 'package');
}

/** Every `const schema = {...};` object literal (pretty-printed JSON) of a kubernetes-models file, with its id. */
function readSchemaFile(file: string): { id: string; schema: Json } | null {
  const text = fs.readFileSync(file, 'utf8');
  const body = /\nconst schema = (\{\}|\{[\s\S]*?\n\});\n/.exec(text);
  if (!body) return null;
  const id = /register\)\("([^"]+)", schema\)/.exec(text)?.[1] ?? /const schemaId = "([^"]+)";/.exec(text)?.[1];
  if (!id) throw new Error(`${file}: no schema id`);
  return { id, schema: JSON.parse(body[1]) };
}

function readSchemaDir(dir: string, defs: Record<string, Json>): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) readSchemaDir(file, defs);
    else if (entry.name.endsWith('.js')) {
      const found = readSchemaFile(file);
      if (found) defs[found.id] = found.schema;
    }
  }
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

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of the in-repo inputs, so a test can tell that the committed output is stale. */
export function inputsHash(): string {
  const files = fs.readdirSync(HANDWRITTEN).filter((f) => f.endsWith('.json')).sort();
  const parts = files.map((f) => `${f}\n${fs.readFileSync(path.join(HANDWRITTEN, f), 'utf8')}`);
  parts.push(fs.readFileSync(__filename, 'utf8'), fs.readFileSync(path.join(ROOT, 'tools/homelab/src/validate/strictify.ts'), 'utf8'));
  return sha256(parts.join('\n---\n'));
}

function main(): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-schemas-'));
  try {
    const pkgs = Object.fromEntries(Object.entries(SOURCES).map(([key, spec]) => [key, npmPack(spec, tmp)])) as Record<keyof typeof SOURCES, string>;
    const defs: Record<string, Json> = {};
    readSchemaDir(path.join(pkgs.apimachinery, '_schemas'), defs);
    readSchemaDir(path.join(pkgs.core, '_schemas'), defs);
    const kinds: Record<string, { id: string; source: string }> = {};
    for (const [key, id] of Object.entries(CORE_KINDS)) {
      if (!defs[id]) throw new Error(`kubernetes-models has no ${id}`);
      kinds[key] = { id, source: SOURCES.core };
    }
    for (const [pkg, list] of Object.entries(CRD_KINDS)) {
      const dir = pkgs[pkg as keyof typeof SOURCES];
      if (fs.existsSync(path.join(dir, '_schemas'))) readSchemaDir(path.join(dir, '_schemas'), defs);
      for (const [apiVersion, kind] of list) {
        const found = readSchemaFile(path.join(dir, apiVersion, `${kind}.js`));
        if (!found) throw new Error(`${SOURCES[pkg as keyof typeof SOURCES]} has no plain schema for ${apiVersion} ${kind}`);
        defs[found.id] = found.schema;
        kinds[`${apiVersion}/${kind}`] = { id: found.id, source: SOURCES[pkg as keyof typeof SOURCES] };
      }
    }
    for (const file of fs.readdirSync(HANDWRITTEN).filter((f) => f.endsWith('.json')).sort()) {
      const hw = JSON.parse(fs.readFileSync(path.join(HANDWRITTEN, file), 'utf8'));
      Object.assign(defs, hw.definitions);
      for (const [key, id] of Object.entries(hw.kinds as Record<string, string>)) kinds[key] = { id, source: `hand-written (schemas/handwritten/${file})` };
    }

    // Only the definitions the chosen kinds reach.
    const needed = new Set<string>();
    const queue = Object.values(kinds).map((k) => k.id);
    while (queue.length) {
      const id = queue.pop()!;
      if (needed.has(id)) continue;
      if (!defs[id]) throw new Error(`missing definition ${id}`);
      needed.add(id);
      queue.push(...refsOf(defs[id]));
    }

    // Compose: the compose-spec schema dclint ships, without $schema (ajv draft-07 default).
    const composeText = fs.readFileSync(path.join(pkgs.compose, 'schemas/compose.schema.json'), 'utf8');
    const { $schema: _drop, ...compose } = JSON.parse(composeText);
    fs.mkdirSync(OUT_COMPOSE, { recursive: true });
    fs.writeFileSync(path.join(OUT_COMPOSE, 'compose-spec.json'), `${JSON.stringify(compose, null, 2)}\n`);
    fs.writeFileSync(
      path.join(OUT_COMPOSE, 'NOTICE.md'),
      `# compose-spec.json\n\nThe Compose Specification JSON schema (compose-spec/compose-spec, Apache-2.0), as shipped by\n${SOURCES.compose} (MIT, Copyright (c) 2024 Sergey Kupletsky), without its \`$schema\` line.\nRegenerated by \`npx tsx scripts/build-schemas.ts\`.\n`,
    );

    // One module per bundle, loaded on first use: the core kinds (with the hand-written CRDs,
    // which share ObjectMeta and friends), Compose, and each big CRD on its own, so a run that
    // sees only Deployments never loads ApplicationSet's 2 MB of validator code.
    const bundles: Record<string, { ids: string[]; exports: Record<string, string> }> = {};
    const index: Record<string, { module: string; export: string; source: string }> = {};
    for (const [key, { id, source }] of Object.entries(kinds).sort()) {
      const bundle = source === SOURCES.core || source.startsWith('hand-written') ? 'core' : `crd-${key.replace(/\/[^/]+\//, '-').replace(/[^A-Za-z0-9.-]/g, '-').toLowerCase()}`;
      const name = `k_${key.replace(/[^A-Za-z0-9]/g, '_')}`;
      bundles[bundle] ??= { ids: [], exports: {} };
      bundles[bundle].ids.push(id);
      bundles[bundle].exports[name] = id;
      index[key] = { module: bundle, export: name, source };
    }
    fs.rmSync(OUT_K8S, { recursive: true, force: true });
    fs.mkdirSync(OUT_K8S, { recursive: true });
    const header = `// Generated by scripts/build-schemas.ts from ${Object.values(SOURCES).join(', ')} and schemas/handwritten. Do not edit.\n`;
    const newAjv = () =>
      new Ajv({ code: { source: true, optimize: 1 }, allErrors: true, messages: false, strict: false, validateFormats: false, allowUnionTypes: true, inlineRefs: false });
    let total = 0;
    const write = (name: string, code: string) => {
      fs.writeFileSync(path.join(OUT_K8S, `${name}.js`), header + code);
      total += code.length;
    };
    for (const [name, bundle] of Object.entries(bundles)) {
      const ajv = newAjv();
      const reach = new Set<string>();
      const todo = [...bundle.ids];
      while (todo.length) {
        const id = todo.pop()!;
        if (reach.has(id)) continue;
        reach.add(id);
        todo.push(...refsOf(defs[id]));
      }
      for (const id of [...reach].sort()) ajv.addSchema(strictify(defs[id]), id);
      write(name, standaloneCode(ajv, bundle.exports));
    }
    const composeAjv = newAjv();
    composeAjv.addSchema(compose, 'compose');
    write('compose', standaloneCode(composeAjv, { compose: 'compose' }));
    fs.writeFileSync(
      path.join(OUT_K8S, 'index.json'),
      `${JSON.stringify({ generatedBy: 'scripts/build-schemas.ts', inputsHash: inputsHash(), sources: SOURCES, kinds: index }, null, 2)}\n`,
    );
    console.log(`${Object.keys(index).length} kinds, ${needed.size} definitions, ${Object.keys(bundles).length + 1} modules, ${(total / 1024).toFixed(0)} KiB`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) main();
