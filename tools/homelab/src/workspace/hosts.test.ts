import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../spec/io';
import type { WorkspaceConfig } from '../spec/types';
import { readableAppSpecs } from '../app/plan';
import { diskHost } from '../host';
import { claimsOf, hostClaimingSpecs, hostCollisions, workspaceClaims } from './hosts';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
/** dev and prod as the default homelab.yaml has them (one cluster, one Docker host), and lab with its own. */
const withLab: WorkspaceConfig = { ...workspace, environments: [...workspace.environments, { name: 'lab', namespaceSuffix: '-lab', kubernetes: { server: 'https://lab.home.arpa:6443' }, compose: { context: 'lab' } }] };
const keepHosts: WorkspaceConfig = { ...withLab, environments: withLab.environments.map((e) => ({ ...e, hostPattern: '{host}' })) };
const whoami = specOf('whoami', { ingress: { host: 'whoami.home.example.org' } });

describe('host claims', () => {
  it('claims one host per environment of the app, each where that environment routes it', () => {
    expect(claimsOf(whoami, withLab)).toEqual([
      { app: 'whoami', env: 'dev', host: 'whoami.dev.home.example.org', server: 'https://kubernetes.default.svc', context: 'local', namespace: 'whoami-dev', tls: true },
      { app: 'whoami', env: 'prod', host: 'whoami.home.example.org', server: 'https://kubernetes.default.svc', context: 'local', namespace: 'whoami', tls: true },
      { app: 'whoami', env: 'lab', host: 'whoami.lab.home.example.org', server: 'https://lab.home.arpa:6443', context: 'lab', namespace: 'whoami-lab', tls: true },
    ]);
    expect(claimsOf(specOf('quiet'), withLab)).toEqual([]);
    expect(claimsOf(specOf('solo', { ingress: { host: 'solo.example.org' }, environments: { prod: {} } }), withLab).map((c) => c.env)).toEqual(['prod']);
  });

  it('finds no collision with hosts per environment', () => {
    expect(hostCollisions(claimsOf(whoami, withLab))).toEqual([]);
  });

  it('reports environments that share a cluster and a Docker host and keep one host, naming both and the fix', () => {
    expect(hostCollisions(claimsOf(whoami, keepHosts)).map((c) => c.message)).toEqual([
      'host "whoami.home.example.org" is claimed by whoami in dev and by whoami in prod, which share the cluster https://kubernetes.default.svc and the Docker host "local"; give prod hosts of its own (its hostPattern in homelab.yaml), or set environments.prod.host in applications/specs/whoami.yaml',
    ]);
  });

  it('reports two apps claiming one host on one Docker host only, and none across separate ones', () => {
    const other = specOf('other', { ingress: { host: 'whoami.home.example.org' }, environments: { prod: {}, lab: {} } });
    const sameContext: WorkspaceConfig = { ...withLab, environments: withLab.environments.map((e) => (e.name === 'lab' ? { ...e, compose: { context: 'local' } } : e)) };
    const claims = [...claimsOf(whoami, keepHosts), ...claimsOf(other, keepHosts)].filter((c) => c.env !== 'dev');

    expect(hostCollisions(claims).map((c) => [c.first.app, c.first.env, c.second.app, c.second.env])).toEqual([
      ['whoami', 'prod', 'other', 'prod'],
      ['whoami', 'lab', 'other', 'lab'],
    ]);
    expect(hostCollisions(claims)[0].message).toMatch(/; give one app another ingress\.host, or set environments\.prod\.host in applications\/specs\/other\.yaml$/);
    // prod (local engine, in-cluster) against lab (its own cluster and Docker host): apart.
    expect(hostCollisions([claims[0], claims[3]])).toEqual([]);
    // lab moved onto the local engine: a Docker host shared, the clusters still apart.
    const moved = [...claimsOf(whoami, { ...sameContext, environments: sameContext.environments.map((e) => ({ ...e, hostPattern: '{host}' })) })].filter((c) => c.env !== 'dev');
    expect(hostCollisions(moved).map((c) => c.message)).toEqual([expect.stringContaining('which share the Docker host "local";')]);
  });

  it('lets a wildcard and a host it covers stand side by side', () => {
    const any = specOf('any', { ingress: { host: '*.home.example.org' }, environments: { prod: {} } });
    expect(hostCollisions([...claimsOf(whoami, withLab), ...claimsOf(any, withLab)])).toEqual([]);
  });
});

describe('the specs that can claim a host', () => {
  const spec = (name: string, extra: string) => `name: ${name}\nimage:\n  repository: traefik/whoami\n  tag: v1.10.4\nports:\n  - name: http\n    port: 8080\n    http: true\n${extra}`;

  it('are parsed alone, and give the claims that parsing every spec gives', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-claims-'));
    try {
      const host = diskHost(root);
      host.write('applications/specs/whoami.yaml', spec('whoami', 'ingress:\n  host: whoami.home.example.org\n'));
      host.write('applications/specs/plain.yaml', spec('plain', '# not routed\n'));
      // A key spelled with an escape is still `ingress`.
      host.write('applications/specs/escaped.yaml', spec('escaped', '"\\x69ngress":\n  host: escaped.home.example.org\n'));

      expect(hostClaimingSpecs(host).map((s) => s.name)).toEqual(['escaped', 'whoami']);
      const claims = workspaceClaims(host, workspace);
      expect(claims).toEqual(workspaceClaims(host, workspace, readableAppSpecs(host)));
      expect(new Set(claims.map((c) => c.app))).toEqual(new Set(['escaped', 'whoami']));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
