import { generateInfra } from '../../tools/homelab/src/component/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import type { AppSpec } from '../../tools/homelab/src/spec/types';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { appPaths } from '../../tools/homelab/src/project/paths';
import { specOf, writeSpec } from './spec';

/** An app that reads its database as separate variables, with extensions (the shorthand, both environments). */
export const WIKI_DB: AppSpec = specOf('wiki', {
  dependsOn: ['postgres'],
  database: { extensions: ['pg_trgm', 'citext'], env: { host: 'DB_HOST', port: 'DB_PORT', name: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD' } },
} as never);

/** An app of two services of which only `web` reads the database, as a URL; its own role name, in prod only. */
export const SHOP_DB: AppSpec = {
  name: 'shop',
  services: {
    web: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' }, ports: [{ name: 'http', port: 8080, http: true }], secrets: ['API_TOKEN'] },
    worker: { image: { repository: 'traefik/whoami', tag: 'v1.10.4' } },
  },
  secrets: [{ key: 'API_TOKEN', remoteKey: 'shop' }],
  dependsOn: ['postgres'],
  database: { owner: 'shop_app', services: ['web'], env: { url: 'DATABASE_URL' } },
  environments: { prod: {} },
  policy: { disable: [{ rule: 'policy/probes', reason: 'the worker of this test app serves nothing to probe' }] },
} as AppSpec;

/**
 * A stack with its own PostgreSQL on a volume backed up as a dump (`backup: { dump: postgres }`), a
 * volume of files, and a database on the shared postgres component (its `server` reads it as a URL).
 */
export const NOTES_DUMPS = `name: notes
services:
  server:
    image: { repository: homelab-test/busybox, tag: "1" }
    ports: [{ name: http, port: 8080, http: true }]
    mounts: [{ volume: files, path: /files }]
    health: { http: { path: / } }
  db:
    image: { repository: postgres, tag: "16.4" }
    ports: [{ name: pg, port: 5432 }]
    env: { POSTGRES_USER: notes }
    secrets: [POSTGRES_PASSWORD]
    mounts: [{ volume: pgdata, path: /var/lib/postgresql/data }]
    health: { command: [pg_isready, -U, notes] }
    security: { imageUser: "the postgres image starts as root to own its data folder" }
volumes:
  files: { size: 1Gi }
  pgdata: { size: 2Gi, backup: { dump: postgres } }
secrets: [{ key: POSTGRES_PASSWORD, remoteKey: notes }]
database: { services: [server], env: { url: DATABASE_URL } }
dependsOn: [postgres]
`;

/** A workspace with the platform, external-secrets, postgres and the two apps above, rendered as `nx sync` renders it. */
export function databaseHomelab(root: string): void {
  const host = diskHost(root);
  generateInit(host, {});
  for (const component of ['external-secrets', 'postgres'] as const) generateInfra(host, { component });
  for (const spec of [WIKI_DB, SHOP_DB]) writeSpec(host, spec);
  syncAll(host);
}

/** databaseHomelab with the `notes` stack of NOTES_DUMPS beside the two apps, rendered as `nx sync` renders it. */
export function notesDumpsHomelab(root: string): void {
  databaseHomelab(root);
  const host = diskHost(root);
  host.write(appPaths('notes').spec, NOTES_DUMPS);
  syncAll(host);
}
