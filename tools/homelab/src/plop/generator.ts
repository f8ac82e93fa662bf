import type { CustomActionFunction, PlopGeneratorConfig } from 'plop';
import { generateApp } from '../app/generate';
import { generateImport, type ImportOptions, localEngine, planImport } from '../import/generate';
import { generateRemove, localRunning, type RemoveOptions } from '../workspace/remove';
import type { AppOptions } from '../app/options';
import type { ApplyResult } from '../project/owned';
import { HomelabError } from '../errors';
import { diskHost, type FileHost } from '../host';
import { type Asker, collectAnswers, type Door } from '../ask/collect';
import { type Answers, answersFromArgs, generatorArgs, type Question } from '../ask/questions';
import { PLOP_APP_DOOR } from '../app/questions';

/** Where answers come from: plop's command line, and who can be asked for the rest. */
export interface PlopSource {
  argv: readonly string[];
  /** The terminal; absent when nobody can answer (no terminal, CI). */
  asker?: Asker;
  /** Why nobody can be asked, for the refusal of a missing answer. */
  cannotAsk?: string;
}

/** Which plop generator, and a command line that works, for messages. */
export interface PlopDoor extends Door {
  name: 'app' | 'import' | 'remove';
}

const APP_DOOR: PlopDoor = { name: 'app', ...PLOP_APP_DOOR };
export const REMOVE_DOOR: PlopDoor = { name: 'remove', command: 'plop remove', example: 'npm run plop -- remove -- --name whoami' };
export const IMPORT_DOOR: PlopDoor = { name: 'import', command: 'plop import', example: 'npm run plop -- import -- --name photos --file ~/stacks/photos/compose.yaml' };

/**
 * The answers of a plop generator: what follows "--" on its command line, the rest asked
 * as `nx g` asks it (ask/collect.ts), so both front doors ask the same questions.
 */
export function plopAnswers(questions: Question[], source: PlopSource, door: PlopDoor = APP_DOOR): Promise<Answers> {
  const given = answersFromArgs(generatorArgs(source.argv), questions, door.name);
  return collectAnswers(questions, { given, asker: source.asker, cannotAsk: source.cannotAsk }, door);
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
    return describeResult(options.name, core(() => generateApp(diskHost(workspaceRoot), options)));
  };
}

/** Runs the core: a HomelabError is the user's one line; anything else is a bug, kept with its stack (plop prints only the message). */
function core<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof HomelabError) throw error;
    throw new Error(`internal error in the homelab render core: ${error instanceof Error ? error.stack : String(error)}`);
  }
}

/** What a generator wrote, one line per file, after a summary line. */
function describeResult(name: string, result: ApplyResult, extra: string[] = []): string {
  const lines = [
    `${name}: ${result.written.length} written, ${result.deleted.length} deleted, ${result.kept.length} kept`,
    ...result.written.map((file) => `  write  ${file}`),
    ...result.deleted.map((file) => `  delete ${file}`),
    ...result.kept.map((file) => `  keep   ${file} (yours: homelab scaffolds it once)`),
    ...extra,
  ];
  return lines.join('\n');
}

/**
 * The `app` generator for a plopfile. The answers are checked by a dry run of the core
 * right after they are collected, so a refusal is plop's one-line `[ERROR] <message>`
 * (exit 1) before any action starts; the action then writes.
 */
export function appGenerator(workspaceRoot: string, questions: Question[], source: PlopSource): PlopGeneratorConfig {
  return {
    description: 'Add an app to the homelab (same questions and bytes as nx g homelab:app)',
    prompts: async () => {
      const answers = await plopAnswers(questions, source);
      generateApp(readOnly(diskHost(workspaceRoot)), toAppOptions(answers));
      return answers;
    },
    actions: [appAction(workspaceRoot)],
  };
}

/**
 * The `import` generator for a plopfile: `nx g homelab:import` on the disk. The answers are
 * checked by planning the whole import right after they are collected (nothing is written on a
 * refusal); the action then writes the files and the secret values.
 */
export function importGenerator(workspaceRoot: string, questions: Question[], source: PlopSource): PlopGeneratorConfig {
  const ctx = () => ({ cwd: process.cwd(), environment: process.env, engine: localEngine() });
  return {
    description: 'Import a Compose stack as an app (same questions and bytes as nx g homelab:import)',
    prompts: async () => {
      const answers = await plopAnswers(questions, source, IMPORT_DOOR);
      planImport(diskHost(workspaceRoot), answers as unknown as ImportOptions, ctx());
      return answers;
    },
    actions: [
      async (answers) => {
        const options = answers as unknown as ImportOptions;
        const { result, lines, writeSecrets } = core(() => generateImport(diskHost(workspaceRoot), options, ctx()));
        writeSecrets(workspaceRoot);
        return describeResult(options.name, result, lines);
      },
    ],
  };
}

/**
 * The `remove` generator for a plopfile: `nx g homelab:remove` on the disk. Everything is
 * checked and staged first (a refusal writes nothing), then committed; the report says what
 * still runs and how to take it down with its data kept.
 */
export function removeGenerator(workspaceRoot: string, questions: Question[], source: PlopSource): PlopGeneratorConfig {
  return {
    description: 'Remove an app or an infrastructure component (same questions as nx g homelab:remove)',
    prompts: () => plopAnswers(questions, source, REMOVE_DOOR),
    actions: [
      async (answers) => {
        const options = answers as unknown as RemoveOptions;
        const result = core(() => generateRemove(diskHost(workspaceRoot), options, localRunning()));
        return describeResult(options.name, { written: result.written, deleted: result.deleted, kept: result.kept }, result.lines);
      },
    ],
  };
}
