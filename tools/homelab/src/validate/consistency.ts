import { describe, isObj, type Issue, type K8sObject, labelsMatch, list, type Obj, podOf } from './objects';

export interface SetContext {
  /** Names of the secret stores defined under platform/secrets/stores; null when unknown (no workspace). */
  stores: Set<string> | null;
  /** Check that workloads only read Secrets an ExternalSecret of the set produces (rendered sets only). */
  secretProducers: boolean;
  /** Check that a set with workloads has a NetworkPolicy (rendered sets only). */
  networkPolicy: boolean;
}

/**
 * Checks across the objects of one set (a rendered overlay, or plain manifests of one folder):
 * Services against the pods they select, ServiceMonitors against Services, backups against
 * claims, Secrets read against Secrets produced, ExternalSecrets against stores.
 */
export function checkSet(objects: K8sObject[], ctx: SetContext): Issue[] {
  const out: Issue[] = [];
  const byKind = new Map<string, K8sObject[]>();
  const pods: { t: K8sObject; pod: NonNullable<ReturnType<typeof podOf>> }[] = [];
  for (const t of objects) {
    if (t.patch) continue;
    const kind = String(t.obj.kind);
    const bucket = byKind.get(kind);
    if (bucket) bucket.push(t);
    else byKind.set(kind, [t]);
    const pod = podOf(t.obj);
    if (pod) pods.push({ t, pod });
  }
  const of = (kind: string) => byKind.get(kind) ?? [];
  const services = of('Service');
  const podIndex = new LabelIndex(pods, (p) => p.pod.labels);
  const serviceIndex = new LabelIndex(services, (t) => (isObj(t.obj.metadata?.labels) ? t.obj.metadata.labels : {}));

  for (const t of services) {
    const selector = t.obj.spec?.selector;
    if (!isObj(selector) || Object.keys(selector).length === 0 || pods.length === 0) continue;
    const matching = podIndex.select(selector);
    if (matching.length === 0) {
      out.push({ rule: 'service/selector', message: `Service ${t.obj.metadata?.name} selects ${JSON.stringify(selector)} but no pod template has these labels; fix the selector or the pod labels`, target: t, path: ['spec', 'selector'] });
      continue;
    }
    const ports: Obj[] = [];
    for (const p of matching) for (const c of list(p.pod.spec.containers)) for (const cp of list(c.ports)) ports.push(cp);
    if (ports.length === 0) continue;
    list(t.obj.spec?.ports).forEach((sp, i) => {
      const target = sp.targetPort ?? sp.port;
      const ok = typeof target === 'string' ? ports.some((cp) => cp.name === target) : ports.some((cp) => cp.containerPort === target);
      if (!ok) {
        out.push({
          rule: 'service/target-port',
          message: `Service ${t.obj.metadata?.name} port ${sp.name ?? sp.port} targets ${JSON.stringify(target)}, which no selected container declares (${ports.map((cp) => cp.name ?? cp.containerPort).join(', ')}); use one of those`,
          target: t,
          path: ['spec', 'ports', i, sp.targetPort === undefined ? 'port' : 'targetPort'],
        });
      }
    });
  }

  for (const t of of('ServiceMonitor')) {
    const selector = t.obj.spec?.selector?.matchLabels;
    if (!isObj(selector) || services.length === 0) continue;
    const selected = serviceIndex.select(selector);
    if (selected.length === 0) {
      out.push({ rule: 'monitor/port', message: `ServiceMonitor ${t.obj.metadata?.name} selects ${JSON.stringify(selector)} but no Service has these labels; fix spec.selector`, target: t, path: ['spec', 'selector'] });
      continue;
    }
    const names = new Set(selected.flatMap((s) => list(s.obj.spec?.ports).map((p) => p.name)));
    list(t.obj.spec?.endpoints).forEach((ep, i) => {
      if (typeof ep.port === 'string' && !names.has(ep.port)) {
        out.push({ rule: 'monitor/port', message: `ServiceMonitor ${t.obj.metadata?.name} scrapes port "${ep.port}", which the selected Service does not name (${[...names].join(', ')}); use one of those`, target: t, path: ['spec', 'endpoints', i, 'port'] });
      }
    });
  }

  const claims = new Set(of('PersistentVolumeClaim').map((t) => t.obj.metadata?.name));
  for (const t of of('ReplicationSource')) {
    const pvc = t.obj.spec?.sourcePVC;
    if (typeof pvc === 'string' && !claims.has(pvc)) {
      out.push({ rule: 'backup/pvc-missing', message: `ReplicationSource ${t.obj.metadata?.name} backs up PersistentVolumeClaim ${pvc}, which is not defined here; fix spec.sourcePVC`, target: t, path: ['spec', 'sourcePVC'] });
    }
  }
  for (const t of of('ReplicationDestination')) {
    const pvc = t.obj.spec?.restic?.destinationPVC;
    if (typeof pvc === 'string' && !claims.has(pvc)) {
      out.push({ rule: 'backup/pvc-missing', message: `ReplicationDestination ${t.obj.metadata?.name} restores into PersistentVolumeClaim ${pvc}, which is not defined here; fix spec.restic.destinationPVC`, target: t, path: ['spec', 'restic', 'destinationPVC'] });
    }
  }

  const externalSecrets = of('ExternalSecret');
  const localStores = new Set(of('SecretStore').map((t) => t.obj.metadata?.name));
  if (ctx.stores) {
    for (const t of externalSecrets) {
      const ref = t.obj.spec?.secretStoreRef;
      if (!isObj(ref) || typeof ref.name !== 'string') continue;
      const known = ref.kind === 'ClusterSecretStore' ? ctx.stores.has(ref.name) : localStores.has(ref.name) || ctx.stores.has(ref.name);
      if (!known) {
        out.push({ rule: 'secrets/store-missing', message: `ExternalSecret ${t.obj.metadata?.name} reads from ${ref.kind ?? 'SecretStore'} "${ref.name}", which is not defined under platform/secrets/stores; add it with nx g homelab:secret-store or fix secretStoreRef`, target: t, path: ['spec', 'secretStoreRef', 'name'] });
      }
    }
  }

  if (ctx.secretProducers) {
    const produced = new Set([...externalSecrets.map((t) => t.obj.spec?.target?.name ?? t.obj.metadata?.name), ...of('Secret').map((t) => t.obj.metadata?.name)]);
    for (const { t, pod } of pods) {
      for (const [name, path, optional] of secretReads(pod.spec, pod.path)) {
        if (!optional && !produced.has(name)) {
          out.push({ rule: 'secrets/no-producer', message: `${describe(t.obj)} reads Secret ${name}, which no ExternalSecret here produces; add the key to the spec's secrets (or mark the reference optional)`, target: t, path });
        }
      }
    }
  }

  if (ctx.networkPolicy && pods.length > 0 && of('NetworkPolicy').length === 0) {
    const first = pods[0].t;
    out.push({ rule: 'policy/network-policy', message: `${describe(first.obj)} runs with no NetworkPolicy in the set; include the network-policy component (components/network-policy) in the kustomization`, target: first, path: [] });
  }
  return out;
}

/** Items by label, so matching N selectors against M label sets is not N x M. */
class LabelIndex<T> {
  private readonly byLabel = new Map<string, T[]>();

  constructor(
    items: T[],
    private readonly labelsOf: (item: T) => Obj,
  ) {
    for (const item of items) {
      const labels = labelsOf(item);
      for (const k of Object.keys(labels)) {
        const key = `${k}\0${String(labels[k])}`;
        const bucket = this.byLabel.get(key);
        if (bucket) bucket.push(item);
        else this.byLabel.set(key, [item]);
      }
    }
  }

  /** Items whose labels include every pair of a (non-empty) selector. */
  select(selector: Obj): T[] {
    const keys = Object.keys(selector);
    if (keys.length === 0) return [];
    const candidates = this.byLabel.get(`${keys[0]}\0${String(selector[keys[0]])}`) ?? [];
    return candidates.filter((item) => labelsMatch(selector, this.labelsOf(item)));
  }
}

/** Every Secret a pod spec reads: env, envFrom and volumes, with whether it is optional. */
function secretReads(spec: Obj, base: (string | number)[]): [string, (string | number)[], boolean][] {
  const out: [string, (string | number)[], boolean][] = [];
  list(spec.volumes).forEach((v, i) => {
    if (isObj(v.secret) && typeof v.secret.secretName === 'string') out.push([v.secret.secretName, [...base, 'volumes', i, 'secret'], v.secret.optional === true]);
  });
  for (const group of ['containers', 'initContainers'] as const) {
    list(spec[group]).forEach((c, ci) => {
      list(c.envFrom).forEach((e, i) => {
        if (isObj(e.secretRef) && typeof e.secretRef.name === 'string') out.push([e.secretRef.name, [...base, group, ci, 'envFrom', i], e.secretRef.optional === true]);
      });
      list(c.env).forEach((e, i) => {
        const ref = e.valueFrom?.secretKeyRef;
        if (isObj(ref) && typeof ref.name === 'string') out.push([ref.name, [...base, group, ci, 'env', i], ref.optional === true]);
      });
    });
  }
  return out;
}
