/**
 * Typed errors. Everything a user can get wrong is a HomelabError with a one-line
 * message that names the value and the fix; the CLI and Nx boundaries print
 * `message` alone (no stack) and exit non-zero.
 */
export class HomelabError extends Error {
  constructor(
    message: string,
    /** Exit code at the CLI boundary: 1 findings, 2 usage or input error. */
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'HomelabError';
  }
}

/** Input that failed validation before anything was written. */
export class InputError extends HomelabError {
  constructor(
    message: string,
    /** The validate rule it is reported under where it has its own (validate/rules.ts); spec/invalid otherwise. */
    readonly rule?: string,
  ) {
    super(message, 2);
    this.name = 'InputError';
  }
}

/** A template or rendered file that is not what the render core promises (a bug, not a user error). */
export class RenderError extends HomelabError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'RenderError';
  }
}

/** Shows a user-provided value in a message: quoted, control characters escaped, long values cut. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const cut = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(cut);
}
