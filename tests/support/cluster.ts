import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { inject } from 'vitest';
import { run, type RunResult } from './tools';

/** CI=true (GitHub Actions, .ci/run) or any other non-empty value except "false" and "0". */
function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

export interface Cluster {
  /** True when there is no control plane and the file's tests must be skipped (outside CI only). */
  skip: boolean;
  kubeconfig: string;
  /** Path of the kubectl of the server's version. */
  kubectlBin: string;
  /** kubectl of the server's version, on the run's control plane. */
  kubectl(args: readonly string[], options?: { cwd?: string; input?: string; timeout?: number }): RunResult;
  /** Like kubectl, but throws with kubectl's stderr when it exits non-zero. */
  kubectlOk(args: readonly string[], options?: { cwd?: string; input?: string; timeout?: number }): string;
  /** Environment for a process that must reach this cluster (KUBECONFIG, and the server's kubectl first on PATH). */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** A fresh namespace name for one test (create it yourself, or let the code under test do it). */
  namespace(prefix?: string): string;
  /**
   * Creates `count` PersistentVolumes of `size` with no storage class, reserved for the claim
   * `claim` (namespace/name): the API server's PV controller binds that claim, and only it, to
   * one of them, so test files running at the same time cannot take each other's volumes. Static
   * provisioning, as on a cluster without a provisioner (the test cluster has none, and no node
   * writes to them). A claim deleted with its data releases its volume for good: make one per
   * claim the test creates.
   */
  staticVolumes(count: number, size: string, claim: { namespace: string; name: string }): string[];
}

/**
 * The run's real Kubernetes control plane (tests/support/control-plane.global.ts). When it is
 * not built, the file's tests are skipped with the reason outside CI, and fail under CI=true:
 * CI must prove the Kubernetes half against the real API server, never skip it.
 *
 * @example
 * const cluster = useCluster();
 * describe.skipIf(cluster.skip)('server-side apply', () => { ... });
 */
export function useCluster(): Cluster {
  const kubeconfig = inject('controlPlaneKubeconfig');
  const bin = inject('controlPlaneBin');
  const missing = inject('controlPlaneMissing');
  if (!kubeconfig) {
    if (isCI()) throw new Error(`${missing}. CI is set and CI never skips the Kubernetes API tests.`);
    console.warn(`[homelab tests] SKIPPED: ${missing}`);
  }
  const kubectlBin = bin ? path.join(bin, 'kubectl') : 'kubectl';
  const env = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({
    ...base,
    KUBECONFIG: kubeconfig,
    PATH: bin ? `${bin}${path.delimiter}${base.PATH ?? ''}` : base.PATH,
  });
  const kubectl: Cluster['kubectl'] = (args, options = {}) =>
    run(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { cwd: options.cwd, timeout: options.timeout ?? 60_000, input: options.input });
  return {
    skip: !kubeconfig,
    kubeconfig,
    kubectlBin,
    kubectl,
    kubectlOk(args, options) {
      const result = kubectl(args, options);
      if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
      return result.stdout;
    },
    env,
    namespace: (prefix = 'test') => `${prefix}-${randomBytes(4).toString('hex')}`,
    staticVolumes(count, size, claim) {
      const names = Array.from({ length: count }, () => `pv-${randomBytes(4).toString('hex')}`);
      const items = names.map((name) => ({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name },
        spec: {
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          claimRef: { namespace: claim.namespace, name: claim.name },
          hostPath: { path: `/var/lib/homelab-test/${name}` },
        },
      }));
      this.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
      return names;
    },
  };
}
