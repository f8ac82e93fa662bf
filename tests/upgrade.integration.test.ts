import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../tools/homelab/src/host';
import { removeBackupCompose } from '../tools/homelab/src/migrations/backup-compose-restic';
import { addMonitoringExporters } from '../tools/homelab/src/migrations/monitoring-exporters';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { nxTestEnv } from './support/nx';
import { requireTool, run } from './support/tools';
import { copyWorkspace, diskFiles, HOMELAB_01, makeTempDir, parseDocs, removeDir, unpackRender } from './support/workspace';

/**
 * A homelab made by homelab 0.1 (the single-service spec, before apps could hold several
 * services) upgraded to this version, as an owner does it: new tool, `nx sync`, `validate`.
 *
 * The fixture is every file of a full homelab as 0.1 wrote it (every catalog component, a
 * secret store, an extra environment, apps using every field of the 0.1 spec), frozen
 * from 0.1's reviewed render snapshot: tests/support/fixtures/homelab-0.1/workspace.txt. It
 * is never regenerated: it is what owners have in their repositories.
 *
 * The 0.1 spec is the shorthand of the current one, so no migration rewrites an app spec. Two
 * migrations touch this homelab: monitoring-exporters adds the pins of the monitoring component's
 * new Compose exporters to its spec, and backup-compose-restic takes the backup component off
 * Compose (its spec loses compose, its Compose files go). After them, the upgrade may only re-render
 * spec-owned files (template improvements), never touch a spec or a file the owner owns, and
 * never change what identifies a running workload (names, kinds, selectors, claims, Compose
 * services), which Kubernetes refuses to change in place.
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const NX_ENV = nxTestEnv({ NX_SKIP_NX_CACHE: 'true' });

/** Files the owner owns: scaffolded once, never rewritten. */
const ownerOwned = (file: string) =>
  /\/specs\//.test(file) ||
  file === 'homelab.yaml' ||
  /^(applications|infrastructure)\/kubernetes\/overlays\/[^/]+\/[^/]+\/kustomization\.yaml$/.test(file) ||
  /compose\.override\.yaml$/.test(file) ||
  file === 'platform/argocd/bootstrap/kustomization.yaml';

/** What identifies each running thing: a change of any of these is not an update in place. */
function identities(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (/^applications\/kubernetes\/base\/[^/]+\/(deployment|statefulset|job|cronjob|persistentvolumeclaim|service)\.yaml$/.test(file)) {
      for (const doc of parseDocs(text).filter(Boolean)) {
        out.push(`${file} ${doc.kind}/${doc.metadata.name} selector=${JSON.stringify(doc.spec?.selector ?? null)}`);
      }
    } else if (/^applications\/compose\/base\/[^/]+\/compose\.yaml$/.test(file)) {
      const doc = parseDocs(text)[0];
      for (const service of Object.keys(doc.services)) out.push(`${file} project=${doc.name} service=${service}`);
      for (const volume of Object.keys(doc.volumes ?? {})) out.push(`${file} project=${doc.name} volume=${volume}`);
    }
  }
  return out.sort();
}

describe.skipIf(kubectl.skip || compose.skip)('upgrading a homelab made by homelab 0.1', () => {
  let ws: string;
  let frozenFiles: Record<string, string>;
  let migrated: string[];
  let backupNotes: string[];
  let before: Record<string, string>;
  let rewritten: string[];

  beforeAll(() => {
    ws = makeTempDir('upgrade');
    copyWorkspace(ws);
    const frozen = unpackRender(fs.readFileSync(HOMELAB_01, 'utf8'));
    for (const [file, text] of Object.entries(frozen)) {
      fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
      fs.writeFileSync(path.join(ws, file), text);
    }
    frozenFiles = diskFiles(ws);
    // The update's migrations (tools/homelab/migrations.json), as `nx migrate --run-migrations` runs them.
    migrated = addMonitoringExporters(diskHost(ws));
    backupNotes = removeBackupCompose(diskHost(ws));
    before = diskFiles(ws);
    // What this version renders differently from 0.1 (checked, not written).
    rewritten = syncAll(diskHost(ws), true);
  }, 120_000);
  afterAll(() => removeDir(ws));

  it('holds the whole 0.1 homelab', () => {
    const specs = Object.keys(before).filter((f) => /^applications\/specs\/.+\.yaml$/.test(f));
    expect(specs.length).toBe(6);
    expect(Object.keys(before).filter((f) => f.startsWith('infrastructure/specs/')).length).toBe(7);
  });

  it("runs the update's migrations: the monitoring spec gains the Compose exporters' pins, the backup component leaves Compose", () => {
    expect(migrated).toEqual(['infrastructure/specs/monitoring.yaml']);
    expect(backupNotes[0]).toMatch(/^infrastructure\/specs\/backup\.yaml: compose taken out of platforms/);
    const changed = Object.keys({ ...frozenFiles, ...before }).filter((f) => before[f] !== frozenFiles[f]);
    const backupCompose = Object.keys(frozenFiles).filter((f) => /^infrastructure\/compose\/(base|environments\/[^/]+)\/backup\//.test(f));
    expect(changed).toEqual([...backupCompose, 'infrastructure/specs/backup.yaml', 'infrastructure/specs/monitoring.yaml'].sort());
    for (const file of backupCompose) expect(before[file], file).toBeUndefined();
    const lines = (text: string) => text.split('\n');
    const added = lines(before['infrastructure/specs/monitoring.yaml']).filter((l) => !lines(frozenFiles['infrastructure/specs/monitoring.yaml']).includes(l));
    expect(added).toEqual(['    node-exporter: prom/node-exporter:v1.9.1', '    cadvisor: grafana/alloy:v1.9.2', '    node-exporter: 64m', '    cadvisor: 256m']);
  });

  it('re-renders only spec-owned files with `nx sync`, and keeps every spec and every file the owner owns byte for byte', () => {
    const result = run('npx', ['nx', 'sync'], { cwd: ws, env: NX_ENV, timeout: 300_000 });
    expect(result.status, result.stderr + result.stdout).toBe(0);

    const after = diskFiles(ws);
    const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f]).sort();
    expect(changed).toEqual([...rewritten].sort());
    expect(changed.filter(ownerOwned)).toEqual([]);
    for (const file of Object.keys(before).filter(ownerOwned)) expect(after[file], file).toBe(before[file]);
  }, 300_000);

  it('keeps every workload, claim, Service and Compose service as it is identified on the platforms', () => {
    const after = identities(diskFiles(ws));
    expect(after).toEqual(expect.arrayContaining(identities(before)));
    // What an app gains beside them: the backup movers of its backed-up volumes, their scheduler and volumes (docs/backup.md).
    const added = after.filter((i) => !identities(before).includes(i));
    expect(added.filter((i) => !/ (service=(scheduler|backup-[a-z0-9-]+)|volume=backup-(cache|metrics))$/.test(i))).toEqual([]);
    expect(added.length).toBeGreaterThan(0);
    // Every app's workload is among them (six apps, each a Deployment or a StatefulSet).
    expect(identities(before).filter((i) => / (Deployment|StatefulSet)\//.test(i)).length).toBe(6);
  });

  it('is in step and validates clean after the upgrade', () => {
    const check = run('npx', ['nx', 'sync:check'], { cwd: ws, env: NX_ENV, timeout: 300_000 });
    expect(check.status, check.stderr + check.stdout).toBe(0);

    // Every project but quiet validates clean. quiet's 0.1 spec says `health.probe: none`
    // without turning policy/probes off with a reason, which 0.1 refused the same way: the
    // upgrade adds no finding and takes none away.
    const validate = run('npx', ['nx', 'run-many', '-t', 'validate', '--output-style=static', '--exclude=quiet'], { cwd: ws, env: NX_ENV, timeout: 600_000 });
    expect(validate.status, validate.stderr + validate.stdout).toBe(0);
    const quiet = run('npx', ['nx', 'run', 'quiet:validate', '--output-style=static'], { cwd: ws, env: NX_ENV, timeout: 300_000 });
    const errors = `${quiet.stdout}\n${quiet.stderr}`
      .split('\n')
      .filter((l) => !l.endsWith('[warning]'))
      .map((l) => /\S+:\d+:\d+\s+(\S+)\s/.exec(l)?.[1])
      .filter((rule) => rule !== undefined);
    expect(quiet.status).not.toBe(0);
    expect(errors).toEqual(['policy/probes', 'policy/probes']);
  }, 900_000);
});
