/**
 * Visible progress of a deploy: one line per step (`[secrets] ...`), indented detail
 * lines (a tool's own output), warnings. Every line passes through the current mask, so
 * a secret value never reaches the terminal or the log, whatever printed it.
 */
export class Reporter {
  private masker: (text: string) => string = (t) => t;
  private readonly sinks: ((line: string) => void)[] = [];

  constructor(write: (line: string) => void) {
    this.sinks.push(write);
  }

  /** Also sends every later line (masked) to `sink`, e.g. the deploy's log once the lock is held. */
  tee(sink: (line: string) => void): void {
    this.sinks.push(sink);
  }

  /** Installs the mask once the secret values are known. */
  setMask(mask: (text: string) => string): void {
    this.masker = mask;
  }

  mask(text: string): string {
    return this.masker(text);
  }

  step(name: string, message: string): void {
    this.emit(`${`[${name}]`.padEnd(11)}${message}`);
  }

  detail(message: string): void {
    this.emit(`           ${message}`);
  }

  warn(message: string): void {
    this.emit(`warning:   ${message}`);
  }

  line(message: string): void {
    this.emit(message);
  }

  private emit(text: string): void {
    for (const line of this.masker(text).split('\n')) for (const sink of this.sinks) sink(line);
  }
}
