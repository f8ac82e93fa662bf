import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../tools/homelab/src/component/types';
import { NOTES, populateReadmeHomelab } from './support/homelab';
import { requireTool, runOk, type RunResult } from './support/tools';
import { provideActions, runJobSteps, type Step, WORKFLOW } from './support/workflow';
import { copyWorkspace, makeTempDir, REPO_ROOT, removeDir } from './support/workspace';

/**
 * The CI workflow homelab ships to its users (.github/workflows/ci.yml), every step of its
 * job in order, on a homelab made from scratch as the README says: init, every catalog
 * component, the 1Password store, an environment `lab` on its own Docker host (docker
 * context `lab`, which does not exist here) and cluster, an app with secrets that
 * depends on postgres. No secret value is set anywhere, no environment's cluster or
 * remote Docker host is reachable, and every step must pass.
 *
 * Each `run:` step runs as GitHub Actions runs it (tests/support/workflow.ts runJobSteps:
 * `bash --noprofile --norc -eo pipefail` on the step's script, with the workflow's, the
 * job's and the step's `env` and the variables Actions sets). What cannot run here is
 * replaced by what it provides, and only that:
 * - `actions/checkout` (fetch-depth 0): a temporary git repository with history, the
 *   fresh workspace as the base commit and the populated homelab as the head commit;
 * - `actions/setup-node`: this machine's node, where both it and the Node the step asks for are
 *   Nodes package.json `engines` promises (checkSetupNode);
 * - `nrwl/nx-set-shas`: NX_BASE and NX_HEAD in the environment of every later step, as
 *   the action exports them (for a pull request: its base commit and its head);
 * - the `npm ci` step: the repository's installed node_modules, linked into the
 *   repository (no registry here, and the lock file is the same); the test checks the
 *   step is exactly `npm ci`, so a changed install step fails here until it is handled.
 * `bash scripts/setup-engines.sh` runs for real (as root, as in the job's container): on
 * a machine where the engines are ready it checks them and changes nothing.
 * CI never skips this file: without the tools it fails there (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const root = requireTool('root (scripts/setup-engines.sh runs as root in the job)', ['sh', '-c', 'test "$(id -u)" -eq 0']);

let dir: string;
/** The commits nx-set-shas would export: the fresh repository (base) and the populated homelab (head). */
const shas = { base: '', head: '' };
const outputs: { step: string; result: RunResult }[] = [];
const git = (...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd: dir }).trim();

/** What a `uses:` step provides here (tests/support/workflow.ts); an action the test does not know fails the test. */
function provide(step: Step, env: Record<string, string>, shas: { base: string; head: string }): boolean {
  return provideActions(
    step,
    env,
    shas,
    (checkout) => {
      // The repository below has its whole history, as fetch-depth 0 asks.
      expect(checkout.with?.['fetch-depth']).toBe(0);
      expect(git('rev-list', '--count', 'HEAD')).toBe('2');
    },
    'tests/ci-workflow.integration.test.ts',
  );
}

describe.skipIf(kubectl.skip || compose.skip || root.skip)(`the users' CI workflow (${WORKFLOW})`, () => {
  beforeAll(async () => {
    dir = makeTempDir('ci-workflow');
    copyWorkspace(dir);
    // The files of the repository the job uses besides the tool: the workflow and the engines' setup.
    for (const file of [WORKFLOW, 'scripts/setup-engines.sh']) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    }
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'a fresh homelab repository');
    shas.base = git('rev-parse', 'HEAD');
    await populateReadmeHomelab(dir);
    git('add', '-A');
    git('commit', '-q', '-m', 'the README homelab');
    shas.head = git('rev-parse', 'HEAD');

    outputs.push(...runJobSteps(dir, 'affected', (step, env) => provide(step, env, shas)));
    // Generous: the job validates, builds and plans 10 projects in 3 environments on 2 busy cores.
  }, 1_800_000);
  afterAll(() => removeDir(dir));

  const plans = () => outputs.find((o) => o.step === 'Deploy plans')!.result.stdout;

  it('runs every run: step of the job, in order, and each passes', () => {
    expect(outputs.map((o) => o.step)).toEqual(['Install git (actions/checkout needs it for the history)', 'Set up kubectl, Docker and Compose', 'npx nx sync:check', 'npx nx affected -t validate build', 'Deploy plans']);
    for (const { result } of outputs) expect(result.status).toBe(0);
  });

  it('validates and builds every project the change touched (the head commit touches them all)', () => {
    const output = outputs.find((o) => o.step === 'npx nx affected -t validate build')!.result.stdout;

    expect(output).toContain(`using its value as the affected base: ${shas.base}`);
    expect(output).toContain(`using its value as the affected head: ${shas.head}`);
    for (const project of ['whoami', NOTES.name, ...COMPONENT_NAMES]) {
      expect(output).toContain(`nx run ${project}:validate`);
      expect(output).toContain(`nx run ${project}:build`);
    }
    // The platform project (homelab.yaml, the ArgoCD bootstrap, the stores) has validate only.
    expect(output).toContain('nx run homelab-platform:validate');
    expect(output).toContain(`Successfully ran targets validate, build for ${COMPONENT_NAMES.length + 3} projects`);
  });

  it('plans an app with secrets from its keys alone, reading no value', () => {
    const lines = plans().split('\n');
    const secrets = lines.filter((l) => l.includes('[secrets]') && l.includes(NOTES.secrets.join(', ')));

    expect(secrets.length).toBeGreaterThanOrEqual(2);
    // The app has a backed-up volume: its movers' restic password comes first (x-homelab-backup).
    for (const line of secrets) expect(line).toContain(`${NOTES.secrets.length + 1} key(s) (RESTIC_PASSWORD, ${NOTES.secrets.join(', ')}); a dry run reads no value`);
    expect(plans()).not.toContain('secret value(s) missing');
  });

  it('says where a component the app depends on is installed, instead of failing', () => {
    expect(plans()).toContain("postgres (dev): nothing to deploy: dev uses postgres as installed for prod's cluster and prod's Docker host");
    expect(plans()).not.toContain('is not an environment of this project');
  });

  it('says in one line that lab\'s Docker host cannot be reached, and still shows what it would apply', () => {
    const lab = plans().split(`deploy ${NOTES.name} -> lab on compose`)[1]?.split('dry run: nothing was changed')[0] ?? '';
    const engine = lab.split('\n').filter((l) => l.includes('[engine]'));

    expect(engine).toHaveLength(1);
    expect(engine[0]).toContain('not reachable from here');
    expect(engine[0]).toContain('docker context lab');
    expect(engine[0]).not.toContain('setup:engines');
    expect(lab).toContain(`+name: ${NOTES.name}-lab`);
    expect(lab).toMatch(/\+\s+image: ghcr\.io\/example\/notes:2\.1\.0/);
  });

  it('plans a component that only runs on Kubernetes without ArgoCD at hand, listing its objects', () => {
    const certManager = plans().split('deploy cert-manager -> prod on kubernetes')[1]?.split('dry run: nothing was changed')[0] ?? '';

    expect(certManager).toContain('the cluster cannot be asked from here');
    expect(certManager).toMatch(/\+ ClusterIssuer letsencrypt/);
  });
});
