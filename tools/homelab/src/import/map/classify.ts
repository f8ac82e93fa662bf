import { credentialReason } from '../../validate/credentials';

/**
 * Which environment values of a stack are secrets (docs/import.md, "Secrets"). A value is a
 * secret when its key says so (a credential word, and not a setting such as
 * `PASSWORD_MIN_LENGTH` or `TOKEN_TTL`) and the value could be one (not empty, a number, a
 * boolean or an absolute path), or when the value itself looks like one whatever its key (a
 * known token prefix, a URL or DSN with a password, a long high-entropy string: the same test
 * `validate` applies to plain env, `policy/plaintext-credential`). When in doubt, a secret:
 * a setting kept out of git costs a line in the local secrets file, a password in git costs more.
 */

/** Words of a key that make it a credential wherever they stand (`DB_PASSWORD`, `OIDC_CLIENT_SECRET`, `BASIC_AUTH`). */
const CREDENTIAL_WORDS = new Set(['PASSWORD', 'PASSWORDS', 'PASSWD', 'PASS', 'PWD', 'PASSPHRASE', 'SECRET', 'SECRETS', 'TOKEN', 'TOKENS', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'AUTH', 'DSN', 'SALT', 'PRIVATEKEY', 'ACCESSKEY', 'SECRETKEY']);

/** Credential words that run into others (`DBPASSWORD`, `MYSECRET`). */
const CREDENTIAL_INSIDE = /PASSWORD|PASSWD|SECRET|APIKEY/;

/**
 * Last words of a key that make it a setting about a credential, not the credential:
 * `PASSWORD_MIN_LENGTH`, `TOKEN_TTL`, `DB_PASSWORD_FILE`, `AUTH_ENABLED`, `SECRET_KEY_PATH`.
 */
const SETTING_WORDS = new Set([
  'FILE', 'PATH', 'DIR', 'LOCATION', 'ENABLED', 'ENABLE', 'DISABLED', 'DISABLE', 'REQUIRED', 'LENGTH', 'MIN', 'MAX', 'LIMIT', 'SIZE', 'BITS', 'ROUNDS',
  'COST', 'STRENGTH', 'COMPLEXITY', 'TTL', 'EXPIRY', 'EXPIRE', 'EXPIRES', 'EXPIRATION', 'LIFETIME', 'TIMEOUT', 'AGE', 'DURATION', 'INTERVAL', 'URL', 'URI',
  'HOST', 'HOSTNAME', 'PORT', 'ENDPOINT', 'USER', 'USERNAME', 'LOGIN', 'NAME', 'ID', 'ALGORITHM', 'ALG', 'TYPE', 'MODE', 'METHOD', 'METHODS', 'POLICY',
  'HEADER', 'PROVIDER', 'ISSUER', 'AUDIENCE', 'SCOPE', 'SCOPES', 'REALM', 'FORMAT', 'PREFIX', 'VERSION', 'COUNT', 'RESET', 'HINT',
]);

/** Does the key name a credential (and not a setting about one)? */
export function isCredentialKey(key: string): boolean {
  const words = key.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  const last = words[words.length - 1];
  if (last === undefined || SETTING_WORDS.has(last) || words.includes('PUBLIC')) return false;
  // API_KEY, ACCESS_KEY, PRIVATE_KEY, ENCRYPTION_KEY, LICENSE_KEY: a key that ends in KEY holds one.
  if (last === 'KEY') return true;
  return words.some((w) => CREDENTIAL_WORDS.has(w) || CREDENTIAL_INSIDE.test(w));
}

/** Could the value be a credential at all? Not empty, a number, a boolean or an absolute path (a setting, or a `*_FILE`-style reference). */
export function couldBeSecret(value: string): boolean {
  const v = value.trim();
  return v !== '' && !/^[-+]?[0-9]+(\.[0-9]+)?$/.test(v) && !/^(true|false|yes|no|on|off)$/i.test(v) && !/^\/\S*$/.test(v);
}

/** A Go-style DSN with a password and no scheme (`user:password@tcp(db:3306)/app`). */
const DSN_WITH_PASSWORD = /^[^:/@\s]+:[^@\s]+@[a-z]*\(?[^)\s]*\)?\//i;

export type EnvClass = 'secret' | 'plain';

/** Is this environment value a secret of the spec, or a plain env value? */
export function classifyEnv(key: string, value: string): EnvClass {
  if (!couldBeSecret(value)) return 'plain';
  if (isCredentialKey(key)) return 'secret';
  if (credentialReason(key, value) !== null || DSN_WITH_PASSWORD.test(value.trim())) return 'secret';
  return 'plain';
}
