import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { workspaceYamlWith, WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { InputError } from '../../errors';
import { parseWorkspaceConfig } from '../../spec/io';
import type { ShorthandAppSpec } from '../../spec/types';
import { normalizeBackup } from './backup';
import type { NormalizedDatabase } from './database';
import { normalizeStorage, normalizeVolumes } from './storage';

const WHERE = 'applications/specs/files.yaml';

function backup(overrides: Partial<ShorthandAppSpec>, homelabYaml = WORKSPACE_YAML) {
  const spec = specOf('files', overrides);
  const { volumes } = normalizeVolumes(normalizeStorage(spec, WHERE), []);
  return normalizeBackup(spec, parseWorkspaceConfig(homelabYaml), volumes, () => []);
}

const DATA = [{ name: 'data', size: '1Gi', mountPath: '/data' }];

describe("the backup schedule's interval (what the stale-backup alert waits twice of)", () => {
  it("is the spec's schedule's, else homelab.yaml's, else the daily default's", () => {
    expect(backup({ volumes: DATA, backup: { schedule: '0 */6 * * *' } })).toMatchObject({ schedule: '0 */6 * * *', intervalSeconds: 6 * 3600 });
    expect(backup({ volumes: DATA }, workspaceYamlWith((c) => (c.backup = { ...c.backup, schedule: '0 4 * * 0' })))).toMatchObject({ intervalSeconds: 7 * 86400 });
    expect(backup({ volumes: DATA })).toMatchObject({ schedule: '0 3 * * *', intervalSeconds: 86400 });
  });

  it("is 0 without a backed-up volume, unless the app's database on the shared PostgreSQL is backed up (Compose dumps it)", () => {
    expect(backup({ volumes: [{ ...DATA[0], backup: false }] })).toMatchObject({ enabled: false, intervalSeconds: 0 });
    const spec = specOf('files', {});
    const { volumes } = normalizeVolumes(normalizeStorage(spec, WHERE), []);
    expect(normalizeBackup(spec, parseWorkspaceConfig(WORKSPACE_YAML), volumes, () => [], { workloads: [], database: { enabled: true, host: 'postgres-rw.postgres.svc', port: 5432 } as NormalizedDatabase, postgresNamespace: 'postgres' }).intervalSeconds).toBe(86400);
  });

  it('refuses a schedule that never runs, naming where it was written', () => {
    expect(() => backup({ volumes: DATA, backup: { schedule: '0 3 31 2 *' } })).toThrow(InputError);
    expect(() => backup({ volumes: DATA, backup: { schedule: '0 3 31 2 *' } })).toThrow(`${WHERE}: backup.schedule: cron expression "0 3 31 2 *" never runs`);
    expect(() => backup({ volumes: DATA }, workspaceYamlWith((c) => (c.backup = { ...c.backup, schedule: '0 25 * * *' })))).toThrow(
      'homelab.yaml: backup.schedule: cron expression "0 25 * * *" has "25" in its hour field (0-23)',
    );
  });
});
