import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENT_NAMES } from '../tools/homelab/src/component/types';
import { NOTES, populateReadmeHomelab } from './support/homelab';
import { requireTool, run, runOk } from './support/tools';
import {
  checkSetupNode,
  conditionHolds,
  type Contexts,
  interpolate,
  jobOutputs,
  provideActions,
  readWorkflow,
  runJobSteps,
  type Step,
  stepLabel,
  type StepRun,
  supportedNodeMajors,
  WORKFLOW,
} from './support/workflow';
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
 * - `github/codeql-action/upload-sarif`: the test checks what it would upload (the file the
 *   SARIF step wrote, valid SARIF 2.1.0, and the category); code scanning is GitHub's;
 * - `anchore/scan-action` (the `scan` job): its inputs are checked against what the `images`
 *   job's steps, run here, give it (the image list and the severity); the scan itself needs
 *   the network (the image and Grype's database), so its verdict is never asked here;
 * - the `npm ci` step: the repository's installed node_modules, linked into the
 *   repository (no registry here, and the lock file is the same); the test checks the
 *   step is exactly `npm ci`, so a changed install step fails here until it is handled.
 * `bash scripts/setup-engines.sh` runs for real (as root, as in the job's container): on
 * a machine where the engines are ready it checks them and changes nothing.
 * The job runs as the matrix entry that does everything (Node 24: the SARIF, its upload, the
 * plans) on this machine's Node; which steps the other entries run is read from their `if:`.
 * `if:` and `${{ }}` are evaluated by tests/support/workflow.ts with the contexts each test
 * gives (a pull request from the repository itself unless it says otherwise).
 * CI never skips this file: without the tools it fails there (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');
const root = requireTool('root (scripts/setup-engines.sh runs as root in the job)', ['sh', '-c', 'test "$(id -u)" -eq 0']);

let dir: string;
/** The commits nx-set-shas would export: the fresh repository (base) and the populated homelab (head). */
const shas = { base: '', head: '' };
const outputs: StepRun[] = [];
const git = (...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd: dir }).trim();

const REPOSITORY = 'owner/homelab';
/** What Actions gives the expressions of a pull request (from the repository itself, or from a fork), or of a push to main. */
function github(event: 'pull_request' | 'fork' | 'push'): Contexts['github'] {
  if (event === 'push') return { event_name: 'push', repository: REPOSITORY, event: {} };
  return { event_name: 'pull_request', repository: REPOSITORY, event: { pull_request: { head: { repo: { full_name: event === 'fork' ? 'someone/homelab' : REPOSITORY } } } } };
}
/** The contexts of the `affected` job's matrix entry `node`. */
const affectedContexts = (node: number, event: 'pull_request' | 'fork' | 'push' = 'pull_request'): Contexts => ({ matrix: { node }, github: github(event) });

const SARIF_STEP = 'Validate the affected projects as SARIF';
const UPLOAD_STEP = "Upload validate's findings to code scanning";
/** The upload steps the job reached, with their evaluated inputs. */
const uploads: Step[] = [];

/** The upload's inputs: a SARIF 2.1.0 file the job wrote, and a category. */
function checkUpload(step: Step, root: string): void {
  expect(step.uses).toMatch(/^github\/codeql-action\/upload-sarif@v\d+$/);
  const file = String(step.with?.sarif_file);
  const log = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  expect(log.version).toBe('2.1.0');
  expect(log.runs[0].tool.driver.name).toBe('homelab validate');
  expect(step.with?.category).toBe('homelab-validate');
  uploads.push(step);
}

/** What a `uses:` step provides here (tests/support/workflow.ts); an action the test does not know fails the test. */
function provide(step: Step, env: Record<string, string>, shas: { base: string; head: string }): boolean {
  if (step.uses?.startsWith('github/codeql-action/upload-sarif@')) {
    checkUpload(step, dir);
    return true;
  }
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

    outputs.push(...runJobSteps(dir, 'affected', (step, env) => provide(step, env, shas), {}, affectedContexts(24)));
    // Generous: the job validates, builds and plans 10 projects in 3 environments on 2 busy cores.
  }, 1_800_000);
  afterAll(() => removeDir(dir));

  const plans = () => outputs.find((o) => o.step === 'Deploy plans')!.result.stdout;

  it('runs every run: step of the job, in order, and each passes', () => {
    expect(outputs.map((o) => o.step)).toEqual([
      'Install git (actions/checkout needs it for the history)',
      'Set up kubectl, Docker and Compose',
      SARIF_STEP,
      'npx nx sync:check',
      'npx nx affected -t validate build',
      'Deploy plans',
    ]);
    for (const { result } of outputs) expect(result.status).toBe(0);
  });

  it('writes the affected projects\' validation as SARIF 2.1.0 and uploads that file, with its category', () => {
    const sarif = outputs.find((o) => o.step === SARIF_STEP)!.result.stdout;
    // The head commit touches every project: each is named, the platform included.
    const affected = /^affected projects: (.+)$/m.exec(sarif)![1].split(',').sort();
    expect(affected).toEqual(['homelab-platform', NOTES.name, 'whoami', ...COMPONENT_NAMES].sort());

    expect(uploads).toHaveLength(1);
    expect(uploads[0].with?.sarif_file).toBe('dist/ci/validate.sarif');
    const log = JSON.parse(fs.readFileSync(path.join(dir, 'dist/ci/validate.sarif'), 'utf8'));
    // The README homelab validates without errors (the job passed); its warnings are results too.
    expect(log.runs[0].results.filter((r: { level: string }) => r.level === 'error')).toEqual([]);
    expect(log.runs[0].tool.driver.rules.length).toBeGreaterThan(0);
  });

  it('tests every Node the README and package.json engines promise, and only those', () => {
    const job = readWorkflow().jobs.affected;
    const matrix = (job.strategy!.matrix as { node: number[] }).node.map(String);
    expect(matrix.sort()).toEqual(supportedNodeMajors().sort());
    expect(job.strategy!['fail-fast']).toBe(false);
    // README "Tests": "homelab runs on Node 20.19+, 22 and 24 (package.json `engines`)".
    const promise = /homelab runs on Node ([^(]+)\(package\.json `engines`\)/.exec(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    expect(promise, 'the README says which Nodes homelab runs on').not.toBeNull();
    const promised = promise![1].split(/,|\band\b/).map((v) => /^\s*(\d+)/.exec(v)![1]);
    expect(matrix.sort()).toEqual(promised.sort());
    for (const node of matrix.map(Number)) {
      const setup = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
      const asked = { ...setup, with: { ...setup.with, 'node-version': interpolate(setup.with!['node-version'], affectedContexts(node)) } };
      expect(asked.with['node-version']).toBe(node);
      expect(() => checkSetupNode(asked)).not.toThrow();
    }
  });

  it('writes the SARIF, uploads it and plans the deploys on one Node only; every Node runs every other step', () => {
    const job = readWorkflow().jobs.affected;
    const ran = (node: number) => job.steps.filter((s) => conditionHolds(s.if, { ...affectedContexts(node), workspace: dir })).map(stepLabel);
    const once = [SARIF_STEP, UPLOAD_STEP, 'Deploy plans'];
    expect(ran(24)).toEqual(job.steps.map(stepLabel));
    for (const node of [20, 22]) expect(ran(node)).toEqual(job.steps.map(stepLabel).filter((l) => !once.includes(l)));
  });

  it('uploads after a failed step too, never on a fork\'s pull request (its token cannot write security events), and not without a SARIF file', () => {
    const upload = readWorkflow().jobs.affected.steps.find((s) => stepLabel(s) === UPLOAD_STEP)!;
    const holds = (contexts: Contexts) => conditionHolds(upload.if, { workspace: dir, ...contexts });

    expect(holds(affectedContexts(24, 'pull_request'))).toBe(true);
    expect(holds(affectedContexts(24, 'push'))).toBe(true);
    expect(holds({ ...affectedContexts(24, 'pull_request'), failed: true })).toBe(true);
    expect(holds(affectedContexts(24, 'fork'))).toBe(false);
    expect(holds({ ...affectedContexts(24), workspace: path.join(dir, 'no-such-folder') })).toBe(false);
  });

  it('asks for security-events: write on the job that uploads, and nowhere else', () => {
    const workflow = readWorkflow();
    expect(workflow.jobs.affected.permissions).toEqual({ contents: 'read', actions: 'read', 'security-events': 'write' });
    expect(workflow.permissions).toEqual({ contents: 'read', actions: 'read' });
    for (const [name, job] of Object.entries(workflow.jobs)) if (name !== 'affected') expect(job.permissions?.['security-events'], name).toBeUndefined();
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

  /**
   * Two more commits on the same repository: whoami's spec edited without `nx sync` (a sync/drift
   * finding of whoami, committed before the change), then the change under review: notes's image
   * moved to 2.2.0, also without `nx sync`. Only notes is affected; its SARIF and its images are
   * the change's, and whoami's finding stays out. Then homelab.yaml sets the scan's severity.
   */
  describe('a change to one app', () => {
    const change = { base: '', head: '' };
    let sarif: StepRun;
    let images: StepRun[];

    function edit(file: string, from: string, to: string): void {
      const full = path.join(dir, file);
      const text = fs.readFileSync(full, 'utf8');
      if (!text.includes(from)) throw new Error(`${file} has no ${from}: the test no longer matches the file`);
      fs.writeFileSync(full, text.replace(from, to));
    }
    const commit = (message: string) => {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    };

    /** The `images` job's steps, for the commits `range`: checkout, Node, install and nx-set-shas provided as for `affected`. */
    function runImages(range: { base: string; head: string }): StepRun[] {
      return runJobSteps(dir, 'images', (step, env) => provideActions(step, env, range, (checkout) => expect(checkout.with?.['fetch-depth']).toBe(0), 'tests/ci-workflow.integration.test.ts'), {}, { github: github('pull_request') });
    }
    const scanOutput = (runs: StepRun[]) => JSON.parse(jobOutputs(readWorkflow(dir).jobs.images, runs).scan) as { severity: string; images: string[] };

    beforeAll(() => {
      edit('applications/specs/whoami.yaml', 'tag: v1.10.4', 'tag: v1.10.5');
      change.base = commit('whoami: a new tag, not rendered');
      edit(`applications/specs/${NOTES.name}.yaml`, 'tag: 2.1.0', 'tag: 2.2.0');
      change.head = commit('notes: 2.2.0, not rendered');
      fs.rmSync(path.join(dir, 'dist/ci'), { recursive: true, force: true });
      // Only the SARIF step runs: the test takes over every other step of the job (the rest ran above).
      const ran = runJobSteps(
        dir,
        'affected',
        (step, env) => {
          if (step.uses?.startsWith('nrwl/nx-set-shas@')) return provide(step, env, change);
          return stepLabel(step) !== SARIF_STEP;
        },
        {},
        affectedContexts(24),
      );
      sarif = ran.find((r) => r.step === SARIF_STEP)!;
      images = runImages(change);
    }, 600_000);

    it('validates the changed app only: its findings in the SARIF, whoami\'s older one left out, and the step passes on exit 1', () => {
      expect(sarif.result.stdout).toContain(`affected projects: ${NOTES.name}\n`);
      const log = JSON.parse(fs.readFileSync(path.join(dir, 'dist/ci/validate.sarif'), 'utf8'));
      expect(log.version).toBe('2.1.0');
      const results = log.runs[0].results as { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
      expect(results.map((r) => r.ruleId)).toContain('sync/drift');
      expect(results.some((r) => r.level === 'error')).toBe(true);
      for (const r of results) expect(r.locations[0].physicalLocation.artifactLocation.uri).toMatch(new RegExp(`(^|/)${NOTES.name}(/|\\.[a-z]+$|-)`));
      // whoami's drift is real (the whole workspace reports it) but not this change's.
      const whoami = run('npx', ['homelab', 'validate', '--projects', 'whoami', '--format', 'json'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      expect(whoami.status).toBe(1);
      expect(JSON.parse(whoami.stdout).findings.map((f: { rule: string }) => f.rule)).toContain('sync/drift');
    });

    it('on a push to main, writes every project\'s findings: each upload is the branch\'s whole analysis', () => {
      const ran = runJobSteps(
        dir,
        'affected',
        (step, env) => (step.uses?.startsWith('nrwl/nx-set-shas@') ? provide(step, env, change) : stepLabel(step) !== SARIF_STEP),
        {},
        affectedContexts(24, 'push'),
      );
      const listed = /^affected projects: (.+)$/m.exec(ran.find((r) => r.step === SARIF_STEP)!.result.stdout)![1].split(',');
      expect(listed.sort()).toEqual(['homelab-platform', NOTES.name, 'whoami', ...COMPONENT_NAMES].sort());
      const uris = JSON.parse(fs.readFileSync(path.join(dir, 'dist/ci/validate.sarif'), 'utf8')).runs[0].results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri as string);
      // Both apps' drift: the change's and the one committed before it.
      expect(uris.some((u: string) => /(^|\/)whoami(\/|\.[a-z]+$|-)/.test(u))).toBe(true);
      expect(uris.some((u: string) => new RegExp(`(^|/)${NOTES.name}(/|\\.[a-z]+$|-)`).test(u))).toBe(true);
    }, 900_000);

    it('lists exactly the changed app\'s images, and the severity of a homelab.yaml without ci: high', () => {
      const listed = images.find((r) => r.step === 'List the images the affected projects pin')!;
      expect(listed.result.stdout).toContain(`affected projects: ${NOTES.name}\n`);
      expect(scanOutput(images)).toEqual({ severity: 'high', images: ['ghcr.io/example/notes:2.2.0'] });
    });

    it('scans each listed image with the scanner pinned to a release, failing at the workspace\'s severity', () => {
      const scan = readWorkflow(dir).jobs.scan;
      const needs = { images: { outputs: jobOutputs(readWorkflow(dir).jobs.images, images) } };
      expect(scan.needs).toBe('images');
      expect(conditionHolds(scan.if, { needs })).toBe(true);
      const entries = interpolate((scan.strategy!.matrix as { image: string }).image, { needs }) as string[];
      expect(entries).toEqual(['ghcr.io/example/notes:2.2.0']);
      expect(scan.steps).toHaveLength(1);
      const [step] = scan.steps;
      expect(step.uses).toMatch(/^anchore\/scan-action@v\d+\.\d+\.\d+$/);
      for (const image of entries) {
        const inputs = Object.fromEntries(Object.entries(step.with!).map(([k, v]) => [k, interpolate(v, { needs, matrix: { image } })]));
        expect(inputs).toEqual({ image, 'fail-build': true, 'severity-cutoff': 'high', 'output-format': 'table' });
      }
      // A change that pins no image scans nothing.
      expect(conditionHolds(scan.if, { needs: { images: { outputs: { scan: '{"severity":"high","images":[]}' } } } })).toBe(false);
    });

    it('reads ci.scan.severity from homelab.yaml; a change to it reaches every project\'s images', () => {
      fs.appendFileSync(path.join(dir, 'homelab.yaml'), 'ci:\n  scan:\n    severity: medium\n');
      const head = commit('scan at medium');
      const all = scanOutput(runImages({ base: change.head, head }));
      expect(all.severity).toBe('medium');
      const everything = runOk('npx', ['homelab', 'images'], { cwd: dir }).trim().split('\n');
      expect(all.images).toEqual(everything);
      expect(all.images).toEqual(expect.arrayContaining(['ghcr.io/example/notes:2.2.0', 'traefik/whoami:v1.10.5']));
    }, 300_000);
  });
});
