/**
 * What every project of one validate run reads of the whole workspace (every app's host claims,
 * the AppProjects), computed once per run instead of once per project: with N projects in a
 * batch, reading all N specs for each of them made a batch quadratic (at 100 apps, 5.5 of
 * 12.7 s went to re-reading every spec for each app's host collisions).
 *
 * A run is read-only, so what it read at its start holds until it ends. Outside a run (one
 * project, or a caller that writes between two checks) nothing is kept and every call computes.
 */
let current: Map<string, unknown> | null = null;

/** Runs `fn` as one validate run: perRun values computed in it are shared until it returns. */
export function inValidateRun<T>(fn: () => T): T {
  const outer = current;
  current = outer ?? new Map();
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** inValidateRun for work that awaits between its checks (a batch waiting for each project's renders). */
export async function inValidateRunAsync<T>(fn: () => Promise<T>): Promise<T> {
  const outer = current;
  current = outer ?? new Map();
  try {
    return await fn();
  } finally {
    current = outer;
  }
}

/** `compute()`, once per validate run and key (the workspace root belongs in the key). */
export function perRun<T>(key: string, compute: () => T): T {
  if (current === null) return compute();
  if (!current.has(key)) current.set(key, compute());
  return current.get(key) as T;
}

/** Whether a validate run is going on (perRun keeps values): what holds for its whole length may be kept. */
export function inRun(): boolean {
  return current !== null;
}
