import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsHash } from '../../scripts/build-schemas';
import { builtinKinds, SchemaRegistry } from '../../tools/homelab/src/validate/schemas';
import { strictify } from '../../tools/homelab/src/validate/strictify';
import { REPO_ROOT } from '../support/workspace';

describe('committed schemas', () => {
  it('are built from the current inputs (run `npx tsx scripts/build-schemas.ts` after editing them)', () => {
    const index = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tools/homelab/schemas/kubernetes/index.json'), 'utf8'));
    expect(index.inputsHash).toBe(inputsHash());
  });

  it.each([
    'v1/Service', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/PersistentVolumeClaim', 'apps/v1/Deployment', 'apps/v1/StatefulSet',
    'batch/v1/CronJob', 'networking.k8s.io/v1/Ingress', 'networking.k8s.io/v1/NetworkPolicy', 'rbac.authorization.k8s.io/v1/RoleBinding', 'policy/v1/PodDisruptionBudget',
    'storage.k8s.io/v1/StorageClass', 'argoproj.io/v1alpha1/Application', 'argoproj.io/v1alpha1/ApplicationSet', 'argoproj.io/v1alpha1/AppProject',
    'external-secrets.io/v1/ExternalSecret', 'external-secrets.io/v1/SecretStore', 'external-secrets.io/v1/ClusterSecretStore', 'monitoring.coreos.com/v1/ServiceMonitor',
    'monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'volsync.backube/v1alpha1/ReplicationSource', 'volsync.backube/v1alpha1/ReplicationDestination',
    'velero.io/v1/Schedule', 'k8up.io/v1/Schedule', 'cert-manager.io/v1/Certificate', 'cert-manager.io/v1/ClusterIssuer', 'gateway.networking.k8s.io/v1/HTTPRoute',
    'kustomize.config.k8s.io/v1beta1/Kustomization', 'kustomize.config.k8s.io/v1alpha1/Component',
  ])('%s has a strict schema that rejects an unknown top-level field', (key) => {
    expect(builtinKinds()[key]).toBeTruthy();
    const slash = key.lastIndexOf('/');
    const [apiVersion, kind] = [key.slice(0, slash), key.slice(slash + 1)];
    const validate = new SchemaRegistry(null).kubernetes(apiVersion, kind)!;
    expect(validate({ apiVersion, kind, metadata: { name: 'x' }, bogus: 1 })).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'additionalProperties')).toBe(true);
  });

  it('keep the committed size reasonable', () => {
    const dir = path.join(REPO_ROOT, 'tools/homelab/schemas/kubernetes');
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(7 * 1024 * 1024);
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

