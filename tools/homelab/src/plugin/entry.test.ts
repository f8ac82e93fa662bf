import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodesV2 } from './index';

/**
 * The package entry Nx loads as the plugin (`"plugin": "homelab"`) is plain JavaScript, so Nx
 * registers no TypeScript transpiler in the plugin's worker (that loads the TypeScript compiler
 * on every Nx command); the entry runs the TypeScript sources through tsx itself. Checked in a
 * plain `node` process, where no loader is registered, as in Nx's worker.
 */

const PACKAGE = path.resolve(__dirname, '../..');
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-entry-'));
  const files: Record<string, string> = {
    'homelab.yaml': 'environments:\n  - name: dev\n',
    'applications/specs/web.yaml': 'name: web\ndescription: The web\ndependsOn: [postgres]\n',
    'applications/kubernetes/base/web/kustomization.yaml': 'resources: []\n',
    'infrastructure/specs/postgres.yaml': 'name: postgres\n',
  };
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the plugin entry', () => {
  it('is a .js file: Nx registers its TypeScript transpiler only for a .ts entry', () => {
    const main = (JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { main: string }).main;
    expect(path.extname(main)).toBe('.js');
  });

  it('gives, in a plain node process, the nodes the TypeScript sources give', async () => {
    const files = ['homelab.yaml', 'applications/specs/web.yaml', 'infrastructure/specs/postgres.yaml'];
    const script = `require(${JSON.stringify(PACKAGE)}).createNodesV2[1](${JSON.stringify(files)}, {}, { workspaceRoot: ${JSON.stringify(root)}, nxJsonConfiguration: {} }).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const expected = JSON.parse(JSON.stringify(await createNodesV2[1](files, {}, { workspaceRoot: root, nxJsonConfiguration: {} })));
    expect(JSON.parse(child.stdout)).toEqual(expected);
    expect(expected).toHaveLength(3);
  });
});
