/**
 * The lines of an import's report, in the order the source is read. Three kinds:
 * - `not carried over: <source path> (<reason>)`: a key of the source the spec does not hold
 *   (`--strict` refuses the import when there is one);
 * - `warning: …`: carried, but the owner should look (an unpinned image, a size homelab chose);
 * - `note: …`: carried in a way worth knowing (a Compose patch, a renamed volume).
 * No line holds a secret value: the mappers name keys, never values.
 */
export class ImportReport {
  readonly lines: string[] = [];

  notCarried(path: string, reason: string): void {
    this.lines.push(`${NOT_CARRIED} ${path} (${reason})`);
  }

  warn(text: string): void {
    this.lines.push(`warning: ${text}`);
  }

  note(text: string): void {
    this.lines.push(`note: ${text}`);
  }

  /** The `not carried over` lines. */
  get notCarriedLines(): string[] {
    return this.lines.filter((l) => l.startsWith(NOT_CARRIED));
  }
}

export const NOT_CARRIED = 'not carried over:';
