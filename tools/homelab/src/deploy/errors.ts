import { HomelabError } from '../errors';

/**
 * A deploy that did not happen or did not succeed: the message is one line, names what
 * failed and what homelab did about it (nothing changed, rolled back, ...), and never
 * holds a secret value.
 */
export class DeployError extends HomelabError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
    this.name = 'DeployError';
  }
}
