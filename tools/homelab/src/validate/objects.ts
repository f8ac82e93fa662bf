import type { DocPath, SourceFile } from './source';

export type Obj = Record<string, any>;

/** A Kubernetes object found in a file (or in rendered output) and where it is. */
export interface K8sObject {
  obj: Obj;
  source: SourceFile;
  doc: number;
  /** Path of the object inside its document (['items', 3] for an item of a List). */
  base: DocPath;
  /** A strategic-merge patch: partial by design, so required fields and policies are not checked. */
  patch: boolean;
}

/** A problem found in an object, at a path inside it, before it is given a line. */
export interface Issue {
  rule: string;
  message: string;
  target: K8sObject;
  path: DocPath;
  /** For an unknown field: the key itself, so the line is the key's. */
  key?: string;
  /** A policy finding: the service it is about, and what (a host path, a capability), for the project's exceptions. */
  about?: PolicySubject;
}

/** What a policy finding is about: a service (a Compose service; a container and its pod), and a host path or capability where the rule names one. */
export interface PolicySubject {
  service: string;
  subject?: string;
  /**
   * A container that is not its pod's own (an init container or sidecar): the pod's service. An
   * app's exceptions name such a container `<pod>-<container>`, as its Compose service is named.
   */
  pod?: string;
}

export const WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']);

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
export const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

export function describe(o: Obj): string {
  const name = isObj(o.metadata) && typeof o.metadata.name === 'string' ? ` ${o.metadata.name}` : '';
  return `${typeof o.kind === 'string' ? o.kind : 'object'}${name}`;
}

/** The pod template of a workload: its spec, its labels, and the path to the spec. */
export function podOf(o: Obj): { spec: Obj; labels: Obj; path: DocPath } | null {
  if (!WORKLOAD_KINDS.has(o.kind)) return null;
  if (o.kind === 'Pod') return isObj(o.spec) ? { spec: o.spec, labels: o.metadata?.labels ?? {}, path: ['spec'] } : null;
  const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
  const base = o.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template'];
  if (!isObj(template) || !isObj(template.spec)) return null;
  return { spec: template.spec, labels: isObj(template.metadata?.labels) ? template.metadata.labels : {}, path: [...base, 'spec'] };
}

/** Is an image reference pinned? A digest, or a tag other than `latest`. */
export function imageProblem(image: unknown): string | null {
  if (typeof image !== 'string' || image === '') return 'has no image';
  if (image.includes('@sha256:') || image.includes('@sha512:')) return null;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon === -1) return `image "${image}" has no tag (it means latest)`;
  if (image.slice(colon + 1) === 'latest') return `image "${image}" uses the tag latest`;
  return null;
}

export function labelsMatch(selector: Obj, labels: Obj): boolean {
  // Object.entries(selector).every(…), without an array a pair: a set's check matches thousands.
  for (const k of Object.keys(selector)) if (labels[k] !== selector[k]) return false;
  return true;
}
