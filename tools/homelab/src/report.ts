import { logger } from '@nx/devkit';

/** What a generator changed, for its log. */
export interface GenerateResult {
  changed: string[];
  notes: string[];
}

/** Logs a generator's notes, and says so when it changed nothing (re-runs are expected to). */
export function report(result: GenerateResult, subject: string): void {
  for (const note of result.notes) logger.info(`${subject}: ${note}`);
  if (result.changed.length === 0) logger.info(`${subject}: nothing to change, every file already matches`);
}
