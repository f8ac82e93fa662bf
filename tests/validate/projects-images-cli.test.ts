import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { readComponentSpec } from '../../tools/homelab/src/component/spec';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { componentImages } from '../../tools/homelab/src/workspace/images';
import { requireTool, run } from '../support/tools';
import { makeDiskWorkspace, REPO_ROOT, removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * `homelab images` and `homelab validate --projects`, spawned as the users' CI runs them
 * (tests/ci-workflow.integration.test.ts runs the workflow's steps that call them), on a
 * workspace written by the generators: postgres, whoami, and web, whose Compose file is edited
 * by hand so that only web has a finding.
 */
const kubectl = requireTool('kubectl');
const BIN = path.join(REPO_ROOT, 'tools/homelab/bin/homelab.js');

let dir: string;
const homelab = (args: string[]) => run(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });

beforeAll(() => {
  dir = makeDiskWorkspace('ci-cli');
  const host = diskHost(dir);
  generateInit(host, {});
  generateInfra(host, { component: 'postgres' });
  generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 });
  generateApp(host, { name: 'web', image: 'ghcr.io/example/web:1.2.3', port: 8080 });
  // A hand edit of a file web's spec owns: validate reports sync/drift on web, and on nothing else.
  const compose = path.join(dir, 'applications/compose/base/web/compose.yaml');
  fs.writeFileSync(compose, `${fs.readFileSync(compose, 'utf8')}# edited by hand\n`);
}, 120_000);
afterAll(() => removeDir(dir));

describe('homelab images', () => {
  it('lists every image of the workspace once, sorted, one a line', () => {
    const r = homelab(['images']);
    const postgres = componentImages(readComponentSpec(diskHost(dir), 'postgres')).map((p) => p.image);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${[...new Set(['ghcr.io/example/web:1.2.3', 'traefik/whoami:v1.10.4', ...postgres])].sort().join('\n')}\n`);
  });

  it('--projects lists those projects\' images; --format json adds the severity homelab.yaml sets (high without the field)', () => {
    const r = homelab(['images', '--projects', 'web,whoami', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ severity: 'high', images: ['ghcr.io/example/web:1.2.3', 'traefik/whoami:v1.10.4'] });
  });

  it('reads ci.scan.severity from homelab.yaml', () => {
    fs.writeFileSync(path.join(dir, 'homelab.yaml'), `${WORKSPACE_YAML.trimEnd()}\nci:\n  scan:\n    severity: critical\n`);
    try {
      expect(JSON.parse(homelab(['images', '--projects', 'whoami', '--format', 'json']).stdout)).toEqual({ severity: 'critical', images: ['traefik/whoami:v1.10.4'] });
    } finally {
      fs.writeFileSync(path.join(dir, 'homelab.yaml'), WORKSPACE_YAML);
    }
  });

  it('an empty --projects (nothing affected) lists nothing', () => {
    expect(JSON.parse(homelab(['images', '--projects', '', '--format', 'json']).stdout)).toEqual({ severity: 'high', images: [] });
    expect(homelab(['images', '--projects', '']).stdout).toBe('');
  });

  it.each([
    [['images', '--projects', 'web,nope'], /^homelab: --projects "nope": no app, component or homelab-platform of that name in this workspace; name projects of `npx nx show projects --withTarget validate`$/],
    [['images', '--format', 'yaml'], /^homelab: --format yaml: use lines or json$/],
    [['images', 'applications'], /^homelab: images takes no paths \("applications"\); name projects with --projects a,b$/],
  ])('%j exits 2 with one line, printing nothing', (args, message) => {
    const r = homelab(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
  });

  it('a bad severity in homelab.yaml exits 2 with one line naming it and the allowed ones', () => {
    fs.writeFileSync(path.join(dir, 'homelab.yaml'), `${WORKSPACE_YAML.trimEnd()}\nci:\n  scan:\n    severity: severe\n`);
    try {
      const r = homelab(['images', '--format', 'json']);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toMatch(/^homelab: homelab\.yaml:\d+:\d+: ci\.scan\.severity: "severe" is not one of negligible, low, medium, high, critical$/);
    } finally {
      fs.writeFileSync(path.join(dir, 'homelab.yaml'), WORKSPACE_YAML);
    }
  });
});

describe.skipIf(kubectl.skip)('homelab validate --projects', () => {
  it('checks the named projects only: web\'s finding is in the SARIF, exit 1; whoami alone is clean', () => {
    const web = homelab(['validate', '--projects', 'web,whoami', '--format', 'sarif']);
    expect(web.status).toBe(1);
    const results = JSON.parse(web.stdout).runs[0].results as { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    expect(results.length).toBeGreaterThan(0);
    expect(results.map((r) => r.ruleId)).toContain('sync/drift');
    for (const r of results) expect(r.locations[0].physicalLocation.artifactLocation.uri).toMatch(/(^|\/)web(\/|\.yaml$)/);

    const whoami = homelab(['validate', '--projects', 'whoami', '--format', 'sarif']);
    expect(whoami.status).toBe(0);
    expect(JSON.parse(whoami.stdout).runs[0].results).toEqual([]);
  });

  it('an empty list checks nothing: valid SARIF 2.1.0 without results, exit 0', () => {
    const r = homelab(['validate', '--projects', '', '--format', 'sarif']);
    expect(r.status).toBe(0);
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0].results).toEqual([]);
  });

  it.each([
    [['validate', '--projects', 'nope'], /^homelab: --projects "nope": no app, component or homelab-platform of that name in this workspace \(no applications\/specs\/nope\.yaml nor infrastructure\/specs\/nope\.yaml\); name projects of `npx nx show projects --withTarget validate`$/],
    [['validate', 'applications', '--projects', 'web'], /^homelab: validate takes paths or --projects, not both; drop "applications" or --projects$/],
  ])('%j exits 2 with one line', (args, message) => {
    const r = homelab(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
  });
});
