import { HomelabError, InputError } from '../errors';
import { type Answer, type Answers, type Choice, missingRequired, type Question, withDefaults } from './questions';

/** Asks one question at a time (a terminal, or a script in tests) and shows why an answer was refused. */
export interface Asker {
  /** Asks the question, with its choices listed one a line, and returns what was typed. */
  ask(question: Question, choices: Choice[]): Promise<string>;
  /** Shows the one-line reason an answer was refused; the question is then asked again. */
  tell(reason: string): void;
}

/** A front door, for messages: its command and a command line that works. */
export interface Door {
  command: string;
  example: string;
}

/** The answers a front door was given, and who can be asked for the rest. */
export interface AnswerSource {
  given: Answers;
  /** Absent when nobody can answer (no terminal, CI, an Nx task, --no-interactive). */
  asker?: Asker;
  /** Why nobody can be asked, for the refusal of a missing answer. */
  cannotAsk?: string;
}

/** Choices one a line, values aligned: `  ingress      Traefik: …`. */
export function listChoices(choices: Choice[]): string {
  const width = Math.max(...choices.map((c) => c.value.length));
  return choices.map((c) => `  ${c.value.padEnd(width)}  ${c.description}`).join('\n');
}

/** Why a typed answer is refused (the check's one-line message), or null when it is right. */
export function refusal(question: Question, typed: string, answers: Answers): string | null {
  if (question.check === undefined) return typed === '' ? `--${question.name} cannot be empty; type a value` : null;
  try {
    question.check(typed, answers);
    return null;
  } catch (error) {
    if (error instanceof HomelabError) return error.message;
    throw error;
  }
}

/**
 * Asks one question until the answer passes its check: a wrong answer is answered with the
 * check's one-line reason and the question is asked again. An empty answer leaves an optional
 * question unanswered.
 */
export async function askUntilRight(question: Question, asker: Asker, answers: Answers): Promise<Answer | undefined> {
  const choices = question.choices?.() ?? [];
  for (;;) {
    const typed = (await asker.ask(question, choices)).trim();
    if (typed === '' && !question.required) return undefined;
    const reason = refusal(question, typed, answers);
    if (reason === null) return typed;
    asker.tell(reason);
  }
}

/** True when every given answer is only its question's default (Nx fills defaults in before a generator runs). */
function gaveNothing(questions: Question[], given: Answers): boolean {
  return Object.entries(given).every(([name, value]) => value === undefined || value === questions.find((q) => q.name === name)?.default);
}

/**
 * Collects a generator's answers, the same way at both front doors. What the command line
 * gives is taken as is (the render core checks it). When someone can be asked, the missing
 * required questions are asked, and when the command line gives nothing at all the optional
 * ones that have a question too (flags such as --force have none: their default holds); each typed answer is
 * checked as it is given and asked again with the reason until it is right. When nobody can
 * be asked, a missing required answer is refused in one line, with the choices when there are.
 */
export async function collectAnswers(questions: Question[], source: AnswerSource, door: Door): Promise<Answers> {
  const given: Answers = Object.fromEntries(Object.entries(source.given).filter(([, value]) => value !== undefined));
  const missing = missingRequired(questions, given);
  if (source.asker === undefined) {
    // An answer given empty (`--name=`) is the core's to refuse, with its reason.
    const absent = missing.filter((q) => given[q.name] === undefined);
    if (absent.length > 0) throw missingAnswers(absent, source.cannotAsk ?? 'there is no terminal to ask on', door);
    return withDefaults(questions, given);
  }
  const toAsk = gaveNothing(questions, given) ? questions.filter((q) => (q.required || q.prompted) && given[q.name] === undefined) : missing;
  const answers: Answers = { ...given };
  for (const question of toAsk) {
    const answer = await askUntilRight(question, source.asker, answers);
    if (answer !== undefined) answers[question.name] = answer;
  }
  return withDefaults(questions, answers);
}

/** `nx g homelab:infra is missing --component and cannot ask (CI is set); pass it, e.g. …`, then the choices. */
function missingAnswers(missing: Question[], why: string, door: Door): InputError {
  const flags = missing.map((q) => `--${q.name}`).join(', ');
  const them = missing.length === 1 ? 'it' : 'them';
  const lines = [`${door.command} is missing ${flags} and cannot ask (${why}); pass ${them}, e.g. ${door.example}`];
  for (const question of missing) {
    const choices = question.choices?.() ?? [];
    if (choices.length > 0) lines.push(`--${question.name} is one of:`, listChoices(choices));
  }
  return new InputError(lines.join('\n'));
}
