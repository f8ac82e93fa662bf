/**
 * The round trip of import, on every stack of tests/support/fixtures/import (one folder per stack,
 * as its owner keeps it), each in its own fresh workspace: the import (generateImport, no Docker
 * engine asked), `nx run-many -t validate` clean, `kubectl kustomize` of every overlay, `docker
 * compose config` of every Compose environment, and, for each environment, the merged app held
 * to the source's own `docker compose config` (compareRoundTrip). A folder with an EXPECT-REFUSAL
 * file must be refused in one line, with nothing written. Both sides read the stacks with one
 * explicit environment (stackEnvironment): nothing of the process environment leaks in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStack, corpusStacks, EXPECT_REFUSAL, type StackCheck } from '../../scripts/lib/import-check';
import { createTempWorkspace } from '../../scripts/lib/temp-workspace';
import { KNOWN_ADDITIONS } from '../../tools/homelab/src/import/roundtrip';
import { requireTool } from '../support/tools';
import { removeDir } from '../support/workspace';

const compose = requireTool('docker compose');
const kubectl = requireTool('kubectl');
const FIXTURES = path.join(__dirname, '../support/fixtures/import');

/** The stacks that import, and the environments of a fresh workspace each round-trips in. */
const IMPORTED = ['chores', 'gallery', 'house', 'resolver'];
const REFUSED = ['build-only', 'placeholder-image', 'templating'];
const ENVIRONMENTS = ['dev', 'prod'];
/** What a round trip may find that homelab adds on purpose (KNOWN_ADDITIONS), by the end of its line. */
const ADDITION_REASONS = Object.values(KNOWN_ADDITIONS);

const workspaces: string[] = [];
afterAll(() => workspaces.forEach(removeDir));

function check(stack: string, options: Parameters<typeof checkStack>[2] = {}): { result: StackCheck; root: string } {
  const root = createTempWorkspace('homelab-roundtrip-');
  workspaces.push(root);
  return { result: checkStack(path.join(FIXTURES, stack), root, options), root };
}

describe.skipIf(compose.skip || kubectl.skip)('import round trip over the fixture stacks', () => {
  it('covers every fixture stack, and only the refusal fixtures expect a refusal', () => {
    expect(corpusStacks(FIXTURES)).toEqual([...IMPORTED, ...REFUSED].sort());
    expect(REFUSED.filter((s) => fs.existsSync(path.join(FIXTURES, s, EXPECT_REFUSAL)))).toEqual(REFUSED);
    expect(IMPORTED.filter((s) => fs.existsSync(path.join(FIXTURES, s, EXPECT_REFUSAL)))).toEqual([]);
  });

  it.each(IMPORTED)('%s: imports, validates clean, renders both trees in every environment and round-trips', (stack) => {
    const { result } = check(stack);

    expect(result.import, result.refusal).toBe('imported');
    const warnings = result.validate!.warnings.join('\n');
    expect(result.validate!.errors, `validate errors (its warnings, allowed:\n${warnings})`).toEqual([]);
    expect(result.validate!.status, result.validate!.output).toBe(0);
    expect(result.renderFailures).toEqual([]);
    expect(Object.keys(result.roundTrips!).sort()).toEqual(ENVIRONMENTS);
    for (const env of ENVIRONMENTS) {
      const { differences, additions } = result.roundTrips![env];
      expect(differences, `round trip of ${stack} in ${env}`).toEqual([]);
      for (const line of additions) expect(ADDITION_REASONS.some((reason) => line.endsWith(reason)), line).toBe(true);
    }
    expect(result.pass).toBe(true);
  });

  it('finds the scheduler of a cron service, the tmpfs at /tmp and a uid given without its group as known additions, not differences', () => {
    const { result } = check('chores');

    expect(result.roundTrips!.dev.additions).toEqual(
      expect.arrayContaining([
        `services.scheduler: ${KNOWN_ADDITIONS.scheduler}`,
        `services.web.mounts./tmp: ${KNOWN_ADDITIONS.tmp}`,
        `services.web.user: "1000" runs as "1000:1000": ${KNOWN_ADDITIONS.userGroup}`,
      ]),
    );
  });

  it.each([
    ['build-only', /^services\.web\.build: a service built from source and without image: cannot be imported .*; build and push the image/],
    ['placeholder-image', /^services\.app\.image .*placeholder/],
    // Its owner runs it with --env-file vars.env; with the .env beside it a required variable is unset.
    ['templating', /required variable EMPTY_VALUE is missing a value/],
  ])('%s: refused in one line, as its EXPECT-REFUSAL says, and nothing is written', (stack, message) => {
    const { result } = check(stack);

    expect(result.import).toBe('refused');
    expect(result.refusal).toMatch(message);
    expect(result.refusal).not.toContain('\n');
    expect(result.wroteNothing).toBe(true);
    expect(result.pass).toBe(true);
  });

  it('templating with the env file its owner uses: refused for a secret on a command line, naming where, never the value', () => {
    const dir = path.join(FIXTURES, 'templating');
    const { result } = check('templating', { envFiles: [path.join(dir, 'vars.env')], environment: { MODE: 'worker' } });

    expect(result.import).toBe('refused');
    expect(result.refusal).toMatch(/^services\.worker\.command\[2\] holds the value of the secret DB_URL/);
    expect(result.refusal).not.toContain('fake-');
    expect(result.wroteNothing).toBe(true);
  });
});
