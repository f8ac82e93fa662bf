import { describe, expect, it } from 'vitest';
import { whyNxCannotAsk } from './terminal';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('whether nx g may ask on this terminal', () => {
  it.each<[string, NodeJS.ProcessEnv, { isTTY: boolean }, string | null]>([
    ['nx g on a terminal', { NX_INTERACTIVE: 'true' }, tty, null],
    ['--no-interactive', { NX_INTERACTIVE: 'false' }, tty, '--no-interactive is given'],
    ['a generator called outside nx g (a test, another generator)', {}, tty, 'it is not run by nx g'],
    ['CI', { NX_INTERACTIVE: 'true', CI: 'true' }, tty, 'CI is set'],
    ['an Nx task', { NX_INTERACTIVE: 'true', NX_TASK_TARGET_PROJECT: 'web' }, tty, 'it runs as an Nx task, and Nx may pass it no keys'],
    ['no terminal', { NX_INTERACTIVE: 'true' }, pipe, 'there is no terminal to ask on'],
  ])('%s', (_title, env, stdin, why) => {
    expect(whyNxCannotAsk(env, stdin, tty)).toBe(why);
  });
});
