import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors';
import { collectAnswers } from './generator';
import { answersFromArgs, generatorArgs, type Question, questionsFromSchema, readQuestions } from './questions';

const schemaFile = path.resolve(__dirname, '../../../../generators/app/schema.json');
const questions = readQuestions(schemaFile);
const argv = (...generator: string[]) => ['node', 'plop.js', '--plopfile', 'plopfile.ts', 'app', '--', ...generator];
const noTerminal = (...generator: string[]) => collectAnswers(questions, { argv: argv(...generator) });

describe('questions derived from generators/app/schema.json', () => {
  it('asks the required questions first, with their x-prompt text', () => {
    expect(questions.slice(0, 3)).toEqual([
      { name: 'name', kind: 'string', message: 'What is the app called (e.g. whoami)?', required: true, argvIndex: 0 },
      { name: 'image', kind: 'string', message: 'Which image, with a pinned tag or digest (e.g. traefik/whoami:v1.10.4)?', required: true },
      { name: 'port', kind: 'number', message: 'Which port does it serve HTTP on?', required: true },
    ]);
  });

  it('asks the optional ones in schema order, with their description and default', () => {
    expect(questions.slice(3).map((q) => [q.name, q.kind, q.required, q.default])).toEqual([
      ['secrets', 'string', false, undefined],
      ['volumes', 'string', false, undefined],
      ['host', 'string', false, undefined],
      ['environments', 'string', false, undefined],
      ['force', 'boolean', false, false],
    ]);
    expect(questions.find((q) => q.name === 'host')?.message).toBe('Public host name; adds an Ingress (or HTTPRoute) with TLS.');
  });

  it('refuses a schema type it has no prompt for', () => {
    expect(() => questionsFromSchema({ properties: { tags: { type: 'array' } } })).toThrow(/"tags" has type "array"/);
  });
});

describe('answers from the command line', () => {
  it('takes only what follows the first "--" (the rest is plop\'s)', () => {
    expect(generatorArgs(['node', 'plop.js', 'app', '--force', '--', '--name', 'a'])).toEqual(['--name', 'a']);
    expect(generatorArgs(['node', 'plop.js', 'app'])).toEqual([]);
  });

  it.each([
    ['--name value', ['--name', 'whoami'], { name: 'whoami' }],
    ['--name=value', ['--name=whoami'], { name: 'whoami' }],
    ['a bare argument as the name (argv index 0)', ['whoami', '--port', '80'], { name: 'whoami', port: '80' }],
    ['a value that starts with one dash', ['--port', '-1'], { port: '-1' }],
    ['--flag', ['--force'], { force: true }],
    ['--no-flag', ['--no-force'], { force: false }],
    ['--flag=false', ['--force=false'], { force: false }],
    ['a repeated option as a list', ['--secrets', 'A', '--secrets', 'B,C'], { secrets: ['A', 'B,C'] }],
    ['an empty value', ['--host', ''], { host: '' }],
  ])('reads %s', (_title, args, expected) => {
    expect(answersFromArgs(args, questions)).toEqual(expected);
  });

  it.each([
    ['an unknown option', ['--nmae', 'x'], 'plop app has no option "--nmae"; use --name, --image, --port'],
    ['an option without its value', ['--image', '--port', '80'], '--image needs a value'],
    ['an option at the end without its value', ['--port'], '--port needs a value'],
    ['a yes/no flag with another value', ['--force=maybe'], '--force=maybe is not a yes/no value'],
    ['a short option', ['-n', 'x'], 'does not take short option "-n"'],
    ['a second bare argument', ['whoami', 'extra'], 'unexpected argument "extra"'],
    ['the name twice', ['whoami', '--name', 'other'], 'got name twice'],
  ])('refuses %s in one line', (_title, args, message) => {
    expect(() => answersFromArgs(args, questions)).toThrow(InputError);
    expect(() => answersFromArgs(args, questions)).toThrow(message);
  });
});

describe('collecting answers', () => {
  it('asks nothing without a terminal when the required answers are given, and fills schema defaults', async () => {
    await expect(noTerminal('--name', 'whoami', '--image', 'traefik/whoami:v1.10.4', '--port', '80')).resolves.toEqual({
      name: 'whoami',
      image: 'traefik/whoami:v1.10.4',
      port: '80',
      force: false,
    });
  });

  it('refuses, naming every missing option, when there is no terminal to ask', async () => {
    await expect(noTerminal('--name', 'whoami')).rejects.toThrow(
      /^plop app is missing --image, --port and stdin is not a terminal to ask; pass them after "--", e\.g\. npm run plop -- app -- /,
    );
    await expect(noTerminal('--name', 'whoami', '--image', 'a:1')).rejects.toThrow('missing --port and stdin is not a terminal to ask; pass it');
  });

  it('on a terminal, asks only the missing required questions when some answers are given', async () => {
    const asked: string[] = [];
    const ask = async (q: Question) => {
      asked.push(q.name);
      return q.name === 'port' ? 8080 : undefined;
    };
    const answers = await collectAnswers(questions, { argv: argv('--name', 'whoami', '--image', 'a:1'), ask });
    expect(asked).toEqual(['port']);
    expect(answers).toEqual({ name: 'whoami', image: 'a:1', port: 8080, force: false });
  });

  it('on a terminal, asks every question in order when the command line gives none, dropping empty optional answers', async () => {
    const given: Record<string, string | number | boolean> = { name: 'whoami', image: 'a:1', port: 80, secrets: '', force: true };
    const asked: string[] = [];
    const answers = await collectAnswers(questions, {
      argv: argv(),
      ask: async (q) => {
        asked.push(q.name);
        return given[q.name];
      },
    });
    expect(asked).toEqual(['name', 'image', 'port', 'secrets', 'volumes', 'host', 'environments', 'force']);
    expect(answers).toEqual({ name: 'whoami', image: 'a:1', port: 80, force: true });
  });
});
