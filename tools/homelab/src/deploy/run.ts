import { HomelabError } from '../errors';
import { composeDeploy, composeDown, type DeployContext } from './compose';
import { kubernetesDeploy, kubernetesDown } from './kubernetes';
import { label, type DeployRequest } from './request';
import { StateDir } from './state';

/**
 * Runs one deploy or down with the adapter of its platform, under the project's deploy
 * lock. Returns the exit code; a failure is reported as one line (`error: ...`) after
 * the progress lines, never with a stack trace for a known failure.
 */
export async function runAction(request: DeployRequest, ctx: DeployContext): Promise<number> {
  const { report } = ctx;
  const mode = request.dryRun ? ' (dry run: nothing will change)' : '';
  report.line(`${request.action} ${request.project} -> ${request.env} on ${request.platform}${mode}`);
  let release: (() => void) | undefined;
  try {
    if (!request.dryRun) release = new StateDir(request.root, request.env, request.project).lock(label(request));
    if (request.platform === 'compose') {
      await (request.action === 'down' ? composeDown : composeDeploy)(request, ctx);
    } else {
      // Until data deletion has a confirmation of its own, --volumes is what asks for it.
      if (request.action === 'down') await kubernetesDown(request, ctx, { deleteData: request.volumes });
      else await kubernetesDeploy(request, ctx);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    const who = label(request);
    report.line(`error: ${error.message.startsWith(who) ? error.message : `${who}: ${error.message}`}`);
    return error.exitCode;
  } finally {
    release?.();
  }
}
