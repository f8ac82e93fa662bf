/**
 * Every rule `homelab validate` reports, with its class and what fixes it. docs/validate.md
 * lists the same table; a test keeps them in step. Policy rules can be turned off per app with
 * a reason (`policy.disable` in the app spec); the other classes cannot. `server` rules come
 * only from `homelab validate --server-dry-run` (validate/server.ts), never from the Nx target.
 */
export type RuleClass = 'parse' | 'schema' | 'render' | 'consistency' | 'policy' | 'server';

export interface Rule {
  id: string;
  class: RuleClass;
  severity: 'error' | 'warning';
  /** One line: what the rule checks. */
  summary: string;
}

const r = (id: string, cls: RuleClass, summary: string, severity: 'error' | 'warning' = 'error'): Rule => ({ id, class: cls, severity, summary });

export const RULES: readonly Rule[] = [
  r('parse/unreadable', 'parse', 'the file cannot be read'),
  r('parse/too-large', 'parse', 'the file is larger than the limit (8 MiB by default, --max-file-size)'),
  r('parse/binary', 'parse', 'the file holds NUL bytes: a binary file, not YAML'),
  r('parse/encoding', 'parse', 'the file is not valid UTF-8'),
  r('parse/syntax', 'parse', 'YAML syntax error'),
  r('parse/duplicate-key', 'parse', 'a mapping holds the same key twice'),
  r('parse/too-deep', 'parse', 'nesting deeper than 200 levels'),
  r('parse/alias-bomb', 'parse', 'aliases expand to more than 1,000,000 nodes (a "billion laughs" document)'),
  r('parse/not-an-object', 'parse', 'a document is a scalar or a list where a mapping is expected'),
  r('schema/missing-apiversion', 'schema', 'a Kubernetes document has no apiVersion'),
  r('schema/missing-kind', 'schema', 'a Kubernetes document has no kind'),
  r('schema/unknown-kind', 'schema', 'no schema for this apiVersion and kind (add one with `homelab schemas add <crd.yaml>`)'),
  r('schema/unknown-field', 'schema', 'a field the schema does not define (a typo, or a field of another API version)'),
  r('schema/missing-field', 'schema', 'a required field is missing'),
  r('schema/invalid', 'schema', 'a value of the wrong type, outside its enum or otherwise invalid'),
  r('schema/custom-invalid', 'schema', 'a schema under schemas/custom cannot be read or compiled (documents of its kind are checked without it)'),
  r('render/tool-missing', 'render', 'neither `kubectl` nor `kustomize`, or no `docker compose`, to render with'),
  r('render/kustomize', 'render', 'an overlay or base does not build with kustomize'),
  r('render/compose', 'render', 'the Compose files of an environment do not merge with `docker compose config`'),
  r('sync/missing', 'consistency', 'a file the spec renders is missing'),
  r('sync/drift', 'consistency', 'a spec-owned file differs from what its spec renders (a hand edit)'),
  r('sync/stale', 'consistency', 'a spec-owned file the spec no longer renders'),
  r('sync/orphan', 'consistency', 'a file an app or component rendered whose spec is gone (its ArgoCD Application keeps it deployed)'),
  r('spec/invalid', 'consistency', 'the spec or homelab.yaml cannot be read or rendered'),
  r('spec/name', 'consistency', 'a spec name does not match its file name'),
  r('deps/unknown-component', 'consistency', 'dependsOn names no infrastructure component'),
  r('database/collision', 'consistency', 'two apps or environments claim one database or role on one PostgreSQL server'),
  r('deps/unknown-app', 'consistency', 'dependsOn names neither an app nor an infrastructure component of the workspace'),
  r('deps/app-environment', 'consistency', 'dependsOn names an app that does not run in one of the environments the dependent runs in (or cannot be reached there)'),
  r('deps/cycle', 'consistency', 'dependsOn names the app itself, or its apps depend on each other in a cycle'),
  r('replicas/read-write-once', 'consistency', 'a service with more than one replica mounts a ReadWriteOnce volume, which holds one'),
  r('replicas/stateful', 'consistency', 'a stateful service (a persistent volume, a single-writer database image) scaled above one replica without `replication: <reason>`, or `replication` on a service that is not scaled'),
  r('availability/blocks-drain', 'consistency', "a replicated service's availability lets no pod go (maxUnavailable: 0, minAvailable at its replicas), or a service of one replica has an availability"),
  r('hosts/collision', 'consistency', 'two apps, or two environments of one app, claim one host on one cluster or Docker host'),
  r('platform/not-initialised', 'consistency', 'a component in a workspace without the ArgoCD bootstrap (`nx g homelab:init`)'),
  r('argocd/source-not-allowed', 'consistency', "the infrastructure AppProject does not allow a component's chart repository"),
  r('values/wired', 'consistency', 'a component spec sets a chart value that homelab sets itself (it has no effect)', 'warning'),
  r('argocd/path-missing', 'consistency', 'an ArgoCD Application points at a path that does not exist'),
  r('argocd/project-missing', 'consistency', 'an ArgoCD Application names an AppProject not defined under platform/argocd (checked once any AppProject is defined there)'),
  r('argocd/destination', 'consistency', 'an ArgoCD Application whose destination its AppProject does not admit'),
  r('secrets/store-missing', 'consistency', 'an ExternalSecret (or the spec) names a secret store not defined under platform/secrets/stores'),
  r('secrets/no-producer', 'consistency', 'a workload reads a Secret that no ExternalSecret of the project produces'),
  r('secrets/env-example', 'consistency', 'Compose .env.example keys differ from the ExternalSecret keys'),
  r('service/target-port', 'consistency', 'a Service targetPort is not a port of the pods it selects'),
  r('service/selector', 'consistency', 'a Service selector matches no pod template'),
  r('monitor/port', 'consistency', 'a ServiceMonitor selects no Service, or names a port the Service does not have'),
  r('backup/pvc-missing', 'consistency', 'a backup resource refers to a PersistentVolumeClaim that does not exist'),
  r('instances/overlay-component', 'consistency', "the postgres component's instances of an install differ from the base's, and that install's overlay does not include its generated/ component"),
  r('backup/postgres-dumps-only', 'consistency', "the shared PostgreSQL runs on Kubernetes without an S3 target: the apps' dumps are all that covers it", 'warning'),
  r('quota/exceeded', 'consistency', "an owner's quota (the spec's quota, environments.<env>.quota) is below what the app needs at its peak in an environment"),
  r('parity/image', 'consistency', 'Kubernetes and Compose run different images'),
  r('parity/patch', 'consistency', "a patch of the spec's escape hatch changes one platform only (what it changes, on which platform)", 'warning'),
  r('route/no-gateway', 'consistency', "an HTTPRoute attaches to a Gateway that nothing renders for its cluster"),
  r('parity/host', 'consistency', "the Compose Traefik rule and the Kubernetes Ingress/HTTPRoute of an environment name different hosts"),
  r('parity/ports', 'consistency', 'Kubernetes container ports differ from the Compose service ports'),
  r('parity/health', 'consistency', 'one platform has a health check, the other has none'),
  r('parity/env', 'consistency', 'Kubernetes and Compose set different environment variable names'),
  r('parity/volumes', 'consistency', 'Kubernetes and Compose mount different paths'),
  r('parity/networks', 'consistency', "a Compose service's networks differ from the shared components its Kubernetes NetworkPolicy lets it reach, or its default network routes to the internet where the policy allows no egress"),
  r('parity/autoscale', 'consistency', 'a service autoscales in an environment, where Compose has no autoscaler and runs autoscale.min replicas', 'warning'),
  r('parity/egress', 'consistency', 'network.allowInternet is false but the app publishes a port, so its Compose network cannot be internal and its containers reach the internet', 'warning'),
  r('autoscale/requests', 'consistency', 'a service autoscales on CPU or memory, but its spec writes no request of that resource (a utilization of a default request measures nothing)'),
  r('parity/placement', 'consistency', "a service's placement (nodeSelector, tolerations, node affinity) chooses Kubernetes nodes; in an environment with Compose files the Docker host is the placement", 'warning'),
  r('policy/image-tag', 'policy', 'an image is not pinned (no tag, or `latest`)'),
  r('policy/resources', 'policy', 'a container without CPU/memory requests or a memory limit'),
  r('policy/probes', 'policy', 'a long-running container without readiness and liveness probes (Compose: healthcheck)'),
  r('policy/run-as-non-root', 'policy', 'a pod or container that may run as root'),
  r('policy/read-only-root-fs', 'policy', 'a container whose root filesystem is writable'),
  r('policy/privileged', 'policy', 'a privileged container, or one that may escalate privileges'),
  r('policy/host-path', 'policy', 'a hostPath volume (Compose: a bind mount of a host path outside the project)'),
  r('policy/host-network', 'policy', 'hostNetwork, hostPID or hostIPC (Compose: network_mode/pid/ipc host)'),
  r('policy/capabilities', 'policy', 'a container that adds a Linux capability (securityContext.capabilities.add; Compose: cap_add)'),
  r('policy/docker-socket', 'policy', 'the Docker socket mounted into a container'),
  r('policy/network-policy', 'policy', 'a project whose rendered objects hold workloads but no NetworkPolicy'),
  r('policy/secret-in-git', 'policy', 'a Secret object with data or stringData committed to git'),
  r('policy/plaintext-credential', 'policy', 'an env value that looks like a credential (known token prefix, or a long high-entropy value)'),
  r('policy/private-key', 'policy', 'a PEM private key block in a file'),
  r('server/unreachable', 'server', 'the cluster KUBECONFIG points at cannot be reached (`--server-dry-run`)'),
  r('server/no-crd', 'server', 'the cluster has no CRD for a kind an overlay renders (`--server-dry-run`)'),
  r('server/rejected', 'server', 'the API server refuses an object of an overlay in a server-side apply dry run (`--server-dry-run`)'),
  r('server/warning', 'server', 'the API server accepts an object of an overlay with a warning (`--server-dry-run`)', 'warning'),
];

export const RULE_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.id, rule]));

export function severityOf(id: string): 'error' | 'warning' {
  return RULE_BY_ID.get(id)?.severity ?? 'error';
}

export function isPolicyRule(id: string): boolean {
  return RULE_BY_ID.get(id)?.class === 'policy';
}

/** The class of checks a rule belongs to (what --skip and --only select). */
export function classOfRule(id: string): RuleClass {
  return RULE_BY_ID.get(id)?.class ?? 'consistency';
}
