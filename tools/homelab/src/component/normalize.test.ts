import { describe, expect, it } from 'vitest';
import type { WorkspaceConfig } from '../spec/types';
import { catalogSpec } from './catalog';
import { deepMerge, leafPaths } from './steps/charts';
import { normalizeComponent } from './normalize';
import type { ComponentSpec } from './types';

const WORKSPACE: WorkspaceConfig = {
  environments: [{ name: 'dev', namespaceSuffix: '-dev' }, { name: 'prod', protected: true }],
  gitops: { repoURL: 'https://git.example.org/h.git' },
};
const NOTHING_ELSE = { components: new Set<never>(), stores: [], databases: [], claims: [] };
const normalize = (spec: ComponentSpec, workspace = WORKSPACE) => normalizeComponent(spec, workspace, NOTHING_ELSE);

describe('deepMerge and leafPaths', () => {
  it('merges maps key by key and replaces lists and scalars', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: { e: true } })).toEqual({ a: { b: 1, c: [3] }, d: { e: true } });
  });

  it('lists the dotted paths of the leaves, empty maps and lists counting as leaves', () => {
    expect(leafPaths({ a: { b: 1, c: {} }, d: [1] })).toEqual(['a.b', 'a.c', 'd']);
  });
});

describe('normalizeComponent', () => {
  it('puts the spec\'s values under homelab\'s wiring, and lists the wired keys', () => {
    const spec = catalogSpec('ingress', {}, WORKSPACE);
    spec.kubernetes.charts[0].values = { ingressClass: { name: 'mine' }, deployment: { replicas: 2 } };

    const chart = normalize(spec).charts[0];

    expect(chart.values).toMatchObject({ ingressClass: { name: 'traefik' }, deployment: { replicas: 2 } });
    expect(chart.wired).toContain('ingressClass.name');
  });

  it.each([
    {
      case: 'an image tagged latest',
      edit: (s: ComponentSpec) => (s.compose!.images.postgres = 'postgres:latest'),
      message: 'infrastructure/specs/postgres.yaml: compose.images.postgres "postgres:latest" uses the tag "latest"',
    },
    {
      case: 'a Compose service without an image',
      edit: (s: ComponentSpec) => (s.compose!.images = {}),
      message: 'infrastructure/specs/postgres.yaml: compose.images misses "postgres"; add a pinned image for it',
    },
    {
      case: 'a memory limit for a service the component does not have',
      edit: (s: ComponentSpec) => (s.compose!.memory = { pgbouncer: '64m' }),
      message: 'compose.memory names "pgbouncer", which is no service of postgres; use one of "postgres"',
    },
    {
      case: 'a chart version range',
      edit: (s: ComponentSpec) => (s.kubernetes.charts[0].version = '~0.27'),
      message: 'chart "cloudnative-pg" version "~0.27" is not exact; pin one version such as 1.2.3',
    },
  ])('refuses $case', ({ edit, message }) => {
    const spec = catalogSpec('postgres', {}, WORKSPACE);
    edit(spec);

    expect(() => normalize(spec)).toThrow(message);
  });

  it('refuses a backup operator that is not homelab.yaml\'s backup.provider', () => {
    const spec = catalogSpec('backup', {}, WORKSPACE);

    expect(() => normalize(spec, { ...WORKSPACE, backup: { provider: 'k8up' } })).toThrow(
      'settings.provider "volsync" differs from homelab.yaml backup.provider "k8up"; re-run nx g homelab:infra backup --force to switch operators',
    );
  });

  it.each([
    { name: 'cert-manager' as const, why: '(Traefik does TLS there); remove compose' },
    { name: 'external-secrets' as const, why: "(deploy reads the store's values itself there: docs/deploy.md); remove compose" },
    {
      name: 'backup' as const,
      why: "(since homelab 0.3.0 each app's Compose project backs up its own volumes with restic: docs/backup.md); run the migrations of the homelab update (docs/upgrading.md), or remove compose",
    },
  ])('refuses compose for $name, which has no Compose form, in one line with the reason and the fix', ({ name, why }) => {
    const spec = { ...catalogSpec(name, { email: 'a@example.org' }, WORKSPACE), platforms: ['kubernetes', 'compose'] as ComponentSpec['platforms'] };

    expect(() => normalize(spec)).toThrow(`infrastructure/specs/${name}.yaml: platforms lists compose, but ${name} has no Compose form ${why}`);
  });
});
