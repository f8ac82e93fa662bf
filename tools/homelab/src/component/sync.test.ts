import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHOP_DB, WIKI_DB } from '../../../../tests/support/database';
import { specOf, writeSpec } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { readableAppSpecs } from '../app/plan';
import { databaseClaims } from '../app/steps/database';
import { diskHost } from '../host';
import { appPaths } from '../project/paths';
import { parseWorkspaceConfig } from '../spec/io';
import { workspaceClaims } from '../workspace/hosts';
import { infraContext } from './sync';

describe("the infrastructure's view of the apps (infraContext)", () => {
  it('gives the databases and hosts that parsing every spec gives, parsing only the specs that name a database or an ingress', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-infra-context-'));
    try {
      const host = diskHost(root);
      host.write('homelab.yaml', WORKSPACE_YAML);
      const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
      writeSpec(host, WIKI_DB);
      writeSpec(host, SHOP_DB);
      writeSpec(host, specOf('routed', { ingress: { host: 'routed.home.example.org' } }));
      writeSpec(host, specOf('plain'));
      // A key spelled with an escape is still `database`: such a spec is parsed too.
      writeSpec(host, specOf('escaped', { dependsOn: ['postgres'] }));
      host.write(appPaths('escaped').spec, `${host.read(appPaths('escaped').spec)}"d\\x61tabase": { env: { url: DATABASE_URL } }\n`);
      // A spec naming neither is not parsed: text that does not read as YAML changes nothing.
      host.write(appPaths('broken').spec, 'name: broken\nimage: [\n');

      const context = infraContext(host, workspace);
      const every = readableAppSpecs(host);
      expect(every.map((s) => s.name).sort()).toEqual(['escaped', 'plain', 'routed', 'shop', 'wiki']);
      const databases = every.flatMap((spec) => databaseClaims(spec, workspace, appPaths(spec.name).spec));
      expect(context.databases).toEqual(databases);
      expect(new Set(context.databases.map((d) => d.app))).toEqual(new Set(['escaped', 'shop', 'wiki']));
      expect(context.claims).toEqual(workspaceClaims(host, workspace, every));
      expect(context.claims.map((c) => c.app)).toContain('routed');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
