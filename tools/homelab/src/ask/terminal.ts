import { whyNoPrompt } from '../tty';
import { type Asker, type AnswerSource, collectAnswers, type Door, listChoices } from './collect';
import { type Answers, type Asked, readQuestions } from './questions';

/**
 * The terminal: each question is one line of @inquirer/prompts `input`, its choices listed
 * above it one a line; a refused answer's reason is printed on its own line and the question
 * is asked again (collect.ts decides). Typed answers stay text: the checks and the render core
 * read numbers and lists from text, as they do from the command line.
 */
export function terminalAsker(stdout: NodeJS.WritableStream = process.stdout): Asker {
  return {
    async ask(question, choices) {
      if (choices.length > 0) stdout.write(`${listChoices(choices)}\n`);
      // Loaded when a question is asked: a run that asks nothing never loads the prompt library.
      const { input } = await (require('./load-prompts.js') as () => Promise<typeof import('@inquirer/prompts')>)();
      // A neutral mark after an answer: a wrong answer is not "done" (input's default mark is a tick).
      const theme = { prefix: { idle: '?', done: '›' } };
      return input({ message: question.message, default: typeof question.default === 'string' ? question.default : undefined, theme });
    },
    tell(reason) {
      stdout.write(`✖ ${reason}\n`);
    },
  };
}

/** This process's terminal when someone there can answer (`why` is null), else why nobody can. */
export function terminal(why: string | null): Pick<AnswerSource, 'asker' | 'cannotAsk'> {
  return why === null ? { asker: terminalAsker() } : { cannotAsk: why };
}

/**
 * Why `nx g` cannot ask here, or null when it can: `--no-interactive` (Nx sets NX_INTERACTIVE
 * from it for the generator), a generator not run by `nx g`, or the reasons deploy does not ask
 * (CI, an Nx task, no terminal).
 */
export function whyNxCannotAsk(env: NodeJS.ProcessEnv = process.env, stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): string | null {
  if (env.NX_INTERACTIVE === 'false') return '--no-interactive is given';
  if (env.NX_INTERACTIVE !== 'true') return 'it is not run by nx g';
  return whyNoPrompt(env, stdin, stdout);
}

/**
 * The answers of `nx g homelab:<name>`: the options Nx parsed, and in a terminal the missing
 * ones asked and checked as typed (schema.json gives the types, `asked` the questions).
 * @example await nxAnswers<AppOptions>(path.join(__dirname, 'schema.json'), appAsked(host), options, NX_APP_DOOR)
 */
export async function nxAnswers<T>(schemaFile: string, asked: Record<string, Asked>, options: object, door: Door): Promise<T> {
  const questions = readQuestions(schemaFile, asked);
  return (await collectAnswers(questions, { given: options as Answers, ...terminal(whyNxCannotAsk()) }, door)) as unknown as T;
}
