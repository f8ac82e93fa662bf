import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/** The text a terminal shows: CSI and OSC sequences, then other escapes and carriage returns removed. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, '').replace(/\x1b\][^\x07]*\x07/g, '').replace(/\x1b./g, '').replace(/\r/g, '');
}

/**
 * A command on a real pseudo-terminal, driven as a person would: util-linux `script` gives
 * it a pty (stdin and stdout are TTYs for it), `waitFor` waits until the screen shows a text,
 * `type` types a line and presses Enter. Answers are typed only after their question is on
 * the screen, so a run does not depend on timing.
 */
export class Terminal {
  private output = '';
  private seen = 0;
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
  }

  /** Starts `command` (a shell command line) on a pseudo-terminal of 160 columns. */
  static start(command: string, cwd: string, env: NodeJS.ProcessEnv): Terminal {
    // -e: script exits with the command's status; -q: no "Script started" lines; no log file.
    const child = spawn('script', ['-qec', `stty cols 160 rows 50; exec ${command}`, '/dev/null'], { cwd, env: { ...env, TERM: 'xterm-256color' } });
    return new Terminal(child);
  }

  /** Everything the terminal has shown so far, as plain text. */
  get screen(): string {
    return stripAnsi(this.output);
  }

  /**
   * Waits until the screen shows `text` after what earlier waits matched, and moves past it.
   * Fails after `timeoutMs` with the screen (ending the command), or at once when it exits first.
   */
  async waitFor(text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    for (;;) {
      const at = this.screen.indexOf(text, this.seen);
      if (at !== -1) {
        this.seen = at + text.length;
        return;
      }
      if (done || Date.now() > deadline) {
        // Nobody will answer the question it waits on: end it, so the run does not hang.
        this.child.kill('SIGKILL');
        throw new Error(`the terminal did not show ${JSON.stringify(text)}${done ? ' before the command exited' : ` within ${timeoutMs} ms`}; it shows:\n${this.screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    this.child.stdin.write(`${line}\r`);
  }

  /** Waits for the command to exit and returns its status (the terminal's screen stays readable). */
  async exit(timeoutMs = 60_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.child.stdin.end();
    }
  }
}
