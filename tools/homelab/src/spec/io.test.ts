import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputErrorOf, renderedStacks, specOf, STACKS_DIR } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { yamlMutations } from '../../../../tests/support/yaml-mutations';
import { quickValues, resolveCore } from '../import/compose/yaml';
import { parseAppSpec, parseWorkspaceConfig, parseYamlDocument, parseYamlSource, readYamlSource, stringifyAppSpec } from './io';
import type { AppSpec } from './types';

describe('parseYamlDocument', () => {
  it('returns the one document of a file', () => {
    expect(parseYamlDocument('a: 1\nb: [x, "y"]\n', 'f.yaml')).toEqual({ a: 1, b: ['x', 'y'] });
  });

  it.each([
    ['a syntax error, with its line and column', 'a: 1\nb: [1, 2\n', /^f\.yaml:\d+:\d+: .*; fix the YAML syntax$/],
    ['a duplicate key', 'a: 1\na: 2\n', /^f\.yaml:2:1: .*[Mm]ap keys must be unique.*; fix the YAML syntax$/],
    ['several documents', 'a: 1\n---\nb: 2\n', /^f\.yaml holds 2 YAML documents; keep exactly one$/],
    ['an empty file', '', /^f\.yaml is empty; restore it from git or regenerate it$/],
  ])('refuses %s in one line', (_label, text, message) => {
    const error = inputErrorOf(() => parseYamlDocument(text, 'f.yaml'));

    expect(error).toMatch(message);
    expect(error).not.toMatch(/\n/);
  });
});

describe('parseAppSpec', () => {
  const file = 'applications/specs/web.yaml';

  it.each([
    ['an unknown field, at its key', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80 }]\nreplica: 2\n', '4:1: replica: unknown field; did you mean replicas?'],
    ['a missing field', 'name: web\nimage: { repository: a, tag: "1" }\n', '1:1: ports is missing; add it'],
    ['an image with neither tag nor digest', 'name: web\nimage: { repository: a }\nports: [{ name: http, port: 80 }]\n', '2:8: image must be pinned: set tag (a version, not latest) or digest (sha256:…)'],
    ['a port out of range, at its value', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 70000 }]\n', '3:29: ports[0].port: 70000 is above 65535; use a whole number from 1 to 65535'],
    ['a port given as text', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: "9090" }]\n', '3:29: ports[0].port: "9090" is text; write a whole number without quotes: 9090'],
    ['an env key that is no identifier', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80 }]\nenv: { "A-B": x }\n', '4:8: env.A-B: the name "A-B" is invalid; expected environment variable names: letters, digits and \'_\''],
    ['a non-string env value', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80 }]\nenv: { A: 1 }\n', '4:11: env.A: 1 is a whole number; write text (quote it: "1")'],
  ])('refuses %s, in plain words at its line and column', (_label, text, message) => {
    const error = inputErrorOf(() => parseAppSpec(text, file));

    expect(error.startsWith(`${file}:${message}`)).toBe(true);
    expect(error).not.toMatch(/\n/);
  });

  it('accepts a volume\'s backup as true, false or an object of options, and refuses an unknown option', () => {
    const text = (backup: string) => `name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80 }]\nvolumes: [{ name: db, size: 1Gi, mountPath: /data, backup: ${backup} }]\n`;

    expect((parseAppSpec(text('{ dump: postgres, copyMethod: Direct }'), file) as { volumes: { backup: unknown }[] }).volumes[0].backup).toEqual({ dump: 'postgres', copyMethod: 'Direct' });
    expect((parseAppSpec(text('false'), file) as { volumes: { backup: unknown }[] }).volumes[0].backup).toBe(false);
    expect(inputErrorOf(() => parseAppSpec(text('{ dump: mysql }'), file))).toMatch(/^applications\/specs\/web\.yaml:4:\d+: volumes\[0\]\.backup\.dump: "mysql" is not one of postgres$/);
  });

  it('lists every problem, one line each, in the order of the file', () => {
    const error = inputErrorOf(() => parseAppSpec('name: Web\nimage: { repository: a }\nports: []\n', file));

    expect(error.split('\n').map((line) => line.slice(0, line.indexOf(': ', file.length)))).toEqual([`${file}:1:7`, `${file}:2:8`, `${file}:3:8`]);
    expect(error).toContain('ports is empty; list at least 1');
  });
});

describe('parseWorkspaceConfig', () => {
  it('reads the repository homelab.yaml with its two environments', () => {
    const config = parseWorkspaceConfig(WORKSPACE_YAML);

    expect(config.environments.map((e) => e.name)).toEqual(['dev', 'prod']);
    expect(config.secrets?.store).toBe('homelab');
  });

  it('refuses a missing homelab.yaml and says how to restore it', () => {
    expect(inputErrorOf(() => parseWorkspaceConfig(null))).toBe(
      'homelab.yaml is missing at the workspace root; restore it from git (it lists the environments and the GitOps source)',
    );
  });

  it('accepts the backup target and copy method, and refuses an unknown copy method at its value', () => {
    const base = 'environments: [{ name: dev }]\ngitops: { repoURL: https://example.org/x.git }\n';
    const config = parseWorkspaceConfig(`${base}backup: { copyMethod: Snapshot, target: { s3: { endpoint: "https://s3.example.org", bucket: backups } } }\n`);

    expect(config.backup).toEqual({ copyMethod: 'Snapshot', target: { s3: { endpoint: 'https://s3.example.org', bucket: 'backups' } } });
    expect(inputErrorOf(() => parseWorkspaceConfig(`${base}backup: { copyMethod: snapshot }\n`))).toMatch(/^homelab\.yaml:3:\d+: backup\.copyMethod: .*Direct.*Clone.*Snapshot/);
  });

  it('refuses an environment listed twice', () => {
    const text = 'environments: [{ name: dev }, { name: dev }]\ngitops: { repoURL: https://example.org/x.git }\n';

    expect(inputErrorOf(() => parseWorkspaceConfig(text))).toBe('homelab.yaml: environment "dev" is listed twice; list each environment once');
  });
});

describe('stringifyAppSpec', () => {
  it('writes every top-level field the schema has: a rewritten spec (homelab:environment, import) loses none', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/app.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const spec = Object.fromEntries(Object.keys(schema.properties).map((key) => [key, key === 'name' ? 'every' : `value of ${key}`]));
    const written = parseYamlDocument(stringifyAppSpec(spec as unknown as AppSpec), 'every.yaml') as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it('starts with the schema modeline and a pointer to nx sync', () => {
    const lines = stringifyAppSpec(specOf('web')).split('\n');

    expect(lines[0]).toBe('# yaml-language-server: $schema=../../tools/homelab/schemas/app.schema.json');
    expect(lines[1]).toContain('npx nx sync');
  });

  it('writes fields in the schema order whatever order the object has', () => {
    const spec = { environments: { dev: {} }, replicas: 2, ports: [{ name: 'http', port: 80 }], image: { repository: 'a', tag: '1' }, name: 'web' } as AppSpec;

    const keys = stringifyAppSpec(spec)
      .split('\n')
      .filter((l) => /^[a-z]/.test(l))
      .map((l) => l.split(':')[0]);
    expect(keys).toEqual(['name', 'image', 'ports', 'replicas', 'environments']);
  });

  it('reads back to the same spec', () => {
    const spec = specOf('web', {
      description: 'A "web" app: with #specials',
      env: { A: 'yes', B: '0x10', C: 'multi\nline', D: '' },
      secrets: [{ key: 'T', remoteKey: 'web', property: 'token' }],
      volumes: [{ name: 'data', size: '1Gi', mountPath: '/data', backup: false }],
      environments: { prod: { replicas: 2, env: { A: 'no' } } },
    });

    expect(parseAppSpec(stringifyAppSpec(spec), 'applications/specs/web.yaml')).toEqual(spec);
  });
});

describe('parseAppSpec: the full form (services)', () => {
  const file = 'applications/specs/stack.yaml';
  const service = 'services: { web: { image: { repository: a, tag: "1" } } }\n';

  it.each(fs.readdirSync(STACKS_DIR).filter((f) => f.endsWith('.yaml')))('accepts the census stack %s', (name) => {
    const spec = parseAppSpec(fs.readFileSync(path.join(STACKS_DIR, name), 'utf8'), `applications/specs/${name}`);

    expect(Object.keys(spec.services ?? {}).length).toBeGreaterThan(0);
  });

  it.each(fs.readdirSync(STACKS_DIR).filter((f) => f.endsWith('.yaml')))('writes the census stack %s so that it reads back to the same spec', (name) => {
    const spec = parseAppSpec(fs.readFileSync(path.join(STACKS_DIR, name), 'utf8'), file);

    expect(parseAppSpec(stringifyAppSpec(spec), file)).toEqual(spec);
  });

  it('writes patches, so that nothing of a spec is lost', () => {
    const spec = parseAppSpec(`name: web\n${service}patches: { compose: { services: { web: { init: true } } } }\n`, file);

    expect(parseAppSpec(stringifyAppSpec(spec), file)).toEqual(spec);
  });

  it.each([
    ['a container field beside services', `name: web\n${service}image: { repository: a, tag: "1" }\n`, '1:1: the spec sets services and a container field of the shorthand: with services, image, ports, env, health, resources, replicas, autoscale, availability, spread, replication, placement and securityContext belong to a service; move them under services.<name>'],
    ['a start condition that does not exist', 'name: web\nservices: { web: { image: { repository: a, tag: "1" }, dependsOn: { db: maybe } } }\n', '2:73: services.web.dependsOn.db: "maybe" is not one of started, healthy, completed'],
    ['a misspelt service kind', 'name: web\nservices: { web: { image: { repository: a, tag: "1" }, kind: deamon } }\n', '2:62: services.web.kind: "deamon" is not one of service, job, cron'],
    ['a map of volumes in the shorthand', 'name: web\nimage: { repository: a, tag: "1" }\nports: [{ name: http, port: 80 }]\nvolumes: { data: { size: 1Gi } }\n', '4:10: volumes is a map; write a list: Without services (the shorthand), volumes is a list of {name, size, mountPath}; a map of volumes needs the full form (services).'],
    ['a list of volumes in the full form', `name: web\n${service}volumes: [{ name: data, size: 1Gi, mountPath: /data }]\n`, '3:10: volumes is a list; write a map: With services (the full form), volumes is a map of name to volume'],
    ['a volume of two kinds', `name: web\n${service}volumes: { data: { size: 1Gi, hostPath: /srv } }\n`, '3:18: volumes.data must be exactly one kind of volume: a persistent volume (size), a host path (hostPath)'],
    ['a volume of no kind', `name: web\n${service}volumes: { data: { storageClass: fast } }\n`, '3:18: volumes.data must be exactly one kind of volume'],
    ['a security opt-in without its reason', 'name: web\nservices: { web: { image: { repository: a, tag: "1" }, security: { privileged: true } } }\n', '2:80: services.web.security.privileged: true is a boolean; write text (quote it: "true")'],
    ['an autoscale of an environment without its max', 'name: web\nservices: { web: { image: { repository: a, tag: "1" } } }\nenvironments: { prod: { services: { web: { autoscale: { min: 2, cpu: 50 } } } } }\n', '3:55: environments.prod.services.web.autoscale.max is missing; add it (the most replicas, at least min)'],
    ['an autoscale of an environment that is neither a range nor false', 'name: web\nservices: { web: { image: { repository: a, tag: "1" } } }\nenvironments: { prod: { services: { web: { autoscale: true } } } }\n', '3:55: environments.prod.services.web.autoscale: "true" must be "false"'],
    ['a service name that is no DNS label, at the name', 'name: web\nservices: { Web_1: { image: { repository: a, tag: "1" } } }\n', '2:13: services.Web_1: the name "Web_1" is invalid; expected a DNS-1123 label'],
  ])('refuses %s at its line and column, naming the field and the fix', (_label, text, message) => {
    const error = inputErrorOf(() => parseAppSpec(text, file));

    expect(error.split('\n')[0].startsWith(`${file}:${message}`)).toBe(true);
  });
});

describe('readYamlSource: a text read again right after is not parsed again', () => {
  it('gives each caller its own copy of the value and the same parsed document', () => {
    const text = 'name: web\nimage: traefik/whoami:v1.10.4\nports:\n  - { name: http, port: 80 }\n';
    const first = readYamlSource(text, 'applications/specs/web.yaml');
    (first.value as { ports: unknown[] }).ports.push('changed by the first caller');
    const second = readYamlSource(text, 'applications/specs/web.yaml');
    expect(second.value).toEqual({ name: 'web', image: 'traefik/whoami:v1.10.4', ports: [{ name: 'http', port: 80 }] });
    expect(second.source).toBe(first.source);
    // Another file name, or another text, is parsed on its own.
    expect(readYamlSource(text, 'applications/specs/api.yaml').source).not.toBe(first.source);
    expect(readYamlSource(`${text}# edited\n`, 'applications/specs/web.yaml').source).not.toBe(first.source);
  });

  it('still refuses a text that does not parse, every time', () => {
    for (let i = 0; i < 2; i++) expect(() => readYamlSource('a: [1\n', 'x.yaml')).toThrow(/x\.yaml:\d+:\d+: .*fix the YAML syntax/);
  });
});

describe('readYamlSource reads with js-yaml what the yaml package reads the same', () => {
  const FIXTURES = path.resolve(__dirname, '../../../../tests/support/fixtures');
  const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));
  const SCALARS = [
    '0b101', '1_000', '0755', '0o17', '0O17', '0x1F', '0X1F', '-0', '+12', '-12', '007', '1e3', '1E-3', '+1e+3', '.5', '-.5', '1.', '1.50', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'NaN', 'nan',
    '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30', '1:20:30', '190:20:30.15',
    '12345678901234567890', '0x', '0o', '+', '-', '.', '..', '1.2.3', 'v1.10.4', '"quoted"', "'single'", "'it''s'", '"esc \\t \\u00e9 \\x41"', 'ünïcødé ✓ 🏠', 'a b  c', 'trailing ',
  ];
  const hostile = [
    SCALARS.map((v, i) => `k${i}: ${v}`).join('\n'),
    `list:\n${SCALARS.map((v) => `  - ${v}`).join('\n')}\n`,
    `flow: [${SCALARS.filter((v) => !/[,"']/.test(v)).join(', ')}]\n`,
    '1: one\ntrue: yes\n~: nothing\n"<<": merged\n__proto__: x\n',
    'a:\nb: \nc: ""\nd: {}\ne: []\n',
    'block: |\n  kept\n   lines\nfolded: >\n  folded\n  text\nstrip: |-\n  x\nkeep: >+\n  y\n\nindented: |2\n    four\n',
    'multi: a plain\n  scalar over lines\nquoted: "over\n  lines"\n',
    'anchor: &a [1, 2]\nalias: *a\n',
    'tagged: !!str 12\nother: !custom x\n',
    '? complex\n: key\n',
    '%YAML 1.2\n---\na: 1\n',
    'a: 1\n---\nb: 2\n',
    '\ufeffbom: yes\r\ncrlf: 1\r\n',
    'lone: cr\rhere: 1\n',
    'tab:\tvalue\n\tindented: 1\n',
    '# only a comment\n',
    '',
    'just text',
    '- a\n- b\n',
  ];
  const specs = renderedStacks().map((spec) => stringifyAppSpec(spec));
  const files = walk(FIXTURES).map((f) => fs.readFileSync(f, 'utf8'));
  const slowly = (text: string) => {
    try {
      return { value: parseYamlSource(text, 'f.yaml').value };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const fast = (text: string) => quickValues(text, resolveCore);
  /** What readYamlSource gives: its value, or its refusal. */
  const read = (text: string) => {
    try {
      return { value: readYamlSource(text, 'f.yaml').value };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };

  it('gives the yaml package\'s value (or refusal) for every fixture file, spec and hostile scalar, most read by js-yaml', () => {
    const texts = [...hostile, ...specs, ...files];
    let quick = 0;
    for (const text of texts) {
      expect(read(text), JSON.stringify(text.slice(0, 80))).toStrictEqual(slowly(text));
      if (fast(text)?.length === 1 && !/\r(?!\n)/.test(text)) quick++;
    }
    expect(texts.length).toBeGreaterThan(50);
    expect(quick).toBeGreaterThan(texts.length / 2);
  });

  it('gives the same on 3,000 mutations of those texts (lines dropped, doubled, re-indented, characters changed)', () => {
    const noise = [' ', '  ', '-', ':', '#', '"', "'", '[', ']', '{', '}', ',', '*', '&', '!', '|', '>', '\t', '\n', '\r', 'x', '0', '1', '.', '~', '?', '%', '@', '`', 'e', '_', '+', 'o', 'b'];
    const base = [...hostile, ...specs, ...files.filter((f) => f.length < 4000)];
    const differ: string[] = [];
    let quick = 0;
    for (const text of yamlMutations(base, 3000, 23, noise)) {
      if (fast(text)?.length === 1) quick++;
      const [got, want] = [read(text), slowly(text)];
      if (JSON.stringify(got) !== JSON.stringify(want) || (typeof want.value === 'number' && !Object.is(got.value, want.value))) differ.push(text);
    }
    expect(differ.slice(0, 3)).toEqual([]);
    expect(quick).toBeGreaterThan(1000);
  });
});
