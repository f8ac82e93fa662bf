import * as fs from 'node:fs';
import { InputError, show } from '../errors';

/**
 * The questions of a generator, one list for both front doors (`nx g homelab:<name>` and
 * `npm run plop -- <name>`): the option's type, default and argv position come from the
 * generator's schema.json, and what an interactive run asks (its words, whether it must be
 * answered, how an answer is checked, which choices there are) from the schema's `x-prompt`
 * or, for a generator that asks itself, from its table of asked questions (`app/questions.ts`).
 */
export interface Question {
  name: string;
  kind: 'string' | 'number' | 'boolean';
  /** What an interactive run asks: the asked question's prompt, the x-prompt text, else the description. */
  message: string;
  required: boolean;
  /**
   * It has words of its own to be asked with (the generator's question, or an x-prompt): an
   * interactive run that is given nothing asks it. Other options come from the command line only.
   */
  prompted: boolean;
  default?: string | number | boolean;
  /** Position among bare command-line arguments (`$default: { $source: "argv", index }`). */
  argvIndex?: number;
  /**
   * Checks a typed answer with the same check the render core runs, throwing its one-line
   * InputError; the front door prints the reason and asks again.
   */
  check?: (answer: string, answers: Answers) => void;
  /** The answers to pick from, listed with the question, one line each. */
  choices?: () => Choice[];
}

/** One of a question's choices: the value to type and one line on what it is. */
export interface Choice {
  value: string;
  description: string;
}

/** What a generator that asks itself says about one of its options (everything else comes from schema.json). */
export type Asked = Pick<Question, 'check' | 'choices'> & { prompt: string; required?: boolean };

/** An answer as the command line gives it; `AppOptions` accepts all of these shapes. */
export type Answer = string | string[] | number | boolean;
export type Answers = Record<string, Answer>;

interface SchemaProperty {
  type?: string;
  description?: string;
  default?: unknown;
  'x-prompt'?: string | { message?: string };
  $default?: { $source?: string; index?: number };
}

interface GeneratorSchema {
  properties?: Record<string, SchemaProperty>;
  required?: string[];
}

/**
 * Turns an Nx generator schema into questions: required ones first (in the schema's
 * `required` order, then the asked questions' order), then the others in the order the
 * schema lists them. `asked` holds the questions the generator asks itself: their prompt,
 * whether they are required, their check and choices (schema.json then has no `x-prompt`
 * and no `required` for them, so Nx neither asks nor refuses before the generator runs).
 *
 * @example questionsFromSchema({ properties: { port: { type: 'number', 'x-prompt': 'Port?' } }, required: ['port'] })
 * // [{ name: 'port', kind: 'number', message: 'Port?', required: true, prompted: true }]
 */
export function questionsFromSchema(schema: GeneratorSchema, where = 'schema', asked: Record<string, Asked> = {}): Question[] {
  const properties = schema.properties ?? {};
  for (const name of Object.keys(asked)) {
    if (properties[name] === undefined) throw new Error(`${where}: asked question "${name}" is not a property`);
    if (properties[name]['x-prompt'] !== undefined || schema.required?.includes(name)) {
      // Nx would ask it (without a check) or refuse it missing before the generator could ask.
      throw new Error(`${where}: "${name}" is asked by the generator; drop its x-prompt and its "required" entry`);
    }
  }
  const selfRequired = Object.keys(asked).filter((name) => asked[name].required);
  const required = [...(schema.required ?? []), ...selfRequired];
  const order = [...required, ...Object.keys(properties).filter((name) => !required.includes(name))];
  return order.map((name) => {
    const property = properties[name];
    if (property === undefined) throw new Error(`${where}: required property "${name}" is not declared`);
    const kind = property.type === 'integer' ? 'number' : property.type;
    if (kind !== 'string' && kind !== 'number' && kind !== 'boolean') {
      // Both front doors ask simple questions; a new option of another type needs a prompt written for it here.
      throw new Error(`${where}: property "${name}" has type ${show(property.type)}; a question is a string, number, integer or boolean`);
    }
    const prompt = property['x-prompt'];
    const own = asked[name];
    const message = own?.prompt ?? (typeof prompt === 'string' ? prompt : prompt?.message) ?? property.description ?? name;
    const question: Question = { name, kind, message, required: required.includes(name), prompted: own !== undefined || prompt !== undefined };
    if (own?.check) question.check = own.check;
    if (own?.choices) question.choices = own.choices;
    const fallback = property.default;
    if (typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean') question.default = fallback;
    if (property.$default?.$source === 'argv' && typeof property.$default.index === 'number') question.argvIndex = property.$default.index;
    return question;
  });
}

/** Reads a generator's schema.json and derives its questions (see questionsFromSchema for `asked`). */
export function readQuestions(schemaFile: string, asked: Record<string, Asked> = {}): Question[] {
  return questionsFromSchema(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as GeneratorSchema, schemaFile, asked);
}

/**
 * The generator's own arguments: what follows the first `--` on plop's command line
 * (`plop app -- --name whoami ...`; plop keeps what comes before it for itself).
 */
export function generatorArgs(argv: readonly string[]): string[] {
  const eoa = argv.indexOf('--');
  return eoa === -1 ? [] : argv.slice(eoa + 1);
}

/** `--flag` spellings a user can type, for messages. */
function optionList(questions: Question[]): string {
  return questions.map((q) => `--${q.name}`).join(', ');
}

const TRUE = ['true', 'yes', 'y', '1'];
const FALSE = ['false', 'no', 'n', '0'];

/**
 * Reads answers from generator arguments the way `nx g` does: `--name value`,
 * `--name=value`, `--flag`, `--no-flag`, `--flag=false`, a repeated option becomes a
 * list, and bare arguments fill the options the schema binds to argv positions
 * (`plop app -- whoami --image ...`). Values stay as typed; the render core checks them.
 * Unknown options and missing values are refused with a one-line message.
 */
export function answersFromArgs(args: readonly string[], questions: Question[], door = 'app'): Answers {
  const byName = new Map(questions.map((q) => [q.name, q]));
  const answers: Answers = {};
  const positionals: string[] = [];
  const set = (question: Question, value: string | boolean) => {
    const previous = answers[question.name];
    if (previous === undefined || typeof value === 'boolean') answers[question.name] = value;
    else answers[question.name] = [...(Array.isArray(previous) ? previous : [String(previous)]), String(value)];
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new InputError(`plop ${door} does not take short option ${show(arg)}; use ${optionList(questions)}`);
    }
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const negated = key.startsWith('no-') && byName.get(key.slice(3))?.kind === 'boolean';
    const question = byName.get(negated ? key.slice(3) : key);
    if (question === undefined) {
      throw new InputError(`plop ${door} has no option ${show(`--${key}`)}; use ${optionList(questions)}`);
    }
    if (question.kind === 'boolean') {
      if (inline === undefined) {
        set(question, !negated);
      } else if (!negated && TRUE.includes(inline.toLowerCase())) {
        set(question, true);
      } else if (!negated && FALSE.includes(inline.toLowerCase())) {
        set(question, false);
      } else {
        throw new InputError(`${arg} is not a yes/no value; write --${question.name}, --no-${question.name} or --${question.name}=false`);
      }
      continue;
    }
    if (inline !== undefined) {
      set(question, inline);
    } else if (i + 1 < args.length && !args[i + 1].startsWith('--')) {
      set(question, args[++i]);
    } else {
      throw new InputError(`--${question.name} needs a value; write --${question.name} <value> or --${question.name}=<value>`);
    }
  }

  const bound = questions.filter((q) => q.argvIndex !== undefined).sort((a, b) => a.argvIndex! - b.argvIndex!);
  positionals.forEach((value, index) => {
    const question = bound.find((q) => q.argvIndex === index);
    if (question === undefined) {
      throw new InputError(`plop ${door} got an unexpected argument ${show(value)}; pass answers as ${optionList(questions)}`);
    }
    if (answers[question.name] !== undefined) {
      throw new InputError(`plop ${door} got ${question.name} twice (${show(value)} and --${question.name}); give it once`);
    }
    answers[question.name] = value;
  });
  return answers;
}

/** Required questions that have no answer yet. */
export function missingRequired(questions: Question[], answers: Answers): Question[] {
  return questions.filter((q) => q.required && (answers[q.name] === undefined || answers[q.name] === ''));
}

/** Fills in the schema's defaults for questions left unanswered, as Nx does. */
export function withDefaults(questions: Question[], answers: Answers): Answers {
  const out: Answers = { ...answers };
  for (const q of questions) {
    if (out[q.name] === undefined && q.default !== undefined) out[q.name] = q.default;
  }
  return out;
}
