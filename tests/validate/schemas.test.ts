import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsHash, shareRepeats, sourcesHash } from '../../scripts/build-schemas';
import { fetchAll, findGo } from '../../scripts/crds/fetch';
import { builtinKinds, SchemaRegistry } from '../../tools/homelab/src/validate/schemas';
import { strictify } from '../../tools/homelab/src/validate/strictify';
import { requireTool } from '../support/tools';
import { REPO_ROOT } from '../support/workspace';

const INDEX = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tools/homelab/schemas/kubernetes/index.json'), 'utf8'));

/** The built-in validator of `<apiVersion>/<kind>`. */
function builtin(key: string) {
  const slash = key.lastIndexOf('/');
  const validate = new SchemaRegistry(null).kubernetes(key.slice(0, slash), key.slice(slash + 1));
  if (!validate) throw new Error(`no built-in schema for ${key}`);
  return validate;
}
const errorsOf = (validate: ReturnType<typeof builtin>) => JSON.stringify(validate.errors);

describe('committed schemas', () => {
  it('are built from the current inputs (run `npx tsx scripts/build-schemas.ts` after editing them)', () => {
    expect(INDEX.inputsHash).toBe(inputsHash());
  });

  // The sources are fetched from the Go module proxy (scripts/crds/fetch.ts) into a cache outside the
  // repository; `npm ci` never needs Go. With Go the test fetches them (instant once cached) and
  // compares; without Go it is skipped outside CI and FAILS under CI=true, where the machines have Go.
  const go = requireTool('go', [findGo() ?? 'go', 'version']);
  it.skipIf(go.skip)('are built from exactly the pinned sources (the Kubernetes OpenAPI and every catalog CRD, fetched)', () => {
    const fetched = fetchAll();

    expect(INDEX.sourcesHash).toBe(sourcesHash(fetched));
    expect(INDEX.sources.crds).toEqual(Object.fromEntries(fetched.sources.map((s) => [s.project, `${s.module}@${s.version}`])));
  }, 600_000);

  it.each([
    'v1/Service', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/PersistentVolumeClaim', 'apps/v1/Deployment', 'apps/v1/StatefulSet',
    'batch/v1/CronJob', 'networking.k8s.io/v1/Ingress', 'networking.k8s.io/v1/NetworkPolicy', 'rbac.authorization.k8s.io/v1/RoleBinding', 'policy/v1/PodDisruptionBudget',
    'storage.k8s.io/v1/StorageClass', 'argoproj.io/v1alpha1/Application', 'argoproj.io/v1alpha1/ApplicationSet', 'argoproj.io/v1alpha1/AppProject',
    'external-secrets.io/v1/ExternalSecret', 'external-secrets.io/v1/SecretStore', 'external-secrets.io/v1/ClusterSecretStore', 'monitoring.coreos.com/v1/ServiceMonitor',
    'monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'volsync.backube/v1alpha1/ReplicationSource', 'volsync.backube/v1alpha1/ReplicationDestination',
    'velero.io/v1/Schedule', 'k8up.io/v1/Schedule', 'cert-manager.io/v1/Certificate', 'cert-manager.io/v1/ClusterIssuer', 'gateway.networking.k8s.io/v1/HTTPRoute',
    'kustomize.config.k8s.io/v1beta1/Kustomization', 'kustomize.config.k8s.io/v1alpha1/Component', 'postgresql.cnpg.io/v1/Cluster', 'postgresql.cnpg.io/v1/ScheduledBackup',
    'traefik.io/v1alpha1/Middleware', 'traefik.io/v1alpha1/IngressRoute', 'scheduling.k8s.io/v1/PriorityClass', 'apiextensions.k8s.io/v1/CustomResourceDefinition',
  ])('%s has a strict schema that rejects an unknown top-level field', (key) => {
    expect(builtinKinds()[key]).toBeTruthy();
    const slash = key.lastIndexOf('/');
    const [apiVersion, kind] = [key.slice(0, slash), key.slice(slash + 1)];
    const validate = new SchemaRegistry(null).kubernetes(apiVersion, kind)!;
    expect(validate({ apiVersion, kind, metadata: { name: 'x' }, bogus: 1 })).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'additionalProperties')).toBe(true);
  });

  it.each([
    ['v1 core kinds', 'v1/Service', 'k8s.io/kubernetes@v1.34.4 api/openapi-spec/v3'],
    ['CloudNativePG', 'postgresql.cnpg.io/v1/Cluster', 'github.com/cloudnative-pg/cloudnative-pg@v1.28.1 config/crd/bases/postgresql.cnpg.io_clusters.yaml'],
    ['cert-manager', 'cert-manager.io/v1/ClusterIssuer', 'github.com/cert-manager/cert-manager@v1.18.2 deploy/crds/crd-clusterissuers.yaml'],
    ['ArgoCD', 'argoproj.io/v1alpha1/AppProject', 'github.com/argoproj/argo-cd/v3@v3.5.7 manifests/crds/appproject-crd.yaml'],
  ])('name where each schema comes from (%s)', (_what, key, source) => {
    expect(builtinKinds()[key]).toBe(source);
  });

  it('keep real API fields named like schema keywords: PriorityClass.description (Kubernetes 1.34 OpenAPI)', () => {
    const validate = builtin('scheduling.k8s.io/v1/PriorityClass');

    expect(validate({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, description: 'for the database' }), errorsOf(validate)).toBe(true);
    expect(validate({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, descripton: 'typo' })).toBe(false);
  });

  it('accept a real CRD manifest: description, x-kubernetes-* and nested JSONSchemaProps fields', () => {
    const validate = builtin('apiextensions.k8s.io/v1/CustomResourceDefinition');
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.org' },
      spec: {
        group: 'example.org',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                description: 'A widget.',
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    description: 'What the widget should be.',
                    'x-kubernetes-preserve-unknown-fields': true,
                    'x-kubernetes-validations': [{ rule: 'self.size > 0', message: 'size must be positive' }],
                    properties: { size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } },
                  },
                },
              },
            },
          },
        ],
      },
    };

    expect(validate(crd), errorsOf(validate)).toBe(true);
    expect(validate({ ...crd, spec: { ...crd.spec, scoop: 'Namespaced' } })).toBe(false);
  });

  it('accept creationTimestamp: null, as kubectl create --dry-run=client -o yaml writes it', () => {
    const validate = builtin('v1/ConfigMap');

    expect(validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', creationTimestamp: null }, data: { a: 'b' } }), errorsOf(validate)).toBe(true);
    expect(validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', creationTimestamp: 5 } })).toBe(false);
  });

  it('accept null for an optional field, as the API server does (a generated NetworkPolicy writes `ingress:` with no rule)', () => {
    const validate = builtin('networking.k8s.io/v1/NetworkPolicy');

    expect(validate({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {}, ingress: null, policyTypes: ['Ingress'] } }), errorsOf(validate)).toBe(true);
    expect(validate({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {}, ingress: 'none' } })).toBe(false);
  });

  it('accept what the generators emit with current CRDs: an ACME http01 solver with ingressClassName, a CloudNativePG Cluster', () => {
    const issuer = builtin('cert-manager.io/v1/ClusterIssuer');
    const cluster = builtin('postgresql.cnpg.io/v1/Cluster');
    const solver = { http01: { ingress: { ingressClassName: 'traefik' } } };

    expect(issuer({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt' }, spec: { acme: { email: 'a@example.org', server: 'https://acme.invalid/directory', privateKeySecretRef: { name: 'k' }, solvers: [solver] } } }), errorsOf(issuer)).toBe(true);
    expect(cluster({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'postgres' }, spec: { instances: 1, imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5', storage: { size: '10Gi' } } }), errorsOf(cluster)).toBe(true);
    expect(cluster({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'postgres', lables: {} }, spec: { instances: 1 } })).toBe(false);
  });

  it('keep the committed size reasonable', () => {
    const dir = path.join(REPO_ROOT, 'tools/homelab/schemas/kubernetes');
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(7 * 1024 * 1024);
  });
});

describe('shareRepeats', () => {
  it('gives a sub-schema repeated across definitions one shared definition, and leaves single ones inline', () => {
    const big = { type: ['object', 'null'], properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, { type: 'string' }])), additionalProperties: false };
    const once = { ...big, properties: { ...big.properties, only: { type: 'integer' } } };

    const out = shareRepeats({ a: { properties: { x: big, y: once } }, b: { items: big } });

    const ids = Object.keys(out).filter((id) => id.startsWith('shared.'));
    expect(ids).toHaveLength(1);
    expect(out[ids[0]]).toEqual(big);
    expect(out.a.properties.x).toEqual({ $ref: `${ids[0]}#` });
    expect(out.b.items).toEqual({ $ref: `${ids[0]}#` });
    expect(out.a.properties.y).toEqual(once);
  });
});

describe('strictify', () => {
  it('closes objects that list properties', () => {
    expect(strictify({ type: 'object', properties: { a: { type: 'string' } } })).toEqual({ type: ['object', 'null'], properties: { a: { type: 'string' } }, additionalProperties: false });
  });
  it('keeps x-kubernetes-preserve-unknown-fields objects open', () => {
    expect(strictify({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } }).additionalProperties).toBe(true);
  });
  it('turns int-or-string, nullable and oneOf-with-null into type lists', () => {
    expect(strictify({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] })).toEqual({ type: ['integer', 'string'] });
    expect(strictify({ type: 'string', nullable: true, format: 'date-time' })).toEqual({ type: ['string', 'null'] });
  });
  it('lets a nullable reference (ObjectMeta.creationTimestamp: oneOf [$ref Time, null]) accept null', () => {
    expect(strictify({ oneOf: [{ $ref: 'x#' }, { type: 'null' }] })).toEqual({ anyOf: [{ $ref: 'x#' }, { type: 'null' }] });
    expect(strictify({ oneOf: [{ type: 'string' }, { type: 'null' }] })).toEqual({ type: ['string', 'null'] });
    expect(strictify({ $ref: 'x#', nullable: true })).toEqual({ anyOf: [{ $ref: 'x#' }, { type: 'null' }] });
    const meta = new SchemaRegistry(null).kubernetes('v1', 'ConfigMap')!;
    const cm = (creationTimestamp: unknown) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', creationTimestamp } });
    expect(meta(cm(null))).toBe(true);
    expect(meta(cm('2026-11-29T10:00:00Z'))).toBe(true);
    expect(meta(cm(5))).toBe(false);
  });
  it('turns x-kubernetes-list-type set into uniqueItems and opens embedded resources to apiVersion, kind and metadata', () => {
    expect(strictify({ type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } })).toEqual({ type: 'array', uniqueItems: true, items: { type: 'string' } });
    const embedded = strictify({ type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } });
    expect(Object.keys(embedded.properties).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(embedded.additionalProperties).toBe(false);
  });
  it("turns OpenAPI's boolean exclusiveMaximum/exclusiveMinimum into JSON schema's numeric bounds", () => {
    expect(strictify({ type: 'integer', maximum: 10, exclusiveMaximum: true, minimum: 0, exclusiveMinimum: false })).toEqual({ type: 'integer', exclusiveMaximum: 10, minimum: 0 });
  });
  it('leaves maps (additionalProperties schemas) alone', () => {
    expect(strictify({ type: 'object', additionalProperties: { type: 'string' } })).toEqual({ type: ['object', 'null'], additionalProperties: { type: 'string' } });
  });
});

