import { logger } from '@nx/devkit';
import type { GenerateResult } from './generate';

/** Logs a generator's notes, and says so when it changed nothing (re-runs are expected to). */
export function report(result: GenerateResult, subject: string): void {
  for (const note of result.notes) logger.info(`${subject}: ${note}`);
  if (result.changed.length === 0) logger.info(`${subject}: nothing to change, every file already matches`);
}
