import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFiles } from '../../scripts/lib/temp-workspace';
import { run } from '../support/tools';
import { REPO_ROOT } from '../support/workspace';

/**
 * `homelab restore-drill` refuses what it cannot run in one line, exit 2, before it reaches any
 * engine: a missing app, an app that does not exist, a missing --env, a size that is not one.
 */

const BIN = path.join(REPO_ROOT, 'tools/homelab/bin/homelab.js');

describe('homelab restore-drill (the standalone command, spawned): usage errors', () => {
  let root: string;
  const homelab = (args: string[]) => run(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-drill-cli-'));
    writeFiles(root, {
      'homelab.yaml': 'environments:\n  - name: dev\n    namespaceSuffix: -dev\ngitops: { repoURL: https://git.example/homelab.git }\n',
      'applications/specs/files.yaml': 'name: files\n',
      'applications/compose/environments/dev/files/compose.generated.yaml': 'name: files-dev\n',
    });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.each([
    [[], 'homelab: restore-drill takes one app: `homelab restore-drill <app> --env <env>`'],
    [['photos', '--env', 'dev'], 'homelab: restore-drill "photos": no app of that name (applications/specs/photos.yaml); name an app of the workspace'],
    [['files'], 'homelab: files: --env is required; use one of "dev"'],
    [['files', '--env', 'prod'], 'homelab: files: --env "prod" is not an environment of this project; use one of "dev"'],
    [['files', '--env', 'dev', '--scratch-size', 'lots'], 'homelab: files (dev): --scratch-size "lots" is not a size; give bytes with k, m or g, e.g. --scratch-size 512m'],
    [['files', '--env', 'dev', '--keep=yes'], 'homelab: --keep takes no value; write `--keep` alone'],
  ])('restore-drill %j: exit 2 and one line', (args, line) => {
    const result = homelab(['restore-drill', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe('');
  });

  it('lists restore-drill in --help', () => {
    expect(homelab(['--help']).stdout).toContain('homelab restore-drill <app> --env ENV [--keep] [--scratch-size SIZE] [--workspace DIR]');
  });
});
