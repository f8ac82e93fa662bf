import { confirm, input, number } from '@inquirer/prompts';
import type { Answer, Question } from './questions';

/**
 * Asks one derived question on the terminal with the prompt that fits its schema type.
 * Optional questions may be left empty (no answer); the render core validates the rest.
 */
export async function askOnTerminal(question: Question): Promise<Answer | undefined> {
  switch (question.kind) {
    case 'boolean':
      return confirm({ message: question.message, default: question.default === true });
    case 'number':
      return number({
        message: question.message,
        required: question.required,
        default: typeof question.default === 'number' ? question.default : undefined,
      });
    case 'string':
      return input({
        message: question.message,
        required: question.required,
        default: typeof question.default === 'string' ? question.default : undefined,
      });
  }
}
