import { InputError } from '../../errors';
import type { SecretSpec } from '../../spec/types';
import type { ComposeEnvValue, ComposeSource } from '../model';
import { classifyEnv, isCredentialKey } from './classify';
import { refusePlaceholder } from './placeholders';
import type { ImportReport } from './report';

/** What env.ts gives each service: plain values, and the secret keys it reads (by name, or declared in place when read under another name). */
export interface ServiceEnv {
  env: Record<string, string>;
  secrets: (string | SecretSpec)[];
}

export interface MappedEnv {
  services: Record<string, ServiceEnv>;
  /** The app's secrets: each key read under its own name. */
  secrets: SecretSpec[];
  /** Key → value for the local secrets file (every key of the app's Secret, as deploy looks them up). */
  values: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The value came from one variable and nothing else (`${DB_PASSWORD}`, `$DB_PASSWORD`,
 * `${DB_PASSWORD:-x}`, `${DB_PASSWORD:?set it}`): the variable names the secret, so services
 * that read it under other names share one key.
 */
export function soleVariable(env: ComposeEnvValue): string | null {
  if (env.variables.length !== 1 || env.template === undefined) return null;
  const name = env.variables[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\$(${name}|\\{${name}(:?[-?+][^}]*)?\\})$`).test(env.template.trim()) ? env.variables[0] : null;
}

/**
 * Splits every service's environment into plain `env` and secrets (docs/import.md, "Secrets").
 * A secret's store entry is the app (`remoteKey`) and a property: the variable it came from when
 * it came from one `${VAR}`, else its own name. A key read under the property's name is one of the
 * app's `secrets`; a service reading it under another name declares `{ key, remoteKey, property }`
 * in place. One key holds one value: two services giving one name or one store entry two
 * values are refused (naming them, never the values).
 */
export function mapEnvironment(source: ComposeSource, app: string, report: ImportReport): MappedEnv {
  const services: Record<string, ServiceEnv> = {};
  const secrets: SecretSpec[] = [];
  const values: Record<string, string> = {};
  /** Store property → its value and who set it first. */
  const store = new Map<string, { value: string | null; at: string }>();
  /** Secret key → its property and value, and who set it first. */
  const keys = new Map<string, { property: string; value: string | null; at: string }>();

  for (const [service, svc] of Object.entries(source.services)) {
    const out: ServiceEnv = { env: {}, secrets: [] };
    services[service] = out;
    for (const name of Object.keys(svc.environment).sort()) {
      const entry = svc.environment[name];
      const at = `services.${service}.environment.${name}`;
      if (!ENV_NAME.test(name)) {
        report.notCarried(at, 'not a name Kubernetes takes for an environment variable: letters, digits and _, not starting with a digit');
        continue;
      }
      refusePlaceholder(entry.value, at);
      const secret = entry.value === null ? isCredentialKey(name) : classifyEnv(name, entry.value) === 'secret';
      if (!secret) {
        if (entry.value === null) report.notCarried(at, 'declared without a value and unset where the stack was read: Compose passes nothing');
        else out.env[name] = entry.value;
        continue;
      }
      const property = soleVariable(entry) ?? name;
      claim(store, property, entry.value, at, `the secret store entry ${app}/${property}`);
      const first = claim(keys, name, entry.value, at, `the secret key ${name}`, property);
      if (first) {
        if (entry.value === null) report.warn(`${at} is a secret with no value where the stack was read: add ${name} to the local secrets file before deploying`);
        else values[name] = entry.value;
        if (entry.value !== null && WEAK.test(entry.value.trim())) {
          report.warn(`${at} holds a well-known placeholder password: set a real value in the local secrets file`);
        }
        if (property === name) secrets.push({ key: name, remoteKey: app });
      }
      out.secrets.push(property === name ? name : { key: name, remoteKey: app, property });
    }
  }
  return { services, secrets, values };
}

/** Records who holds a name; refuses a second, different value (or store property) for it. Returns whether this was the first. */
function claim<T extends { value: string | null; at: string; property?: string }>(seen: Map<string, T>, name: string, value: string | null, at: string, what: string, property?: string): boolean {
  const known = seen.get(name);
  if (!known) {
    seen.set(name, { value, at, ...(property === undefined ? {} : { property }) } as T);
    return true;
  }
  if (known.value !== value || (property !== undefined && known.property !== property)) {
    throw new InputError(
      `${at} and ${known.at} give ${what} different values (or sources); an app holds one value per secret key: give them the same value, read it under another name in one service, or import the services as two apps`,
    );
  }
  return false;
}

/** A working but weak value the stack's documentation meant to be replaced. */
const WEAK = /^(change-?me|changeit|password|passw0rd|secret|admin|example|default|test|123456)$/i;
