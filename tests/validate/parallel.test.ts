import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../../scripts/lib/validate-corpus';
import { checkSet } from '../../tools/homelab/src/validate/consistency';
import { ALL_CHECKS, Engine } from '../../tools/homelab/src/validate/engine';
import { sortFindings } from '../../tools/homelab/src/validate/findings';
import { FilePool, MAX_DEFAULT_THREADS, PARALLEL_MIN_BYTES, threadsFor } from '../../tools/homelab/src/validate/parallel';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { makeTempDir, removeDir } from '../support/workspace';

/** Runs validatePaths with HOMELAB_VALIDATE_THREADS set for the call. */
function validateWith(threads: number, cwd: string, inputs: string[] = ['.']) {
  const before = process.env.HOMELAB_VALIDATE_THREADS;
  process.env.HOMELAB_VALIDATE_THREADS = String(threads);
  try {
    return validatePaths(inputs, { cwd, workspaceRoot: null });
  } finally {
    if (before === undefined) delete process.env.HOMELAB_VALIDATE_THREADS;
    else process.env.HOMELAB_VALIDATE_THREADS = before;
  }
}

describe('homelab validate on several threads (validate/parallel.ts)', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('parallel');
    // Two folders (two sets) of the bench's mixed corpus: a third of the documents draw policy findings.
    for (const sub of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, sub));
      writeCorpus(path.join(dir, sub), 'mixed', 12, 6);
    }
    // Set-check findings on objects of files another thread may check: a Service that selects no pod,
    // and one whose targetPort no container declares (the second document of a file).
    fs.writeFileSync(
      path.join(dir, 'a', 'zz-orphan-service.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: orphan\nspec:\n  selector:\n    app: nobody\n  ports:\n    - port: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: wrong-port\nspec:\n  selector:\n    app.kubernetes.io/name: app-0\n  ports:\n    - port: 80\n      targetPort: metrics\n',
    );
    fs.writeFileSync(path.join(dir, 'b', 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n');
    fs.writeFileSync(path.join(dir, 'b', 'unknown-field.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\nbogus: 1\n');
  });
  afterAll(() => removeDir(dir));

  it('gives the same findings, in the same order, and the same counts with 1 thread and with 2 or 3', () => {
    const one = validateWith(1, dir);
    const rules = new Set(one.findings.map((f) => f.rule));
    // The corpus draws findings of every stage: parse, schema, per-object policy and the folder's set checks.
    for (const rule of ['parse/duplicate-key', 'schema/unknown-field', 'service/selector', 'service/target-port', 'policy/image-tag']) expect(rules).toContain(rule);
    expect(one.findings.length).toBeGreaterThan(100);
    for (const threads of [2, 3]) expect(validateWith(threads, dir)).toEqual(one);
  });

  it('checks files on workers alone (the main thread claiming none) and locates their set findings there, as one thread does', () => {
    const folder = path.join(dir, 'a');
    const files = fs.readdirSync(folder).sort().map((f) => ({ abs: path.join(folder, f), label: `a/${f}` }));
    const stores = { stores: null, secretProducers: false, networkPolicy: false };
    // One thread: the engine checks every file, then the folder's set.
    const engine = new Engine({ workspaceRoot: null, retainDocs: false });
    const objects = files.flatMap((f) => engine.checkFile(f.abs, f.label, 'kubernetes').objects);
    for (const issue of checkSet(objects, stores)) engine.resolve(issue);
    // Two workers: the main thread only gathers, runs the set checks and hands the issues back.
    const pool = new FilePool(files, { workspaceRoot: null, checks: new Set(ALL_CHECKS) }, 2);
    const { shares, objects: remote } = pool.gather();
    const ordered = remote.sort((x, y) => x.file - y.file).map((r) => r.target);
    const issues = checkSet(ordered, stores);
    expect(issues.map((i) => i.rule)).toEqual(expect.arrayContaining(['service/selector', 'service/target-port']));
    for (const issue of issues) {
      expect(pool.isRemote(issue.target)).toBe(true);
      pool.defer(issue);
    }
    const findings = [...shares.flatMap((s) => s.findings), ...pool.finish()];
    expect(shares.reduce((n, s) => n + s.files, 0)).toBe(files.length);
    expect(sortFindings(findings)).toEqual(sortFindings(engine.findings));
    expect(findings.filter((f) => f.rule.startsWith('service/')).map((f) => `${f.file}:${f.line}:${f.col}`)).toEqual(['a/zz-orphan-service.yaml:7:5', 'a/zz-orphan-service.yaml:20:19']);
  });

  it('gives the same result when fewer files than threads are given', () => {
    const files = ['a/zz-orphan-service.yaml', 'b/unknown-field.yaml'];
    expect(validateWith(4, dir, files)).toEqual(validateWith(1, dir, files));
  });

  it('uses one thread for little YAML, one a core (at most MAX_DEFAULT_THREADS) beyond, and HOMELAB_VALIDATE_THREADS when set', () => {
    expect(threadsFor(() => PARALLEL_MIN_BYTES - 1, {})).toBe(1);
    expect(threadsFor(() => PARALLEL_MIN_BYTES, {})).toBe(Math.min(MAX_DEFAULT_THREADS, os.availableParallelism()));
    expect(threadsFor(() => 0, { HOMELAB_VALIDATE_THREADS: '3' })).toBe(3);
    expect(threadsFor(() => PARALLEL_MIN_BYTES, { HOMELAB_VALIDATE_THREADS: '1' })).toBe(1);
    // The size is asked only where it decides: not when the variable does, nor when one thread is the most.
    const unasked = () => {
      throw new Error('the size was asked');
    };
    expect(threadsFor(unasked, { HOMELAB_VALIDATE_THREADS: '2' })).toBe(2);
    if (Math.min(MAX_DEFAULT_THREADS, os.availableParallelism()) === 1) expect(threadsFor(unasked, {})).toBe(1);
  });
});
