import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempWorkspace } from '../scripts/lib/temp-workspace';
import { nxTestEnv } from './support/nx';
import { requireTool, run } from './support/tools';
import { removeDir } from './support/workspace';

/**
 * An app's life in a workspace, with the real `npx nx`: two apps added, one removed with
 * `nx g homelab:remove`; `nx sync:check` and `nx run-many -t validate` pass and nothing of it
 * remains but the user's files the generator listed. A spec deleted by hand instead makes
 * `nx sync:check`, `nx sync` and `validate` fail, naming homelab:remove, and `nx sync` deletes
 * nothing (its Application would take the app off the cluster). CI never skips this file.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

let dir: string;
const nx = (...args: string[]) => run('npx', ['nx', ...args], { cwd: dir, env: nxTestEnv(), timeout: 300_000 });
const files = (): string[] => {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (['node_modules', '.git', '.nx'].includes(child)) continue;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
};
const of = (name: string) => files().filter((f) => new RegExp(`(^|/)${name}(/|\\.)`).test(f));

describe.skipIf(kubectl.skip || compose.skip)('removing an app, and a spec deleted by hand', () => {
  beforeAll(() => {
    dir = createTempWorkspace('homelab-lifecycle-');
    for (const [name, port] of [['notes', '8080'], ['wiki', '3000']]) {
      const added = nx('g', 'homelab:app', name, '--image', 'traefik/whoami:v1.10.4', '--port', port, '--volumes', 'data:1Gi:/data', '--no-interactive');
      expect(added.status, added.stdout + added.stderr).toBe(0);
    }
  }, 300_000);
  afterAll(() => removeDir(dir));

  it('nx g homelab:remove leaves only the user files it listed, and sync:check and validate pass', () => {
    const removed = nx('g', 'homelab:remove', 'notes', '--no-interactive');
    const output = removed.stdout + removed.stderr;

    expect(removed.status, output).toBe(0);
    const kept = /kept your files \(remove them with --all, or by hand\): (.*)$/m.exec(output)?.[1].split(', ');
    expect(kept).toEqual([
      'applications/compose/environments/dev/notes/compose.override.yaml',
      'applications/compose/environments/prod/notes/compose.override.yaml',
      'applications/kubernetes/overlays/dev/notes/kustomization.yaml',
      'applications/kubernetes/overlays/prod/notes/kustomization.yaml',
    ]);
    expect(of('notes')).toEqual(kept);
    expect(output).toContain('prod, Kubernetes: once this is pushed, ArgoCD deletes the Application and its workloads; the volumes (PersistentVolumeClaims are Prune=false,Delete=false) and namespace notes stay');
    const check = nx('sync:check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const validate = nx('run-many', '-t', 'validate', '--skip-nx-cache');
    expect(validate.status, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toContain('wiki: valid');
  }, 600_000);

  it('a spec deleted by hand fails sync:check, sync and validate, naming homelab:remove, and sync deletes nothing', () => {
    const before = of('wiki');
    fs.rmSync(path.join(dir, 'applications/specs/wiki.yaml'));

    const check = nx('sync:check');
    expect(check.status).not.toBe(0);
    expect(check.stdout + check.stderr).toContain('app wiki has no spec (applications/specs/wiki.yaml)');
    expect(check.stdout + check.stderr).toContain('`npx nx g homelab:remove wiki`');
    const sync = nx('sync');
    expect(sync.status).not.toBe(0);
    expect(of('wiki')).toEqual(before.filter((f) => f !== 'applications/specs/wiki.yaml'));
    const validate = nx('run-many', '-t', 'validate', '--skip-nx-cache');
    expect(validate.status).not.toBe(0);
    expect(validate.stdout + validate.stderr).toMatch(/platform\/argocd\/applications\/dev\/wiki\.yaml:1:1 +sync\/orphan +app wiki has no spec/);
  }, 600_000);
});
