import { describe, expect, it } from 'vitest';
import { stackSpec } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec } from '../../spec/types';
import { normalizeApp } from '../normalize';
import { appPolicyExceptions } from './exceptions';

const exceptionsOf = (spec: AppSpec) => appPolicyExceptions(normalizeApp(spec, parseWorkspaceConfig(WORKSPACE_YAML), new Map()));
const short = (list: ReturnType<typeof exceptionsOf>) => list.map((e) => `${e.service} ${e.rule}${e.subject ? ` ${e.subject}` : ''}: ${e.by}`);

describe('appPolicyExceptions', () => {
  it('turns each security opt-in into its rule, for its service only, with its reason', () => {
    const list = exceptionsOf(stackSpec('dns-filter')).filter((e) => e.service === 'dns');

    expect(short(list)).toEqual([
      'dns policy/run-as-non-root: services.dns.security.runAsRoot in the spec',
      'dns policy/read-only-root-fs: services.dns.security.writableRootFilesystem in the spec',
      'dns policy/capabilities NET_ADMIN: services.dns.security.capabilities.NET_ADMIN in the spec',
      'dns policy/capabilities NET_BIND_SERVICE: services.dns.security.capabilities.NET_BIND_SERVICE in the spec',
    ]);
    expect(list[0].reason).toBe('binds port 53 and drops privileges itself');
  });

  it('covers the hostPath of a device without a device plugin by the privileged opt-in', () => {
    const list = exceptionsOf(stackSpec('home-automation'));

    expect(short(list)).toContain('core policy/host-path /dev/ttyUSB0: services.core.security.privileged in the spec');
    expect(short(list)).toContain('core policy/host-network: services.core.security.hostNetwork in the spec');
  });

  it('allows a hostPath volume with a reason to the services that mount it, and one without none', () => {
    const photos = stackSpec('photos') as Extract<AppSpec, { services: object }>;
    const withoutReason = { ...photos, volumes: { ...photos.volumes, localtime: { hostPath: '/etc/localtime', type: 'File' as const } } };

    const fromSpec = (spec: AppSpec) => short(exceptionsOf(spec)).filter((e) => e.includes('host-path') && e.endsWith('in the spec'));
    expect(fromSpec(photos)).toEqual(['server policy/host-path /etc/localtime: volumes.localtime.reason in the spec']);
    expect(fromSpec(withoutReason)).toEqual([]);
  });

  it('gives the scheduler of cron services and backups its fixed exceptions, and none to an app without either', () => {
    const scheduler = exceptionsOf(stackSpec('files')).filter((e) => e.service === 'scheduler');

    expect(scheduler.map((e) => `${e.rule}${e.subject ? ` ${e.subject}` : ''}${e.notApplicable ? ' (does not apply)' : ''}`)).toEqual([
      'policy/docker-socket',
      'policy/run-as-non-root',
      'policy/read-only-root-fs',
      'policy/capabilities SETGID',
      'policy/probes (does not apply)',
    ]);
    expect(exceptionsOf(stackSpec('scratch')).some((e) => e.service === 'scheduler')).toBe(false);
  });

  it('gives each backup mover its fixed exceptions: root with DAC_READ_SEARCH, a writable root filesystem, no probe, the target folder', () => {
    const movers = exceptionsOf(stackSpec('photos')).filter((e) => e.service.startsWith('backup-'));

    expect(short(movers)).toEqual(
      ['backup-library', 'backup-db'].flatMap((m) => [
        `${m} policy/run-as-non-root: homelab for the backup movers`,
        `${m} policy/capabilities DAC_READ_SEARCH: homelab for the backup movers`,
        `${m} policy/read-only-root-fs: homelab for the backup movers`,
        `${m} policy/probes: homelab for the backup movers`,
        `${m} policy/host-path /var/backups/homelab/restic: homelab for the backup movers`,
      ]),
    );
  });
});
