import type { TestProject } from 'vitest/node';
import * as path from 'node:path';
import { findControlPlane, startControlPlane, type ControlPlane } from './control-plane';
import { installCrds } from './crds';
import { run } from './tools';

declare module 'vitest' {
  export interface ProvidedContext {
    /** kubeconfig of the run's control plane, or '' when there is none (see controlPlaneMissing). */
    controlPlaneKubeconfig: string;
    /** Folder of the control plane's binaries (its kubectl matches the server's version). */
    controlPlaneBin: string;
    /** Why there is no control plane: '' when there is one. */
    controlPlaneMissing: string;
  }
}

let plane: ControlPlane | undefined;

/** One control plane for the whole run, started when a test file of the kubernetes-api project runs. */
export async function setup(project: TestProject): Promise<void> {
  const found = findControlPlane();
  if (!found.binDir) {
    project.provide('controlPlaneKubeconfig', '');
    project.provide('controlPlaneBin', '');
    project.provide('controlPlaneMissing', found.reason ?? 'the control plane is not built');
    return;
  }
  plane = await startControlPlane(found.binDir);
  console.log(`[homelab tests] Kubernetes ${plane.version} control plane on ${plane.server}, ready in ${plane.startSeconds.toFixed(1)} s`);
  // The catalog's CRDs, which most files install: once here, before two files apply them at once.
  // When that fails (no Go to fetch them, say), each file that needs them tries again and fails
  // with the reason, and the files that do not need them still run.
  const started = Date.now();
  const kubectl = path.join(plane.binDir, 'kubectl');
  const kubeconfig = plane.kubeconfig;
  try {
    const crds = installCrds((args, options) => run(kubectl, ['--kubeconfig', kubeconfig, ...args], { timeout: options?.timeout ?? 60_000 }));
    console.log(`[homelab tests] the catalog's ${crds.length} CRDs established in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.warn(`[homelab tests] installing the catalog's CRDs failed; the files that need them will say why: ${(error as Error).message.split('\n')[0]}`);
  }
  project.provide('controlPlaneKubeconfig', plane.kubeconfig);
  project.provide('controlPlaneBin', plane.binDir);
  project.provide('controlPlaneMissing', '');
}

export async function teardown(): Promise<void> {
  await plane?.stop();
}
