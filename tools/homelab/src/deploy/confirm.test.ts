import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { confirmProtected } from './confirm';
import { isCI, whyNoPrompt } from '../tty';
import type { DeployRequest } from './request';

function request(overrides: Partial<DeployRequest> = {}, isProtected = true): DeployRequest {
  return {
    action: 'deploy', root: '/repo', layer: 'applications', project: 'web', env: 'prod', platform: 'compose',
    dryRun: false, yes: false, replaceUnrecorded: false, volumes: false, settings: { name: 'prod', protected: isProtected },
    compose: { volumeOwnerImage: 'busybox:1.37.0' },
    kubernetes: { argocd: true, argocdApp: 'web-prod', argocdNamespace: 'argocd', namespace: 'web' },
    ...overrides,
  };
}

/** A terminal (isTTY on stdin and stdout) that types `answer` when asked, or no terminal at all (null). */
function io(answer: string | null, env: NodeJS.ProcessEnv = {}) {
  const tty = answer !== null;
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  let asked = '';
  let answered = false;
  stdout.on('data', (d: Buffer) => {
    asked += d.toString();
    // Answers once: readline echoes what is typed on a terminal.
    if (answer !== null && !answered) {
      answered = true;
      stdin.write(`${answer}\n`);
    }
  });
  return { io: { stdin, stdout, env }, asked: () => asked };
}

describe('protected environments', () => {
  it.each([
    ['not protected', request({}, false)],
    ['--yes', request({ yes: true })],
    ['a dry run', request({ dryRun: true })],
  ])('go ahead without asking: %s', async (_why, req) => {
    const t = io(null, { CI: 'true', NX_TASK_TARGET_PROJECT: 'web' });
    await expect(confirmProtected(req, t.io)).resolves.toBeUndefined();
    expect(t.asked()).toBe('');
  });

  it.each([
    ['no terminal', null, {}, 'there is no terminal to ask on'],
    ['CI=true, even on a terminal', 'y', { CI: 'true' }, 'CI is set'],
    // What Nx gives every task, with its terminal UI or without: a pseudo-terminal, NX_TUI=false, NX_TASK_TARGET_PROJECT.
    ['an Nx task, even on a terminal', 'y', { NX_TASK_TARGET_PROJECT: 'web', NX_TUI: 'false' }, 'it runs as an Nx task, and Nx may pass it no keys'],
  ])('refuses in one line that says to pass --yes where nobody can answer: %s', async (_why, answer, env, reason) => {
    const t = io(answer, env);
    await expect(confirmProtected(request(), t.io)).rejects.toThrow(
      `web (prod): prod is a protected environment and this run cannot ask (${reason}); pass --yes to deploy web to prod`,
    );
    expect(t.asked()).toBe('');
  });

  it('says what down would do when it refuses', async () => {
    await expect(confirmProtected(request({ action: 'down' }), io(null).io)).rejects.toThrow('pass --yes to remove web from prod');
  });

  it('asks on a terminal it owns (outside Nx and CI) and goes ahead on "y"', async () => {
    const t = io('y');
    await expect(confirmProtected(request(), t.io)).resolves.toBeUndefined();
    expect(t.asked()).toContain('prod is protected. Deploy web to prod? [y/N]');
  });

  it('changes nothing on any other answer', async () => {
    await expect(confirmProtected(request({ action: 'down' }), io('').io)).rejects.toThrow('web (prod): not confirmed; nothing was changed');
  });

  it('can ask only with a terminal on stdin and stdout', () => {
    expect(whyNoPrompt({}, { isTTY: true }, { isTTY: true })).toBeNull();
    expect(whyNoPrompt({}, { isTTY: true }, {})).toBe('there is no terminal to ask on');
    expect(whyNoPrompt({}, {}, { isTTY: true })).toBe('there is no terminal to ask on');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
  ])('CI=%j means nobody answers: %s', (value, expected) => {
    expect(isCI({ CI: value })).toBe(expected);
  });
});
