import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appAsked } from '../app/questions';
import { InputError } from '../errors';
import { treeHost } from '../host';
import { workspaceTree } from '../../../../tests/support/workspace';
import { answersFromArgs, generatorArgs, questionsFromSchema, readQuestions } from './questions';

const schemaFile = path.resolve(__dirname, '../../../../generators/app/schema.json');
const questions = readQuestions(schemaFile, appAsked(treeHost(workspaceTree().tree)));

describe('questions of generators/app/schema.json and the questions the generator asks itself', () => {
  it('asks the required questions first, with the generator\'s words, types and argv position from the schema', () => {
    expect(questions.slice(0, 3).map(({ check, ...q }) => ({ ...q, checked: typeof check === 'function' }))).toEqual([
      { name: 'name', kind: 'string', message: 'What is the app called (e.g. whoami)?', required: true, prompted: true, argvIndex: 0, checked: true },
      { name: 'image', kind: 'string', message: 'Which image, with a pinned tag or digest (e.g. traefik/whoami:v1.10.4)?', required: true, prompted: true, checked: true },
      { name: 'port', kind: 'number', message: 'Which port does it serve HTTP on?', required: true, prompted: true, checked: true },
    ]);
  });

  it('asks the optional ones in schema order, each checked; only environments has choices; force is a flag with its default, never asked', () => {
    expect(questions.slice(3).map((q) => [q.name, q.kind, q.required, q.prompted, q.default, q.check !== undefined, q.choices !== undefined])).toEqual([
      ['secrets', 'string', false, true, undefined, true, false],
      ['volumes', 'string', false, true, undefined, true, false],
      ['host', 'string', false, true, undefined, true, false],
      ['environments', 'string', false, true, undefined, true, true],
      ['force', 'boolean', false, false, false, false, false],
    ]);
    expect(questions.find((q) => q.name === 'force')?.message).toBe('Re-render an existing app from these answers (its overlays and environment files are kept).');
  });

  it('refuses a schema type it has no prompt for', () => {
    expect(() => questionsFromSchema({ properties: { tags: { type: 'array' } } })).toThrow(/"tags" has type "array"/);
  });

  it.each([
    ['an x-prompt (Nx would ask it without the check)', { properties: { port: { type: 'number', 'x-prompt': 'Port?' } } }],
    ['a "required" entry (Nx would refuse it missing before the generator asks)', { properties: { port: { type: 'number' } }, required: ['port'] }],
    ['no property', { properties: {} }],
  ])('refuses a question the generator asks itself whose schema has %s', (_title, schema) => {
    expect(() => questionsFromSchema(schema, 'schema.json', { port: { prompt: 'Port?', required: true } })).toThrow(/^schema\.json: /);
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
