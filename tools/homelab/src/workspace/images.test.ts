import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import * as workspaceSchema from '../../schemas/workspace.schema.json';
import { WORKSPACE_YAML, workspaceTree, workspaceYamlWith } from '../../../../tests/support/workspace';
import { generateApp } from '../app/generate';
import { generateInfra } from '../component/generate';
import { generateInit } from '../platform/init';
import { readComponentSpec } from '../component/spec';
import { COMPONENT_NAMES, type ComponentSpec } from '../component/types';
import { treeHost } from '../host';
import { parseAppSpec, parseWorkspaceConfig } from '../spec/io';
import { appImages, componentImages, DEFAULT_SCAN_SEVERITY, pinnedImages, SCAN_SEVERITIES, scanSeverity, workspaceImages } from './images';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** A stack pinning images in every place an app spec can: services, an init container, a sidecar, per-environment tags and digests. */
const WIKI = `name: wiki
services:
  web:
    image: { repository: example/wiki, tag: 2.5.1 }
    ports: [{ name: http, port: 3000, http: true }]
    health: { http: { path: /healthz }, probe: outside }
    initContainers:
      - name: wait
        image: { repository: busybox, tag: 1.37.0 }
        command: [sh, -c, "true"]
      - name: migrate
        command: [wiki, migrate]
    sidecars:
      exporter:
        image: { repository: ghcr.io/example/wiki-exporter, tag: 0.4.2 }
        ports: [{ name: metrics, port: 9205 }]
  db:
    image: { repository: postgres, tag: 16.9-bookworm, digest: ${DIGEST_A} }
    ports: [{ name: postgres, port: 5432 }]
    health: { command: [pg_isready] }
    security: { user: { uid: 999, gid: 999 } }
environments:
  dev:
    services:
      web: { image: { tag: 2.6.0 } }
  prod:
    services:
      web: { image: { tag: 2.4.3 } }
      db: { image: { digest: ${DIGEST_B} } }
`;

describe('appImages: every image an app spec pins', () => {
  it('lists each service, init container and sidecar image, and each environment\'s tag or digest with its service\'s repository', () => {
    expect(appImages(parseAppSpec(WIKI, 'applications/specs/wiki.yaml'))).toEqual([
      { image: 'example/wiki:2.5.1', field: 'services.web.image' },
      { image: 'busybox:1.37.0', field: 'services.web.initContainers[0].image' },
      { image: 'ghcr.io/example/wiki-exporter:0.4.2', field: 'services.web.sidecars.exporter.image' },
      { image: `postgres:16.9-bookworm@${DIGEST_A}`, field: 'services.db.image' },
      { image: 'example/wiki:2.6.0', field: 'environments.dev.services.web.image' },
      { image: 'example/wiki:2.4.3', field: 'environments.prod.services.web.image' },
      // The image the environment runs, as app/steps/overrides.ts renders it: a digest alone pins the repository by digest.
      { image: `postgres@${DIGEST_B}`, field: 'environments.prod.services.db.image' },
    ]);
  });

  it('lists the shorthand\'s one image', () => {
    const { tree } = workspaceTree();
    const host = treeHost(tree);
    generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 });
    expect(appImages(parseAppSpec(host.read('applications/specs/whoami.yaml')!, 'whoami.yaml'))).toEqual([{ image: 'traefik/whoami:v1.10.4', field: 'image' }]);
  });
});

describe('componentImages: every image a component spec pins', () => {
  it('reads chart values at any depth, compose.images and settings.imageName, and nothing else', () => {
    const spec = {
      name: 'postgres',
      kubernetes: {
        charts: [
          { name: 'a', repoURL: 'https://charts.example.org', version: '1.0.0', values: { image: 'example/a:1.0.0', sub: { deeper: { image: 'example/b:2.0.0' } }, imageTag: 'not-an-image' } },
          { name: 'c', repoURL: 'https://charts.example.org', version: '1.0.0', values: { image: { repository: 'example/object', tag: '3' } } },
        ],
      },
      compose: { images: { server: 'example/c:3.0.0' } },
      settings: { imageName: 'example/d:4.0.0' },
    } as unknown as ComponentSpec;
    expect(componentImages(spec)).toEqual([
      { image: 'example/a:1.0.0', field: 'kubernetes.charts[0].values.image' },
      { image: 'example/b:2.0.0', field: 'kubernetes.charts[0].values.sub.deeper.image' },
      { image: 'example/c:3.0.0', field: 'compose.images.server' },
      { image: 'example/d:4.0.0', field: 'settings.imageName' },
    ]);
  });

  it.each(COMPONENT_NAMES)('%s, as the catalog writes it: each listed image is the value at its field, and every compose image is listed', (name) => {
    const { tree } = workspaceTree();
    const host = treeHost(tree);
    generateInit(host, {});
    generateInfra(host, { component: name, email: 'admin@example.org' });
    const spec = readComponentSpec(host, name);
    const listed = componentImages(spec);
    const valueAt = (field: string) =>
      field
        .replace(/\[(\d+)\]/g, '.$1')
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], spec);
    for (const { image, field } of listed) expect(valueAt(field), field).toBe(image);
    for (const image of Object.values(spec.compose?.images ?? {})) expect(listed.map((l) => l.image)).toContain(image);
  });
});

describe('pinnedImages: the images of the named projects', () => {
  function workspace(homelabYaml = WORKSPACE_YAML) {
    const { tree } = workspaceTree(homelabYaml);
    const host = treeHost(tree);
    generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 });
    generateApp(host, { name: 'echo', image: 'traefik/whoami:v1.10.4', port: 8080 });
    tree.write('applications/specs/wiki.yaml', WIKI);
    generateInit(host, {});
    generateInfra(host, { component: 'postgres' });
    return host;
  }

  it('lists each image once, sorted, with every project that pins it', () => {
    const host = workspace();
    const postgres = componentImages(readComponentSpec(host, 'postgres')).map((p) => p.image);
    const images = pinnedImages(host);
    expect(images.map((i) => i.image)).toEqual([...new Set([...appImages(parseAppSpec(WIKI, 'wiki.yaml')).map((p) => p.image), 'traefik/whoami:v1.10.4', ...postgres])].sort());
    expect(images.find((i) => i.image === 'traefik/whoami:v1.10.4')!.projects).toEqual(['echo', 'whoami']);
  });

  it('lists only the named projects\' images; none for an empty list', () => {
    const host = workspace();
    expect(pinnedImages(host, ['whoami'])).toEqual([{ image: 'traefik/whoami:v1.10.4', projects: ['whoami'] }]);
    expect(pinnedImages(host, [])).toEqual([]);
  });

  it('lists the images homelab.yaml pins under homelab-platform, and none where it pins none', () => {
    const yaml = workspaceYamlWith((c) => void (c.compose = { scheduler: { image: 'docker:27.5.1-cli' }, backup: { image: 'restic/restic:0.18.0' } }));
    expect(workspaceImages(parseWorkspaceConfig(yaml))).toEqual([
      { image: 'docker:27.5.1-cli', field: 'compose.scheduler.image' },
      { image: 'restic/restic:0.18.0', field: 'compose.backup.image' },
    ]);
    expect(pinnedImages(workspace(yaml), ['homelab-platform']).map((i) => i.image)).toEqual(['docker:27.5.1-cli', 'restic/restic:0.18.0']);
    expect(pinnedImages(workspace(), ['homelab-platform'])).toEqual([]);
  });

  it('refuses a name that is no project of the workspace, naming it and where projects come from', () => {
    expect(() => pinnedImages(workspace(), ['whoami', 'wikki'])).toThrow(/^--projects "wikki": no app, component or homelab-platform of that name in this workspace; name projects of `npx nx show projects --withTarget validate`$/);
  });
});

describe('homelab.yaml ci.scan.severity', () => {
  it(`is ${DEFAULT_SCAN_SEVERITY} when homelab.yaml has no ci field, as every existing homelab.yaml`, () => {
    const config = parseWorkspaceConfig(WORKSPACE_YAML);
    expect(config.ci).toBeUndefined();
    expect(scanSeverity(config)).toBe('high');
    expect(scanSeverity(parseWorkspaceConfig(workspaceYamlWith((c) => void (c.ci = { scan: {} }))))).toBe('high');
  });

  it.each(SCAN_SEVERITIES)('reads %s', (severity) => {
    expect(scanSeverity(parseWorkspaceConfig(workspaceYamlWith((c) => void (c.ci = { scan: { severity } }))))).toBe(severity);
  });

  it('the schema allows exactly the severities the scanner takes, lowest first', () => {
    expect((workspaceSchema as any).properties.ci.properties.scan.properties.severity.enum).toEqual([...SCAN_SEVERITIES]);
  });

  it.each([
    ['severe', /^homelab\.yaml:\d+:\d+: ci\.scan\.severity: "severe" is not one of negligible, low, medium, high, critical$/],
    ['HIGH', /^homelab\.yaml:\d+:\d+: ci\.scan\.severity: "HIGH" is not one of negligible, low, medium, high, critical; did you mean high\?$/],
  ])('refuses %s in one line naming the value and the allowed ones', (severity, message) => {
    const yaml = `${WORKSPACE_YAML.trimEnd()}\n${YAML.stringify({ ci: { scan: { severity } } })}`;
    expect(() => parseWorkspaceConfig(yaml)).toThrow(message);
  });
});
