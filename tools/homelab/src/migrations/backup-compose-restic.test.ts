import * as fs from 'node:fs';
import * as path from 'node:path';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { tempWorkspaces } from '../../../../tests/support/temp-workspaces';
import { homelab01Files } from '../../../../tests/support/workspace';
import { CATALOG } from '../component/catalog';
import { renderInfrastructure } from '../component/sync';
import { diskHost, listFilesRecursive } from '../host';
import migrate, { removeBackupCompose } from './backup-compose-restic';

/**
 * The migration on a workspace of the previous format: the backup component exactly as homelab
 * 0.1 wrote it (tests/support/fixtures/homelab-0.1, never regenerated), with compose in its
 * platforms and the offen/docker-volume-backup stack rendered for both environments.
 */
const SPEC = 'infrastructure/specs/backup.yaml';
const COMPOSE_FILES = [
  'infrastructure/compose/base/backup/compose.yaml',
  'infrastructure/compose/environments/lab/backup/compose.generated.yaml',
  'infrastructure/compose/environments/lab/backup/compose.override.yaml',
  'infrastructure/compose/environments/prod/backup/compose.generated.yaml',
  'infrastructure/compose/environments/prod/backup/compose.override.yaml',
];
const frozen = (file: string) => homelab01Files(file)[file];
const workspace = tempWorkspaces('migration');

/** The 0.1 workspace of the backup component: homelab.yaml, its spec and every Compose file it rendered. */
function previous(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...homelab01Files('homelab.yaml', SPEC, ...COMPOSE_FILES), ...overrides };
}

const composeFilesIn = (dir: string) => listFilesRecursive(diskHost(dir), 'infrastructure/compose');

describe('migration backup-compose-restic', () => {
  const old = frozen(SPEC);

  it('is refused by sync before it runs, in one line that names the field and the way out', () => {
    const dir = workspace(previous());
    expect(() => renderInfrastructure(diskHost(dir))).toThrow(
      "infrastructure/specs/backup.yaml: platforms lists compose, but backup has no Compose form (since homelab 0.3.0 each app's Compose project backs up its own volumes with restic: docs/backup.md); run the migrations of the homelab update (docs/upgrading.md), or remove compose",
    );
  });

  it("takes compose out of a 0.1 spec's platforms with its pins, keeping every other line, and deletes the Compose files", () => {
    const dir = workspace(previous());
    const notes = removeBackupCompose(diskHost(dir));

    const text = fs.readFileSync(path.join(dir, SPEC), 'utf8');
    const spec = YAML.parse(text);
    expect(spec.platforms).toEqual(['kubernetes']);
    expect(spec).not.toHaveProperty('compose');
    expect(spec.settings).toEqual({ provider: 'volsync', retentionDays: 7 });
    // Only the compose lines go: comments, order and every other value stay.
    const removed = old.split('\n').filter((line) => !text.split('\n').includes(line));
    expect(removed).toEqual([
      'description: The backup operator of homelab.yaml backup.provider (VolSync, Velero or k8up) on Kubernetes; offen/docker-volume-backup on Compose.',
      '  - compose',
      'compose:',
      '  images:',
      '    backup: offen/docker-volume-backup:v2.43.4',
      '  memory:',
      '    backup: 512m',
    ]);
    expect(text.split('\n').filter((line) => !old.split('\n').includes(line))).toEqual([`description: ${CATALOG.backup.description}`]);
    expect(text.startsWith(old.split('\n').slice(0, 3).join('\n'))).toBe(true);
    expect(composeFilesIn(dir)).toEqual([]);
    expect(notes).toEqual([
      `${SPEC}: compose taken out of platforms, with its pins: each app's Compose project backs up its own volumes since 0.3.0 (docs/backup.md)`,
      `deleted the backup component's Compose files: ${COMPOSE_FILES.filter((f) => !f.endsWith('override.yaml')).join(', ')}, ${COMPOSE_FILES.filter((f) => f.endsWith('override.yaml')).join(', ')}`,
      'where the old backup stack runs, stop it: `docker compose -p backup-lab down`, `docker compose -p backup down` (its archive volume is kept; `nx run-many -t deploy` then creates each app\'s restic movers)',
    ]);
    // And the workspace renders again: the component on Kubernetes only.
    const backup = renderInfrastructure(diskHost(dir)).components.find((c) => c.name === 'backup')!;
    expect(backup.files.map((f) => f.path).filter((f) => f.includes('/compose/'))).toEqual([]);
    expect(backup.files.map((f) => f.path)).toContain('infrastructure/kubernetes/base/backup/kustomization.yaml');
  });

  it('keeps a description of your own', () => {
    const own = old.replace(/^description: .*$/m, 'description: VolSync for the NAS');
    const dir = workspace(previous({ [SPEC]: own }));
    removeBackupCompose(diskHost(dir));

    expect(YAML.parse(fs.readFileSync(path.join(dir, SPEC), 'utf8')).description).toBe('VolSync for the NAS');
  });

  it('changes nothing when run again', () => {
    const dir = workspace(previous());
    removeBackupCompose(diskHost(dir));
    const once = fs.readFileSync(path.join(dir, SPEC), 'utf8');

    expect(removeBackupCompose(diskHost(dir))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, SPEC), 'utf8')).toBe(once);
  });

  it('keeps an override that holds something of yours, and a .env, and names them', () => {
    const override = 'infrastructure/compose/environments/prod/backup/compose.override.yaml';
    const env = 'infrastructure/compose/base/backup/.env';
    const dir = workspace(previous({ [override]: 'services:\n  backup:\n    environment:\n      BACKUP_COMPRESSION: zst\n', [env]: 'AWS_ACCESS_KEY_ID=\n' }));

    const notes = removeBackupCompose(diskHost(dir));
    expect(composeFilesIn(dir)).toEqual([env, override]);
    expect(notes).toContain(`kept your files, which nothing reads any more (move what they hold, then delete them): ${env}, ${override}`);
  });

  it('leaves a workspace without the component, or a spec that lists compose only, as it is', () => {
    expect(removeBackupCompose(diskHost(workspace({ 'homelab.yaml': frozen('homelab.yaml') })))).toEqual([]);
    const composeOnly = old.replace('  - kubernetes\n', '');
    const dir = workspace(previous({ [SPEC]: composeOnly }));

    expect(removeBackupCompose(diskHost(dir))).toEqual([
      `${SPEC}: lists compose only, and the backup component has no Compose form since 0.3.0 (each app's project backs itself up: docs/backup.md); remove it with \`npx nx g homelab:remove backup\``,
    ]);
    expect(fs.readFileSync(path.join(dir, SPEC), 'utf8')).toBe(composeOnly);
    expect(composeFilesIn(dir)).toEqual([...COMPOSE_FILES].sort());
  });

  it("is the Nx migration of tools/homelab/migrations.json, run over Nx's Tree", () => {
    const migrations = JSON.parse(fs.readFileSync(path.join(__dirname, '../../migrations.json'), 'utf8'));
    expect(migrations.generators['backup-compose-restic']).toMatchObject({ version: '0.3.0', implementation: './src/migrations/load.js#backupComposeRestic' });
    const dir = workspace(previous());
    const tree = new FsTree(dir, false);
    migrate(tree);
    flushChanges(dir, tree.listChanges());

    expect(YAML.parse(fs.readFileSync(path.join(dir, SPEC), 'utf8')).platforms).toEqual(['kubernetes']);
    expect(fs.existsSync(path.join(dir, 'infrastructure/compose/base/backup'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'infrastructure/compose/environments/prod/backup'))).toBe(false);
  });
});
