/**
 * The in-process Compose merge (tools/homelab/src/validate/compose-merge.ts) against the real
 * `docker compose config`, at the level validate consumes it (the merged model, parsed): for every
 * app and environment of every fixture (the census stacks and the wiki, the relay stack, each app
 * fixture of tests/support/fixtures, the three golden workspaces, the imported stacks), the model
 * is the same wherever the merge runs in process, and validate's findings are the same as with
 * every merge forced through `docker compose config` (HOMELAB_COMPOSE_MERGE=docker). Then the
 * fallbacks: an edited override, an unknown key, a variable to interpolate go to `docker compose
 * config`, with today's findings. CI never skips this file: without Docker it fails there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appNameOf, composeFileOf, stackEnvironment } from '../../scripts/lib/import-check';
import { diskHost } from '../../tools/homelab/src/host';
import { generateImport } from '../../tools/homelab/src/import/generate';
import { parseComposeYaml, quickValues } from '../../tools/homelab/src/import/compose/yaml';
import { projectEnvironments } from '../../tools/homelab/src/project/environments';
import { composeMergeCounts, mergeComposeInProcess } from '../../tools/homelab/src/validate/compose-merge';
import { composeConfig } from '../../tools/homelab/src/validate/kustomize-compose';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { GOLDEN_WORKSPACES } from '../support/golden';
import { renderedStacks, specOf, stackSpec, writePatchedStack, writeSpec } from '../support/spec';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir, WORKSPACE_YAML } from '../support/workspace';

const compose = requireTool('docker compose');
const kubectl = requireTool('kubectl');
const FIXTURES = path.resolve(__dirname, '../support/fixtures');
/** The app fixtures beside the census stacks, each in a workspace of its own (two are named `files`). */
const APP_FIXTURES = ['backup/files.yaml', 'backup-app/files.yaml', 'cron-service/files.yaml', 'multi-service/stack.yaml', 'placement/ml.yaml', 'deploy-stack/stack.yaml'];
const IMPORTED = ['chores', 'gallery', 'house', 'resolver'];

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));

function workspace(id: string, homelabYaml: string, fill: (root: string) => void): string {
  const root = makeDiskWorkspace(`cmerge-${id}`, homelabYaml);
  roots.push(root);
  fill(root);
  return root;
}

/** Every fixture, as a workspace with its apps synced. */
function fixtureWorkspaces(): { id: string; root: string }[] {
  const out = [
    {
      id: 'census',
      root: workspace('census', WORKSPACE_YAML, (root) => {
        const host = diskHost(root);
        for (const spec of renderedStacks()) writeSpec(host, spec);
        writePatchedStack(host);
        syncAll(host);
      }),
    },
    ...APP_FIXTURES.map((file) => ({
      id: file,
      root: workspace(file.replace(/\W/g, '-'), WORKSPACE_YAML, (root) => {
        writeSpec(diskHost(root), stackSpec(path.join(FIXTURES, file)));
        syncAll(diskHost(root));
      }),
    })),
    ...GOLDEN_WORKSPACES.map(({ id, homelabYaml, fill }) => ({ id: `golden ${id}`, root: workspace(id, homelabYaml, fill) })),
    {
      id: 'imported',
      root: workspace('imported', WORKSPACE_YAML, (root) => {
        for (const stack of IMPORTED) {
          const dir = path.join(FIXTURES, 'import', stack);
          generateImport(diskHost(root), { name: appNameOf(stack), file: composeFileOf(dir)! }, { cwd: dir, environment: stackEnvironment(), engine: null });
        }
      }),
    },
  ];
  return out;
}

const apps = (root: string) => fs.readdirSync(path.join(root, 'applications/specs')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));

/** validateProject with every merge by `docker compose config`. */
function findingsByDocker(root: string, app: string) {
  process.env.HOMELAB_COMPOSE_MERGE = 'docker';
  try {
    return validateProject(root, 'applications', app);
  } finally {
    delete process.env.HOMELAB_COMPOSE_MERGE;
  }
}

describe.skipIf(compose.skip || kubectl.skip)('the in-process Compose merge', () => {
  let workspaces: { id: string; root: string }[] = [];
  beforeAll(() => {
    workspaces = fixtureWorkspaces();
  });

  it('gives the model `docker compose config` gives, for every app and environment of every fixture', () => {
    const merged: string[] = [];
    const fellBack: string[] = [];
    for (const { id, root } of workspaces) {
      for (const app of apps(root)) {
        for (const { env, compose: hasFiles, composeFiles } of projectEnvironments(diskHost(root), 'applications', app)) {
          if (!hasFiles) continue;
          const label = `${id}: ${app} in ${env}`;
          const fast = mergeComposeInProcess(composeFiles.map((f) => path.join(root, f)));
          if (!fast.ok) {
            fellBack.push(`${label}: ${fast.reason}`);
            continue;
          }
          const slow = composeConfig(composeFiles, root);
          expect(slow.ok, label).toBe(true);
          expect(fast.doc, label).toStrictEqual(jsyaml.load(slow.ok ? slow.output : ''));
          merged.push(label);
        }
      }
    }
    // What falls back is listed, so a change of the renders that stops the fast path shows here.
    console.log(`compose merge: ${merged.length} in process, ${fellBack.length} fell back\n${fellBack.join('\n')}`);
    expect(merged.length).toBeGreaterThan(fellBack.length);
  }, 600_000);

  it("reads every Compose file of every fixture with js-yaml where it can (the merge's fast reader), with the yaml package's values", () => {
    let quick = 0;
    let files = 0;
    for (const { id, root } of workspaces) {
      for (const app of apps(root)) {
        for (const { compose: hasFiles, composeFiles } of projectEnvironments(diskHost(root), 'applications', app)) {
          if (!hasFiles) continue;
          for (const file of composeFiles) {
            const text = fs.readFileSync(path.join(root, file), 'utf8');
            files++;
            if (quickValues(text) !== null) quick++;
            expect(parseComposeYaml(text, file, { fast: true }), `${id}: ${file}`).toStrictEqual(parseComposeYaml(text, file));
          }
        }
      }
    }
    // The files homelab renders are all read by the fast reader; only hand-written ones may not be.
    console.log(`compose files: ${quick} of ${files} read by js-yaml`);
    expect(quick).toBeGreaterThan(files * 0.9);
  });

  it('leaves every finding of every fixture app as it is with `docker compose config`', () => {
    const before = composeMergeCounts.inProcess;
    for (const { id, root } of workspaces) {
      for (const app of apps(root)) {
        const fast = validateProject(root, 'applications', app);
        expect(fast, `${id}: ${app}`).toStrictEqual(findingsByDocker(root, app));
      }
    }
    // validate did take the in-process path (the comparison above is not of docker with itself).
    expect(composeMergeCounts.inProcess).toBeGreaterThan(before);
  }, 600_000);
});

describe.skipIf(compose.skip || kubectl.skip)('a file that is not what homelab renders falls back to `docker compose config`', () => {
  let root = '';
  const files = (env: string) => ['applications/compose/base/web/compose.yaml', `applications/compose/environments/${env}/web/compose.generated.yaml`, `applications/compose/environments/${env}/web/compose.override.yaml`];
  beforeAll(() => {
    root = workspace('fallback', WORKSPACE_YAML, (dir) => {
      writeSpec(diskHost(dir), specOf('web', { environments: { dev: {}, prod: {} } }));
      syncAll(diskHost(dir));
    });
  });

  const edit = (file: string, change: (text: string) => string) => fs.writeFileSync(path.join(root, file), change(fs.readFileSync(path.join(root, file), 'utf8')));

  it.each([
    {
      what: 'an edited compose.override.yaml',
      reason: 'compose.override.yaml is not the scaffold',
      change: () => edit(files('dev')[2], () => 'services:\n  web:\n    ports: ["127.0.0.1:8080:8080"]\n    privileged: true\n'),
    },
    {
      what: 'a key the merge does not know',
      reason: 'service key cpu_shares',
      change: () => edit(files('dev')[0], (text) => text.replace(/^    image: (.*)$/m, '    image: $1\n    cpu_shares: 512')),
    },
    {
      what: 'a variable to interpolate that is unset',
      reason: 'interpolates $UNSET_IN_TEST',
      change: () => edit(files('dev')[0], (text) => text.replace(/^    image: (.*)$/m, '    image: $1\n    environment:\n      FROM_SHELL: ${UNSET_IN_TEST}')),
    },
  ])('$what: the reason is given, and the findings are those of `docker compose config`', ({ reason, change }) => {
    const clean = mergeComposeInProcess(files('dev').map((f) => path.join(root, f)));
    expect(clean.ok).toBe(true);
    const saved = Object.fromEntries(files('dev').map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8')]));
    try {
      change();
      const fast = mergeComposeInProcess(files('dev').map((f) => path.join(root, f)));
      expect(fast).toStrictEqual({ ok: false, reason });
      const findings = validateProject(root, 'applications', 'web');
      expect(findings.length).toBeGreaterThan(0);
      expect(findings).toStrictEqual(findingsByDocker(root, 'web'));
    } finally {
      for (const [f, text] of Object.entries(saved)) fs.writeFileSync(path.join(root, f), text);
    }
  }, 120_000);

  it('HOMELAB_COMPOSE_MERGE=docker forces `docker compose config`', () => {
    process.env.HOMELAB_COMPOSE_MERGE = 'docker';
    try {
      expect(mergeComposeInProcess(files('prod').map((f) => path.join(root, f)))).toStrictEqual({ ok: false, reason: 'HOMELAB_COMPOSE_MERGE=docker' });
    } finally {
      delete process.env.HOMELAB_COMPOSE_MERGE;
    }
  });
});
