import { describe, expect, it } from 'vitest';
import { classifyEnv, isCredentialKey } from './classify';

describe('classifyEnv: which environment values are secrets', () => {
  it.each([
    ['DB_PASSWORD', 'hunter22'],
    ['POSTGRES_PASSWORD', 'changeme'],
    ['MYSQL_ROOT_PASSWD', 'xyzzy1'],
    ['DB_PASS', 'xyzzy1'],
    ['OIDC_CLIENT_SECRET', 'abc123def'],
    ['SECRET_KEY_BASE', 'abc123def'],
    ['JWT_SECRET', 'abc'],
    ['API_TOKEN', 'abc123def'],
    ['GITHUB_TOKEN', 'abc123def'],
    ['API_KEY', 'abc123def'],
    ['APIKEY', 'abc123def'],
    ['ENCRYPTION_KEY', 'abc123def'],
    ['AWS_SECRET_ACCESS_KEY', 'abc123def'],
    ['S3_ACCESS_KEY', 'abc123def'],
    ['SSH_PRIVATE_KEY', 'abc123def'],
    ['GOOGLE_CREDENTIALS', '{"type":"service_account"}'],
    ['BASIC_AUTH', 'admin:admin'],
    ['SENTRY_DSN', 'https://key@o1.ingest.example/1'],
    ['DATABASE_URL', 'postgres://app:s3cr3t@db:5432/app'],
    ['REDIS_URL', 'redis://:s3cr3t@cache:6379/0'],
    ['MYSQL_DSN', 'app:s3cr3t@tcp(db:3306)/app'],
    ['NOTIFY_WEBHOOK', 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB'],
    ['SESSION_SEED', 'Zq8vN2xLp4Rt7Ws1Ky9Bm3Hd6Gf0Jc5Q'],
  ])('%s=%s is a secret', (key, value) => {
    expect(classifyEnv(key, value)).toBe('secret');
  });

  it.each([
    ['PASSWORD_MIN_LENGTH', '12', 'a setting, and a number'],
    ['PASSWORD_MIN_LENGTH', 'twelve', 'a setting about passwords'],
    ['TOKEN_TTL', '1h', 'a setting about tokens'],
    ['DB_PASSWORD_FILE', '/run/secrets/db_password', 'a path to the secret, not the secret'],
    ['AUTH_ENABLED', 'yes', 'a setting'],
    ['AUTH_METHOD', 'oidc', 'a setting'],
    ['SECRET_KEY_PATH', 'keys/secret.pem', 'a setting'],
    ['VAPID_PUBLIC_KEY', 'BEl62iUYgUivxIkv69yViEuiBIa', 'a public key'],
    ['DB_PASSWORD', '', 'empty'],
    ['API_TOKEN', '12345', 'a number'],
    ['SMTP_PASSWORD', 'false', 'a boolean'],
    ['TLS_KEY', '/certs/tls.key', 'an absolute path'],
    ['DATABASE_URL', 'postgres://db:5432/app', 'a URL without a password'],
    ['DB_USERNAME', 'photos', 'a user name'],
    ['TZ', 'Europe/Berlin', 'no credential word, an ordinary value'],
    ['PUID', '1000', 'a number'],
  ])('%s=%s is plain (%s)', (key, value) => {
    expect(classifyEnv(key, value)).toBe('plain');
  });

  it('names a key without a value as a credential by its words alone', () => {
    expect([isCredentialKey('ADMIN_PASSWORD'), isCredentialKey('TOKEN_TTL'), isCredentialKey('LOG_LEVEL')]).toEqual([true, false, false]);
  });
});
