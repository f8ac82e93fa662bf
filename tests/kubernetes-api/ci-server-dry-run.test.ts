import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCluster } from '../support/cluster';
import { buildReadmeHomelab } from '../support/homelab';
import { requireTool, type RunResult } from '../support/tools';
import { checkSetupNode, readWorkflow, runJobSteps, type Step, stepLabel, WORKFLOW } from '../support/workflow';
import { makeTempDir, REPO_ROOT, removeDir } from '../support/workspace';

/**
 * The optional job `server-dry-run` of the CI workflow homelab ships to its users
 * (.github/workflows/ci.yml), its `run:` steps run for real (tests/support/workflow.ts) on the
 * README homelab made from scratch, against this run's Kubernetes control plane. One step is
 * replaced, and only it: "Create a kind cluster" (no Docker-in-Docker nor kind node image here);
 * what it provides, a cluster in the kubeconfig kubectl reads, is the control plane's kubeconfig
 * (a copy, so no step can change the test's). The `uses:` steps provide here what they provide
 * on the runner: the checkout is the workspace (with the workflow and the CRD scripts of this
 * repository), setup-node this machine's Node (checkSetupNode), setup-go this machine's Go at the version the
 * job pins, setup-kubectl the control plane's kubectl at the version the job pins. The CRD install
 * step fetches through scripts/crds/fetch.ts (the Go module proxy, or the cache
 * `npm run setup:engines` filled) and applies to the control plane for real.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();
const JOB = 'server-dry-run';
const GO = fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin' : '';

let dir: string;
let outputs: { step: string; result: RunResult }[] = [];
const replaced: Step[] = [];

/** What the `uses:` steps and the kind step provide here. */
function provide(step: Step, env: Record<string, string>): boolean {
  const tools = env.PATH ?? process.env.PATH ?? '';
  if (step.name === 'Create a kind cluster') {
    replaced.push(step);
    const kubeconfig = path.join(dir, '.kubeconfig');
    fs.copyFileSync(cluster.kubeconfig, kubeconfig);
    env.KUBECONFIG = kubeconfig;
    return true;
  }
  if (!step.uses) return false;
  const action = step.uses.split('@')[0];
  if (action === 'actions/checkout') return true;
  if (action === 'actions/setup-node') {
    checkSetupNode(step);
  } else if (action === 'actions/setup-go') {
    expect(GO, 'Go at /usr/local/go (npm run setup:engines)').not.toBe('');
    expect(spawnSync(`${GO}/go`, ['version'], { encoding: 'utf8' }).stdout).toContain(`go${step.with?.['go-version']} `);
    env.PATH = `${GO}${path.delimiter}${tools}`;
  } else if (action === 'azure/setup-kubectl') {
    const version = JSON.parse(spawnSync(cluster.kubectlBin, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }).stdout).clientVersion.gitVersion;
    expect(version).toBe(step.with?.version);
    env.PATH = `${path.dirname(cluster.kubectlBin)}${path.delimiter}${env.PATH ?? tools}`;
  } else {
    return false;
  }
  return true;
}

describe.skipIf(kubectl.skip || cluster.skip)(`the optional server dry run job of the users' CI workflow (${WORKFLOW})`, () => {
  beforeAll(async () => {
    dir = await buildReadmeHomelab(makeTempDir('ci-server-dry-run'));
    // The repository's files the job uses besides the tool: the workflow and the CRD scripts.
    for (const file of [WORKFLOW, 'scripts/crds/fetch.ts', 'scripts/crds/install.ts', 'scripts/control-plane/versions.env']) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    }
    outputs = runJobSteps(dir, JOB, provide);
  }, 1_200_000);
  afterAll(() => removeDir(dir));

  it('is off unless the owner enables it, and pins every version it installs', () => {
    const job = readWorkflow().jobs[JOB];

    expect(job.if).toBe("vars.HOMELAB_SERVER_DRY_RUN == 'true'");
    expect(job.env?.KIND_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(job.env?.KIND_NODE_IMAGE).toMatch(/^kindest\/node:v1\.34\.\d+$/);
    for (const step of job.steps.filter((s) => s.uses)) expect(step.uses).toMatch(/@v\d+$/);
    // No `latest` among what it installs (the runner label, like the other job's, is GitHub's to choose).
    expect(JSON.stringify({ ...job, 'runs-on': undefined })).not.toMatch(/latest/);
  });

  it('replaces only the step that creates the kind cluster, and runs every other run: step, each passing', () => {
    expect(replaced.map((s) => s.run)).toEqual([expect.stringContaining('kind" create cluster --name homelab --image "${KIND_NODE_IMAGE}"')]);
    expect(outputs.map((o) => o.step)).toEqual(['Install the CRDs the workspace needs', 'Server dry run of every overlay']);
    const job = readWorkflow().jobs[JOB];
    expect(job.steps.filter((s) => s.run && s.run.trim() !== 'npm ci' && s.name !== replaced[0].name).map(stepLabel)).toEqual(outputs.map((o) => o.step));
  });

  it("installs the CRDs of ArgoCD and of the workspace's components, at the catalog's pins", () => {
    const installed = outputs[0].result.stdout;

    for (const project of ['argo-cd v3.5.7', 'cert-manager v1.18.2', 'external-secrets v0.18.2', 'prometheus-operator v0.85.0', 'volsync v0.14.0', 'cloudnative-pg v1.28.1']) {
      expect(installed).toMatch(new RegExp(`^${project} \\(.*\\): \\d+ CRD\\(s\\) established$`, 'm'));
    }
    // The README homelab backs up with VolSync: the other providers' CRDs are not its cluster's.
    expect(installed).not.toMatch(/^(velero|k8up) /m);
  });

  it('sends every overlay of the README homelab to the cluster, which accepts them all', () => {
    const validated = outputs[1].result;

    expect(validated.status).toBe(0);
    expect(validated.stdout).not.toMatch(/ server\//);
    expect(validated.stdout).toMatch(/, \d+ object\(s\) of \d+ overlay\(s\) dry-run on the cluster: 0 error\(s\)/);
  });
});
