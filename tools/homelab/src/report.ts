/**
 * Logs one line through Nx's logger, loading @nx/devkit on first use: loading it costs a generator
 * run about 0.1 s, and most runs (a new app, a component added) log nothing.
 */
export function logInfo(message: string): void {
  (require('@nx/devkit') as typeof import('@nx/devkit')).logger.info(message);
}

/** What a generator changed, for its log. */
export interface GenerateResult {
  changed: string[];
  notes: string[];
}

/** Logs a generator's notes, and says so when it changed nothing (re-runs are expected to). */
export function report(result: GenerateResult, subject: string): void {
  for (const note of result.notes) logInfo(`${subject}: ${note}`);
  if (result.changed.length === 0) logInfo(`${subject}: nothing to change, every file already matches`);
}
