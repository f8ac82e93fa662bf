import type { CustomActionFunction, PlopGeneratorConfig } from 'plop';
import { generateApp } from '../app/generate';
import type { AppOptions } from '../app/options';
import type { ApplyResult } from '../project/owned';
import { HomelabError, InputError } from '../errors';
import { diskHost, type FileHost } from '../host';
import { type Answer, type Answers, answersFromArgs, generatorArgs, missingRequired, type Question, withDefaults } from './questions';

/** Where answers come from: the command line, and a terminal when there is one. */
export interface AnswerSource {
  argv: readonly string[];
  /** Asks one question on a terminal; absent when stdin is not a TTY. */
  ask?: (question: Question) => Promise<Answer | undefined>;
}

const EXAMPLE = 'npm run plop -- app -- --name whoami --image traefik/whoami:v1.10.4 --port 80';

/**
 * Collects the answers: everything the command line gives is taken as is. On a
 * terminal, the missing required questions are asked, or every question when the
 * command line gives none. Without a terminal a missing required answer is refused
 * in one line instead of waiting for input that never comes.
 */
export async function collectAnswers(questions: Question[], source: AnswerSource): Promise<Answers> {
  const given = answersFromArgs(generatorArgs(source.argv), questions);
  const missing = missingRequired(questions, given);
  if (source.ask === undefined) {
    if (missing.length > 0) {
      const flags = missing.map((q) => `--${q.name}`).join(', ');
      const them = missing.length === 1 ? 'it' : 'them';
      throw new InputError(`plop app is missing ${flags} and stdin is not a terminal to ask; pass ${them} after "--", e.g. ${EXAMPLE}`);
    }
    return withDefaults(questions, given);
  }
  const toAsk = Object.keys(given).length === 0 ? questions : missing;
  const answers: Answers = { ...given };
  for (const question of toAsk) {
    const answer = await source.ask(question);
    if (answer !== undefined && answer !== '') answers[question.name] = answer;
  }
  return withDefaults(questions, answers);
}

/** The disk for reading, with writes dropped: generateApp on it runs every check and writes nothing. */
function readOnly(host: FileHost): FileHost {
  return { ...host, write: () => undefined, delete: () => undefined };
}

/** Answers as the render core takes them; the core validates every value. */
function toAppOptions(answers: Answers): AppOptions {
  return answers as unknown as AppOptions;
}

/**
 * The one action of `plop app`: the shared render core, written to disk. Plop's own
 * file actions and handlebars are not used (they HTML-escape and bypass the core), so
 * the bytes are the ones `nx g homelab:app` writes into its Tree. A refusal rejects
 * with the core's one-line message before anything is written; plop prints it and
 * exits 1.
 */
export function appAction(workspaceRoot: string): CustomActionFunction {
  return async function renderWithHomelabCore(answers) {
    const options = toAppOptions(answers as Answers);
    let result: ApplyResult;
    try {
      result = generateApp(diskHost(workspaceRoot), options);
    } catch (error) {
      if (error instanceof HomelabError) throw error;
      // Plop prints only the message: keep the stack of what is a bug, not a user mistake.
      throw new Error(`internal error in the homelab render core: ${error instanceof Error ? error.stack : String(error)}`);
    }
    const lines = [
      `${options.name}: ${result.written.length} written, ${result.deleted.length} deleted, ${result.kept.length} kept`,
      ...result.written.map((file) => `  write  ${file}`),
      ...result.deleted.map((file) => `  delete ${file}`),
      ...result.kept.map((file) => `  keep   ${file} (yours: homelab scaffolds it once)`),
    ];
    return lines.join('\n');
  };
}

/**
 * The `app` generator for a plopfile. The answers are checked by a dry run of the core
 * right after they are collected, so a refusal is plop's one-line `[ERROR] <message>`
 * (exit 1) before any action starts; the action then writes.
 */
export function appGenerator(workspaceRoot: string, questions: Question[], source: AnswerSource): PlopGeneratorConfig {
  return {
    description: 'Add an app to the homelab (same questions and bytes as nx g homelab:app)',
    prompts: async () => {
      const answers = await collectAnswers(questions, source);
      generateApp(readOnly(diskHost(workspaceRoot)), toAppOptions(answers));
      return answers;
    },
    actions: [appAction(workspaceRoot)],
  };
}
