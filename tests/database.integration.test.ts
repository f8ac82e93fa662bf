import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCompose } from '../tools/homelab/src/build/dist';
import { validateComponent } from '../tools/homelab/src/component/validate';
import { parseCompose } from '../tools/homelab/src/deploy/compose-plan';
import { diskHost } from '../tools/homelab/src/host';
import { validateProject } from '../tools/homelab/src/validate/project';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { databaseHomelab } from './support/database';
import { specOf, writeSpec } from './support/spec';
import { requireTool } from './support/tools';
import { makeDiskWorkspace, removeDir } from './support/workspace';

/*
 * Per-app databases as both platforms render them (docs/spec.md, "Database"), on a workspace
 * made by the generators: the Compose side in the merged `docker compose config` (the postgres
 * image cannot be pulled here, so no container runs; the provisioning itself runs against a real
 * server in tests/deploy/database.integration.test.ts), validate's verdict on both trees, and a
 * database two apps claim on one server refused as a validate finding. The Kubernetes objects
 * are applied to the real API server in tests/kubernetes-api/databases.test.ts.
 */
const compose = requireTool('docker compose');
const kubectl = requireTool('kubectl');

let root = '';

describe.skipIf(compose.skip || kubectl.skip)('per-app databases, rendered', () => {
  beforeAll(() => {
    root = makeDiskWorkspace('databases');
    databaseHomelab(root);
  }, 300_000);
  afterAll(() => removeDir(root));

  it('gives the Compose services that read the database its plain values, the env file for the password, and deploy its metadata', () => {
    const merged = renderCompose(root, 'applications', 'wiki', 'dev');
    const doc = YAML.parse(merged) as { services: Record<string, { environment?: Record<string, string> }>; 'x-homelab-database': unknown };
    expect(doc.services.wiki.environment).toMatchObject({ DB_HOST: 'postgres-rw.postgres.svc', DB_PORT: '5432', DB_NAME: 'wiki_dev', DB_USER: 'wiki_dev' });
    expect(doc.services.wiki.environment).not.toHaveProperty('DB_PASSWORD');
    expect(doc['x-homelab-database']).toEqual({
      server: { project: 'postgres', service: 'postgres' },
      name: 'wiki_dev',
      owner: 'wiki_dev',
      extensions: ['pg_trgm', 'citext'],
      password: { key: 'DATABASE_PASSWORD', remoteKey: 'wiki', property: 'DATABASE_PASSWORD' },
      env: { password: 'DB_PASSWORD' },
      url: 'postgresql://wiki_dev:{password}@postgres-rw.postgres.svc:5432/wiki_dev',
    });
    const model = parseCompose(merged, 'dist/dev/compose/wiki/compose.yaml');
    expect(model.database?.name).toBe('wiki_dev');
    // The env file reaches wiki, and the mover of the database's dump (its restic password).
    expect(model.meta.secrets.services).toEqual(['backup-database', 'wiki']);
    // prod's database is the app's namespace there.
    expect(parseCompose(renderCompose(root, 'applications', 'wiki', 'prod'), 'prod').database).toMatchObject({ name: 'wiki', owner: 'wiki' });
  });

  it('gives only the services the spec names the database', () => {
    const merged = renderCompose(root, 'applications', 'shop', 'prod');
    const doc = YAML.parse(merged) as { services: Record<string, { environment?: Record<string, string> }> };
    // The URL holds the password: nothing of it is plain env; deploy's env file reaches web only (Compose drops the
    // optional env_file of a build, which has no values, so the services that read it are in x-homelab).
    expect(parseCompose(merged, 'prod').meta.secrets.services).toEqual(['backup-database', 'web']);
    expect(doc.services.web.environment ?? {}).not.toHaveProperty('DATABASE_URL');
    expect(parseCompose(merged, 'prod').database).toMatchObject({ name: 'shop', owner: 'shop_app', env: { url: 'DATABASE_URL' } });
  });

  it.each([
    ['applications', 'wiki'],
    ['applications', 'shop'],
    ['infrastructure', 'postgres'],
  ] as const)('validates %s/%s without an error', (layer, name) => {
    const errors = (layer === 'infrastructure' ? validateComponent(root, name) : validateProject(root, layer, name)).filter((f) => f.severity === 'error');
    expect(errors).toEqual([]);
  });

  it('refuses a database another app already has on the same server, as a validate finding of the postgres component and in nx sync', () => {
    const copy = specOf('copy', { dependsOn: ['postgres'], database: { name: 'wiki', owner: 'copy', env: { url: 'DATABASE_URL' } }, environments: { prod: {} } } as never);
    const file = writeSpec(diskHost(root), copy);
    try {
      const findings = validateComponent(root, 'postgres').filter((f) => f.severity === 'error');
      expect(findings).toEqual([
        expect.objectContaining({
          // Apps are read in name order: wiki, whose default name is taken, comes second.
          file: 'applications/specs/wiki.yaml',
          rule: 'database/collision',
          severity: 'error',
          message: 'applications/specs/wiki.yaml: database: wiki in prod claims database "wiki", but copy in prod has "wiki" on the cluster https://kubernetes.default.svc; give one of them another database.name',
        }),
      ]);
      expect(() => syncAll(diskHost(root), true)).toThrow(/wiki in prod claims database "wiki", but copy in prod has "wiki"/);
    } finally {
      fs.rmSync(path.join(root, file));
    }
  });
});
