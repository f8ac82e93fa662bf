import { HomelabError } from '../errors';
import { DeployError } from './errors';
import { composeDeploy, composeDown, type DeployContext } from './compose';
import { kubernetesRestoreDrill } from './drill/kubernetes';
import { composeRestoreDrill } from './drill/run';
import { kubernetesDeploy, kubernetesDown } from './kubernetes';
import { label, type DeployRequest } from './request';
import type { DeployLock } from './lock';
import { StateDir } from './state';

/**
 * Runs one deploy or down with the adapter of its platform, under the project's deploy
 * lock, whose holder alone writes the log (.homelab/state/<env>/<project>/last-run.log).
 * A dry run changes nothing, so it takes no lock and writes no log. Returns the exit
 * code; a failure is reported as one line (`error: ...`) after the progress lines, never
 * with a stack trace for a known failure.
 */
export async function runAction(request: DeployRequest, ctx: DeployContext): Promise<number> {
  const { report } = ctx;
  const mode = request.dryRun ? ' (dry run: nothing will change)' : '';
  const header = `${request.action} ${request.project} -> ${request.env} on ${request.platform}${mode}`;
  report.line(header);
  let lock: DeployLock | undefined;
  try {
    if (!request.dryRun) {
      const held = new StateDir(request.root, request.env, request.project).lock(label(request));
      lock = held;
      held.log(`${header} (pid ${process.pid}, ${new Date().toISOString()})`);
      report.tee((line) => held.log(line));
    }
    if (request.action === 'restore-drill') {
      await (request.platform === 'compose' ? composeRestoreDrill : kubernetesRestoreDrill)(request, ctx);
    } else if (request.platform === 'compose') {
      await (request.action === 'down' ? composeDown : composeDeploy)(request, ctx);
    } else {
      // resolveRequest accepts --volumes only together with --delete-data=<project>: the data deletion is confirmed.
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
    lock?.release();
  }
}
