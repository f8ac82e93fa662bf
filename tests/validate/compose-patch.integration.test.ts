import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { composeFiles } from '../../tools/homelab/src/project/paths';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { writePatchedStack } from '../support/spec';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * `homelab validate <paths>` merges an app's Compose files as build and deploy do: with the
 * spec's patch fragment (compose.patch.yaml), from the project model's one list. CI never skips
 * this file (tests/support/tools.ts).
 */
const compose = requireTool('docker compose');

describe.skipIf(compose.skip)('homelab validate merges the Compose patch fragment', () => {
  let root: string;
  beforeAll(() => {
    root = makeDiskWorkspace('compose-patch');
    const host = diskHost(root);
    writePatchedStack(host);
    syncAll(host);
  });
  afterAll(() => removeDir(root));

  const renderFindings = () =>
    validatePaths(['applications/compose'], { cwd: root, workspaceRoot: root, checks: new Set(['parse', 'render']) }).findings.filter((f) => f.rule.startsWith('render/'));

  it('merges the relay stack of every environment clean', () => {
    expect(composeFiles('applications', 'relay', 'dev')).toContain('applications/compose/base/relay/compose.patch.yaml');
    expect(fs.existsSync(path.join(root, 'applications/compose/base/relay/compose.patch.yaml'))).toBe(true);
    expect(renderFindings()).toEqual([]);
  });

  it('reports a fragment Compose refuses once merged, which it only sees when the fragment is in the merge', () => {
    const file = path.join(root, 'applications/compose/base/relay/compose.patch.yaml');
    const saved = fs.readFileSync(file, 'utf8');
    try {
      // A depends_on on a service the app does not have: valid on its own, refused by the merge.
      fs.writeFileSync(file, `${saved}${saved.includes('services:') ? '' : 'services:\n'}`.replace(/services:\n/, 'services:\n  bridge:\n    depends_on: [nowhere]\n'));
      const findings = renderFindings();
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.map((f) => f.message).join('\n')).toContain('nowhere');
    } finally {
      fs.writeFileSync(file, saved);
    }
  });
});
