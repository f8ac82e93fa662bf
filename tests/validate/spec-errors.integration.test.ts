import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempWorkspace, nx, run } from '../../scripts/lib/temp-workspace';
import { HomelabError } from '../../tools/homelab/src/errors';
import { diskHost } from '../../tools/homelab/src/host';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { FIVE_MISTAKES } from '../support/spec';
import { diskFiles, removeDir } from '../support/workspace';

/**
 * A spec with five mistakes (tests/support/spec.ts: a port above 65535, a port given as text,
 * an unknown key, an image tagged latest, a dependsOn of a service that does not exist) is
 * reported with the same five lines, each at its line and column, by `homelab validate`,
 * `nx run <app>:validate`, `nx sync` and the in-process sync: all at once, in the same words.
 * Real nx in a temporary workspace; no engine is needed (nothing renders).
 */
const file = `applications/specs/${FIVE_MISTAKES.name}.yaml`;
/** `file:line:col: message` of each mistake: what nx sync prints. */
const expected = FIVE_MISTAKES.problems.map((p) => `${file}:${p}`);

let root: string;

/** The findings on the spec file, as `file:line:col: message` (validate prints `file:line:col  rule  message`). */
function specFindings(output: string): string[] {
  const lines = output
    .split('\n')
    .map((line) => /^(\S+:\d+:\d+) {2}\S+ {2}(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null && m[1].startsWith(`${file}:`))
    .map((m) => `${m[1]}: ${m[2]}`);
  // Nx may print a failed task's output twice (the task and its summary): each finding counts once.
  return [...new Set(lines)];
}

describe('a spec with five mistakes reports five findings with their lines, the same in every front door', () => {
  beforeAll(() => {
    root = createTempWorkspace('homelab-spec-errors-');
    fs.writeFileSync(path.join(root, file), FIVE_MISTAKES.text);
  });
  afterAll(() => removeDir(root));

  it('homelab validate', () => {
    const result = run(root, process.execPath, [path.join(root, 'tools/homelab/bin/homelab.js'), 'validate', file], { allowFailure: true });

    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(specFindings(result.stdout)).toEqual(expected);
  });

  it('nx run <app>:validate', () => {
    const result = nx(root, ['run', `${FIVE_MISTAKES.name}:validate`, '--skip-nx-cache', '--outputStyle=static'], { allowFailure: true, env: { NX_ISOLATE_PLUGINS: 'false', FORCE_COLOR: '0', NO_COLOR: '1' } });

    expect(result.status, result.stdout + result.stderr).not.toBe(0);
    expect(specFindings(result.stdout + result.stderr)).toEqual(expected);
  }, 300_000);

  it('nx sync, which writes nothing', () => {
    const before = diskFiles(root);

    const result = nx(root, ['sync'], { allowFailure: true, env: { NX_ISOLATE_PLUGINS: 'false', FORCE_COLOR: '0', NO_COLOR: '1' } });
    const output = result.stdout + result.stderr;

    expect(result.status, output).not.toBe(0);
    for (const line of expected) expect(output).toContain(line);
    expect(diskFiles(root)).toEqual(before);
  }, 300_000);

  it('the in-process sync', () => {
    let error: unknown;
    try {
      syncAll(diskHost(root), true);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(HomelabError);
    expect((error as Error).message.split('\n')).toEqual(expected);
  });
});
