import { InputError, show } from '../../errors';
import type { NodeAffinitySpec, NodeSelectorRequirementSpec, NodeSelectorTermSpec, PlacementSpec, TolerationSpec } from '../../spec/types';

/** The node label `environments.<env>.node` pins pods with. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/**
 * Where a service's pods run on Kubernetes (docs/availability.md, "Placement"), as the pod
 * template writes it: node labels, tolerations (each written as one flow map, in Kubernetes'
 * field order) and a node affinity (each term and preference one flow map). Compose has nothing
 * to place: a Docker host is one machine.
 */
export interface Placement {
  nodeSelector: Record<string, string>;
  hasNodeSelector: boolean;
  tolerations: TolerationSpec[];
  hasTolerations: boolean;
  /** The pod's `affinity.nodeAffinity`; null without one. */
  nodeAffinity: NodeAffinity | null;
}

export interface NodeAffinity {
  /** `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`: a node that matches one of them. */
  required: NodeSelectorTermSpec[];
  hasRequired: boolean;
  /** `preferredDuringSchedulingIgnoredDuringExecution`: weighted preferences. */
  preferred: { weight: number; preference: NodeSelectorTermSpec }[];
  hasPreferred: boolean;
}

/** No placement: the scheduler's choice, as always. */
export const NO_PLACEMENT: Placement = { nodeSelector: {}, hasNodeSelector: false, tolerations: [], hasTolerations: false, nodeAffinity: null };

/** What an environment changes of a service's placement: its overlay's workload patch. */
export interface PlacementPatch extends Placement {
  /** Anything at all to patch. */
  changed: boolean;
  /** The environment sets a placement of its own (not only its node). */
  own: boolean;
}

/** A label name: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A DNS subdomain (a label key's prefix): lower-case, at most 253 characters. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A service's placement (`placement` of a service or the shorthand), checked as the API server
 * would check it, each refusal one line naming the field, the value and the fix: label keys
 * and values of `nodeSelector` and of node selector requirements, and tolerations that the
 * API server refuses (a value with Exists, tolerationSeconds without NoExecute, no key without
 * Exists). NO_PLACEMENT without placement.
 */
export function normalizePlacement(spec: PlacementSpec | undefined, where: string, field: string): Placement {
  if (spec === undefined) return NO_PLACEMENT;
  const at = `${where}: ${field}placement`;
  const nodeSelector = checkNodeSelector(spec.nodeSelector ?? {}, `${at}.nodeSelector`);
  const tolerations = (spec.tolerations ?? []).map((t, i) => toleration(t, `${at}.tolerations[${i}]`));
  const nodeAffinity = spec.affinity ? affinity(spec.affinity, `${at}.affinity`) : null;
  return { nodeSelector, hasNodeSelector: Object.keys(nodeSelector).length > 0, tolerations, hasTolerations: tolerations.length > 0, nodeAffinity };
}

/**
 * The placement of a service in one environment, over the service's: `nodeSelector` merged by
 * key (the environment's value wins), `tolerations` and `affinity` replaced, and the node of
 * `environments.<env>.node` as `kubernetes.io/hostname`. What the workload patch writes is the
 * environment's part only (a strategic merge merges a nodeSelector by key and replaces a list;
 * the node affinity is replaced with `$patch: replace`). Refuses a node that another
 * `kubernetes.io/hostname` of the placement contradicts.
 */
export function placementPatch(service: Placement, own: PlacementSpec | undefined, node: { name: string; field: string } | null, where: string, field: string): PlacementPatch {
  const env = normalizePlacement(own, where, field);
  const hostname = env.nodeSelector[HOSTNAME_LABEL] ?? service.nodeSelector[HOSTNAME_LABEL];
  if (node !== null && hostname !== undefined && hostname !== node.name) {
    const from = env.nodeSelector[HOSTNAME_LABEL] !== undefined ? `${field}placement.nodeSelector` : `the service's placement.nodeSelector`;
    throw new InputError(`${where}: ${node.field} ${show(node.name)} contradicts ${HOSTNAME_LABEL}: ${show(hostname)} of ${from}; the pods cannot run on both nodes, so keep one of them`);
  }
  const nodeSelector = sortedKeys({ ...env.nodeSelector, ...(node === null ? {} : { [HOSTNAME_LABEL]: node.name }) });
  const hasNodeSelector = Object.keys(nodeSelector).length > 0;
  return { nodeSelector, hasNodeSelector, tolerations: env.tolerations, hasTolerations: env.hasTolerations, nodeAffinity: env.nodeAffinity, changed: hasNodeSelector || env.hasTolerations || env.nodeAffinity !== null, own: isPlaced(env) };
}

/** Whether a service has any placement (what Compose cannot carry over: validate's parity/placement). */
export function isPlaced(p: Placement): boolean {
  return p.hasNodeSelector || p.hasTolerations || p.nodeAffinity !== null;
}

function checkNodeSelector(selector: Record<string, string>, at: string): Record<string, string> {
  for (const [key, value] of Object.entries(selector)) {
    checkLabelKey(key, `${at}: the key`);
    checkLabelValue(value, `${at}.${key}`);
  }
  return sortedKeys(selector);
}

function sortedKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A label key: an optional DNS-subdomain prefix and '/', then a name (docs: Kubernetes "Labels and Selectors"). */
function checkLabelKey(key: string, at: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new InputError(`${at} ${show(key)} is not a label key: its prefix ${show(prefix)} must be a lower-case DNS name (e.g. nvidia.com); write the node label's key as \`kubectl get node --show-labels\` shows it`);
  }
  if (!LABEL_NAME.test(name)) {
    throw new InputError(
      `${at} ${show(key)} is not a label key: ${show(name)} must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; write the node label's key as \`kubectl get node --show-labels\` shows it`,
    );
  }
}

function checkLabelValue(value: string, at: string): void {
  if (value !== '' && !LABEL_NAME.test(value)) {
    throw new InputError(`${at}: ${show(value)} is not a label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (quote "true" and numbers)`);
  }
}

/** A toleration in Kubernetes' field order, refused where the API server would refuse it. */
function toleration(t: TolerationSpec, at: string): TolerationSpec {
  const operator = t.operator ?? 'Equal';
  if (t.key !== undefined) checkLabelKey(t.key, `${at}.key`);
  if (t.key === undefined && operator !== 'Exists') {
    throw new InputError(`${at} has no key, which tolerates every taint only with operator Exists; add the taint's key, or set operator: Exists`);
  }
  if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
    throw new InputError(`${at}.value ${show(t.value)} is set with operator Exists, which matches any value; remove value, or set operator: Equal`);
  }
  if (t.value !== undefined) checkLabelValue(t.value, `${at}.value`);
  if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
    throw new InputError(`${at}.tolerationSeconds is set, but only a NoExecute taint evicts a running pod; set effect: NoExecute, or remove tolerationSeconds`);
  }
  const out: TolerationSpec = {};
  if (t.key !== undefined) out.key = t.key;
  out.operator = operator;
  if (t.value !== undefined) out.value = t.value;
  if (t.effect !== undefined) out.effect = t.effect;
  if (t.tolerationSeconds !== undefined) out.tolerationSeconds = t.tolerationSeconds;
  return out;
}

function affinity(a: NodeAffinitySpec, at: string): NodeAffinity {
  const required = (a.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).map((t, i) =>
    term(t, `${at}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`),
  );
  const preferred = (a.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p, i) => ({
    weight: p.weight,
    preference: term(p.preference, `${at}.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`),
  }));
  return { required, hasRequired: required.length > 0, preferred, hasPreferred: preferred.length > 0 };
}

function term(t: NodeSelectorTermSpec, at: string): NodeSelectorTermSpec {
  const out: NodeSelectorTermSpec = {};
  if (t.matchExpressions) out.matchExpressions = t.matchExpressions.map((r, i) => requirement(r, `${at}.matchExpressions[${i}]`, false));
  if (t.matchFields) out.matchFields = t.matchFields.map((r, i) => requirement(r, `${at}.matchFields[${i}]`, true));
  return out;
}

/** A node selector requirement with the values its operator needs (In/NotIn: some; Exists/DoesNotExist: none; Gt/Lt: one whole number). */
function requirement(r: NodeSelectorRequirementSpec, at: string, field: boolean): NodeSelectorRequirementSpec {
  const values = r.values ?? [];
  if (field) {
    if (r.key !== 'metadata.name') throw new InputError(`${at}.key ${show(r.key)} is no node field Kubernetes selects on; use metadata.name, or matchExpressions for a node label`);
    if (r.operator !== 'In' && r.operator !== 'NotIn') throw new InputError(`${at}.operator ${show(r.operator)}: a node field is matched with In or NotIn only; use one of them`);
  } else {
    checkLabelKey(r.key, `${at}.key`);
  }
  if ((r.operator === 'In' || r.operator === 'NotIn') && values.length === 0) {
    throw new InputError(`${at}: operator ${r.operator} needs the values to compare with; add values: [...]`);
  }
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && values.length > 0) {
    throw new InputError(`${at}: operator ${r.operator} takes no values; remove values`);
  }
  if ((r.operator === 'Gt' || r.operator === 'Lt') && (values.length !== 1 || !/^-?[0-9]+$/.test(values[0]))) {
    throw new InputError(`${at}: operator ${r.operator} compares with one whole number; write values: ["<number>"]`);
  }
  if (!field) values.forEach((v, i) => checkLabelValue(v, `${at}.values[${i}]`));
  return r.values === undefined ? { key: r.key, operator: r.operator } : { key: r.key, operator: r.operator, values: [...r.values] };
}
