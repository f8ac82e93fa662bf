import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { diskHost } from '../tools/homelab/src/host';
import { parseWorkspaceConfig } from '../tools/homelab/src/spec/io';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { nxTestEnv } from './support/nx';
import { run } from './support/tools';
import { copyWorkspace, diskFiles, HOMELAB_01, makeTempDir, ownNx, removeDir, unpackRender } from './support/workspace';

/**
 * The Nx migrations of tools/homelab/migrations.json, run as docs/upgrading.md says
 * (`nx migrate --run-migrations=tools/homelab/migrations.json`, with the real `npx nx`) on
 * workspaces of the previous format: every file of a homelab as homelab rendered it before
 * hosts per environment (frozen in tests/support/fixtures/before-hosts/, never regenerated:
 * what owners have in their repositories; one workspace with Ingresses, an extra environment
 * on its own cluster and Docker host, an app limited to prod, a spec naming a host per
 * environment; one with HTTPRoutes).
 * Each workspace gets a copy of nx (ownNx), as `npm ci` gives one.
 */
const NX_ENV = nxTestEnv({ NX_SKIP_NX_CACHE: 'true', NX_MIGRATE_USE_LOCAL: 'true', NX_MIGRATE_SKIP_INSTALL: 'true' });
const FIXTURES = path.join(__dirname, 'support/fixtures/before-hosts');

function previousWorkspace(fixture: string, frozen = path.join(FIXTURES, `${fixture}.txt`)): { ws: string; before: Record<string, string> } {
  const ws = makeTempDir(`migrate-${fixture}`);
  copyWorkspace(ws);
  for (const [file, text] of Object.entries(unpackRender(fs.readFileSync(frozen, 'utf8')))) {
    fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
    fs.writeFileSync(path.join(ws, file), text);
  }
  ownNx(ws);
  return { ws, before: diskFiles(ws) };
}

/** Every host a file routes or serves, as `<file>: <host>`: Traefik rules, Ingress rules and TLS hosts, HTTPRoute hostnames. */
function hostsIn(files: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (file.startsWith('.nx/')) continue;
    for (const m of text.matchAll(/Host\(`([^`]+)`\)/g)) found.push(`${file}: ${m[1]}`);
    for (const m of text.matchAll(/^\s*-?\s*host: (\S+)$/gm)) found.push(`${file}: ${m[1]}`);
    for (const m of text.matchAll(/(?:hostnames|hosts): \[([^\]]+)\]/g)) for (const h of m[1].split(',')) found.push(`${file}: ${h.trim()}`);
  }
  return found.sort();
}

const migrate = (ws: string) => run('npx', ['nx', 'migrate', '--run-migrations=tools/homelab/migrations.json'], { cwd: ws, env: NX_ENV, timeout: 300_000 });

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));

describe('the migrations on a workspace of the previous format', () => {
  it.each(['ingress', 'httproute'])('keep every host of the %s workspace: only homelab.yaml changes, and every host renders as before', (fixture) => {
    const { ws, before } = previousWorkspace(fixture);
    roots.push(ws);
    // Without the migration, environments that are not protected get hosts of their own.
    // (ingress-patch.yaml holds the Ingress or the HTTPRoute patch.)
    expect(syncAll(diskHost(ws), true)).toContain('applications/kubernetes/overlays/dev/whoami/generated/ingress-patch.yaml');

    const result = migrate(ws);
    expect(result.status, result.stdout + result.stderr).toBe(0);

    const after = diskFiles(ws);
    const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f] && !f.startsWith('.nx/'));
    expect(changed).toEqual(['homelab.yaml']);
    // Comments and every setting kept; each environment keeps the spec's host.
    expect(after['homelab.yaml'].replace(/\n    hostPattern: "\{host\}"/g, '')).toBe(before['homelab.yaml']);
    expect(parseWorkspaceConfig(after['homelab.yaml']).environments.every((e) => e.hostPattern === '{host}')).toBe(true);
    // The same version renders other things anew (the Compose networks and monitoring files of
    // docs/upgrading.md): sync them, and every host of every file is the one it was.
    const rewritten = syncAll(diskHost(ws));
    // On Kubernetes only the namespace guardrails of 0.4.0 are new (docs/upgrading.md, "Availability
    // and guardrails (0.4.0)"): each overlay's quota and limit range, listed in its generated kustomization.
    const GUARDRAILS = /^ {2}- (resourcequota|limitrange|poddisruptionbudget)\.yaml\n/gm;
    const synced = diskFiles(ws);
    const kubernetes = rewritten.filter((f) => f.includes('/kubernetes/'));
    expect(kubernetes.filter((f) => !/\/generated\/(resourcequota|limitrange|kustomization)\.yaml$/.test(f))).toEqual([]);
    for (const file of kubernetes.filter((f) => f.endsWith('/generated/kustomization.yaml'))) {
      expect(synced[file].replace(GUARDRAILS, ''), file).toBe(after[file].replace(GUARDRAILS, ''));
    }
    expect(hostsIn(synced)).toEqual(hostsIn(after));
    expect(hostsIn(after).length).toBeGreaterThan(0);

    // Run again (the next update runs the whole list): nothing changes.
    const again = migrate(ws);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(diskFiles(ws)['homelab.yaml']).toBe(after['homelab.yaml']);
  }, 600_000);

  it('take the backup component of a 0.1 homelab off Compose: its spec loses compose, its Compose files go, the rest syncs', () => {
    const { ws, before } = previousWorkspace('homelab-0.1', HOMELAB_01);
    roots.push(ws);
    const spec = 'infrastructure/specs/backup.yaml';
    const composeFiles = Object.keys(before).filter((f) => /^infrastructure\/compose\/(base|environments\/[^/]+)\/backup\//.test(f));
    expect(composeFiles.length).toBe(5);
    // Without the migration, sync refuses the spec in one line naming the field and the way out.
    expect(() => syncAll(diskHost(ws), true)).toThrow(`${spec}: platforms lists compose, but backup has no Compose form`);

    const result = migrate(ws);
    expect(result.status, result.stdout + result.stderr).toBe(0);

    const after = diskFiles(ws);
    const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f] && !f.startsWith('.nx/'));
    // The other migrations of the list do their part on the same homelab (hosts, monitoring pins).
    expect(changed.filter((f) => f.includes('backup'))).toEqual([...composeFiles, spec].sort());
    for (const file of composeFiles) expect(after[file], file).toBeUndefined();
    expect(YAML.parse(after[spec]).platforms).toEqual(['kubernetes']);
    expect(after[spec].split('\n').slice(0, 3)).toEqual(before[spec].split('\n').slice(0, 3));

    // nx sync then renders the whole homelab, with nothing of the old stack.
    syncAll(diskHost(ws));
    const synced = Object.keys(diskFiles(ws));
    expect(synced.filter((f) => f.startsWith('infrastructure/compose/') && f.includes('/backup/'))).toEqual([]);
    expect(synced).toContain('infrastructure/kubernetes/base/backup/kustomization.yaml');
    const rendered = Object.entries(diskFiles(ws)).filter(([f]) => /^(applications|infrastructure|platform)\//.test(f));
    expect(rendered.filter(([, text]) => text.includes('docker-volume-backup')).map(([f]) => f)).toEqual([]);

    // Run again: nothing changes.
    const settled = diskFiles(ws);
    const again = migrate(ws);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(diskFiles(ws)).toEqual(settled);
  }, 600_000);
});
