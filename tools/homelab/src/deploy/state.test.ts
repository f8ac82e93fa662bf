import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateDir } from './state';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-state-test-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the state of a project in an environment', () => {
  it('lives in .homelab/state/<env>/<project> and is written whole', () => {
    const state = new StateDir(root, 'dev', 'web');
    state.write('compose.yaml', 'name: web-dev\n');
    expect(fs.readFileSync(path.join(root, '.homelab/state/dev/web/compose.yaml'), 'utf8')).toBe('name: web-dev\n');
    expect(fs.readdirSync(state.dir)).toEqual(['compose.yaml']);
    expect(state.readJson('missing.json')).toBeNull();
  });
});
