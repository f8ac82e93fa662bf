import { describe, expect, it } from 'vitest';
import type { WorkspaceConfig } from '../../spec/types';
import { backupMoverEgress } from './networking';

const workspace = (backup: WorkspaceConfig['backup']): WorkspaceConfig => ({ environments: [{ name: 'dev' }], gitops: { repoURL: 'https://git.home.arpa/h.git' }, backup });

describe('the backup movers\' egress (backupMoverEgress)', () => {
  it.each([
    {
      case: "VolSync: its movers' labels, and any address and port (the repository comes from the store)",
      provider: 'volsync' as const,
      s3: undefined,
      expected: { selector: { 'app.kubernetes.io/created-by': 'volsync' }, cidr: '0.0.0.0/0', ports: [] },
    },
    {
      case: "VolSync with homelab.yaml's S3 target: the repositories are there, so its port",
      provider: 'volsync' as const,
      s3: { endpoint: 'https://s3.example.org:9000', bucket: 'b' },
      expected: { selector: { 'app.kubernetes.io/created-by': 'volsync' }, cidr: '0.0.0.0/0', ports: [9000] },
    },
    {
      case: 'k8up with an endpoint at an address: that address on its port',
      provider: 'k8up' as const,
      s3: { endpoint: 'http://192.0.2.10:9000', bucket: 'b' },
      expected: { selector: { k8upjob: 'true' }, cidr: '192.0.2.10/32', ports: [9000] },
    },
    {
      case: 'k8up with an endpoint at a host name: any address on its port (https: 443)',
      provider: 'k8up' as const,
      s3: { endpoint: 'https://s3.example.org', bucket: 'b' },
      expected: { selector: { k8upjob: 'true' }, cidr: '0.0.0.0/0', ports: [443] },
    },
  ])('$case', ({ provider, s3, expected }) => {
    const mover = backupMoverEgress('notes', workspace({ provider, s3 }), { enabled: true, provider });

    expect(mover).toMatchObject({ enabled: true, name: 'notes-backup-mover', ...expected, hasPorts: expected.ports.length > 0 });
    expect(mover.reason).not.toMatch(/\n/);
  });

  it.each([
    ['Velero (its node agents copy from the velero namespace)', 'velero' as const, true],
    ['an app without backed-up volumes', 'volsync' as const, false],
  ])('opens nothing for %s', (_what, provider, enabled) => {
    expect(backupMoverEgress('notes', workspace({ provider }), { enabled, provider }).enabled).toBe(false);
  });
});
