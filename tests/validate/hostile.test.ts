import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePaths } from '../../tools/homelab/src/validate/paths';
import { makeTempDir, removeDir } from '../support/workspace';

/** Bad input never crashes or hangs: each file is one finding, quickly. */
describe('hostile input', () => {
  let dir: string;
  const write = (name: string, content: string | Buffer) => fs.writeFileSync(path.join(dir, name), content);

  beforeAll(() => {
    dir = makeTempDir('validate-hostile');
    write('binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
    write('latin1.yaml', Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n', 'latin1'));
    // 50 MB of valid-looking YAML.
    const line = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n---\n';
    write('huge.yaml', line.repeat(Math.ceil((50 * 1024 * 1024) / line.length)));
    write('deep-flow.yaml', `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    write('deep-block.yaml', Array.from({ length: 260 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' x\n');
    // Billion laughs: 9 levels of 9 aliases = 387 million nodes when expanded.
    const bomb = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 9; i++) bomb.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
    write('alias-bomb.yaml', `${bomb.join('\n')}\n`);
  });
  afterAll(() => removeDir(dir));

  it.each([
    ['binary.yaml', 'parse/binary'],
    ['latin1.yaml', 'parse/encoding'],
    ['huge.yaml', 'parse/too-large'],
    ['deep-flow.yaml', 'parse/too-deep'],
    ['deep-block.yaml', 'parse/too-deep'],
    ['alias-bomb.yaml', 'parse/alias-bomb'],
  ])('%s is one %s finding', (file, rule) => {
    const start = Date.now();
    const { findings } = validatePaths([file], { cwd: dir, workspaceRoot: null });
    expect(findings.map((f) => f.rule)).toEqual([rule]);
    expect(findings[0].line).toBeGreaterThanOrEqual(1);
    expect(Date.now() - start).toBeLessThan(5000);
  });
});
