import { afterAll, describe, expect, it } from 'vitest';
import { WORKSPACES } from './support/golden';
import { diskHost } from '../tools/homelab/src/host';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { diskFiles, makeDiskWorkspace, removeDir } from './support/workspace';

/**
 * Every byte homelab renders, pinned: three workspaces (each backup provider, both ingress
 * kinds) with every catalog component, a secret store, an extra environment and apps that
 * use every field of the app spec, rendered in-process and compared with a reviewed snapshot
 * of every file. A change of the model or the templates that changes any rendered file shows
 * here, file by file; a refactor must leave it untouched. Update it only for a change meant to
 * reach every homelab (`npx vitest run tests/render-golden.test.ts -u`, then review the diff).
 */

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));

/** Every file of the workspace, one after the other, each under a header naming it. */
function renderedTree(root: string): string {
  return Object.entries(diskFiles(root))
    .map(([file, content]) => `=== ${file}\n${content}${content.endsWith('\n') ? '' : '\n(no newline at the end)\n'}`)
    .join('');
}

describe('every rendered byte', () => {
  it.each(WORKSPACES)('of the $id workspace matches its reviewed snapshot', async ({ id, homelabYaml, fill }) => {
    const root = makeDiskWorkspace(`golden-${id}`, homelabYaml);
    roots.push(root);
    fill(root);
    await expect(renderedTree(root)).toMatchFileSnapshot(`__snapshots__/render-golden/${id}.txt`);
    // Rendering again from the same specs changes nothing.
    expect(syncAll(diskHost(root), true)).toEqual([]);
  });
});
