import { InputError, show } from '../../errors';
import type { AppSpec } from '../../spec/types';

/** One object of the app's Kustomize base: what a Kubernetes patch may target. */
export interface BaseObject {
  kind: string;
  name: string;
}

/** A Kubernetes patch as the base's kustomization.yaml lists it, and what it touches. */
export interface KubernetesPatch {
  target: { kind: string; name?: string };
  /** The strategic merge patch as Kustomize reads it: the spec's patch with `kind` and `metadata.name` of its target. */
  patch: Record<string, unknown>;
  /** What it changes, for a rule that names it: the kind, the name (null: every object of the kind) and each changed field. */
  touches: { kind: string; name: string | null; paths: string[] };
}

/** The Compose fragment of the base (compose.patch.yaml), and what it touches. */
export interface ComposePatch {
  fragment: Record<string, unknown>;
  touches: {
    /** Each service the fragment changes (or adds), with the keys it sets. */
    services: { service: string; keys: string[] }[];
    /** Other top-level sections (volumes, networks, configs, secrets, x-…) and the entries it sets there. */
    sections: { section: string; names: string[] }[];
  };
}

export interface NormalizedPatches {
  /** The objects of the base a Kubernetes patch may target (every object of the app's Kustomize base outside its components). */
  targets: BaseObject[];
  kubernetes: KubernetesPatch[];
  hasKubernetes: boolean;
  compose: ComposePatch | null;
}

/** Top-level keys of a Compose fragment that are homelab's to set: the project's name, and files Compose would read besides ours. */
const COMPOSE_OWNED = ['name', 'version', 'include'];

/** Fields of a Kubernetes patch that say which object it is: the target says it instead. */
const TARGET_FIELDS = ['apiVersion', 'kind'];

/**
 * The escape hatch (docs/spec.md, "Patches"): per-platform patches for what the model does not
 * cover. A Kubernetes patch is a strategic merge patch of the objects of the app's base that its
 * target names (every object of the kind without a name); a Compose patch is a fragment Compose
 * merges into the base compose.yaml by its own rules. Each says what it touches, so validate can
 * name where a patch makes the platforms differ. Refuses a target the base does not render, a
 * patch that names its object itself, and a fragment that sets the project's name or includes files.
 */
export function normalizePatches(spec: AppSpec, where: string, base: BaseObject[]): NormalizedPatches {
  const kubernetes = (spec.patches?.kubernetes ?? []).map((p, i) => kubernetesPatch(p, `${where}: patches.kubernetes[${i}]`, base));
  const fragment = spec.patches?.compose;
  return { targets: base, kubernetes, hasKubernetes: kubernetes.length > 0, compose: fragment === undefined ? null : composePatch(fragment, `${where}: patches.compose`) };
}

function kubernetesPatch(p: NonNullable<NonNullable<AppSpec['patches']>['kubernetes']>[number], at: string, base: BaseObject[]): KubernetesPatch {
  const { kind, name } = p.target;
  const matches = base.filter((o) => o.kind === kind && (name === undefined || o.name === name));
  if (matches.length === 0) {
    const choices = [...new Set(base.map((o) => `${o.kind}/${o.name}`))].join(', ');
    throw new InputError(`${at}.target ${show(name === undefined ? kind : `${kind}/${name}`)} matches nothing the app renders in its base; target one of ${choices}`);
  }
  for (const field of TARGET_FIELDS) {
    if (field in p.patch) throw new InputError(`${at}.patch.${field}: the target says which object a patch changes; remove ${field} from the patch`);
  }
  const metadata = p.patch.metadata;
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new InputError(`${at}.patch.metadata ${show(metadata)} is not a map; write metadata as a map (labels, annotations)`);
  }
  const meta = (metadata ?? {}) as Record<string, unknown>;
  for (const field of ['name', 'namespace']) {
    if (field in meta) throw new InputError(`${at}.patch.metadata.${field}: homelab names and places the app's objects; remove metadata.${field} from the patch (target.name says which object)`);
  }
  // Kustomize reads a strategic merge patch as an object: it needs a kind and a name, and puts the target's name in when the target has none.
  const patch = { kind, metadata: { name: name ?? matches[0].name, ...meta }, ...withoutKey(p.patch, 'metadata') };
  return { target: name === undefined ? { kind } : { kind, name }, patch, touches: { kind, name: name ?? null, paths: leafPaths(p.patch) } };
}

function composePatch(fragment: Record<string, unknown>, at: string): ComposePatch {
  for (const key of COMPOSE_OWNED) {
    if (key in fragment) throw new InputError(`${at}.${key}: homelab sets the project's ${key === 'name' ? 'name' : 'files'}; remove ${key} from the fragment`);
  }
  const services: ComposePatch['touches']['services'] = [];
  const sections: ComposePatch['touches']['sections'] = [];
  for (const [section, value] of Object.entries(fragment)) {
    if (section.startsWith('x-')) {
      sections.push({ section, names: [] });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InputError(`${at}.${section} ${show(value)} is not a map; write it as Compose does (${section}: { <name>: … })`);
    }
    for (const [entry, body] of Object.entries(value)) {
      if (section === 'services') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          throw new InputError(`${at}.services.${entry} ${show(body)} is not a map; write the Compose keys to change (services.${entry}: { sysctls: … })`);
        }
        services.push({ service: entry, keys: Object.keys(body).sort() });
      }
    }
    if (section !== 'services') sections.push({ section, names: Object.keys(value).sort() });
  }
  return { fragment, touches: { services, sections } };
}

function withoutKey(value: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}

/**
 * Every field a patch sets, as a path: maps by key, list items by their `name` where they have
 * one (`[name=web]`, as a strategic merge matches containers), else by index; a list of
 * scalars, a scalar or an empty map ends a path.
 * @example leafPaths({ spec: { template: { spec: { containers: [{ name: 'web', tty: true }] } } } }) // ['spec.template.spec.containers[name=web].tty']
 */
export function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    if (!value.some((item) => item !== null && typeof item === 'object')) return [prefix];
    return value.flatMap((item, i) => {
      const named = item !== null && typeof item === 'object' && !Array.isArray(item) && typeof (item as Record<string, unknown>).name === 'string';
      // A named item is matched by its name (the merge key), which it does not change.
      return named ? leafPaths(withoutKey(item as Record<string, unknown>, 'name'), `${prefix}[name=${(item as Record<string, unknown>).name}]`) : leafPaths(item, `${prefix}[${i}]`);
    });
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return [prefix];
    return entries.flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  return [prefix];
}
