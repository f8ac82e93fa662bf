import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeAppOnHost } from '../../app/check';
import { readAppSpec, readWorkspace } from '../../app/plan';
import { renderKubernetesDrill } from '../../backup/kubernetes-drill';
import { diskHost } from '../../host';
import type { DeployContext } from '../compose';
import { DeployError } from '../errors';
import { label, type DeployRequest } from '../request';
import { StateDir } from '../state';

/**
 * `restore-drill` in a Kubernetes environment: renders the drill of backup/kubernetes-drill.ts (a
 * scratch namespace `<ns>-drill`, the repository Secrets, a VolSync ReplicationDestination and a
 * PVC per volume, the check pod) into the project's state folder, and prints the steps to run,
 * each a command as written. It applies nothing: the restore runs in the cluster, through VolSync's
 * controller, and the steps wait for it (docs/backup.md, "Restore drill" under Kubernetes).
 */
export async function kubernetesRestoreDrill(request: DeployRequest, ctx: DeployContext): Promise<void> {
  if (request.layer !== 'applications') throw new DeployError(`${label(request)}: restore-drill restores an app's volumes; ${request.project} is an infrastructure component`, 2);
  const host = diskHost(request.root);
  const app = normalizeAppOnHost(host, readAppSpec(host, request.project), readWorkspace(host));
  const drill = renderKubernetesDrill(app, request.env, readWorkspace(host));
  const state = new StateDir(request.root, request.env, request.project);
  const dir = path.join(state.dir, 'restore-drill');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of drill.files) fs.writeFileSync(path.join(dir, file.path), file.content);
  ctx.report.step('render', `${drill.files.map((f) => f.path).join(', ')} in ${path.join(state.shown, 'restore-drill')} (scratch namespace ${drill.namespace}); run the steps below from that folder`);
  for (const line of drill.steps.trimEnd().split('\n')) ctx.report.line(line);
}
