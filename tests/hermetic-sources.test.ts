import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TOOL_ENTRIES } from '../scripts/lib/temp-workspace';
import { run } from './support/tools';

/**
 * The tests never read this repository's own homelab: `.ci/run` proves it by running the suite a
 * second time in a clone populated with a homelab (scripts/ci-homelab-variant.sh). That second run
 * leaves out the tests that drive the real engines (the Kubernetes API tests and the Docker
 * end-to-end files): they are most of the suite's time, and they get their workspaces from the
 * same helpers (scripts/lib/temp-workspace.ts, tests/support) as the tests the second run keeps.
 * What this file checks instead, for the files the second run leaves out and for the helpers:
 * no path they build from the repository root enters the homelab's content, no path is built
 * from the root with a value the check cannot read (unless listed below, with why), and no
 * process runs in the repository root or in the test process's working folder.
 */

/** The variant's command in .ci/run (vitest.variant.config.ts), and the files it leaves out. */
const VARIANT_COMMAND = 'npx vitest run --config vitest.variant.config.ts';
const left_out = (rel: string) => rel.startsWith('tests/kubernetes-api/') || rel.endsWith('.e2e.test.ts');

/** The homelab's content: what its owner changes, so no test may read it from the repository. */
const HOMELAB_CONTENT = /^(applications|infrastructure|platform)(\/|$)|^(homelab\.yaml|renovate\.json5|\.env)$/;

/** Paths built from the root with a value the check cannot read, each with why it is safe. */
const READ_BY_HAND: Record<string, string> = {
  'tests/kubernetes-api/ci-server-dry-run.test.ts': 'copies a literal list of tool files: the workflow, scripts/crds and versions.env',
  'scripts/lib/temp-workspace.ts': 'copies TOOL_ENTRIES, checked below, and links node_modules',
};
/** Processes run in the repository root, each with why they read no homelab content. */
const RUN_IN_ROOT: Record<string, string> = {
  'tests/support/crds.ts': 'scripts/crds/fetch.ts fetches the catalog\'s CRDs (the tool\'s own pins) into the cache outside the repository',
};

function filesBelow(dir: string, keep: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'fixtures' && entry.name !== '__snapshots__') walk(child);
      } else if (keep(child)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

const SCANNED = [
  ...filesBelow('tests', (rel) => rel.endsWith('.test.ts') && left_out(rel)),
  ...filesBelow('tests/support', (rel) => rel.endsWith('.ts') && !rel.endsWith('.test.ts')),
  ...filesBelow('scripts/lib', (rel) => rel.endsWith('.ts')),
];

interface Finding {
  file: string;
  line: number;
  what: string;
}

/** The root-relative paths a file builds from REPO_ROOT (or its own __dirname), and the findings. */
function scan(rel: string): { paths: string[]; findings: Finding[] } {
  const text = fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const paths: string[] = [];
  const findings: Finding[] = [];
  const call = /path\.(?:join|resolve)\(\s*(REPO_ROOT|REPO|__dirname)\s*((?:,\s*'[^']*'\s*)*)([,)])/g;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    const base = m[1] === '__dirname' ? path.dirname(path.join(REPO_ROOT, rel)) : REPO_ROOT;
    const parts = [...m[2].matchAll(/'([^']*)'/g)].map((p) => p[1]);
    const target = path.relative(REPO_ROOT, path.resolve(base, ...parts)).split(path.sep).join('/');
    paths.push(target);
    if (HOMELAB_CONTENT.test(target)) findings.push({ file: rel, line: lineOf(m.index), what: `reads the homelab's ${target}` });
    if (m[3] === ',' && !READ_BY_HAND[rel]) findings.push({ file: rel, line: lineOf(m.index), what: `builds a path from ${m[1]} with a value this check cannot read` });
  }
  for (const m of text.matchAll(/cwd:\s*(REPO_ROOT|REPO)\b|process\.cwd\(\)/g)) {
    if (!RUN_IN_ROOT[rel]) findings.push({ file: rel, line: lineOf(m.index ?? 0), what: `runs in or reads the working folder (${m[0]})` });
  }
  return { paths, findings };
}

/** Each scanned file read and scanned once, for the two tests that look at the results. */
const SCANS = SCANNED.map((file) => scan(file));

describe('the files the populated-homelab run leaves out read nothing of the repository\'s homelab', () => {
  it('.ci/run runs the suite in the populated clone with exactly this exclusion', () => {
    const ci = fs.readFileSync(path.join(REPO_ROOT, '.ci/run'), 'utf8');

    expect(ci).toContain(`bash scripts/ci-homelab-variant.sh ${VARIANT_COMMAND}`);
  });

  it("the variant's configuration runs every test file but those, as vitest itself lists them", () => {
    const list = (config: string[]) => {
      const listed = run('npx', ['vitest', 'list', '--filesOnly', ...config], { cwd: REPO_ROOT, timeout: 120_000 });
      if (listed.status !== 0) throw new Error(`vitest list failed: ${listed.stderr}`);
      return listed.stdout
        .split('\n')
        .map((line) => /^\[[\w-]+\] (\S+)$/.exec(line.trim())?.[1])
        .filter((f): f is string => f !== undefined)
        .sort();
    };
    const all = list([]);
    const variant = list(['--config', 'vitest.variant.config.ts']);

    expect(all.length).toBeGreaterThan(200);
    expect(variant).toEqual(all.filter((f) => !left_out(f)));
  });

  it('scans the Kubernetes API tests, the Docker end-to-end files and the helpers', () => {
    expect(SCANNED.filter((f) => f.startsWith('tests/kubernetes-api/')).length).toBeGreaterThan(20);
    expect(SCANNED.filter((f) => f.endsWith('.e2e.test.ts')).length).toBeGreaterThan(20);
    expect(SCANNED).toContain('tests/support/workspace.ts');
    expect(SCANNED).toContain('scripts/lib/temp-workspace.ts');
  });

  it('no path from the repository root enters homelab.yaml, applications/, infrastructure/ or platform/, and none is built unread', () => {
    const findings = SCANS.flatMap((result) => result.findings).map((f) => `${f.file}:${f.line}: ${f.what}`);

    expect(findings).toEqual([]);
  });

  it('the paths it reads are the tool\'s and the tests\' own (so the check reads real paths)', () => {
    const read = new Set(SCANS.flatMap((result) => result.paths).map((p) => p.split('/')[0]));

    expect([...read].sort()).toEqual(expect.arrayContaining(['scripts', 'tests']));
    for (const top of read) expect(HOMELAB_CONTENT.test(top)).toBe(false);
  });

  it('the tool files every temporary workspace copies hold none of the homelab', () => {
    expect(TOOL_ENTRIES.filter((entry) => HOMELAB_CONTENT.test(entry))).toEqual([]);
    expect(TOOL_ENTRIES).toContain('tools');
  });

  it('the check finds what it looks for', () => {
    const probe = path.join(REPO_ROOT, 'tests/kubernetes-api/.hermetic-probe.e2e.test.ts');
    fs.writeFileSync(
      probe,
      [
        "const a = path.join(REPO_ROOT, 'applications/specs/x.yaml');",
        "const b = path.resolve(__dirname, '../../homelab.yaml');",
        'const c = path.join(REPO_ROOT, name);',
        "run('nx', [], { cwd: REPO_ROOT });",
      ].join('\n'),
    );
    try {
      const rel = 'tests/kubernetes-api/.hermetic-probe.e2e.test.ts';
      expect(scan(rel).findings.map((f) => `${f.line}: ${f.what}`)).toEqual([
        "1: reads the homelab's applications/specs/x.yaml",
        "2: reads the homelab's homelab.yaml",
        '3: builds a path from REPO_ROOT with a value this check cannot read',
        '4: runs in or reads the working folder (cwd: REPO_ROOT)',
      ]);
    } finally {
      fs.rmSync(probe, { force: true });
    }
  });
});
