import { describe, expect, it } from 'vitest';
import { inValidateRun, inValidateRunAsync, perRun } from './run-memo';

describe('perRun', () => {
  it('computes a key once within a validate run, and again in the next run', () => {
    let calls = 0;
    const claims = () => perRun('claims:/ws', () => ++calls);
    expect(inValidateRun(() => [claims(), claims(), claims()])).toEqual([1, 1, 1]);
    expect(inValidateRun(() => claims())).toBe(2);
    expect(calls).toBe(2);
  });

  it('keeps nothing outside a run, where files may change between two checks', () => {
    let calls = 0;
    expect([perRun('claims:/ws', () => ++calls), perRun('claims:/ws', () => ++calls)]).toEqual([1, 2]);
  });

  it('keeps keys apart (two workspaces in one run), and a nested run shares the outer one', () => {
    const values = inValidateRun(() => {
      const a = perRun('claims:/a', () => 'a');
      const b = perRun('claims:/b', () => 'b');
      const nested = inValidateRun(() => perRun('claims:/a', () => 'recomputed'));
      return [a, b, nested];
    });
    expect(values).toEqual(['a', 'b', 'a']);
  });

  it('forgets the run when it throws', () => {
    expect(() => inValidateRun(() => perRun('k', () => { throw new Error('boom'); }))).toThrow('boom');
    let calls = 0;
    perRun('k', () => ++calls);
    perRun('k', () => ++calls);
    expect(calls).toBe(2);
  });

  it('keeps a run open across the awaits of an async run, and closes it when the run ends or rejects', async () => {
    let calls = 0;
    const claims = () => perRun('claims:/ws', () => ++calls);
    const values = await inValidateRunAsync(async () => {
      const first = claims();
      await new Promise((resolve) => setImmediate(resolve));
      return [first, claims()];
    });
    expect(values).toEqual([1, 1]);
    expect(claims()).toBe(2);
    expect(claims()).toBe(3);
    await expect(inValidateRunAsync(async () => { claims(); throw new Error('boom'); })).rejects.toThrow('boom');
    expect([claims(), claims()]).toEqual([5, 6]);
  });
});
