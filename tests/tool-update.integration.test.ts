import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, linkNodeModules, nx, run } from '../scripts/lib/temp-workspace';
import { requireTool } from './support/tools';
import { copyWorkspace, diskFiles, makeTempDir, ownNx, REPO_ROOT, removeDir } from './support/workspace';

/**
 * An owner takes a new version of the tool from upstream, as docs/upgrading.md ("Taking a
 * new version from upstream") says, with real git and the real `npx nx`, and no network:
 *
 * - upstream: a git repository holding the tool as this repository ships it (the tool's
 *   files, the shared files README.md, .npmrc and the CI workflow, a fresh homelab);
 * - the owner: a clone of it, filled with the real generators (a component, two apps, one
 *   spec edited by hand with comments, a patch in an overlay, a compose.override.yaml
 *   entry, a secret store), a README note and a package.json script of their own;
 * - the new version: an upstream commit that changes the templates of every app's and
 *   every component's ArgoCD Application, adds a package.json script and a README line.
 *
 * The owner fetches and merges upstream/main: only shared files conflict, and each is
 * resolved as the docs say; then `sync:check` names what the new templates change,
 * `nx sync` re-renders exactly that, and validate is clean. No file of the owner's
 * homelab changes. node_modules is linked from this repository (no npm install).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const gitTool = requireTool('git');

/** Files of this repository that upstream ships besides the tool itself, and that owners edit too. */
const SHARED_EXTRAS = ['README.md', '.npmrc', '.github/workflows/ci.yml'];

/** The line the new version adds to every ArgoCD Application an app or a component renders. */
const NEW_LINE = 'Take it out of git and off the cluster with';

/** Files of the owner's homelab: what they wrote, or what homelab scaffolded once and gave them. */
const ownerOwned = (file: string) =>
  /(^|\/)specs\//.test(file) ||
  file === 'homelab.yaml' ||
  /^(applications|infrastructure)\/kubernetes\/overlays\/[^/]+\/[^/]+\/kustomization\.yaml$/.test(file) ||
  /compose\.override\.yaml$/.test(file) ||
  file === 'platform/argocd/bootstrap/kustomization.yaml' ||
  file.startsWith('platform/secrets/stores/');

/** The files of a workspace that hold the homelab (not the tool). */
const homelabContent = (file: string) => /^(applications|infrastructure|platform)\//.test(file) || file === 'homelab.yaml';

function edit(root: string, file: string, change: (text: string) => string): void {
  const full = path.join(root, file);
  const before = fs.readFileSync(full, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing: the test no longer matches the file`);
  fs.writeFileSync(full, after);
}

function editJson(root: string, file: string, change: (json: any) => void): void {
  edit(root, file, (text) => {
    const json = JSON.parse(text);
    change(json);
    return `${JSON.stringify(json, null, 2)}\n`;
  });
}

function commit(root: string, message: string): void {
  git(root, ['add', '--all']);
  git(root, ['commit', '--quiet', '--no-gpg-sign', '--message', message]);
}

/** Every empty folder below `dir`: git keeps none, so the repository keeps them with .gitkeep. */
function keepEmptyDirs(root: string, dir: string): void {
  const full = path.join(root, dir);
  const entries = fs.readdirSync(full, { withFileTypes: true });
  if (entries.length === 0) fs.writeFileSync(path.join(full, '.gitkeep'), '');
  for (const entry of entries) if (entry.isDirectory()) keepEmptyDirs(root, `${dir}/${entry.name}`);
}

describe.skipIf(kubectl.skip || compose.skip || gitTool.skip)('taking a new version of the tool from upstream', () => {
  let tmp: string;
  let upstream: string;
  let owner: string;
  /** The owner's workspace just before the update. */
  let before: Record<string, string>;
  /** Files the new version changes in the tool (its upstream commit). */
  let toolChanges: string[];

  beforeAll(() => {
    tmp = makeTempDir('tool-update');
    upstream = path.join(tmp, 'upstream');
    owner = path.join(tmp, 'owner');

    // The previous tool version, as upstream's history holds it.
    copyWorkspace(upstream);
    for (const file of SHARED_EXTRAS) {
      fs.mkdirSync(path.dirname(path.join(upstream, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(upstream, file));
    }
    for (const layer of ['applications', 'infrastructure', 'platform']) keepEmptyDirs(upstream, layer);
    git(upstream, ['init', '--quiet', '--initial-branch=main']);
    commit(upstream, 'homelab, the previous version');

    // The owner's homelab: a clone, filled with the generators and by hand.
    git(tmp, ['clone', '--quiet', upstream, owner]);
    linkNodeModules(owner);
    const g = (...args: string[]) => nx(owner, ['g', ...args, '--no-interactive']);
    g('homelab:init', '--repo-url', 'https://git.example.org/me/homelab.git');
    g('homelab:secret-store', 'onepassword', '--default');
    g('homelab:infra', 'postgres');
    g('homelab:app', 'whoami', '--image', 'traefik/whoami:v1.10.4', '--port', '80', '--host', 'whoami.home.example.org');
    g('homelab:app', 'notes', '--image', 'ghcr.io/example/notes:2.1.0', '--port', '8080', '--secrets', 'API_TOKEN', '--volumes', 'data:1Gi:/data');
    edit(owner, 'applications/specs/notes.yaml', (text) =>
      text.replace('\nenvironments:', '\n# notes keeps its data in the shared PostgreSQL\ndependsOn:\n  - postgres # installed by prod\nenvironments:'),
    );
    nx(owner, ['sync']);
    edit(owner, 'applications/kubernetes/overlays/dev/whoami/kustomization.yaml', (text) =>
      text.concat(
        'patches:\n',
        '  - patch: |-\n',
        '      apiVersion: apps/v1\n',
        '      kind: Deployment\n',
        '      metadata:\n',
        '        name: whoami\n',
        '        annotations:\n',
        '          example.org/owner: the owner of this homelab\n',
      ),
    );
    edit(owner, 'applications/compose/environments/dev/whoami/compose.override.yaml', (text) =>
      text.replace(/\n {2}whoami: \{\}\n/, '\n  whoami:\n    ports: ["127.0.0.1:18080:80"]\n'),
    );
    edit(owner, 'README.md', (text) => `${text}\n## This homelab\n\nwhoami runs on the dev Docker host at port 18080.\n`);
    editJson(owner, 'package.json', (json) => {
      json.scripts['up:dev'] = 'nx run-many -t deploy --env dev';
    });
    commit(owner, 'my homelab');
    expect(git(owner, ['status', '--porcelain']).stdout).toBe('');
    before = diskFiles(owner);

    // The new tool version: a template change meant for every homelab, a script, a README line.
    edit(upstream, 'templates/app/platform/argocd/applications/__env__/__name__.yaml.hbs', (text) =>
      text.replace(/^(# Rendered from .*\n)/m, `$1# ${NEW_LINE} \`npx nx g homelab:remove {{line app.name}}\` (docs/lifecycle.md).\n`),
    );
    edit(upstream, 'templates/infra/platform/argocd/applications/__env__/__name__.yaml.hbs', (text) =>
      text.replace(/^(# Rendered from .*\n)/m, `$1# ${NEW_LINE} \`npx nx g homelab:remove {{line comp.name}}\` (docs/lifecycle.md).\n`),
    );
    editJson(upstream, 'package.json', (json) => {
      json.scripts.check = 'nx sync:check && nx run-many -t validate';
    });
    edit(upstream, 'README.md', (text) => `${text}\n\`npm run check\` runs \`nx sync:check\` and every validate.\n`);
    commit(upstream, 'homelab, the new version');
    toolChanges = git(upstream, ['diff', '--name-only', 'HEAD~1', 'HEAD']).stdout.trim().split('\n');
  }, 240_000);
  afterAll(() => removeDir(tmp));

  it('merges upstream/main with conflicts in shared files only, resolved as docs/upgrading.md says', () => {
    git(owner, ['remote', 'add', 'upstream', upstream]);
    git(owner, ['fetch', '--quiet', 'upstream']);
    const merge = run(owner, 'git', ['merge', '--no-gpg-sign', 'upstream/main'], { allowFailure: true });
    expect(merge.status, merge.stdout + merge.stderr).not.toBe(0);
    const conflicts = git(owner, ['diff', '--name-only', '--diff-filter=U']).stdout.trim().split('\n');
    expect(conflicts).toEqual(['README.md', 'package.json']);

    // README.md: upstream's; the owner's notes move to a file upstream never ships.
    const ownNotes = '## This homelab\n\nwhoami runs on the dev Docker host at port 18080.\n';
    git(owner, ['checkout', '--theirs', 'README.md']);
    fs.writeFileSync(path.join(owner, 'HOMELAB.md'), ownNotes);
    // package.json: upstream's, then the owner's own additions again.
    git(owner, ['checkout', '--theirs', 'package.json']);
    run(owner, 'npm', ['pkg', 'set', 'scripts.up:dev=nx run-many -t deploy --env dev']);
    git(owner, ['add', 'README.md', 'HOMELAB.md', 'package.json']);
    git(owner, ['commit', '--quiet', '--no-gpg-sign', '--no-edit']);

    const pkg = JSON.parse(fs.readFileSync(path.join(owner, 'package.json'), 'utf8'));
    expect(pkg.scripts['up:dev']).toBe('nx run-many -t deploy --env dev');
    expect(pkg.scripts.check).toBe('nx sync:check && nx run-many -t validate');
    expect(fs.readFileSync(path.join(owner, 'README.md'), 'utf8')).toBe(fs.readFileSync(path.join(upstream, 'README.md'), 'utf8'));
    // Every tool file is upstream's new version.
    for (const file of toolChanges.filter((f) => f !== 'package.json')) {
      expect(fs.readFileSync(path.join(owner, file), 'utf8'), file).toBe(fs.readFileSync(path.join(upstream, file), 'utf8'));
    }
    // The merge took nothing of the owner's homelab.
    const after = diskFiles(owner);
    for (const file of Object.keys(before).filter(homelabContent)) expect(after[file], file).toBe(before[file]);
  });

  it('runs the migrations the tool ships, which leave a homelab of the current format as it is', () => {
    // docs/upgrading.md: `nx migrate --run-migrations=tools/homelab/migrations.json` after each
    // update. The owner's homelab.yaml names its hostPatterns already (as the default one does),
    // so the hosts-per-environment migration has nothing to do (tests/migrations.integration.test.ts
    // runs it on workspaces of the previous format).
    ownNx(owner);
    const beforeMigrate = diskFiles(owner);
    nx(owner, ['migrate', '--run-migrations=tools/homelab/migrations.json'], { env: { NX_MIGRATE_USE_LOCAL: 'true', NX_MIGRATE_SKIP_INSTALL: 'true' } });
    const after = diskFiles(owner);
    for (const file of Object.keys(beforeMigrate).filter(homelabContent)) expect(after[file], file).toBe(beforeMigrate[file]);
  });

  let outOfSync: string[];
  it('fails `nx sync:check`, naming exactly the files the new templates change', () => {
    const check = nx(owner, ['sync:check'], { allowFailure: true });
    const output = check.stdout + check.stderr;
    expect(check.status, output).not.toBe(0);
    // homelab:sync lists each file on a line of its own.
    outOfSync = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^(applications|infrastructure|platform)\/\S+$/.test(line))
      .sort();
    // The Application of each app in each environment and of the component (installed by
    // prod, the protected environment), and nothing else.
    expect(outOfSync).toEqual(['dev/notes', 'dev/whoami', 'prod/notes', 'prod/postgres', 'prod/whoami'].map((f) => `platform/argocd/applications/${f}.yaml`));
  }, 120_000);

  it('re-renders them with `nx sync`, and nothing else; `sync:check` then passes', () => {
    nx(owner, ['sync']);
    const after = diskFiles(owner);
    const changed = Object.keys({ ...before, ...after })
      .filter((f) => homelabContent(f) && before[f] !== after[f])
      .sort();
    expect(changed).toEqual(outOfSync);
    for (const file of changed) expect(after[file], file).toContain(NEW_LINE);
    expect(nx(owner, ['sync:check']).status).toBe(0);
    commit(owner, 'nx sync: the new templates');
    expect(git(owner, ['status', '--porcelain']).stdout).toBe('');
  }, 120_000);

  it('keeps every file of the owner byte for byte: specs with their comments, overlays, overrides, homelab.yaml, stores', () => {
    const after = diskFiles(owner);
    const owned = Object.keys(before).filter(ownerOwned);
    expect(owned).toEqual(expect.arrayContaining(['homelab.yaml', 'applications/specs/notes.yaml', 'applications/specs/whoami.yaml', 'infrastructure/specs/postgres.yaml']));
    for (const file of owned) expect(after[file], file).toBe(before[file]);
    expect(after['applications/specs/notes.yaml']).toContain('# notes keeps its data in the shared PostgreSQL');
    expect(after['applications/kubernetes/overlays/dev/whoami/kustomization.yaml']).toContain('example.org/owner');
    expect(after['applications/compose/environments/dev/whoami/compose.override.yaml']).toContain('127.0.0.1:18080:80');
  });

  it('validates clean after the update', () => {
    const validate = nx(owner, ['run-many', '-t', 'validate', '--output-style=static', '--skip-nx-cache'], { allowFailure: true });
    expect(validate.status, validate.stdout + validate.stderr).toBe(0);
  }, 300_000);
});
