import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import type { WorkspaceConfig } from '../spec/types';
import { environmentTargets } from '../workspace/targets';
import { isObj, type Issue, type K8sObject, list, type Obj } from './objects';

/**
 * The YAML files a kustomization includes, following `resources` and `components` into the
 * folders they name (patches and generators aside): enough to say which plain objects an
 * infrastructure overlay renders without running kustomize for every app that asks.
 */
function includedFiles(dir: string, seen = new Set<string>()): string[] {
  const kfile = ['kustomization.yaml', 'kustomization.yml'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!kfile || seen.has(dir)) return [];
  seen.add(dir);
  let doc: Obj;
  try {
    doc = jsyaml.load(fs.readFileSync(kfile, 'utf8')) as Obj;
  } catch {
    return []; // reported when that project is validated
  }
  const entries = [...(Array.isArray(doc?.resources) ? doc.resources : []), ...(Array.isArray(doc?.components) ? doc.components : [])].filter((e): e is string => typeof e === 'string');
  return entries.flatMap((entry) => {
    const target = path.resolve(dir, entry);
    if (!fs.existsSync(target)) return [];
    return fs.statSync(target).isDirectory() ? includedFiles(target, seen) : [target];
  });
}

/** `namespace/name` of every Gateway the infrastructure overlays of one environment render. */
function renderedGateways(root: string, env: string): Set<string> {
  const overlays = path.join(root, 'infrastructure/kubernetes/overlays', env);
  const found = new Set<string>();
  if (!fs.existsSync(overlays)) return found;
  for (const component of fs.readdirSync(overlays).sort()) {
    const dir = path.join(overlays, component);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of includedFiles(dir)) {
      try {
        for (const doc of jsyaml.loadAll(fs.readFileSync(file, 'utf8')) as Obj[]) {
          if (isObj(doc) && doc.kind === 'Gateway' && typeof doc.metadata?.name === 'string') found.add(`${doc.metadata.namespace ?? ''}/${doc.metadata.name}`);
        }
      } catch {
        // reported when that project is validated
      }
    }
  }
  return found;
}

/**
 * route/no-gateway: every Gateway an app's HTTPRoute attaches to (`parentRefs`) is rendered for
 * the app's cluster, by the infrastructure of the environment that installs it there (the
 * ingress component's `generated/gateway.yaml` with `ingress.kind: httproute`). Without it the
 * route is accepted by the API server and serves nothing.
 */
export function gatewayIssues(root: string, workspace: WorkspaceConfig, env: string, rendered: K8sObject[]): Issue[] {
  const routes = rendered.filter((t) => t.obj.kind === 'HTTPRoute' && !t.patch);
  if (routes.length === 0) return [];
  const owner = environmentTargets(workspace).find((t) => t.installsKubernetes && t.kubernetesServes.includes(env));
  const gateways = owner ? renderedGateways(root, owner.env.name) : new Set<string>();
  const issues: Issue[] = [];
  for (const t of routes) {
    list(t.obj.spec?.parentRefs).forEach((ref, i) => {
      if ((ref.kind ?? 'Gateway') !== 'Gateway' || (ref.group ?? 'gateway.networking.k8s.io') !== 'gateway.networking.k8s.io') return;
      const key = `${ref.namespace ?? ''}/${ref.name}`;
      if (gateways.has(key)) return;
      const overlay = `infrastructure/kubernetes/overlays/${owner?.env.name ?? env}/ingress`;
      issues.push({
        rule: 'route/no-gateway',
        message: `HTTPRoute ${t.obj.metadata?.name} attaches to Gateway ${key.replace(/^\//, '')}, which nothing renders for the cluster of ${env}; add the ingress component (\`npx nx g homelab:infra ingress\`) and keep \`components: [generated]\` in ${overlay}/kustomization.yaml, or name its Gateway in homelab.yaml ingress.gateway`,
        target: t,
        path: ['spec', 'parentRefs', i],
      });
    });
  }
  return issues;
}
