import { InputError, show } from '../../errors';
import type { AppSpec, DatabaseEnvNames, WorkspaceConfig } from '../../spec/types';
import { environmentTargets } from '../../workspace/targets';

/** The component that serves the apps' databases, and what an app's `dependsOn` must name for a `database:`. */
export const POSTGRES_COMPONENT = 'postgres';
export const POSTGRES_PORT = 5432;
/** The Compose service of the postgres component, and the superuser deploy provisions as (over the container's local socket). */
export const POSTGRES_SERVICE = 'postgres';
export const DEFAULT_PASSWORD_KEY = 'DATABASE_PASSWORD';
/** PostgreSQL keeps names of at most NAMEDATALEN - 1 bytes and silently cuts longer ones. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Databases the server has or the postgres component creates for itself (CloudNativePG's and the image's bootstrap database `app`). */
const RESERVED_DATABASES = ['postgres', 'template0', 'template1', 'app'];
/** Roles the server or the component own; `pg_` is PostgreSQL's reserved prefix of role names. */
const RESERVED_ROLES = ['postgres', 'app', 'streaming_replica', 'public', 'none', 'current_user', 'current_role', 'session_user', 'cnpg_pooler_pgbouncer'];

/** The names of the variables an app receives, in a fixed order (the order they are rendered in). */
export const DATABASE_ENV_FIELDS = ['host', 'port', 'name', 'user', 'password', 'url'] as const satisfies readonly (keyof DatabaseEnvNames)[];
/** The values that hold the password: a Secret's on Kubernetes, deploy's env file on Compose. */
const SECRET_FIELDS: readonly (keyof DatabaseEnvNames)[] = ['password', 'url'];

/**
 * One app's database in one environment: what the postgres component creates (a role and a
 * database on the server that environment uses) and what the app receives.
 */
export interface DatabaseClaim {
  app: string;
  environment: string;
  /** The app's namespace in the environment (Kubernetes), also its Compose project. */
  namespace: string;
  name: string;
  owner: string;
  extensions: string[];
  /** Where the role's password is kept: the same entry on both platforms. */
  password: { key: string; remoteKey: string; property: string };
  /** The servers it lives on: the environment's cluster and its Docker host (environments that share one share PostgreSQL). */
  cluster: string;
  dockerHost: string;
  /** The Compose project of the postgres component on that Docker host (the environment that installs it names it). */
  postgresProject: string;
  /** The spec field that gave the name (where a collision is reported). */
  field: string;
}

/** The app's database as the templates of both platforms see it (disabled: none). */
export interface NormalizedDatabase {
  enabled: boolean;
  /** The Secret on Kubernetes that holds the connection in each of the app's namespaces. */
  secretName: string;
  /** The services that receive the connection. */
  services: string[];
  host: string;
  port: number;
  password: { key: string; remoteKey: string; property: string };
  env: { field: (typeof DATABASE_ENV_FIELDS)[number]; name: string; secret: boolean }[];
}

/** The app's database in one environment. */
export interface EnvironmentDatabase {
  enabled: boolean;
  name: string;
  owner: string;
  /** The Kubernetes Secret's content: literal values and ESO templates of the store's `password`. */
  secretData: { name: string; value: string }[];
  /** Compose: the values that are not secret, as plain `environment` of the services. */
  composeEnv: { name: string; value: string }[];
  /** Compose: what deploy provisions and which variables it writes into its env file (x-homelab-database). */
  compose: ComposeDatabase | null;
}

/**
 * What deploy provisions on Compose and writes into its env file, from the rendered file
 * (`x-homelab-database` of compose.generated.yaml): the postgres container (by its Compose
 * project and service), the database, its owner and extensions, the store entry of the
 * password, the variables that hold secrets (`password`, `url`) and the URL with `{password}`
 * where the escaped password goes.
 */
export interface ComposeDatabase {
  server: { project: string; service: string };
  name: string;
  owner: string;
  extensions: string[];
  password: { key: string; remoteKey: string; property: string };
  env: { password?: string; url?: string };
  url: string;
}

/** The default name of an app's database in an environment: its namespace there, `-` as `_` (wiki-dev -> wiki_dev). */
export function defaultDatabaseName(namespace: string): string {
  return namespace.replace(/-/g, '_');
}

/**
 * Whether a spec's text may claim a database: only one that names one does (a `\` may spell the
 * word in a quoted key; a key of YAML cannot span lines). The others need not be parsed.
 */
export function mayClaimDatabase(text: string): boolean {
  return text.includes('database') || text.includes('\\');
}

/**
 * The database of every environment the app runs in. Refuses, in one line naming the value and
 * the fix: a `database:` without `dependsOn: [postgres]`, a name PostgreSQL would cut or that is
 * its own, and two environments of the app that would claim one database or role on one server.
 */
export function databaseClaims(spec: AppSpec, workspace: WorkspaceConfig, where: string, kubernetesBase = true): DatabaseClaim[] {
  const db = spec.database;
  if (!db) return [];
  if (!(spec.dependsOn ?? []).includes(POSTGRES_COMPONENT)) {
    throw new InputError(`${where}: database needs the shared PostgreSQL, which the app does not depend on; add postgres to dependsOn (and \`npx nx g homelab:infra postgres\` if the workspace has none)`);
  }
  const all = environmentTargets(workspace);
  const targets = new Map(all.map((t) => [t.env.name, t]));
  // The Compose project of the postgres installation on an environment's Docker host (component/steps/environments.ts names it so).
  const installer = (env: string) => all.find((t) => t.composeServes.includes(env))!.env;
  const chosen = spec.environments ? Object.keys(spec.environments).filter((e) => targets.has(e)) : workspace.environments.map((e) => e.name);
  const key = db.password?.key ?? DEFAULT_PASSWORD_KEY;
  const password = { key, remoteKey: db.password?.remoteKey ?? spec.name, property: db.password?.property ?? key };
  const claims = chosen.map((env): DatabaseClaim => {
    const target = targets.get(env)!;
    const namespace = `${spec.name}${target.env.namespaceSuffix ?? ''}`;
    const override = spec.environments?.[env]?.database;
    const nameField = override?.name !== undefined ? `environments.${env}.database.name` : db.name !== undefined ? 'database.name' : 'database';
    const name = override?.name ?? db.name ?? defaultDatabaseName(namespace);
    const ownerField = override?.owner !== undefined ? `environments.${env}.database.owner` : db.owner !== undefined ? 'database.owner' : nameField;
    const owner = override?.owner ?? db.owner ?? name;
    checkIdentifier(name, `${where}: ${nameField}`, 'database', RESERVED_DATABASES);
    checkIdentifier(owner, `${where}: ${ownerField}`, 'role', RESERVED_ROLES);
    return {
      app: spec.name,
      environment: env,
      namespace,
      name,
      owner,
      extensions: [...(db.extensions ?? [])],
      password,
      cluster: target.server,
      dockerHost: target.context,
      postgresProject: `${POSTGRES_COMPONENT}${installer(env).namespaceSuffix ?? ''}`,
      field: nameField,
    };
  });
  const [first] = databaseCollisions(claims, kubernetesBase);
  if (first) throw new InputError(`${where}: ${first.message}`);
  return claims;
}

/**
 * Claims that take the same database or role on one server (a cluster or a Docker host that
 * their environments share), each said in one line with the fix. Pure, for one app (normalize)
 * and for the whole workspace (the postgres component, validate).
 */
export function databaseCollisions(claims: readonly DatabaseClaim[], kubernetesBase: boolean): { app: string; message: string }[] {
  const out: { app: string; message: string }[] = [];
  for (let i = 0; i < claims.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [claims[j], claims[i]];
      // The postgres component's Kustomize base is one for every cluster: its Cluster lists the roles of all of them.
      const server =
        a.cluster === b.cluster && kubernetesBase
          ? `the cluster ${a.cluster}`
          : a.dockerHost === b.dockerHost
            ? `the Docker host ${a.dockerHost}`
            : kubernetesBase
              ? "the postgres component's Kubernetes base (one Cluster spec for every cluster)"
              : null;
      if (server === null) continue;
      // Kubernetes names the objects after them, `_` as `-` (wiki_dev: Database wiki-dev).
      const what = objectName(a.name) === objectName(b.name) ? `database ${show(b.name)}` : objectName(a.owner) === objectName(b.owner) ? `role ${show(b.owner)}` : null;
      if (what === null) continue;
      const fix = a.app === b.app ? `give ${b.environment} its own with environments.${b.environment}.database` : `give one of them another ${what.startsWith('database') ? 'database.name' : 'database.owner'}`;
      const taken = what.startsWith('database') ? a.name : a.owner;
      out.push({ app: b.app, message: `${b.field}: ${b.app} in ${b.environment} claims ${what}, but ${a.app} in ${a.environment} has ${show(taken)} on ${server}; ${fix}` });
    }
  }
  return out;
}

/** A Kubernetes object name for a PostgreSQL name (the Database object, the role's password Secret). */
export function objectName(identifier: string): string {
  return identifier.replace(/_/g, '-');
}

/** A name PostgreSQL keeps as written (no cut at 63 bytes) and that is not the server's or the component's own. */
function checkIdentifier(value: string, at: string, kind: 'database' | 'role', reserved: readonly string[]): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new InputError(`${at}: the ${kind} name ${show(value)} has ${bytes} bytes and PostgreSQL cuts names after ${MAX_IDENTIFIER_BYTES}; give a shorter name`);
  }
  if (!/^[a-z]([a-z0-9_-]*[a-z0-9])?$/.test(value)) {
    throw new InputError(`${at}: the ${kind} name ${show(value)} is not a PostgreSQL name homelab writes; use lower-case letters, digits, '_' and '-', starting with a letter and ending with a letter or digit`);
  }
  if (reserved.includes(value) || (kind === 'role' && value.startsWith('pg_'))) {
    throw new InputError(`${at}: ${show(value)} is a ${kind} of the server or of the postgres component itself; give another name`);
  }
}

/**
 * The app-wide part: which services receive the connection, under which variable names, from
 * which store entry. Refuses a service that is not the app's and a variable a receiving service
 * already sets (env or secrets).
 */
export function normalizeDatabase(
  spec: AppSpec,
  where: string,
  services: { name: string; envNames: string[] }[],
  postgresNamespace: string,
  claims: readonly DatabaseClaim[],
): NormalizedDatabase {
  const db = spec.database;
  const host = `postgres-rw.${postgresNamespace}.svc`;
  if (!db || claims.length === 0) {
    return { enabled: false, secretName: `${spec.name}-database`, services: [], host, port: POSTGRES_PORT, password: { key: '', remoteKey: '', property: '' }, env: [] };
  }
  const names = services.map((s) => s.name);
  for (const s of db.services ?? []) {
    if (!names.includes(s)) throw new InputError(`${where}: database.services: ${show(s)} is not a service of the app; use one of ${names.map((n) => show(n)).join(', ')}`);
  }
  const receiving = db.services ?? names;
  const env = DATABASE_ENV_FIELDS.filter((f) => db.env[f] !== undefined).map((field) => ({ field, name: db.env[field]!, secret: SECRET_FIELDS.includes(field) }));
  const seen = new Map<string, string>();
  for (const e of env) {
    const other = seen.get(e.name);
    if (other) throw new InputError(`${where}: database.env.${e.field}: ${show(e.name)} is also database.env.${other}; give each value its own variable`);
    seen.set(e.name, e.field);
  }
  for (const s of services.filter((s) => receiving.includes(s.name))) {
    const taken = env.find((e) => s.envNames.includes(e.name));
    if (taken) throw new InputError(`${where}: database.env.${taken.field}: ${show(taken.name)} is also set in env or secrets of ${show(s.name)}; rename one of them`);
  }
  return { enabled: true, secretName: `${spec.name}-database`, services: receiving, host, port: POSTGRES_PORT, password: claims[0].password, env };
}

/** The Go template of the store's password in the ExternalSecret (ESO's template engine). */
export const PASSWORD_TEMPLATE = '{{ .password }}';
/**
 * The password in the URL, percent-encoded: Go's urlquery escapes every byte but letters, digits
 * and `-_.~`, and writes a space as `+`, which libpq would keep as a plus: sprig's replace makes it `%20`.
 * `urlPassword` (deploy, Compose) writes the same bytes.
 */
const URL_PASSWORD_TEMPLATE = '{{ .password | urlquery | replace "+" "%20" }}';

/** The password as the URL's userinfo holds it: the same bytes as URL_PASSWORD_TEMPLATE gives on Kubernetes. */
export function urlPassword(password: string): string {
  return encodeURIComponent(password).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The app's database in one environment: the Secret's content on Kubernetes, the env and deploy's metadata on Compose. */
export function environmentDatabase(db: NormalizedDatabase, claim: DatabaseClaim | undefined): EnvironmentDatabase {
  if (!db.enabled || !claim) return { enabled: false, name: '', owner: '', secretData: [], composeEnv: [], compose: null };
  const plain: Record<string, string> = { host: db.host, port: String(db.port), name: claim.name, user: claim.owner };
  const url = (password: string) => `postgresql://${claim.owner}:${password}@${db.host}:${db.port}/${claim.name}`;
  const secretData = db.env.map((e) => ({
    name: e.name,
    value: e.field === 'password' ? PASSWORD_TEMPLATE : e.field === 'url' ? url(URL_PASSWORD_TEMPLATE) : plain[e.field],
  }));
  return {
    enabled: true,
    name: claim.name,
    owner: claim.owner,
    secretData,
    composeEnv: db.env.filter((e) => !e.secret).map((e) => ({ name: e.name, value: plain[e.field] })),
    compose: {
      server: { project: claim.postgresProject, service: POSTGRES_SERVICE },
      name: claim.name,
      owner: claim.owner,
      extensions: claim.extensions,
      password: db.password,
      env: Object.fromEntries(db.env.filter((e) => e.secret).map((e) => [e.field, e.name])),
      url: url('{password}'),
    },
  };
}
