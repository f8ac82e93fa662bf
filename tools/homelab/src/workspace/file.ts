import YAML from 'yaml';
import { parseWorkspaceConfig, WORKSPACE_FILE, WORKSPACE_SCHEMA_PATH } from '../spec/io';
import type { WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';
import { DEFAULT_HOST_PATTERN, PROTECTED_HOST_PATTERN } from '../app/steps/hosts';

/**
 * Edits of homelab.yaml that keep its comments and layout (YAML Document API); each
 * result is read back through the workspace schema before anyone writes it.
 */
function edit(text: string, change: (doc: YAML.Document) => void): { text: string; config: WorkspaceConfig } {
  const doc = YAML.parseDocument(text);
  change(doc);
  const out = doc.toString({ lineWidth: 0 });
  return { text: out, config: parseWorkspaceConfig(out) };
}

export function withEnvironment(text: string, env: WorkspaceEnvironment) {
  return edit(text, (doc) => doc.addIn(['environments'], doc.createNode(env)));
}

export function withDefaultStore(text: string, store: string) {
  return edit(text, (doc) => doc.setIn(['secrets', 'store'], store));
}

/**
 * homelab.yaml of a workspace made before hosts per environment, with today's hosts written
 * out: `hostPattern: "{host}"` on every environment (each app keeps its spec's host everywhere).
 * Null when any environment already has a hostPattern: the workspace is of the current format.
 */
export function withHostsKept(text: string): { text: string; config: WorkspaceConfig } | null {
  const config = parseWorkspaceConfig(text);
  if (config.environments.some((e) => e.hostPattern !== undefined)) return null;
  return edit(text, (doc) => {
    config.environments.forEach((_e, i) => doc.setIn(['environments', i, 'hostPattern'], PROTECTED_HOST_PATTERN));
  });
}

export function withRepoURL(text: string, repoURL: string) {
  return edit(text, (doc) => doc.setIn(['gitops', 'repoURL'], repoURL));
}

/** homelab.yaml for a workspace that has none: two environments sharing one cluster and one Docker host. */
export function defaultWorkspaceFile(repoURL: string): { text: string; config: WorkspaceConfig } {
  const body = YAML.stringify(
    {
      // Hosts written out (docs/spec.md, "Hosts"), so the hosts-per-environment migration knows the file is of this format.
      environments: [
        { name: 'dev', namespaceSuffix: '-dev', hostPattern: DEFAULT_HOST_PATTERN },
        { name: 'prod', protected: true, hostPattern: PROTECTED_HOST_PATTERN },
      ],
      gitops: { repoURL, revision: 'main', argocdNamespace: 'argocd', project: 'applications' },
      secrets: { store: 'homelab' },
      backup: { provider: 'volsync', schedule: '0 3 * * *', repositoryKey: 'homelab/restic' },
      ingress: { kind: 'ingress', className: 'traefik', clusterIssuer: 'letsencrypt', namespace: 'traefik' },
      monitoring: { namespace: 'monitoring', release: 'kube-prometheus-stack' },
    },
    { lineWidth: 0 },
  );
  const text = `# yaml-language-server: $schema=./${WORKSPACE_SCHEMA_PATH}\n# Workspace settings for homelab (${WORKSPACE_FILE}): every app and component is rendered with these.\n${body}`;
  return { text, config: parseWorkspaceConfig(text) };
}
