import { describe, expect, it } from 'vitest';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { InputError } from '../errors';
import { parseWorkspaceConfig } from '../spec/io';
import { checkAppName, checkHost, checkPort, parseVolumes, specFromOptions, splitList } from './options';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);

describe('splitList', () => {
  it.each<[string | string[] | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['A', ['A']],
    ['A,B', ['A', 'B']],
    [' A , B ,', ['A', 'B']],
    [['A', 'B,C'], ['A', 'B', 'C']],
  ])('splits %j into %j', (value, expected) => {
    expect(splitList(value)).toEqual(expected);
  });
});

describe('checkAppName', () => {
  it.each(['a', 'whoami', 'home-assistant', 'a1', `a${'b'.repeat(52)}`])('accepts %s', (name) => {
    expect(checkAppName(name)).toBe(name);
  });

  it.each(['', 'A', '1a', '-a', 'a-', 'a_b', 'a.b', '../a', `a${'b'.repeat(53)}`, 'ä', undefined, 42])('refuses %j', (name) => {
    expect(() => checkAppName(name)).toThrow(InputError);
    expect(() => checkAppName(name)).toThrow('is not a DNS-1123 label; use 1-53 lower-case letters');
  });
});

describe('checkPort', () => {
  it.each<[unknown, number]>([
    [1, 1],
    [80, 80],
    [65535, 65535],
    ['8080', 8080],
  ])('accepts %j as %i', (port, expected) => {
    expect(checkPort(port)).toBe(expected);
  });

  it.each([0, 65536, -1, 1.5, '80a', ' 80', '', 'abc', undefined, null, NaN])('refuses %j', (port) => {
    expect(() => checkPort(port)).toThrow('is not a port; use a whole number from 1 to 65535');
  });
});

describe('checkHost', () => {
  it.each(['whoami.example.org', 'a.b', '*.home.example.org', 'x-1.y-2.example', `${'a'.repeat(63)}.org`])('accepts %s', (host) => {
    expect(checkHost(host)).toBe(host);
  });

  it.each(['localhost', 'Whoami.example.org', 'a..b', '.a.b', 'a.b.', '-a.b', 'a.1b', 'a b.c', 'a.b:443', `${'a'.repeat(64)}.org`, `${'a.'.repeat(127)}org`])(
    'refuses %j',
    (host) => {
      expect(() => checkHost(host)).toThrow('is not a host name; use a lower-case fully qualified name');
    },
  );
});

describe('parseVolumes', () => {
  it('reads name:size:/mount entries as backed-up volumes', () => {
    expect(parseVolumes('data:1Gi:/data, cache:512Mi:/var/cache')).toEqual([
      { name: 'data', size: '1Gi', mountPath: '/data', backup: true },
      { name: 'cache', size: '512Mi', mountPath: '/var/cache', backup: true },
    ]);
  });

  it.each([
    ['data', '--volumes entry "data" is not name:size:/mount; write e.g. "data:1Gi:/data"'],
    ['data:1Gi:/a:b', '--volumes entry "data:1Gi:/a:b" is not name:size:/mount'],
    ['_d:1Gi:/d', '--volumes name "_d" is invalid'],
    ['data:1gb:/d', '--volumes size of data "1gb" is not a size'],
    ['data:1Gi:d', '--volumes mount path "d" is invalid; use an absolute path'],
    ['data:1Gi:/a/../b', '--volumes mount path "/a/../b" is invalid'],
    ['data:1Gi:/a/..', '--volumes mount path "/a/.." is invalid'],
  ])('refuses %j', (value, message) => {
    expect(() => parseVolumes(value)).toThrow(message);
  });
});

describe('specFromOptions', () => {
  it('spells out every default of the spec it writes', () => {
    expect(specFromOptions({ name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 }, workspace)).toEqual({
      name: 'whoami',
      image: { repository: 'traefik/whoami', tag: 'v1.10.4' },
      ports: [{ name: 'http', port: 80, http: true }],
      resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      health: { http: { path: '/' }, probe: 'outside', startGraceSeconds: 30 },
      replicas: 1,
      monitoring: { alerts: true, dashboard: true },
      environments: { dev: {}, prod: {} },
    });
  });

  it('maps each secret to a property of the app entry in the store', () => {
    const spec = specFromOptions({ name: 'app', image: 'a:1', port: '80', secrets: ['A', 'B'] }, workspace);

    expect(spec.secrets).toEqual([
      { key: 'A', remoteKey: 'app', property: 'A' },
      { key: 'B', remoteKey: 'app', property: 'B' },
    ]);
  });

  it('keeps the environments asked for, in the order asked', () => {
    expect(specFromOptions({ name: 'app', image: 'a:1', port: 80, environments: 'prod,dev' }, workspace).environments).toEqual({ prod: {}, dev: {} });
  });

  it('adds an ingress with TLS for a host', () => {
    expect(specFromOptions({ name: 'app', image: 'a:1', port: 80, host: 'app.example.org' }, workspace).ingress).toEqual({ host: 'app.example.org', tls: true });
  });
});
