import { describe, expect, it } from 'vitest';
import { InterruptedError, ToolRunner } from './process';

describe('running the tools of a deploy', () => {
  it('returns the output of a tool', async () => {
    const tools = new ToolRunner(process.env);
    expect(await tools.ok('sh', ['-c', 'echo hi'], 'echo')).toBe('hi\n');
  });

  it('fails with what failed and the tool’s own last stderr lines, masked', async () => {
    const tools = new ToolRunner(process.env, (t) => t.replace('s3cret', '***'));
    await expect(tools.ok('sh', ['-c', 'echo one >&2; echo "bad token s3cret" >&2; exit 3'], 'docker compose up')).rejects.toThrow('docker compose up failed: one | bad token ***');
  });

  it('names a tool that is not installed', async () => {
    await expect(new ToolRunner(process.env).run('homelab-no-such-tool', [])).rejects.toThrow('`homelab-no-such-tool` is not installed or not on PATH');
  });

  it('passes input on stdin, not on the command line', async () => {
    expect(await new ToolRunner(process.env).ok('cat', [], 'cat', { input: 'from stdin' })).toBe('from stdin');
  });

  it('stops the call in flight on interrupt, and refuses new ones, but lets uninterruptible calls finish', async () => {
    const tools = new ToolRunner(process.env);
    const slow = tools.run('sleep', ['30']);
    const cleanup = tools.run('sh', ['-c', 'sleep 0.3; echo done'], { uninterruptible: true });
    setTimeout(() => tools.interrupt(), 100);
    await expect(slow).rejects.toBeInstanceOf(InterruptedError);
    expect((await cleanup).stdout).toBe('done\n');
    await expect(tools.run('true', [])).rejects.toThrow('interrupted before anything changed; nothing was changed');
    expect((await tools.run('true', [], { uninterruptible: true })).code).toBe(0);
  });
});
