import { describe, expect, it } from 'vitest';
import { specOf } from '../../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../../tests/support/workspace';
import { InputError } from '../../errors';
import { parseWorkspaceConfig } from '../../spec/io';
import type { AppSpec, DatabaseSpec, WorkspaceConfig } from '../../spec/types';
import { normalizeApp } from '../normalize';
import type { Dependencies } from '../normalized';
import { databaseClaims, databaseCollisions, urlPassword } from './database';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const POSTGRES: Dependencies = new Map([['postgres', { kubernetes: true, namespace: 'postgres' }]]);
const where = 'applications/specs/wiki.yaml';
const wiki = (database: DatabaseSpec, more: Partial<AppSpec> = {}): AppSpec => specOf('wiki', { dependsOn: ['postgres'], database, ...more } as never);
/** dev on its own cluster and Docker host: it no longer shares prod's PostgreSQL. */
const apart: WorkspaceConfig = {
  ...workspace,
  environments: workspace.environments.map((e) => (e.name === 'dev' ? { ...e, kubernetes: { server: 'https://lab.home.arpa:6443' }, compose: { context: 'lab' } } : e)),
};

describe('an app database (database:)', () => {
  it('gets a database and role per environment named after its namespace there, on the PostgreSQL of that environment', () => {
    const claims = databaseClaims(wiki({ env: { url: 'DATABASE_URL' } }), workspace, where);
    expect(claims.map((c) => [c.environment, c.namespace, c.name, c.owner, c.postgresProject])).toEqual([
      ['dev', 'wiki-dev', 'wiki_dev', 'wiki_dev', 'postgres'],
      ['prod', 'wiki', 'wiki', 'wiki', 'postgres'],
    ]);
    expect(claims[0].password).toEqual({ key: 'DATABASE_PASSWORD', remoteKey: 'wiki', property: 'DATABASE_PASSWORD' });
  });

  it('gives the app the same host on both platforms, the plain values as env and the password and URL as secrets', () => {
    const app = normalizeApp(wiki({ env: { host: 'DB_HOST', port: 'DB_PORT', name: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD', url: 'DATABASE_URL' } }), workspace, POSTGRES);
    const dev = app.environments.find((e) => e.name === 'dev')!;
    expect(dev.database.secretData).toEqual([
      { name: 'DB_HOST', value: 'postgres-rw.postgres.svc' },
      { name: 'DB_PORT', value: '5432' },
      { name: 'DB_NAME', value: 'wiki_dev' },
      { name: 'DB_USER', value: 'wiki_dev' },
      { name: 'DB_PASSWORD', value: '{{ .password }}' },
      { name: 'DATABASE_URL', value: 'postgresql://wiki_dev:{{ .password | urlquery | replace "+" "%20" }}@postgres-rw.postgres.svc:5432/wiki_dev' },
    ]);
    expect(dev.database.composeEnv.map((e) => e.name)).toEqual(['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER']);
    expect(dev.database.compose).toMatchObject({ name: 'wiki_dev', owner: 'wiki_dev', env: { password: 'DB_PASSWORD', url: 'DATABASE_URL' }, url: 'postgresql://wiki_dev:{password}@postgres-rw.postgres.svc:5432/wiki_dev' });
    expect(dev.resources).toContain('externalsecret.yaml');
    expect(app.services[0]).toMatchObject({ databaseSecret: 'wiki-database', envFrom: true, databaseEnvFile: true });
  });

  it('takes names and owners from the spec, per environment where given', () => {
    const claims = databaseClaims(wiki({ owner: 'wiki_app', env: { url: 'U' } }, { environments: { dev: { database: { name: 'wiki_scratch', owner: 'scratch' } }, prod: {} } }), workspace, where);
    expect(claims.map((c) => [c.name, c.owner])).toEqual([
      ['wiki_scratch', 'scratch'],
      ['wiki', 'wiki_app'],
    ]);
  });

  it.each([
    ['no dependsOn postgres', specOf('wiki', { database: { env: { url: 'U' } } } as never), workspace, /^applications\/specs\/wiki\.yaml: database needs the shared PostgreSQL.*add postgres to dependsOn/],
    ['one name for dev and prod on the PostgreSQL they share', wiki({ name: 'wiki', env: { url: 'U' } }), workspace, /environments\.prod\.database|database\.name: wiki in prod claims database "wiki", but wiki in dev has "wiki" on the cluster .*; give prod its own with environments\.prod\.database$/],
    ['a name PostgreSQL would cut at 63 bytes', wiki({ name: `w${'x'.repeat(63)}`, env: { url: 'U' } }, { environments: { prod: {} } }), workspace, /database\.name: the database name "wx+" has 64 bytes and PostgreSQL cuts names after 63; give a shorter name$/],
    ["the server's own database", wiki({ name: 'postgres', env: { url: 'U' } }, { environments: { prod: {} } }), workspace, /database\.name: "postgres" is a database of the server or of the postgres component itself; give another name$/],
    ['a role of the pg_ prefix', wiki({ owner: 'pg_monitor', env: { url: 'U' } }, { environments: { prod: {} } }), workspace, /database\.owner: "pg_monitor" is a role of the server/],
  ])('refuses %s in one line naming the fix', (_what, spec, ws, message) => {
    expect(() => databaseClaims(spec, ws, where)).toThrow(InputError);
    expect(() => databaseClaims(spec, ws, where)).toThrow(message);
  });

  it('lets dev and prod share a name when they use different clusters and Docker hosts, but not in the one Kubernetes base of the component', () => {
    const spec = wiki({ name: 'wiki', env: { url: 'U' } });
    expect(databaseClaims(spec, apart, where, false).map((c) => c.name)).toEqual(['wiki', 'wiki']);
    expect(() => databaseClaims(spec, apart, where, true)).toThrow(/the postgres component's Kubernetes base/);
  });

  it('finds two apps claiming one database on one server', () => {
    const a = databaseClaims(wiki({ name: 'shared', env: { url: 'U' } }, { environments: { prod: {} } }), workspace, where);
    const b = databaseClaims({ ...wiki({ name: 'shared', env: { url: 'U' } }, { environments: { prod: {} } }), name: 'shop' }, workspace, 'applications/specs/shop.yaml');
    expect(databaseCollisions([...a, ...b], true).map((c) => [c.app, c.message])).toEqual([
      ['shop', 'database.name: shop in prod claims database "shared", but wiki in prod has "shared" on the cluster https://kubernetes.default.svc; give one of them another database.name'],
    ]);
  });

  it.each([
    ['a variable the service already sets', { env: { url: 'TOKEN' } }, { env: { TOKEN: 'x' } }, /database\.env\.url: "TOKEN" is also set in env or secrets of "wiki"; rename one of them$/],
    ['one variable for two values', { env: { url: 'X', password: 'X' } }, {}, /database\.env\.url: "X" is also database\.env\.password/],
    ['a service the app does not have', { env: { url: 'U' }, services: ['web'] }, {}, /database\.services: "web" is not a service of the app; use one of "wiki"$/],
  ])('refuses %s', (_what, database, more, message) => {
    expect(() => normalizeApp(wiki(database as DatabaseSpec, more as Partial<AppSpec>), workspace, POSTGRES)).toThrow(message);
  });

  it("escapes the URL's password as Go's urlquery does, with a space as %20 (libpq reads no '+')", () => {
    expect(urlPassword(`a b+c/d?e@f:g'h!(i)*~-_.%`)).toBe('a%20b%2Bc%2Fd%3Fe%40f%3Ag%27h%21%28i%29%2A~-_.%25');
  });
});
