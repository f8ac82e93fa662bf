import * as readline from 'node:readline';
import { DeployError } from './errors';
import { label, type DeployRequest } from './request';
import { whyNoPrompt } from '../tty';

export interface ConfirmIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * A protected environment (homelab.yaml `protected: true`) is changed only when someone
 * says so: `--yes`, or a "y" typed at a terminal this process owns. Where nobody can
 * answer (an Nx task, CI, no terminal) it refuses in one line that says to pass --yes.
 * CI=true confirms nothing. A dry run changes nothing and never asks.
 */
export async function confirmProtected(request: DeployRequest, io: ConfirmIO = { stdin: process.stdin, stdout: process.stdout, env: process.env }): Promise<void> {
  if (!request.settings.protected || request.dryRun || request.yes) return;
  const what = request.action === 'down' ? `remove ${request.project} from` : `deploy ${request.project} to`;
  const why = whyNoPrompt(io.env, io.stdin, io.stdout);
  if (why !== null) {
    throw new DeployError(`${label(request)}: ${request.env} is a protected environment and this run cannot ask (${why}); pass --yes to ${what} ${request.env}`, 2);
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
