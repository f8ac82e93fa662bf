import { describe, expect, it } from 'vitest';
import { shellWords } from './shell-words';

describe('shellWords, as Compose splits a command string', () => {
  it.each([
    ['serve --port 80', ['serve', '--port', '80']],
    [`sh -c "echo 'a b'; exit 0"`, ['sh', '-c', "echo 'a b'; exit 0"]],
    [`redis-server --save "" --appendonly no`, ['redis-server', '--save', '', '--appendonly', 'no']],
    ['a\\ b "c\\"d" \'e\\f\'', ['a b', 'c"d', 'e\\f']],
    ['echo $(date) `id`', ['echo', '$(date)', '`id`']],
    ['run; ignored', ['run']],
    ['run && ignored', ['run']],
    ['cmd 2>&1', ['cmd']],
    ['  spaced   out  ', ['spaced', 'out']],
  ])('%s', (line, words) => {
    expect(shellWords(line)).toEqual(words);
  });

  it.each(['echo "unclosed', "echo 'unclosed", 'echo (sub)', 'trailing \\'])('%j cannot be split', (line) => {
    expect(shellWords(line)).toBeUndefined();
  });
});
