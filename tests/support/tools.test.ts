import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireTool } from './tools';

describe('requireTool', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const MISSING = ['homelab-no-such-tool-7f3a', '--version'];

  it('runs the tests when the tool answers its probe', () => {
    expect(requireTool('node', ['node', '--version'], {})).toEqual({ available: true, skip: false, reason: '' });
  });

  it('fails when the tool is missing and CI is set, because CI never skips', () => {
    expect(() => requireTool('kustomizer', MISSING, { CI: 'true' })).toThrow(
      /^kustomizer is not available .*; install it with `npm run setup:engines`\. CI is set and CI never skips these tests\.$/,
    );
  });

  it.each(['false', '0', ''])('does not count CI=%j as CI', (ci) => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    expect(requireTool('kustomizer', MISSING, { CI: ci }).skip).toBe(true);
  });

  it('skips with a visible warning naming the tool and the setup script when the tool is missing outside CI', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    const requirement = requireTool('kustomizer', MISSING, {});

    expect(requirement.available).toBe(false);
    expect(requirement.skip).toBe(true);
    expect(requirement.reason).toContain('kustomizer is not available');
    expect(requirement.reason).toContain('npm run setup:engines');
    expect(warn).toHaveBeenCalledWith(`[homelab tests] SKIPPED: ${requirement.reason}`);
  });

  it('treats a probe that exits non-zero as missing', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    const requirement = requireTool('false-tool', ['node', '-e', 'process.exit(3)'], {});

    expect(requirement.skip).toBe(true);
    expect(requirement.reason).toContain('exit 3');
  });
});
