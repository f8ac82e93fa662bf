import { describe, expect, it } from 'vitest';
import type { WorkspaceConfig, WorkspaceEnvironment } from '../spec/types';
import { environmentTargets } from './targets';

const workspace = (environments: WorkspaceEnvironment[]): WorkspaceConfig => ({ environments, gitops: { repoURL: 'https://git.example.org/h.git' } });
const owners = (environments: WorkspaceEnvironment[]) =>
  environmentTargets(workspace(environments)).map((t) => [t.env.name, t.installsKubernetes, t.installsCompose, t.kubernetesServes, t.composeServes]);

describe('environmentTargets: which environment installs the infrastructure of a cluster and a Docker host', () => {
  it('gives shared destinations to the first protected environment, serving the others', () => {
    expect(owners([{ name: 'dev' }, { name: 'prod', protected: true }])).toEqual([
      ['dev', false, false, [], []],
      ['prod', true, true, ['prod', 'dev'], ['prod', 'dev']],
    ]);
  });

  it('falls back to the first environment when none is protected', () => {
    expect(owners([{ name: 'a' }, { name: 'b' }])).toEqual([
      ['a', true, true, ['a', 'b'], ['a', 'b']],
      ['b', false, false, [], []],
    ]);
  });

  it('lets an environment with its own cluster or Docker host install there, separately for each platform', () => {
    const lab = { name: 'lab', kubernetes: { server: 'https://lab:6443' } };
    const edge = { name: 'edge', compose: { context: 'edge' } };
    expect(owners([{ name: 'prod', protected: true }, lab, edge])).toEqual([
      ['prod', true, true, ['prod', 'edge'], ['prod', 'lab']],
      ['lab', true, false, ['lab'], []],
      ['edge', false, true, [], ['edge']],
    ]);
  });

  it('treats an explicit in-cluster server and the default alike', () => {
    expect(owners([{ name: 'a', kubernetes: { server: 'https://kubernetes.default.svc' } }, { name: 'b' }])[1]).toEqual(['b', false, false, [], []]);
  });
});
