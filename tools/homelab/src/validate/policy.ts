import { credentialReason } from './credentials';
import { describe, imageProblem, isObj, list, type Issue, type K8sObject, type Obj, podOf, type PolicySubject } from './objects';
import type { DocPath } from './source';
import { outsideProbe } from '../spec/health';
import { JOB_KIND_LABEL, RUNS_TO_COMPLETION } from '../app/steps/compose';

/** Workloads that run until stopped, which policy/probes applies to: not Jobs and CronJobs, which run to completion. */
const LONG_RUNNING = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController']);
/** Compose services that run to completion (homelab.kind: job, init or cron), which policy/probes does not apply to either. */
const RUN_TO_COMPLETION = new Set<string>([...RUNS_TO_COMPLETION, 'cron']);
/** The other fix of a missing health check: a service with `health.probe: none` turns the rule off with its reason. */
const PROBES_OFF = 'or turn policy/probes off with a reason in policy.disable';

/**
 * Policy checks of one Kubernetes object, in the spirit of kube-linter and kube-score. Each
 * message says how to fix it; values of secrets are never in a message.
 */
export function kubernetesPolicy(t: K8sObject): Issue[] {
  const o = t.obj;
  const out: Issue[] = [];
  // The service a finding is about: a container is named like its service; a pod is its component's (the shorthand's: the app's).
  let podService = '';
  const add = (rule: string, message: string, path: DocPath, about: PolicySubject = { service: podService }) => out.push({ rule, message, target: t, path, about });
  if (o.kind === 'Secret' && (hasEntries(o.data) || hasEntries(o.stringData))) {
    const field = hasEntries(o.data) ? 'data' : 'stringData';
    add('policy/secret-in-git', `Secret ${o.metadata?.name ?? ''} holds ${field} in git; produce it with an ExternalSecret from the secret store instead`, [field]);
  }
  const pod = podOf(o);
  if (!pod) return out;
  const { spec, path } = pod;
  const what = describe(o);
  podService = String(pod.labels['app.kubernetes.io/component'] ?? pod.labels['app.kubernetes.io/name'] ?? o.metadata?.name ?? '');
  for (const flag of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[flag] === true) add('policy/host-network', `${what} sets ${flag}: true; remove it (the pod then shares the node's ${flag.slice(4)} namespace)`, [...path, flag]);
  }
  list(spec.volumes).forEach((v, i) => {
    if (!isObj(v.hostPath)) return;
    const p = String(v.hostPath.path ?? '');
    if (/docker\.sock$|containerd\.sock$|crio\.sock$/.test(p)) {
      add('policy/docker-socket', `${what} mounts the container runtime socket ${p} (root on the node); remove volume ${v.name}`, [...path, 'volumes', i, 'hostPath'], { service: podService, subject: p });
    } else {
      add('policy/host-path', `${what} mounts hostPath ${p}; use a PersistentVolumeClaim instead, or give the spec's hostPath volume its reason`, [...path, 'volumes', i, 'hostPath'], { service: podService, subject: p });
    }
  });
  const podSc = isObj(spec.securityContext) ? spec.securityContext : {};
  // Each container by a function of its own, and no array spread or iterated whose kind of
  // elements differs from pod to pod (no init containers: an empty one): V8 optimizes the checks
  // once instead of three times, each dropped when the next pod's arrays looked otherwise.
  const containers = list(spec.containers);
  for (let i = 0; i < containers.length; i++) checkContainer(containers[i], [...path, 'containers', i], false);
  const inits = list(spec.initContainers);
  for (let i = 0; i < inits.length; i++) checkContainer(inits[i], [...path, 'initContainers', i], true);
  return out;

  function checkContainer(c: Obj, cpath: DocPath, init: boolean): void {
    const name = `container ${c.name ?? '?'} of ${what}`;
    // An init container or sidecar is not named like its pod's service: its findings say whose pod it is in.
    const about = c.name === podService || podService === '' ? { service: String(c.name ?? '') } : { service: String(c.name ?? ''), pod: podService };
    const image = imageProblem(c.image);
    if (image) add('policy/image-tag', `${name}: ${image}; pin a version tag or a digest`, [...cpath, 'image'], about);
    const sc = isObj(c.securityContext) ? c.securityContext : {};
    if (sc.privileged === true) add('policy/privileged', `${name} is privileged; remove securityContext.privileged`, [...cpath, 'securityContext', 'privileged'], about);
    if (sc.allowPrivilegeEscalation === true) add('policy/privileged', `${name} allows privilege escalation; set securityContext.allowPrivilegeEscalation: false`, [...cpath, 'securityContext', 'allowPrivilegeEscalation'], about);
    const added: unknown = sc.capabilities?.add;
    if (Array.isArray(added)) {
      for (let i = 0; i < added.length; i++) {
        const capability = String(added[i]);
        add('policy/capabilities', `${name} adds the capability ${capability}; drop it, or record why in the spec (security.capabilities.${capability}: <reason>)`, [...cpath, 'securityContext', 'capabilities', 'add'], { ...about, subject: capability });
      }
    }
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const user = sc.runAsUser ?? podSc.runAsUser;
    if (user === 0 || (nonRoot !== true && !(typeof user === 'number' && user > 0))) {
      add('policy/run-as-non-root', `${name} may run as root; set securityContext.runAsNonRoot: true and a non-zero runAsUser`, isObj(c.securityContext) ? [...cpath, 'securityContext'] : cpath, about);
    }
    if (sc.readOnlyRootFilesystem !== true) {
      add('policy/read-only-root-fs', `${name} has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes`, isObj(c.securityContext) ? [...cpath, 'securityContext'] : cpath, about);
    }
    list(c.env).forEach((e, i) => {
      const reason = credentialReason(String(e.name ?? ''), e.value);
      if (reason) add('policy/plaintext-credential', `${name}: env ${e.name} ${reason}; move it to the secret store and read it from the ExternalSecret's Secret (secretKeyRef)`, [...cpath, 'env', i, 'value'], about);
    });
    list(c.volumeMounts).forEach((m, i) => {
      if (/docker\.sock$/.test(String(m.mountPath ?? ''))) add('policy/docker-socket', `${name} mounts the Docker socket at ${m.mountPath}; remove the mount`, [...cpath, 'volumeMounts', i], about);
    });
    if (init) return;
    const res = isObj(c.resources) ? c.resources : {};
    const missing = [
      isObj(res.requests) && res.requests.cpu !== undefined ? null : 'requests.cpu',
      isObj(res.requests) && res.requests.memory !== undefined ? null : 'requests.memory',
      isObj(res.limits) && res.limits.memory !== undefined ? null : 'limits.memory',
    ].filter(Boolean);
    if (missing.length) add('policy/resources', `${name} sets no ${missing.join(', ')}; set them (spec.resources in the app spec)`, isObj(c.resources) ? [...cpath, 'resources'] : cpath, about);
    if (LONG_RUNNING.has(o.kind)) {
      const probes = ['readinessProbe', 'livenessProbe'].filter((p) => !isObj(c[p]));
      if (probes.length) add('policy/probes', `${name} has no ${probes.join(' and ')}; add them (spec.health in the app spec), ${PROBES_OFF}`, cpath, about);
    }
  }
}

function hasEntries(v: unknown): boolean {
  return isObj(v) && Object.keys(v).length > 0;
}

/** A Compose file's services, as policy sees them. */
export interface ComposeIssue {
  rule: string;
  message: string;
  path: DocPath;
  about: PolicySubject;
}

/** Policy checks of a (merged) Compose document's services. */
export function composePolicy(doc: Obj): ComposeIssue[] {
  const out: ComposeIssue[] = [];
  if (!isObj(doc.services)) return out;
  for (const [name, svc] of Object.entries(doc.services)) {
    if (!isObj(svc)) continue;
    const p: DocPath = ['services', name];
    const add = (rule: string, message: string, path: DocPath = p, subject?: string) => out.push({ rule, message, path, about: { service: name, subject } });
    const what = `service ${name}`;
    if (svc.image !== undefined || svc.build === undefined) {
      const image = imageProblem(svc.image);
      if (image) add('policy/image-tag', `${what}: ${image}; pin a version tag or a digest`, svc.image === undefined ? p : [...p, 'image']);
    }
    if (svc.privileged === true) add('policy/privileged', `${what} is privileged; remove privileged: true`, [...p, 'privileged']);
    for (const key of ['network_mode', 'pid', 'ipc'] as const) {
      if (svc[key] === 'host') add('policy/host-network', `${what} sets ${key}: host; remove it and publish ports instead`, [...p, key]);
    }
    const volumes = Array.isArray(svc.volumes) ? svc.volumes : [];
    volumes.forEach((v: unknown, i: number) => {
      const source = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0] : '') : isObj(v) && (v.type === 'bind' || v.type === undefined) ? String(v.source ?? '') : '';
      if (/docker\.sock$/.test(source)) add('policy/docker-socket', `${what} mounts the Docker socket ${source} (root on the host); remove the mount`, [...p, 'volumes', i], source);
      else if (source.startsWith('/')) add('policy/host-path', `${what} bind-mounts the host path ${source}; use a named volume, or give the spec's hostPath volume its reason`, [...p, 'volumes', i], source);
    });
    (Array.isArray(svc.cap_add) ? svc.cap_add.map(String) : []).forEach((capability: string, i: number) => {
      add('policy/capabilities', `${what} adds the capability ${capability}; drop it, or record why in the spec (security.capabilities.${capability}: <reason>)`, [...p, 'cap_add', i], capability.replace(/^CAP_/, ''));
    });
    if (svc.read_only !== true) add('policy/read-only-root-fs', `${what} has a writable root filesystem; set read_only: true and a tmpfs where it writes`, p);
    const user = svc.user === undefined ? '' : String(svc.user);
    if (user === '' || /^(root|0)(:|$)/.test(user)) add('policy/run-as-non-root', `${what} runs as ${user === '' ? "the image's user (often root)" : 'root'}; set user: "65532:65532" or another non-root uid`, svc.user === undefined ? p : [...p, 'user']);
    // A service that deploy probes from outside (spec health.probe: outside) has its check in its labels.
    const hc = svc.healthcheck;
    const labels = isObj(svc.labels) ? svc.labels : null;
    const runsToCompletion = RUN_TO_COMPLETION.has(String(labels?.[JOB_KIND_LABEL] ?? ''));
    if (!runsToCompletion && (!isObj(hc) || hc.disable === true) && outsideProbe(labels) === null) {
      add('policy/probes', `${what} has no healthcheck; add one (spec.health in the app spec), ${PROBES_OFF}`, p);
    }
    const memory = svc.mem_limit ?? svc.deploy?.resources?.limits?.memory;
    if (memory === undefined) add('policy/resources', `${what} has no memory limit; set deploy.resources.limits.memory`, p);
    const env = svc.environment;
    const entries: [string, unknown, DocPath][] = Array.isArray(env)
      ? env.map((e: unknown, i: number): [string, unknown, DocPath] => {
          const s = String(e);
          const eq = s.indexOf('=');
          return eq === -1 ? [s, undefined, [...p, 'environment', i]] : [s.slice(0, eq), s.slice(eq + 1), [...p, 'environment', i]];
        })
      : isObj(env)
        ? Object.entries(env).map(([k, v]): [string, unknown, DocPath] => [k, v, [...p, 'environment', k]])
        : [];
    for (const [key, value, path] of entries) {
      const reason = credentialReason(key, value);
      if (reason) add('policy/plaintext-credential', `${what}: environment ${key} ${reason}; move it to the secret store and the env file (.env.example lists the key)`, path);
    }
  }
  return out;
}
