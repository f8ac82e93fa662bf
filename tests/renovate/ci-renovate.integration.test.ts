import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { RESYNC_AUTHOR } from '../../tools/homelab/src/platform/renovate';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { nxIn } from '../support/homelab';
import { requireTool, runOk } from '../support/tools';
import { provideActions, runJobSteps, type Step, WORKFLOW } from '../support/workflow';
import { copyWorkspace, makeTempDir, REPO_ROOT, removeDir } from '../support/workspace';

/**
 * The `renovate` job of the users' CI workflow (.github/workflows/ci.yml), every step in order,
 * on a Renovate branch as the hosted Renovate app pushes one: a new tag in an app's spec and
 * nothing else (it runs no `npx nx sync`). The repository is a local clone of a bare `origin`.
 * Run as GitHub Actions runs it (tests/support/workflow.ts), with these stand-ins:
 * - `actions/checkout` (ref: the branch, fetch-depth 0): the clone, on the Renovate branch;
 * - `actions/setup-node`: this machine's node; `npm ci`: the linked node_modules;
 * - `nrwl/nx-set-shas`: the branch's base (main) and head;
 * - `secrets.HOMELAB_RENOVATE_TOKEN`: set or not, as the test says (its value reaches no command
 *   here: `origin` is a folder).
 * `bash scripts/setup-engines.sh --engines-only` runs for real (as root, as in the job's container).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const root = requireTool('root (scripts/setup-engines.sh runs as root in the job)', ['sh', '-c', 'test "$(id -u)" -eq 0']);

const BRANCH = 'renovate/app-whoami-image';
const SPEC = 'applications/specs/whoami.yaml';

let tmp: string;
let origin: string;
let dir: string;
const shas = { base: '', head: '' };
const git = (cwd: string, ...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd }).trim();

/** What a `uses:` step provides here (tests/support/workflow.ts); an action the test does not know fails the test. */
function provide(step: Step, env: Record<string, string>): boolean {
  return provideActions(
    step,
    env,
    shas,
    (checkout, checkoutEnv) => {
      // The branch itself, pushable: not the pull request's merge commit.
      expect(checkout.with).toMatchObject({ ref: '${{ github.head_ref }}', 'fetch-depth': 0, token: '${{ secrets.HOMELAB_RENOVATE_TOKEN || github.token }}' });
      expect(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(BRANCH);
      checkoutEnv.GITHUB_HEAD_REF = BRANCH;
    },
    'tests/renovate/ci-renovate.integration.test.ts',
  );
}

/** The clone, on the Renovate branch as origin has it, with nothing else in it. */
function freshClone(): void {
  removeDir(dir);
  git(tmp, 'clone', '-q', '--branch', BRANCH, origin, dir);
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
}

describe.skipIf(kubectl.skip || compose.skip || root.skip)(`the renovate job of ${WORKFLOW}`, () => {
  beforeAll(() => {
    tmp = makeTempDir('ci-renovate');
    origin = path.join(tmp, 'origin.git');
    dir = path.join(tmp, 'clone');
    const seed = path.join(tmp, 'seed');
    copyWorkspace(seed);
    for (const file of [WORKFLOW, 'scripts/setup-engines.sh']) {
      fs.mkdirSync(path.dirname(path.join(seed, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(seed, file));
    }
    // node_modules is linked, never committed.
    fs.appendFileSync(path.join(seed, '.gitignore'), '\nnode_modules\n');
    generateInit(diskHost(seed), {});
    generateApp(diskHost(seed), { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 });
    git(seed, 'init', '-q', '-b', 'main');
    git(seed, 'add', '-A');
    git(seed, 'commit', '-q', '-m', 'a homelab');
    shas.base = git(seed, 'rev-parse', 'HEAD');
    // What the hosted Renovate app pushes: the spec's new tag, nothing rendered from it.
    git(seed, 'checkout', '-q', '-b', BRANCH);
    fs.writeFileSync(path.join(seed, SPEC), fs.readFileSync(path.join(seed, SPEC), 'utf8').replace('tag: v1.10.4', 'tag: v1.10.5'));
    git(seed, 'commit', '-q', '-am', 'chore(deps): update app whoami image to v1.10.5');
    shas.head = git(seed, 'rev-parse', 'HEAD');
    git(tmp, 'clone', '-q', '--bare', seed, origin);
    removeDir(seed);
  }, 300_000);
  afterAll(() => removeDir(tmp));

  it('without HOMELAB_RENOVATE_TOKEN re-renders and validates the branch, then fails in one line saying what to do, and pushes nothing', () => {
    freshClone();

    expect(() => runJobSteps(dir, 'renovate', provide, { 'secrets.HOMELAB_RENOVATE_TOKEN': '' })).toThrow(
      /step "Push the re-rendered files" exited 1:\n::error::the re-rendered files validate but are not on renovate\/app-whoami-image: set the repository secret HOMELAB_RENOVATE_TOKEN/,
    );
    expect(git(origin, 'rev-parse', BRANCH)).toBe(shas.head);
  }, 900_000);

  it('with HOMELAB_RENOVATE_TOKEN pushes the re-rendered trees as one commit by the author Renovate ignores, which is in step with its specs', () => {
    freshClone();

    const outputs = runJobSteps(dir, 'renovate', provide, { 'secrets.HOMELAB_RENOVATE_TOKEN': 'a-token' });

    expect(outputs.map((o) => o.step)).toEqual([
      'Install git (actions/checkout needs it for the history)',
      'Set up kubectl, Docker and Compose',
      'Re-render the trees of the specs Renovate changed',
      'npx nx sync:check',
      'npx nx affected -t validate build',
      'Push the re-rendered files',
    ]);
    const pushed = git(origin, 'rev-parse', BRANCH);
    expect(git(origin, 'rev-parse', `${pushed}~1`)).toBe(shas.head);
    expect(git(origin, 'log', '-1', '--format=%an <%ae>', pushed)).toBe(`${RESYNC_AUTHOR.name} <${RESYNC_AUTHOR.email}>`);
    const files = git(origin, 'diff', '--name-only', shas.head, pushed).split('\n');
    expect(files).toContain('applications/compose/base/whoami/compose.yaml');
    expect(files.filter((f) => !/^(applications|infrastructure|platform)\//.test(f) || f.includes('/specs/'))).toEqual([]);
    expect(git(origin, 'show', `${pushed}:applications/compose/base/whoami/compose.yaml`)).toContain('traefik/whoami:v1.10.5');
    // The pushed commit is in step: its own run finds nothing to re-render.
    freshClone();
    expect(syncAll(diskHost(dir), true)).toEqual([]);
    expect(nxIn(dir, 'sync:check')).toBeDefined();
  }, 900_000);
});
