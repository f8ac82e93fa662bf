import { describe, expect, it } from 'vitest';
import { inputErrorOf, specOf } from '../../../../../tests/support/spec';
import { appHost, hostPatternOf } from './hosts';

const WHERE = 'applications/specs/whoami.yaml';
const whoami = specOf('whoami', { ingress: { host: 'whoami.home.example.org' } });

describe('the host of an app in an environment', () => {
  it.each([
    ['a protected environment serves the spec host as it is', { name: 'prod', protected: true }, 'whoami.home.example.org'],
    ['any other environment puts its name after the first label', { name: 'dev' }, 'whoami.dev.home.example.org'],
    ['an explicit {host} keeps the spec host (what the migration writes)', { name: 'dev', hostPattern: '{host}' }, 'whoami.home.example.org'],
    ['a pattern of its own, from every placeholder', { name: 'lab', hostPattern: '{app}-{env}.{label}.{domain}' }, 'whoami-lab.whoami.home.example.org'],
    ['a pattern on a protected environment wins over the default', { name: 'prod', protected: true, hostPattern: '{label}.lan' }, 'whoami.lan'],
  ])('%s', (_what, env, expected) => {
    expect(appHost(whoami, env, WHERE)).toBe(expected);
  });

  it('takes the spec environments.<env>.host over any pattern', () => {
    const spec = specOf('whoami', { ingress: { host: 'whoami.home.example.org' }, environments: { dev: { host: 'who.lan' } } });
    expect(appHost(spec, { name: 'dev', hostPattern: '{host}' }, WHERE)).toBe('who.lan');
  });

  it('keeps a wildcard host a wildcard one level down', () => {
    expect(appHost(specOf('any', { ingress: { host: '*.home.example.org' } }), { name: 'dev' }, WHERE)).toBe('*.dev.home.example.org');
  });

  it('is empty for an app without ingress', () => {
    expect(appHost(specOf('quiet'), { name: 'dev' }, WHERE)).toBe('');
  });

  it('refuses a pattern whose result is not a host name, naming it and the fix', () => {
    const message = inputErrorOf(() => appHost(specOf('any', { ingress: { host: '*.home.example.org' } }), { name: 'dev', hostPattern: '{env}.{host}' }, WHERE));
    expect(message).toBe(
      'applications/specs/whoami.yaml: the host of any in dev would be "dev.*.home.example.org" (homelab.yaml hostPattern "{env}.{host}" on "*.home.example.org"), which is not a host name; fix hostPattern of dev in homelab.yaml, or set environments.dev.host in the spec',
    );
  });

  it('names the default pattern of each kind of environment', () => {
    expect([hostPatternOf({ name: 'prod', protected: true }), hostPatternOf({ name: 'dev' })]).toEqual(['{host}', '{label}.{env}.{domain}']);
  });
});
