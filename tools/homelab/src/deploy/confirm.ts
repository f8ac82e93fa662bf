import * as readline from 'node:readline';
import { DeployError } from './errors';
import { label, type DeployRequest } from './request';

export interface ConfirmIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** CI=true (or any value but "", "false" and "0") means nobody is there to answer. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * A protected environment (homelab.yaml `protected: true`) is changed only when someone
 * says so: `--yes`, `CI=true`, or a "y" typed at the prompt. Without a terminal to ask
 * on, it refuses with a one-line message. A dry run changes nothing and never asks.
 */
export async function confirmProtected(request: DeployRequest, io: ConfirmIO = { stdin: process.stdin, stdout: process.stdout, env: process.env }): Promise<void> {
  if (!request.settings.protected || request.dryRun || request.yes || isCI(io.env)) return;
  const what = request.action === 'down' ? `remove ${request.project} from` : `deploy ${request.project} to`;
  if (!io.stdin.isTTY) {
    throw new DeployError(`${label(request)}: ${request.env} is a protected environment; pass --yes to ${what} it without a prompt (or run with CI=true)`, 2);
  }
  const rl = readline.createInterface({ input: io.stdin, output: io.stdout });
  const answer = await new Promise<string>((resolve) => {
    rl.question(`${request.env} is protected. ${what[0].toUpperCase()}${what.slice(1)} ${request.env}? [y/N] `, resolve);
    rl.on('close', () => resolve(''));
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new DeployError(`${label(request)}: not confirmed; nothing was changed`, 1);
  }
}
