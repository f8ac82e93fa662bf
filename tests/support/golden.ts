import { generateApp } from '../../tools/homelab/src/app/generate';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { diskHost } from '../../tools/homelab/src/host';
import { generateEnvironment } from '../../tools/homelab/src/workspace/environment';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { generateSecretStore } from '../../tools/homelab/src/platform/secret-store-generator';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { HOSTILE_COMMAND, HOSTILE_ENV } from './hostile';
import { specOf, VAULT_ANSWERS, writeSpec } from './spec';
import { WORKSPACE_YAML, workspaceYamlWith } from './workspace';

/**
 * The three golden workspaces (each backup provider, both ingress kinds, every catalog component, a
 * secret store, an extra environment and apps that use every field of the app spec): pinned byte
 * for byte by tests/render-golden.test.ts, and the fixtures other tests compare two paths on (the
 * in-process Compose merge against `docker compose config`, batched kustomize builds against
 * builds alone).
 */

const FULL_SPEC = specOf('full', {
  description: 'every field of the app spec',
  image: { repository: 'ghcr.io/example/full', tag: '3.2.1' },
  ports: [
    { name: 'http', port: 8080, http: true },
    { name: 'metrics', port: 9100 },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
  env: { ...HOSTILE_ENV },
  secrets: [
    { key: 'API_TOKEN', remoteKey: 'full' },
    { key: 'DB_PASSWORD', remoteKey: 'shared-db', property: 'password' },
  ],
  volumes: [
    { name: 'data', size: '1Gi', mountPath: '/data' },
    { name: 'cache', size: '512Mi', mountPath: '/var/cache/full', backup: false, storageClass: 'local-path' },
  ],
  resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1500m', memory: '1Gi' } },
  health: { http: { path: '/healthz', port: 'http' }, startGraceSeconds: 45, probe: 'outside' },
  ingress: { host: 'full.example.org', tls: false, port: 'http' },
  monitoring: { metrics: { port: 'metrics', path: '/prom' }, alerts: true, dashboard: true },
  backup: { schedule: '30 2 * * *', retention: { daily: 3, weekly: 2, monthly: 1 } },
  network: { allowInternet: true },
  securityContext: { runAsUser: 1000, runAsGroup: 2000 },
  dependsOn: ['postgres', 'monitoring'],
  environments: { dev: { host: 'full.dev.example.org', env: { LOG_LEVEL: 'debug' } }, prod: {} },
  policy: { disable: [{ rule: 'policy/read-only-root', reason: 'writes its cache next to the binary' }] },
});

const TUNED_SPEC = specOf('tuned', {
  ports: [
    { name: 'http', port: 8080, http: true },
    { name: 'metrics', port: 9100 },
  ],
  health: { command: [...HOSTILE_COMMAND], startGraceSeconds: 10 },
  ingress: { host: 'tuned.example.org' },
  monitoring: { metrics: { port: 'metrics' }, dashboard: false },
  dependsOn: ['postgres'],
  environments: { dev: { replicas: 2, host: '*.dev.example.org', env: { YES: 'no', ONLY_DEV: '0X1F' } }, prod: { replicas: 0 } },
});

const QUIET_SPEC = specOf('quiet', {
  image: { repository: 'registry.home.arpa:5000/quiet', digest: `sha256:${'0'.repeat(64)}` },
  ports: [{ name: 'tcp', port: 7000 }],
  health: { probe: 'none' },
  monitoring: { alerts: false, dashboard: false },
  environments: { prod: { replicas: 3 } },
});

const FILES_SPEC = specOf('files', {
  volumes: [{ name: 'data', size: '5Gi', mountPath: '/srv' }],
  ingress: { host: 'files.example.org' },
  health: { http: { path: '/ready' } },
  environments: { dev: { host: 'files.dev.example.org' }, prod: {} },
});

export interface WorkspaceCase {
  id: string;
  homelabYaml: string;
  /** Runs the generators a user would, on the workspace's host. */
  fill: (root: string) => void;
}

function fullHomelab(root: string): void {
  const host = diskHost(root);
  generateInit(host, {});
  for (const component of COMPONENT_NAMES) generateInfra(host, { component, email: 'admin@example.org' });
  generateSecretStore(host, { provider: 'onepassword', default: true });
  generateEnvironment(host, { name: 'lab', kubernetesServer: 'https://lab.home.arpa:6443', composeContext: 'lab' });
  generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80, host: 'whoami.home.example.org' });
  generateApp(host, { ...VAULT_ANSWERS });
  generateApp(host, { name: 'solo', image: `registry.home.arpa:5000/solo@sha256:${'0'.repeat(64)}`, port: 3000, secrets: 'TOKEN', host: 'solo.example.org', environments: 'prod' });
  for (const spec of [FULL_SPEC, TUNED_SPEC, QUIET_SPEC]) writeSpec(host, spec);
  syncAll(host);
}

export const GOLDEN_WORKSPACES: WorkspaceCase[] = [
  { id: 'volsync-ingress', homelabYaml: WORKSPACE_YAML, fill: fullHomelab },
  {
    id: 'velero-httproute',
    homelabYaml: workspaceYamlWith((c) => {
      c.backup = { provider: 'velero', s3: { endpoint: 'http://minio.home.arpa:9000/', bucket: 'homelab' } };
      c.ingress = { kind: 'httproute', gateway: { name: 'main', namespace: 'gateways' } };
    }),
    fill: (root) => {
      const host = diskHost(root);
      generateInit(host, {});
      for (const component of ['ingress', 'external-secrets', 'backup', 'postgres'] as const) generateInfra(host, { component, email: 'admin@example.org' });
      writeSpec(host, FILES_SPEC);
      syncAll(host);
    },
  },
  {
    id: 'k8up',
    homelabYaml: workspaceYamlWith((c) => {
      c.backup = { provider: 'k8up', s3: { endpoint: 'https://s3.example.org', bucket: 'homelab' } };
    }),
    fill: (root) => {
      const host = diskHost(root);
      generateInit(host, {});
      generateInfra(host, { component: 'backup' });
      generateApp(host, { name: 'notes', image: 'ghcr.io/example/notes:0.9', port: 8000, volumes: 'data:2Gi:/data' });
    },
  },
];

