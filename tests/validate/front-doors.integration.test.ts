import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempWorkspace, nx, run } from '../../scripts/lib/temp-workspace';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { generateSecretStore } from '../../tools/homelab/src/platform/secret-store-generator';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { requireTool } from '../support/tools';
import { removeDir, WORKSPACE_YAML } from '../support/workspace';

/**
 * The two front doors of validation agree inside a workspace: `homelab validate` (no argument,
 * and over infrastructure/ and platform/) and `nx run-many -t validate` report the same
 * findings on a from-scratch homelab (init, every catalog component, a secret store, two
 * apps), clean and with a defect planted in each kind of file. Real kubectl and docker compose
 * render, as in both front doors; CI never skips this file (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');


let root: string;

/** init, every catalog component, a secret store and two apps (one with a secret and a volume), on disk. */
function buildScratchHomelab(): string {
  const dir = createTempWorkspace('homelab-front-doors-');
  // Only the tool comes from the repository: its homelab content is replaced by a fresh one.
  for (const entry of ['homelab.yaml', 'platform', 'applications', 'infrastructure']) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  fs.writeFileSync(path.join(dir, 'homelab.yaml'), WORKSPACE_YAML);
  const host = diskHost(dir);
  generateInit(host, { repoUrl: 'https://git.example.org/me/homelab.git' });
  for (const component of COMPONENT_NAMES) generateInfra(host, { component, email: 'admin@example.org' });
  generateSecretStore(host, { provider: 'onepassword', default: true });
  generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80, host: 'whoami.home.example.org' });
  generateApp(host, { name: 'notes', image: 'ghcr.io/example/notes:2.1.0', port: 8080, secrets: 'DATABASE_URL', volumes: 'data:1Gi:/data' });
  return dir;
}

interface Reported {
  status: number | null;
  /** `file:line:col rule [warning]` of every finding printed. */
  findings: string[];
  output: string;
}

const FINDING = /^(\S+:\d+:\d+) {2}(\S+) {2}.*?( \[warning\])?$/;

function findingsOf(output: string): string[] {
  return output
    .split('\n')
    .map((line) => FINDING.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}${m[3] ?? ''}`)
    .sort();
}

function standalone(...args: string[]): Reported {
  const result = run(root, process.execPath, [path.join(root, 'tools/homelab/bin/homelab.js'), 'validate', ...args], { allowFailure: true });
  return { status: result.status, findings: findingsOf(result.stdout), output: result.stdout + result.stderr };
}

function nxValidate(): Reported {
  const result = nx(root, ['run-many', '-t', 'validate', '--skip-nx-cache', '--outputStyle=static'], { allowFailure: true, env: { NX_ISOLATE_PLUGINS: 'false', FORCE_COLOR: '0', NO_COLOR: '1' } });
  // A failed project's output goes to stderr, and may be printed again in Nx's summary: each finding counts once.
  const output = result.stdout + result.stderr;
  return { status: result.status, findings: [...new Set(findingsOf(output))], output };
}

/** Appends text to a workspace file. */
function plant(file: string, text: string): void {
  fs.appendFileSync(path.join(root, file), text);
}

const lineCount = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').split('\n').length;

describe.skipIf(kubectl.skip || compose.skip)('homelab validate and nx run-many -t validate agree in a workspace', () => {
  beforeAll(() => {
    root = buildScratchHomelab();
  }, 120_000);
  afterAll(() => removeDir(root));

  it('both pass a from-scratch homelab clean, with the same findings (the catalog\'s policy exceptions, as warnings)', () => {
    const all = standalone();
    const trees = standalone('infrastructure', 'platform');
    const viaNx = nxValidate();

    expect(all.status, all.output).toBe(0);
    expect(trees.status, trees.output).toBe(0);
    expect(viaNx.status, viaNx.output).toBe(0);
    for (const project of [...COMPONENT_NAMES, 'whoami', 'notes', 'homelab-platform']) expect(viaNx.output).toMatch(new RegExp(`^${project}: valid`, 'm'));
    // Nothing of the tool's own files (package.json, tsconfig.json, tools/) is read as homelab content.
    expect(all.output).not.toMatch(/^(package|tsconfig|nx)[^ ]*\.json:/m);
    expect(all.findings.every((f) => f.endsWith('[warning]'))).toBe(true);
    expect(all.findings).toContain('infrastructure/compose/base/logging/compose.yaml:51:9 policy/docker-socket [warning]');
    expect(all.output).toContain("allowed by the catalog for logging (Alloy reads every container's logs through it (read-only))");
    expect(all.findings).toEqual(viaNx.findings);
    expect(trees.findings).toEqual(viaNx.findings);
  }, 600_000);

  it('reports a defect planted in each kind of file identically through both front doors', () => {
    // An app manifest: a ConfigMap with a misspelt field, beside the overlay.
    fs.writeFileSync(path.join(root, 'applications/kubernetes/overlays/dev/whoami/extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndatta:\n  key: value\n');
    // A component's Helm values file with a YAML syntax error.
    const values = 'infrastructure/kubernetes/overlays/prod/logging/values.yaml';
    const valuesLine = lineCount(values);
    plant(values, 'loki: [unclosed\n');
    // A component's Compose file: a privileged service in the override merged last.
    const override = 'infrastructure/compose/environments/prod/monitoring/compose.override.yaml';
    fs.writeFileSync(path.join(root, override), fs.readFileSync(path.join(root, override), 'utf8').replace('services: {}', 'services:\n  grafana:\n    privileged: true'));
    // A platform file: a misspelt field in the ArgoCD bootstrap's kustomization.
    const bootstrap = 'platform/argocd/bootstrap/kustomization.yaml';
    const bootstrapLine = lineCount(bootstrap);
    plant(bootstrap, 'resourcez: []\n');

    const all = standalone();
    const viaNx = nxValidate();

    const errors = (r: Reported) => r.findings.filter((f) => !f.endsWith('[warning]'));
    const planted = [
      'applications/kubernetes/overlays/dev/whoami/extra.yaml:5:1 schema/unknown-field',
      `${values}:${valuesLine}:`,
      `${override}:6:17 policy/privileged`,
      `${bootstrap}:${bootstrapLine}:1 schema/unknown-field`,
    ];
    for (const defect of planted) {
      expect(errors(all).some((f) => f.startsWith(defect)), `${defect} in:\n${all.output}`).toBe(true);
      expect(errors(viaNx).some((f) => f.startsWith(defect)), `${defect} in:\n${viaNx.output}`).toBe(true);
    }
    expect(errors(all).find((f) => f.startsWith(`${values}:`))).toMatch(/ parse\/syntax$/);
    expect(all.status).toBe(1);
    expect(viaNx.status).not.toBe(0);
    expect(all.findings).toEqual(viaNx.findings);
  }, 600_000);
});
