import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { confirmProtected, isCI } from './confirm';
import type { DeployRequest } from './request';

function request(overrides: Partial<DeployRequest> = {}, isProtected = true): DeployRequest {
  return {
    action: 'deploy', root: '/repo', layer: 'applications', project: 'web', env: 'prod', platform: 'compose',
    dryRun: false, yes: false, volumes: false, settings: { name: 'prod', protected: isProtected },
    kubernetes: { argocd: true, argocdApp: 'web-prod', argocdNamespace: 'argocd', namespace: 'web' },
    ...overrides,
  };
}

function io(answer: string | null, env: NodeJS.ProcessEnv = {}) {
  const stdin = Object.assign(new PassThrough(), { isTTY: answer !== null });
  const stdout = new PassThrough();
  let asked = '';
  stdout.on('data', (d: Buffer) => {
    asked += d.toString();
    if (answer !== null) stdin.write(`${answer}\n`);
  });
  return { io: { stdin, stdout, env }, asked: () => asked };
}

describe('protected environments', () => {
  it.each([
    ['not protected', request({}, false), {}],
    ['--yes', request({ yes: true }), {}],
    ['CI=true', request(), { CI: 'true' }],
    ['a dry run', request({ dryRun: true }), {}],
  ])('go ahead without asking: %s', async (_why, req, env) => {
    const t = io(null, env);
    await expect(confirmProtected(req, t.io)).resolves.toBeUndefined();
    expect(t.asked()).toBe('');
  });

  it('refuses in one line when there is no terminal to ask on', async () => {
    await expect(confirmProtected(request(), io(null).io)).rejects.toThrow(
      'web (prod): prod is a protected environment; pass --yes to deploy web to it without a prompt (or run with CI=true)',
    );
  });

  it('asks on a terminal and goes ahead on "y"', async () => {
    const t = io('y');
    await expect(confirmProtected(request(), t.io)).resolves.toBeUndefined();
    expect(t.asked()).toContain('prod is protected. Deploy web to prod? [y/N]');
  });

  it('changes nothing on any other answer', async () => {
    await expect(confirmProtected(request({ action: 'down' }), io('').io)).rejects.toThrow('web (prod): not confirmed; nothing was changed');
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
