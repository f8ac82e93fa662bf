import { parseArgs } from 'node:util';
import { Plop, run } from 'plop';

/**
 * `npm run plop`: plop's own bin (node_modules/plop/bin/plop.js) through plop's
 * documented wrapping API, with one change. Plop 4.0.5 prints a plopfile that fails
 * to load and exits 0; here that exits 1, so a broken plopfile cannot pass for a
 * successful run. Arguments, prompts, action output and the other exit codes are plop's.
 */
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    cwd: { type: 'string' },
    preload: { type: 'string', multiple: true },
    plopfile: { type: 'string' },
    completion: { type: 'string' },
  },
  strict: false,
  allowPositionals: true,
});
const option = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

// plop.d.ts says Promise<void>; run resolves to the loaded plop, or undefined when the plopfile did not load.
const runPlop = run as unknown as (env: Parameters<typeof run>[0], argv: unknown, passArgsBeforeDashes: boolean) => Promise<unknown>;

Plop.prepare(
  {
    cwd: option(values.cwd),
    preload: Array.isArray(values.preload) ? values.preload.filter((p): p is string => typeof p === 'string') : [],
    configPath: option(values.plopfile),
    completion: option(values.completion),
  },
  (env) =>
    Plop.execute(env, (loaded, argv) => {
      void runPlop(loaded, argv, false).then((plop) => {
        if (plop === undefined) process.exitCode = 1;
      });
    }),
);
